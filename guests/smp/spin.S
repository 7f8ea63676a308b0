/*
 * A guest that never yields: the boot CPU turns on every other CPU with
 * PSCI CPU_ON, says so on the UART, and then every CPU spins in a tight
 * loop with interrupts masked, forever. Only the host can end the run
 * (`--timeout`, Ctrl-A x, a signal).
 */
#include "smp.h"

	.section .text.boot, "ax"
	.global	_start
_start:
	b	boot				/* code0 */
	.long	0				/* code1 */
	.quad	0				/* text_offset */
	.quad	__image_end - RAM_BASE		/* image_size */
	.quad	0xa				/* flags: little-endian, 4 KiB pages, anywhere */
	.quad	0, 0, 0				/* res2-res4 */
	.long	0x644d5241			/* magic: "ARM\x64" */
	.long	0				/* res5 */

boot:
	/* CPU_ON for MPIDR 1, 2, ... until one does not exist. */
	mov	x19, #1
1:	ldr	x0, =0xc4000003			/* CPU_ON (SMC64) */
	mov	x1, x19
	adr	x2, spin
	mov	x3, #0
	hvc	#0
	cbnz	x0, 2f
	add	x19, x19, #1
	b	1b
	/* x19 - 1 CPUs were turned on: print "spinning on N CPUs". */
2:	ldr	x20, =UART_BASE
	adr	x21, message
	bl	puts
	add	w0, w19, #'0'
	strb	w0, [x20, #UART_DR]
	adr	x21, cpus
	bl	puts
spin:
	msr	daifset, #0xf
3:	b	3b

/* Prints the NUL-terminated string at x21 on the UART at x20. */
puts:
	ldrb	w0, [x21], #1
	cbz	w0, 4f
	strb	w0, [x20, #UART_DR]
	b	puts
4:	ret

message:
	.asciz	"spinning on "
cpus:
	.asciz	" CPUs\n"
	.balign	4
	.ltorg

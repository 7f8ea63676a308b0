/*
 * Entry points and exception vectors of the SMP proof program. The boot CPU
 * enters at _start (an arm64 Image, so `vmkit run --kernel` loads it), every
 * other CPU at secondary_entry through PSCI CPU_ON. Each CPU runs on the
 * stack its MPIDR affinity 0 selects, with TPIDR_EL1 holding that index.
 */
#include "smp.h"

	.section .text.boot, "ax"
	.global	_start
_start:
	b	primary				/* code0 */
	.long	0				/* code1 */
	.quad	0				/* text_offset */
	.quad	__image_end - RAM_BASE		/* image_size: code, data and BSS */
	.quad	0xa				/* flags: little-endian, 4 KiB pages, anywhere */
	.quad	0, 0, 0				/* res2-res4 */
	.long	0x644d5241			/* magic: "ARM\x64" */
	.long	0				/* res5 */

primary:
	/* Nothing else runs yet: clear BSS before anything lives in it. */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	bl	cpu_setup
	bl	boot_main
	b	park

/*
 * PSCI CPU_ON enters here with x0 = the context id. The entry state
 * (DAIF, CurrentEL, SCTLR_EL1) is read before anything changes it.
 */
	.global	secondary_entry
secondary_entry:
	mov	x19, x0
	mrs	x20, daif
	mrs	x21, CurrentEL
	mrs	x22, sctlr_el1
	bl	cpu_setup
	mov	x1, x19
	mov	x2, x20
	mov	x3, x21
	mov	x4, x22
	bl	secondary_main
park:
	wfi
	b	park

/*
 * Stack, TPIDR_EL1 and VBAR_EL1 for the CPU whose MPIDR affinity 0 is its
 * index; returns the index in x0. An affinity beyond the stacks ends the
 * run: no C code could run safely on that CPU.
 */
cpu_setup:
	mrs	x0, mpidr_el1
	and	x0, x0, #0xff
	cmp	x0, #MAX_CPUS
	b.hs	bad_mpidr
	adrp	x1, stacks
	add	x1, x1, :lo12:stacks
	add	x2, x0, #1
	add	x1, x1, x2, lsl #STACK_SHIFT
	mov	sp, x1
	msr	tpidr_el1, x0
	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	isb
	ret

bad_mpidr:
	mov	x0, #EXIT_BASE
	mov	w1, #EXIT_FAIL
	movk	w1, #EXIT_BAD_MPIDR, lsl #16
	str	w1, [x0]
	b	park

/*
 * IRQs at the current EL go to irq_handler with the caller-saved registers
 * saved; everything else is unexpected and ends the run.
 */
	.macro	ventry label, offset
	.balign	0x80
	mov	x0, #\offset
	b	\label
	.endm

	.text
	.balign	2048
vectors:
	ventry	unexpected, 0x000
	ventry	unexpected, 0x080
	ventry	unexpected, 0x100
	ventry	unexpected, 0x180
	ventry	unexpected, 0x200
	.balign	0x80				/* 0x280: IRQ, current EL with SP_ELx */
	b	irq_entry
	ventry	unexpected, 0x300
	ventry	unexpected, 0x380
	ventry	unexpected, 0x400
	ventry	unexpected, 0x480
	ventry	unexpected, 0x500
	ventry	unexpected, 0x580
	ventry	unexpected, 0x600
	ventry	unexpected, 0x680
	ventry	unexpected, 0x700
	ventry	unexpected, 0x780

irq_entry:
	sub	sp, sp, #192
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x30, x0, [sp, #160]
	str	x1, [sp, #176]
	bl	irq_handler
	ldr	x1, [sp, #176]
	ldp	x30, x0, [sp, #160]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	add	sp, sp, #192
	eret

/* x0 = vector offset; the handler does not return. */
unexpected:
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	b	unexpected_exception

	.bss
	.balign	16
stacks:
	.skip	MAX_CPUS * STACK_SIZE

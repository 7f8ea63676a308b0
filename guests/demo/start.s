// Entry of the demo guest: the arm64 Linux Image header (so a VMM's Linux
// loader boots it unchanged), the first instructions, and the EL1 exception
// vectors.
//
// All code is position independent (adr, never absolute addresses): QEMU
// loads an Image 2 MiB into RAM, VMKit at its start, and either must work.

	.include "platform.inc"

	.section .head.text, "ax"
	.global	_start
_start:
	b	entry				// code0
	.long	0				// code1
	.quad	0				// text_offset: straight at the 2 MiB-aligned base
	.quad	_image_size			// image_size: code, data, BSS and stack (demo.ld)
	.quad	0xa				// flags: little-endian, 4 KiB pages, anywhere in RAM
	.quad	0				// res2
	.quad	0				// res3
	.quad	0				// res4
	.long	0x644d5241			// magic: "ARM\x64"
	.long	0				// res5

	.text
entry:
	// The boot protocol enters with DAIF masked; make sure of it before
	// there is a stack or vectors to take anything with.
	msr	daifset, #0xf
	mov	x19, x0				// the device tree, for main
	adr	x1, __stack_top
	mov	sp, x1
	// The boot protocol promises nothing about memory past the file.
	adr	x1, __bss_start
	adr	x2, __bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:	adr	x1, vectors
	msr	vbar_el1, x1
	isb
	mov	x0, x19
	b	main

// irq_entry: saves what the interrupted code may hold in caller-saved
// registers, runs handle_irq (demo.s), and returns. Only main's wait loop
// runs with IRQs unmasked, so there is no nesting to care about.
	.type	irq_entry, %function
irq_entry:
	sub	sp, sp, #176
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
	str	x30, [sp, #160]
	bl	handle_irq
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
	ldr	x30, [sp, #160]
	add	sp, sp, #176
	eret
	.size	irq_entry, . - irq_entry

// unexpected_exception(x0 = vector slot 0-15): anything but an IRQ from EL1
// is a bug in the demo or in the VMM. Say exactly what happened, then power
// off, so the run ends instead of hanging.
	.type	unexpected_exception, %function
unexpected_exception:
	// The fault may have come from a bad stack; never return, so start afresh.
	adr	x1, __stack_top
	mov	sp, x1
	mov	x19, x0
	mrs	x20, esr_el1
	mrs	x21, elr_el1
	mrs	x22, far_el1
	mrs	x23, spsr_el1
	and	x1, x19, #3
	adr	x2, exception_kinds
	ldrsw	x3, [x2, x1, lsl #2]
	add	x1, x2, x3
	lsr	x4, x19, #2
	adr	x2, exception_origins
	ldrsw	x3, [x2, x4, lsl #2]
	add	x2, x2, x3
	lsl	x3, x19, #7
	adr	x0, msg_exception
	bl	printf
	ubfx	x2, x20, #26, #6
	mov	x1, x20
	mov	x3, x21
	mov	x4, x22
	mov	x5, x23
	adr	x0, msg_exception_regs
	bl	printf
	bl	count_failure
	b	finish
	.size	unexpected_exception, . - unexpected_exception

// The vector table: 16 entries of 0x80 bytes, 2 KiB aligned (VBAR_EL1's
// low 11 bits are RES0). Only slot 5, an IRQ taken from EL1 on SP_EL1, is
// expected.
//
// The gaps are placed with .org rather than .balign: assemblers pad code
// alignment with NOPs or zeros as they see fit, .org always with zeros.
	.macro	unexpected slot
	.org	vectors + \slot * 0x80
	mov	x0, #\slot
	b	unexpected_exception
	.endm

	.section .text.vectors, "ax"
	.balign	0x800, 0
	.global	vectors
vectors:
	unexpected 0				// current EL, SP_EL0: synchronous
	unexpected 1				// IRQ
	unexpected 2				// FIQ
	unexpected 3				// SError
	unexpected 4				// current EL, SP_ELx: synchronous
	.org	vectors + 5 * 0x80
	b	irq_entry			// IRQ
	unexpected 6				// FIQ
	unexpected 7				// SError
	unexpected 8				// lower EL, AArch64
	unexpected 9
	unexpected 10
	unexpected 11
	unexpected 12				// lower EL, AArch32
	unexpected 13
	unexpected 14
	unexpected 15
	.org	vectors + 16 * 0x80

	.section .rodata
	.balign	4
// Offsets from the table, not addresses, so the code stays position independent.
exception_kinds:
	.word	str_sync - exception_kinds
	.word	str_irq - exception_kinds
	.word	str_fiq - exception_kinds
	.word	str_serror - exception_kinds
exception_origins:
	.word	str_el1_sp0 - exception_origins
	.word	str_el1_spx - exception_origins
	.word	str_el0_a64 - exception_origins
	.word	str_el0_a32 - exception_origins

str_sync:	.asciz	"synchronous exception"
str_irq:	.asciz	"IRQ"
str_fiq:	.asciz	"FIQ"
str_serror:	.asciz	"SError"
str_el1_sp0:	.asciz	"EL1 on SP_EL0"
str_el1_spx:	.asciz	"EL1 on SP_EL1"
str_el0_a64:	.asciz	"a lower EL in AArch64"
str_el0_a32:	.asciz	"a lower EL in AArch32"
msg_exception:
	.asciz	"\n  !! unexpected %s from %s (vector VBAR_EL1 + %x)\n"
msg_exception_regs:
	.asciz	"     ESR_EL1 %x (EC %x), ELR_EL1 %x, FAR_EL1 %x, SPSR_EL1 %x\n"

	.section .note.GNU-stack, "", %progbits

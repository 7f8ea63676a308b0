/*
 * Entry point, exception vectors and the EL0 runner of the vCPU proof
 * programs. Everything that must be exact about registers lives here in
 * assembly; the checks themselves are C.
 */
#include "guest.h"

	.section .text.boot, "ax"
	.global	_start
_start:
#ifdef IMAGE_HEADER
	/*
	 * The arm64 Linux Image header, so that a VMM's Linux loader (vmkit run
	 * --kernel) boots the program unchanged: at the start of RAM, entered
	 * at its first byte.
	 */
	b	1f				/* code0 */
	.long	0				/* code1 */
	.quad	RAM_BASE - PHYS_RAM_START	/* text_offset */
	.quad	__image_end - RAM_BASE	/* image_size: code, data and BSS */
	.quad	0xa				/* flags: little-endian, 4 KiB pages, anywhere */
	.quad	0, 0, 0				/* res2-res4 */
	.long	0x644d5241			/* magic: "ARM\x64" */
	.long	0				/* res5 */
1:
#endif
	/* The host enters at EL1h with DAIF masked and the MMU off. */
	adrp	x0, el1_stack_top
	add	x0, x0, :lo12:el1_stack_top
	mov	sp, x0
	/* Host RAM starts zeroed, but a program must not rely on who loaded it. */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	adrp	x0, vectors
	add	x0, x0, :lo12:vectors
	msr	vbar_el1, x0
	isb
	bl	guest_start
	/* guest_start ends with the "done" call; stay put if a host resumes anyway. */
3:	wfi
	b	3b

/*
 * The vector table: each entry saves x0/x1, puts its own offset in x1 and
 * joins the common path, so handlers learn exactly which vector the vCPU
 * delivered to.
 */
	.macro	ventry offset
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x1, #\offset
	b	exception_entry
	.endm

	.text
	.balign	2048
	.global	vectors
vectors:
	ventry	0x000	/* current EL, SP_EL0: synchronous */
	ventry	0x080	/* IRQ */
	ventry	0x100	/* FIQ */
	ventry	0x180	/* SError */
	ventry	0x200	/* current EL, SP_ELx: synchronous */
	ventry	0x280
	ventry	0x300
	ventry	0x380
	ventry	0x400	/* lower EL, AArch64: synchronous */
	ventry	0x480
	ventry	0x500
	ventry	0x580
	ventry	0x600	/* lower EL, AArch32 */
	ventry	0x680
	ventry	0x700
	ventry	0x780

exception_entry:
	store_x2_x29 sp
	mrs	x2, sp_el0
	stp	x30, x2, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #256]
	mrs	x2, esr_el1
	mrs	x3, far_el1
	stp	x2, x3, [sp, #272]
	mov	x0, sp
	bl	exception_dispatch
	/* The handler may have moved ELR (to skip an instruction) or changed SPSR. */
	ldp	x2, x3, [sp, #256]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x30, x2, [sp, #240]
	msr	sp_el0, x2
	load_x0_x29 sp
	add	sp, sp, #FRAME_SIZE
	eret

/*
 * u64 run_el0(u64 (*fn)(u64), u64 arg, u64 daif)
 *
 * Saves the callee-saved registers and the EL1 stack pointer, then ERETs to
 * fn at EL0t with x0 = arg and the link register on el0_exit. When fn
 * returns, el0_exit's SVC reaches the EL1 handler, which calls el0_resume
 * with fn's result; that unwinds to here as an ordinary return.
 */
	.global	run_el0
run_el0:
	push_callee_saved
	mov	x9, sp
	adrp	x10, el1_saved_sp
	str	x9, [x10, :lo12:el1_saved_sp]
	msr	elr_el1, x0
	and	x2, x2, #SPSR_DAIF
	msr	spsr_el1, x2		/* EL0t: M[3:0] = 0 */
	adrp	x9, el0_stack_top
	add	x9, x9, :lo12:el0_stack_top
	msr	sp_el0, x9
	mov	x0, x1
	adr	x30, el0_exit
	eret

/*
 * u64 run_el0_spsr(u64 entry, u64 arg, u64 spsr, u64 x1, u64 x2)
 *
 * run_el0 with a whole SPSR (so EL0 may be AArch32, in A32 or T32 state)
 * and x1/x2 set as well (r1/r2 for AArch32). AArch32 code has no link
 * register into el0_exit: it ends by taking an exception whose handler
 * calls el0_resume.
 */
	.global	run_el0_spsr
run_el0_spsr:
	push_callee_saved
	mov	x9, sp
	adrp	x10, el1_saved_sp
	str	x9, [x10, :lo12:el1_saved_sp]
	msr	elr_el1, x0
	msr	spsr_el1, x2
	adrp	x9, el0_stack_top
	add	x9, x9, :lo12:el0_stack_top
	msr	sp_el0, x9
	mov	x13, x9
	mov	x0, x1
	mov	x1, x3
	mov	x2, x4
	adr	x30, el0_exit
	eret

	.global	el0_exit
el0_exit:
	svc	#SVC_EL0_EXIT
	b	el0_exit

/* void el0_resume(u64 result): called only from an EL1 exception handler. */
	.global	el0_resume
el0_resume:
	adrp	x10, el1_saved_sp
	ldr	x9, [x10, :lo12:el1_saved_sp]
	mov	sp, x9
	pop_callee_saved
	ret

	.bss
	.balign	16
el1_saved_sp:
	.skip	16
	.balign	PAGE_SIZE
	.global	el1_stack, el1_stack_top
el1_stack:
	.skip	4 * PAGE_SIZE
el1_stack_top:
	.global	el0_stack_top
el0_stack:
	.skip	2 * PAGE_SIZE
el0_stack_top:

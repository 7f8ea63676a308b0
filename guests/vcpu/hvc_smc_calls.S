/*
 * HVC and SMC call stubs that control the whole register file: each loads
 * x0-x30 and NZCV from regs->in, makes its call, and stores x0-x30 and NZCV
 * to regs->out, so hvc_smc.c can check every register the host was allowed
 * to change (x0-x3) and every one it was not.
 *
 * struct regs { u64 in[32]; u64 out[32]; }, in[31] / out[31] = NZCV.
 * SP points at regs->in during the call, which frees all 31 registers; the
 * immediate is part of the instruction, hence one stub per call site.
 */
#include "guest.h"

	.macro	call_stub name, insn
	.global	\name
\name:
	push_callee_saved
	mov	x10, sp
	adrp	x9, saved_sp
	str	x10, [x9, :lo12:saved_sp]
	ldr	x10, [x0, #248]
	msr	nzcv, x10
	mov	sp, x0
	load_x0_x29 sp
	ldr	x30, [sp, #240]
	\insn
	/* ADD to SP leaves the flags alone. */
	add	sp, sp, #256
	stp	x0, x1, [sp, #0]
	store_x2_x29 sp
	str	x30, [sp, #240]
	mrs	x0, nzcv
	str	x0, [sp, #248]
	adrp	x9, saved_sp
	ldr	x10, [x9, :lo12:saved_sp]
	mov	sp, x10
	pop_callee_saved
	ret
	.endm

	.text
	call_stub	call_hvc_0, "hvc #0"
	call_stub	call_hvc_1234, "hvc #0x1234"
	call_stub	call_smc_0, "smc #0"
	call_stub	call_smc_abcd, "smc #0xabcd"
	call_stub	call_hvc_fffe, "hvc #0xfffe"

	.bss
	.balign	8
saved_sp:
	.skip	8

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
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	mov	x10, sp
	adrp	x9, saved_sp
	str	x10, [x9, :lo12:saved_sp]
	ldr	x10, [x0, #248]
	msr	nzcv, x10
	mov	sp, x0
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	\insn
	/* ADD to SP leaves the flags alone. */
	add	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x0, nzcv
	str	x0, [sp, #248]
	adrp	x9, saved_sp
	ldr	x10, [x9, :lo12:saved_sp]
	mov	sp, x10
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
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

/*
 * Firmware calls with every argument register set: x0-x7 from an array of
 * eight, over HVC or SMC with a few immediates (SMCCC uses #0; a VMM must
 * answer the others too, or refuse them). Each returns x0 and stores x0-x3
 * as the call left them.
 *
 * u64 fw_call(u64 which, u64 regs[8]): `which` selects the instruction.
 */
#include "guest.h"

	.text
	.global	fw_call
fw_call:
	stp	x29, x30, [sp, #-32]!
	str	x1, [sp, #16]
	mov	x9, x0
	mov	x8, x1
	ldp	x0, x1, [x8, #0]
	ldp	x2, x3, [x8, #16]
	ldp	x4, x5, [x8, #32]
	ldp	x6, x7, [x8, #48]
	adr	x10, 1f
	add	x10, x10, x9, lsl #3
	br	x10
1:	hvc	#0
	b	2f
	hvc	#1
	b	2f
	hvc	#0x1234
	b	2f
	hvc	#0xffff
	b	2f
	smc	#0
	b	2f
	smc	#1
	b	2f
	smc	#0xffff
	b	2f
2:	ldr	x8, [sp, #16]
	stp	x0, x1, [x8, #0]
	stp	x2, x3, [x8, #16]
	ldp	x29, x30, [sp], #32
	ret

	.global	fw_call_kinds
	.section .rodata
	.balign	4
fw_call_kinds:
	.word	7

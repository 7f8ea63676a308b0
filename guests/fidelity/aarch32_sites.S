/*
 * AArch32 EL0 code, as words: the AArch64 assembler cannot assemble A32 or
 * T32. Each routine is entered by run_el0_spsr with r0-r2 set and ends with
 * SVC #0xE0E0 (A32), which the EL1 handler turns into a return from
 * run_el0_spsr with r0. Labels mark the instructions whose exceptions the
 * program checks.
 */
#include "guest.h"

#define A32_SVC_EXIT	.word 0xef00e0e0	/* svc #0xe0e0 */
#define A32_MOV_R4_44	.word 0xe3a04044	/* mov r4, #0x44 */

	.section .text.a32, "ax"
	.balign	4
	.global	a32_svc, a32_svc_insn
a32_svc:				/* r0 = 7 */
	A32_MOV_R4_44
a32_svc_insn:
	.word	0xef123456		/* svc #0x123456 */
	.word	0xe2800001		/* add r0, r0, #1: after the return */
	A32_SVC_EXIT

	.global	a32_udf, a32_udf_insn
a32_udf:
a32_udf_insn:
	.word	0xe7f123f4		/* udf #0x1234 */
	A32_SVC_EXIT

	.global	a32_bkpt, a32_bkpt_insn
a32_bkpt:
a32_bkpt_insn:
	.word	0xe1200172		/* bkpt #0x12 */
	A32_SVC_EXIT

	.global	a32_ldr, a32_ldr_insn
a32_ldr:				/* r1 = the address */
a32_ldr_insn:
	.word	0xe5910000		/* ldr r0, [r1] */
	A32_SVC_EXIT

	.global	a32_str, a32_str_insn
a32_str:				/* r1 = the address */
a32_str_insn:
	.word	0xe5810000		/* str r0, [r1] */
	A32_SVC_EXIT

	.global	a32_bx
a32_bx:					/* r1 = where to branch */
	.word	0xe12fff11		/* bx r1 */
	A32_SVC_EXIT

	.global	a32_spin
a32_spin:
	.word	0xeafffffe		/* b . */

	/* The end of the Thumb routines: back in A32. */
	.global	a32_exit
a32_exit:
	A32_SVC_EXIT

	.balign	4
	.global	t16_svc, t16_svc_insn, t16_udf_insn
t16_svc:				/* r2 = a32_exit */
t16_svc_insn:
	.hword	0xdf42			/* svc #0x42 */
t16_udf_insn:
	.hword	0xde05			/* udf #5 */
	.hword	0x4710			/* bx r2 */
	.balign	4

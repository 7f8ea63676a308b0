/* The single accesses of probe.h, each at a label the checks compare ELR with. */
#include "guest.h"

	.text
	.macro	probe name, insn:vararg
	.global	\name, \name\()_insn
\name:
\name\()_insn:
	\insn
	ret
	.endm

	probe	probe_ldr64, ldr x0, [x0]
	probe	probe_ldr32, ldr w0, [x0]
	probe	probe_ldrh, ldrh w0, [x0]
	probe	probe_ldrb, ldrb w0, [x0]
	probe	probe_str64, str x1, [x0]
	probe	probe_str32, str w1, [x0]
	probe	probe_strh, strh w1, [x0]
	probe	probe_strb, strb w1, [x0]

	.global	probe_ldp, probe_ldp_insn
probe_ldp:
	mov	x4, x0
	mov	x1, xzr
probe_ldp_insn:
	ldp	x0, x1, [x4]
	eor	x0, x0, x1, ror #32
	ret

/* u64 probe_call(u64 va): a fetch from va; the fault handler returns here. */
	.global	probe_call
probe_call:
	stp	x29, x30, [sp, #-16]!
	blr	x0
	ldp	x29, x30, [sp], #16
	ret

/*
 * Single-instruction accesses at labels, so a fault handler can check ELR
 * against them and skip exactly one instruction. Each takes the address in
 * x0 (and the value to store in x1) and returns what it loaded in x0; a
 * handler that skips a faulting load sets x0 itself.
 */
#include "guest.h"

	.macro	probe name, insn:vararg
	.global	\name, \name\()_insn
\name:
\name\()_insn:
	\insn
	ret
	.endm

	.text
	probe	probe_ldrb, ldrb w0, [x0]
	probe	probe_ldrh, ldrh w0, [x0]
	probe	probe_ldrw, ldr w0, [x0]
	probe	probe_ldr, ldr x0, [x0]
	probe	probe_ldp, ldp x0, x1, [x0]
	probe	probe_strb, strb w1, [x0]
	probe	probe_strh, strh w1, [x0]
	probe	probe_strw, str w1, [x0]
	probe	probe_str, str x1, [x0]
	probe	probe_stp, stp x1, x1, [x0]
	probe	probe_ldxr, ldxr x0, [x0]

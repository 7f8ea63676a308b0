/*
 * The exceptions exception_storm.c provokes, one per function, each a
 * single instruction at a label followed by a return: the handler skips the
 * faulting ones (ELR on the instruction) and SVC returns after itself.
 */
#include "guest.h"

	.macro	site name, insn:vararg
	.global	\name, \name\()_insn
\name:
\name\()_insn:
	\insn
	ret
	.endm

	.text
	site	storm_svc, svc #0x42
	site	storm_udf, udf #0x5a
	site	storm_brk, brk #0x7
	/* Exclusives need natural alignment whatever SCTLR_EL1.A says. */
	site	storm_misaligned, ldxr x0, [x0]
	site	storm_unmapped, ldr x0, [x0]
	/* Undefined at EL1: an EL2 register. */
	site	storm_mrs_el2, mrs x0, hcr_el2
	/* Undefined at EL0: HVC and SMC never reach the host from there. */
	site	storm_hvc, hvc #0x77
	site	storm_smc, smc #0x88

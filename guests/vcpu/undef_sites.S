/*
 * Instructions that must be undefined where they run, each at a label so the
 * handler's ELR can be compared with it. The handler skips each one, so the
 * functions run straight through and return.
 */
#include "guest.h"

	.text
/* void el1_undefs(void): at EL1. */
	.global	el1_undefs, el1_udf, el1_mrs_el2, el1_brk
el1_undefs:
el1_udf:
	udf	#0x5a5a
el1_mrs_el2:
	/* EL2 exists, but its registers are undefined at EL1. */
	mrs	x0, hcr_el2
el1_brk:
	/* Not undefined, but the same kind of delivery with the immediate in the ISS. */
	brk	#0x42
	ret

/* u64 el0_undefs(u64 unused): at EL0. */
	.global	el0_undefs, el0_udf, el0_hvc, el0_smc, el0_mrs_el1, el0_brk
el0_undefs:
el0_udf:
	udf	#1
el0_hvc:
	/* HVC and SMC are undefined at EL0: the host must never see these. */
	hvc	#0x77
el0_smc:
	smc	#0x88
el0_mrs_el1:
	mrs	x0, sctlr_el1
el0_brk:
	brk	#0x7
	mov	x0, #0
	ret

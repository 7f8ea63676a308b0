/*
 * Exclusive loads from a misaligned address, each at a label so the
 * handler's ELR can be compared with it; exclusives need natural alignment
 * whatever SCTLR_EL1.A says. The handler skips each faulting load, so the
 * functions run straight through and return the status of a store-exclusive
 * to the same address, made without a reservation (see align.c).
 */
#include "guest.h"

	.text
/* u64 el1_misaligned(u64 addr): at EL1; returns the stxr status. */
	.global	el1_misaligned, el1_ldxr, el1_ldaxr_w
el1_misaligned:
	mov	x3, x0
el1_ldxr:
	ldxr	x1, [x3]
el1_ldaxr_w:
	ldaxr	w1, [x3]
	mov	x1, #0x5a
	stxr	w0, x1, [x3]
	ret

/* u64 el0_misaligned(u64 addr): at EL0; returns the stxr status. */
	.global	el0_misaligned, el0_ldxr, el0_ldaxr_w
el0_misaligned:
	mov	x3, x0
el0_ldxr:
	ldxr	x1, [x3]
el0_ldaxr_w:
	ldaxr	w1, [x3]
	mov	x1, #0x5a
	stxr	w0, x1, [x3]
	ret

/*
 * The WFIs of timer.c, each followed by a label: an interrupt that wakes a
 * WFI is taken with ELR on the instruction after it.
 */
#include "guest.h"

	.text
/* void el1_wfi_unmasked(void): WFI at EL1 with IRQs unmasked. */
	.global	el1_wfi_unmasked, el1_wfi_unmasked_ret
el1_wfi_unmasked:
	msr	daifclr, #2
	wfi
el1_wfi_unmasked_ret:
	msr	daifset, #2
	ret

/* u64 el0_wfi(u64 unused): WFI at EL0 (SCTLR_EL1.nTWI set, so it is not trapped). */
	.global	el0_wfi, el0_wfi_ret
el0_wfi:
	wfi
el0_wfi_ret:
	mov	x0, #0
	ret

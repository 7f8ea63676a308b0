/*
 * Hardware breakpoints (DBGBVR/DBGBCR) as the guest's own debugger arms
 * them: taken from EL1 (EC 0x31) only with MDSCR_EL1.MDE and KDE set and
 * PSTATE.D clear, from EL0 (EC 0x30) with MDE alone, never while the OS lock
 * is set, and only at the exception levels the breakpoint's PMC selects. A
 * linked breakpoint fires only while CONTEXTIDR_EL1 matches its context-ID
 * breakpoint. OSLSR_EL1 shows the OS lock; the OS double lock (OSDLR_EL1)
 * stops breakpoints too, and one for Secure state only (SSC 0b10) never fires
 * in this Non-secure guest. Stepping over a breakpoint as Linux does (turn
 * it off, step one instruction with MDSCR_EL1.SS and SPSR.SS, turn it back
 * on) runs the instruction once and leaves the breakpoint armed for the next
 * call. Each exception arrives before the instruction, with ELR on it;
 * the handler disarms the breakpoint and returns, so the instruction then
 * runs once.
 */
#include "guest.h"

#define EC_BREAKPOINT_LOWER 0x30
#define EC_BREAKPOINT_CURRENT 0x31
#define EC_STEP_LOWER 0x32
#define ISS_ISV (1UL << 24)
#define MDSCR_SS 1UL
#define SPSR_SS (1UL << 21)
#define FSC_DEBUG 0x22
#define MDSCR_KDE (1UL << 13)
#define MDSCR_MDE (1UL << 15)
/* DBGBCR: E, PMC, BAS = 0b1111, BT. */
#define BCR_E 1UL
#define BCR_PMC_EL1 (1UL << 1)
#define BCR_PMC_EL0 (2UL << 1)
#define BCR_BAS (0xfUL << 5)
#define BCR_LBN(n) ((u64)(n) << 16)
#define BCR_BT(t) ((u64)(t) << 20)
#define BCR_SSC_SECURE (2UL << 14)
/* OSLSR_EL1: OSLM = 0b10 (bits 3 and 0), OSLK in bit 1. */
#define OSLSR_OSLM 0x8UL
#define OSLSR_OSLK 0x2UL
#define BT_LINKED_ADDRESS 1
#define BT_LINKED_CONTEXT 3
#define CONTEXT_SLOT 4

u64 bp_target(u64 x);
u64 el0_call_target(u64 x);

struct seen {
	u64 esr, elr, spsr, vector;
};
static struct seen seen[8];
static unsigned nseen;

/* While set, the handler steps over breakpoints instead of disarming them. */
static u64 step_over_bcr;
static struct seen steps[4];
static unsigned nsteps;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec == EC_STEP_LOWER && step_over_bcr && nsteps < 4) {
		steps[nsteps++] = (struct seen){f->esr, f->elr, f->spsr, vector};
		write_sysreg(dbgbcr0_el1, step_over_bcr);
		write_sysreg(mdscr_el1, read_sysreg(mdscr_el1) & ~MDSCR_SS);
		isb();
		return 1;
	}
	if ((ec != EC_BREAKPOINT_LOWER && ec != EC_BREAKPOINT_CURRENT) || nseen == 8)
		return 0;
	seen[nseen++] = (struct seen){f->esr, f->elr, f->spsr, vector};
	if (step_over_bcr) {
		write_sysreg(dbgbcr0_el1, step_over_bcr & ~BCR_E);
		write_sysreg(mdscr_el1, read_sysreg(mdscr_el1) | MDSCR_SS);
		f->spsr |= SPSR_SS;
		isb();
		return 1;
	}
	/* Disarm, so that the instruction runs when the handler returns. */
	write_sysreg(dbgbcr0_el1, 0);
	isb();
	return 1;
}

static void arm(u64 bcr, u64 mdscr)
{
	write_sysreg(dbgbvr0_el1, (u64)bp_target);
	write_sysreg(dbgbcr0_el1, bcr);
	write_sysreg(mdscr_el1, mdscr);
	isb();
}

/* Calls bp_target at EL1 with PSTATE.D as `d_clear` asks; returns the exceptions taken. */
static unsigned call_el1(int d_clear, u64 *result)
{
	unsigned before = nseen;
	if (d_clear)
		__asm__ volatile("msr daifclr, #8" ::: "memory");
	*result = bp_target(41);
	__asm__ volatile("msr daifset, #8" ::: "memory");
	return nseen - before;
}

static unsigned call_el0(u64 *result)
{
	unsigned before = nseen;
	*result = run_el0(el0_call_target, 41, 0);
	return nseen - before;
}

static void expect_taken(const char *group, unsigned taken, u64 result, u64 ec, u64 vector,
			 u64 spsr_mode)
{
	check_eq_in(group, "one exception", taken, 1);
	check_eq_in(group, "the instruction ran after", result, 42);
	if (taken != 1)
		return;
	const struct seen *s = &seen[nseen - 1];
	check_eq_in(group, "ESR", s->esr, ESR(ec, FSC_DEBUG));
	check_eq_in(group, "ELR on the instruction", s->elr, (u64)bp_target);
	check_eq_in(group, "vector", s->vector, vector);
	check_eq_in(group, "SPSR mode", s->spsr & SPSR_MODE_MASK, spsr_mode);
}

static void expect_none(const char *group, unsigned taken, u64 result)
{
	check_eq_in(group, "no exception", taken, 0);
	check_eq_in(group, "the instruction ran", result, 42);
}

void test_main(void)
{
	sync_handler = on_sync;
	u64 r;
	unsigned n;
	const u64 both = BCR_E | BCR_PMC_EL1 | BCR_PMC_EL0 | BCR_BAS;

	/* Out of reset the OS lock is set: nothing fires. */
	check_eq("OSLSR_EL1 out of reset: lock implemented and set", read_sysreg(oslsr_el1),
		 OSLSR_OSLM | OSLSR_OSLK);
	arm(both, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("OS lock set", n, r);
	write_sysreg(oslar_el1, 0);
	isb();
	check_eq("OSLSR_EL1 after OSLAR_EL1 = 0: unlocked", read_sysreg(oslsr_el1), OSLSR_OSLM);

	/* The OS double lock keeps them off as well. */
	write_sysreg(osdlr_el1, 1);
	arm(both, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("OS double lock set", n, r);
	write_sysreg(osdlr_el1, 0);
	isb();

	arm(both, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_taken("EL1", n, r, EC_BREAKPOINT_CURRENT, VEC_CUR_SPX, SPSR_EL1H);
	if (n == 1)
		check_eq("EL1: SPSR.D clear, as it was", seen[nseen - 1].spsr & (1UL << 9), 0);

	arm(both, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(0, &r);
	expect_none("EL1 with PSTATE.D set", n, r);
	arm(both, MDSCR_MDE);
	n = call_el1(1, &r);
	expect_none("EL1 without KDE", n, r);
	arm(both, MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("EL1 without MDE", n, r);
	arm(BCR_E | BCR_PMC_EL0 | BCR_BAS, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("EL1, breakpoint for EL0 only", n, r);
	arm(both & ~BCR_E, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("EL1, breakpoint disabled", n, r);
	arm(both & ~BCR_BAS, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("EL1, no byte selected", n, r);
	arm(both | BCR_SSC_SECURE, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("EL1, breakpoint for Secure state only", n, r);

	/* From EL0 the debug target is a higher EL: MDE is enough, KDE and D do not matter. */
	arm(both, MDSCR_MDE);
	n = call_el0(&r);
	expect_taken("EL0", n, r, EC_BREAKPOINT_LOWER, VEC_LOWER64, SPSR_EL0T);
	arm(BCR_E | BCR_PMC_EL1 | BCR_BAS, MDSCR_MDE);
	n = call_el0(&r);
	expect_none("EL0, breakpoint for EL1 only", n, r);
	arm(both, 0);
	n = call_el0(&r);
	expect_none("EL0 without MDE", n, r);

	/* Linked to a context-ID breakpoint: fires only in the matching context. */
	write_sysreg(dbgbvr4_el1, 0x1234);
	write_sysreg(dbgbcr4_el1, BCR_E | BCR_PMC_EL1 | BCR_PMC_EL0 | BCR_BAS |
					  BCR_BT(BT_LINKED_CONTEXT));
	const u64 linked = both | BCR_BT(BT_LINKED_ADDRESS) | BCR_LBN(CONTEXT_SLOT);
	write_sysreg(contextidr_el1, 0x1234);
	arm(linked, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_taken("linked, context matches", n, r, EC_BREAKPOINT_CURRENT, VEC_CUR_SPX,
		     SPSR_EL1H);
	write_sysreg(contextidr_el1, 0x999);
	arm(linked, MDSCR_MDE | MDSCR_KDE);
	n = call_el1(1, &r);
	expect_none("linked, another context", n, r);

	/* Stepped over at EL0 twice: the breakpoint is back on for the second call. */
	step_over_bcr = BCR_E | BCR_PMC_EL0 | BCR_BAS;
	arm(step_over_bcr, MDSCR_MDE);
	unsigned bp_before = nseen;
	u64 r2;
	call_el0(&r);
	call_el0(&r2);
	step_over_bcr = 0;
	check_eq("step over: a breakpoint exception per call", nseen - bp_before, 2);
	check_eq("step over: the instruction ran each time", r + r2, 84);
	check_eq("step over: a step exception per call", nsteps, 2);
	for (unsigned i = 0; i < nsteps && i < 2; i++) {
		static const char *const names[] = {"step over 1", "step over 2"};
		check_eq_in(names[i], "step ESR", steps[i].esr,
			    ESR(EC_STEP_LOWER, ISS_ISV | FSC_DEBUG));
		check_eq_in(names[i], "ELR after the instruction", steps[i].elr,
			    (u64)bp_target + 4);
		check_eq_in(names[i], "breakpoint SPSR.SS clear", seen[bp_before + i].spsr & SPSR_SS,
			    0);
	}
	check_eq("step over: the breakpoint is armed after", read_sysreg(dbgbcr0_el1),
		 BCR_E | BCR_PMC_EL0 | BCR_BAS);

	/* Disarmed and locked, as a kernel leaves them. */
	write_sysreg(dbgbcr0_el1, 0);
	write_sysreg(dbgbcr4_el1, 0);
	write_sysreg(mdscr_el1, 0);
	write_sysreg(oslar_el1, 1);
	isb();
	check_eq("breakpoint exceptions in all", nseen, 5);
}

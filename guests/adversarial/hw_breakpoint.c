/*
 * Hardware breakpoints and watchpoints as a kernel debugger arms them:
 * unlock the OS lock (OSLAR_EL1 = 0), a breakpoint on a function
 * (DBGBVR0 = its address, DBGBCR0 = 0x1e7: EL0 and EL1, all bytes,
 * enabled), a write watchpoint on a doubleword (DBGWCR0 = 0x1ff7),
 * MDSCR_EL1.KDE|MDE, PSTATE.D clear; then run the function and store to the
 * doubleword, at EL1 and at EL0, many times over. Arming a breakpoint in the
 * engine once crashed the host; the registers must read back, and the code
 * must run. Whether the debug exceptions fire is the VMM's choice: a handler
 * takes any that do, disarms what fired and resumes, and the count is
 * printed.
 */
#include "adv.h"

#define EC_BREAKPOINT_LOWER 0x30
#define EC_BREAKPOINT_CURRENT 0x31
#define EC_STEP_LOWER 0x32
#define EC_STEP_CURRENT 0x33
#define EC_WATCHPOINT_LOWER 0x34
#define EC_WATCHPOINT_CURRENT 0x35
#define MDSCR_KDE (1UL << 13)
#define MDSCR_MDE (1UL << 15)
#define BCR_EXEC_EL0_EL1 0x1e7UL
#define WCR_STORE_EL0_EL1 0x1ff7UL
#define OSLSR_OSLM_IMPLEMENTED 0x8UL
#define OSLSR_OSLK 0x2UL
#define ROUNDS 2000

static volatile u64 watched __attribute__((aligned(8)));
static u64 debug_exceptions;

static int on_sync(struct frame *f, u64 vector)
{
	(void)vector;
	switch (ESR_EC(f->esr)) {
	case EC_BREAKPOINT_LOWER:
	case EC_BREAKPOINT_CURRENT:
		write_sysreg(dbgbcr0_el1, 0);
		break;
	case EC_WATCHPOINT_LOWER:
	case EC_WATCHPOINT_CURRENT:
		write_sysreg(dbgwcr0_el1, 0);
		break;
	case EC_STEP_LOWER:
	case EC_STEP_CURRENT:
		write_sysreg(mdscr_el1, read_sysreg(mdscr_el1) & ~1UL);
		break;
	default:
		return 0;
	}
	isb();
	/* Taken before the instruction completed: returning re-runs it, now disarmed. */
	debug_exceptions++;
	return 1;
}

__attribute__((noinline)) static u64 target(u64 arg)
{
	__asm__ volatile("" ::: "memory");
	return 0x600d + arg;
}

static u64 el0_body(u64 round)
{
	u64 r = target(round);
	watched = r;
	return r;
}

static void arm(void)
{
	write_sysreg(dbgbvr0_el1, (u64)target);
	write_sysreg(dbgbcr0_el1, BCR_EXEC_EL0_EL1);
	write_sysreg(dbgwvr0_el1, (u64)&watched);
	write_sysreg(dbgwcr0_el1, WCR_STORE_EL0_EL1);
	write_sysreg(mdscr_el1, MDSCR_KDE | MDSCR_MDE);
	__asm__ volatile("msr daifclr, #8" ::: "memory");
	isb();
}

void test_main(void)
{
	sync_handler = on_sync;
	u64 oslsr = read_sysreg(oslsr_el1);
	check_eq("OSLSR_EL1 at reset: the OS lock is implemented and set", oslsr,
		 OSLSR_OSLM_IMPLEMENTED | OSLSR_OSLK);
	write_sysreg(oslar_el1, 0);
	isb();
	check_eq("OSLSR_EL1 after OSLAR_EL1 = 0: unlocked", read_sysreg(oslsr_el1),
		 OSLSR_OSLM_IMPLEMENTED);

	arm();
	check_eq("DBGBVR0_EL1 reads back", read_sysreg(dbgbvr0_el1), (u64)target);
	check_eq("DBGBCR0_EL1 reads back", read_sysreg(dbgbcr0_el1), BCR_EXEC_EL0_EL1);
	check_eq("DBGWVR0_EL1 reads back", read_sysreg(dbgwvr0_el1), (u64)&watched);
	check_eq("DBGWCR0_EL1 reads back", read_sysreg(dbgwcr0_el1), WCR_STORE_EL0_EL1);
	check_eq("MDSCR_EL1 reads back", read_sysreg(mdscr_el1), MDSCR_KDE | MDSCR_MDE);

	u64 el1_right = 0, el0_right = 0;
	for (u64 round = 0; round < ROUNDS; round++) {
		arm();
		u64 r = target(round);
		watched = r;
		el1_right += r == 0x600d + round && watched == r;
		arm();
		r = run_el0(el0_body, round, 0);
		el0_right += r == 0x600d + round && watched == r;
	}
	check_eq("EL1: the code at the breakpoint ran and the watched store landed, every round",
		 el1_right, ROUNDS);
	check_eq("EL0: the code at the breakpoint ran and the watched store landed, every round",
		 el0_right, ROUNDS);
	log_str("debug exceptions taken: ");
	log_u64(debug_exceptions);
	log_str("\n");

	/* Disarmed and locked again, as a kernel leaves them. */
	write_sysreg(mdscr_el1, 0);
	write_sysreg(dbgbcr0_el1, 0);
	write_sysreg(dbgwcr0_el1, 0);
	write_sysreg(oslar_el1, 1);
	isb();
	check_eq("OSLSR_EL1 after OSLAR_EL1 = 1: locked again", read_sysreg(oslsr_el1),
		 OSLSR_OSLM_IMPLEMENTED | OSLSR_OSLK);
}

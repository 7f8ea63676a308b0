/*
 * Software step (MDSCR_EL1.SS with SPSR.SS) as a kernel uses it for
 * ptrace: an exception return with SPSR.SS set runs exactly one instruction,
 * then a software step exception (EC 0x32 from EL0, 0x33 from EL1 with
 * MDSCR_EL1.KDE) arrives with ELR on the next instruction and ISV set (EX
 * set after a load-exclusive). A return with SPSR.SS clear while stepping is
 * active takes the exception at once, ISV clear. A stepped SVC is taken with
 * SPSR.SS clear, and the step exception follows its return. Nothing is
 * stepped while the OS lock is set, nor at EL1 without KDE.
 *
 * The handler keeps stepping (SPSR.SS set) until SVC #STEP_STOP turns
 * MDSCR_EL1.SS off; the SVC numbers are debug_sites.S's.
 */
#include "guest.h"

#define EC_STEP_LOWER 0x32
#define EC_STEP_CURRENT 0x33
#define FSC_DEBUG 0x22
#define ISS_ISV (1UL << 24)
#define ISS_EX (1UL << 6)
#define SPSR_SS (1UL << 21)
#define SPSR_D (1UL << 9)
#define MDSCR_SS 1UL
#define MDSCR_KDE (1UL << 13)

#define STEP_STOP 0x50
#define STEP_START 0x51
#define STEP_START_EL1 0x52
#define STEP_PENDING 0x53
#define STEP_PLAIN_SVC 0x54

u64 el0_steps(u64 unused);
u64 el0_pending(u64 unused);
u64 el0_step_svc(u64 unused);
u64 el0_step_ldxr(u64 p);
u64 el1_steps(void);
extern char el0_steps_first[], el0_steps_end[], el0_pending_next[], el0_after_svc[];
extern char el0_after_ldxr[], el1_steps_first[], el1_steps_end[];

struct event {
	u64 esr, elr, spsr, vector;
};
static struct event steps[16];
static unsigned nsteps;
static struct event svcs[16];
static unsigned nsvcs;
/* What SVC #STEP_START and #STEP_START_EL1 write to MDSCR_EL1. */
static u64 step_mdscr;
static u64 exclusive;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec == EC_STEP_LOWER || ec == EC_STEP_CURRENT) {
		if (nsteps < 16)
			steps[nsteps++] = (struct event){f->esr, f->elr, f->spsr, vector};
		/* Step the next one too. */
		f->spsr |= SPSR_SS;
		return 1;
	}
	if (ec != EC_SVC64 || nsvcs == 16)
		return 0;
	svcs[nsvcs++] = (struct event){f->esr, f->elr, f->spsr, vector};
	switch (f->esr & 0xffff) {
	case STEP_START:
		write_sysreg(mdscr_el1, step_mdscr);
		f->spsr |= SPSR_SS;
		break;
	case STEP_START_EL1:
		write_sysreg(mdscr_el1, step_mdscr);
		f->spsr = (f->spsr | SPSR_SS) & ~SPSR_D;
		break;
	case STEP_PENDING:
		write_sysreg(mdscr_el1, step_mdscr);
		f->spsr &= ~SPSR_SS;
		break;
	case STEP_STOP:
		write_sysreg(mdscr_el1, 0);
		break;
	case STEP_PLAIN_SVC:
		break;
	default:
		return 0;
	}
	isb();
	return 1;
}

static void expect_step(const char *group, unsigned i, u64 ec, u64 iss, u64 elr, u64 vector)
{
	if (i >= nsteps) {
		check_in(group, "step exception taken", 0, nsteps, i + 1);
		return;
	}
	check_eq_in(group, "ESR", steps[i].esr, ESR(ec, iss | FSC_DEBUG));
	check_eq_in(group, "ELR on the next instruction", steps[i].elr, elr);
	check_eq_in(group, "vector", steps[i].vector, vector);
}

/* The SPSR.SS that SVC #imm (the last one with that number) saw. */
static u64 svc_ss(u64 imm)
{
	for (unsigned i = nsvcs; i-- > 0;)
		if ((svcs[i].esr & 0xffff) == imm)
			return svcs[i].spsr & SPSR_SS;
	return ~0UL;
}

void test_main(void)
{
	sync_handler = on_sync;
	u64 r;

	/* Out of reset the OS lock is set: nothing is stepped. */
	step_mdscr = MDSCR_SS;
	r = run_el0(el0_steps, 0, 0);
	check_eq("OS lock set: no step exception", nsteps, 0);
	check_eq("OS lock set: the code ran", r, 4);
	write_sysreg(oslar_el1, 0);
	isb();

	nsteps = 0;
	r = run_el0(el0_steps, 0, 0);
	check_eq("EL0: one step exception per instruction", nsteps, 4);
	check_eq("EL0: the code ran once", r, 4);
	for (unsigned i = 0; i < 4; i++) {
		static const char *const names[] = {"EL0 step 1", "EL0 step 2", "EL0 step 3",
						    "EL0 step 4"};
		u64 next = i < 3 ? (u64)el0_steps_first + 4 * (i + 1) : (u64)el0_steps_end;
		expect_step(names[i], i, EC_STEP_LOWER, ISS_ISV, next, VEC_LOWER64);
	}
	check_eq("EL0: a stepped SVC is taken with SPSR.SS clear", svc_ss(STEP_STOP), 0);

	/* Returning with SPSR.SS clear while stepping: the exception comes first. */
	nsteps = 0;
	r = run_el0(el0_pending, 0, 0);
	expect_step("EL0 active-pending", 0, EC_STEP_LOWER, 0, (u64)el0_pending_next,
		    VEC_LOWER64);
	check_eq("EL0 active-pending: then the code ran once", r, 1);

	nsteps = 0;
	run_el0(el0_step_svc, 0, 0);
	check_eq("EL0 stepped svc: its SPSR.SS is clear", svc_ss(STEP_PLAIN_SVC), 0);
	expect_step("EL0 stepped svc", 0, EC_STEP_LOWER, 0, (u64)el0_after_svc, VEC_LOWER64);
	check_eq("EL0 stepped svc: one step exception", nsteps, 1);

	nsteps = 0;
	exclusive = 0x5e5e;
	r = run_el0(el0_step_ldxr, (u64)&exclusive, 0);
	expect_step("EL0 stepped ldxr", 0, EC_STEP_LOWER, ISS_ISV | ISS_EX, (u64)el0_after_ldxr,
		    VEC_LOWER64);
	check_eq("EL0 stepped ldxr: the load ran", r, 0x5e5e);

	/* At EL1 stepping needs KDE (and PSTATE.D clear, which STEP_START_EL1 returns with). */
	nsteps = 0;
	step_mdscr = MDSCR_SS | MDSCR_KDE;
	r = el1_steps();
	__asm__ volatile("msr daifset, #8" ::: "memory");
	check_eq("EL1: one step exception per instruction", nsteps, 2);
	check_eq("EL1: the code ran once", r, 2);
	expect_step("EL1 step 1", 0, EC_STEP_CURRENT, ISS_ISV, (u64)el1_steps_first + 4,
		    VEC_CUR_SPX);
	expect_step("EL1 step 2", 1, EC_STEP_CURRENT, ISS_ISV, (u64)el1_steps_end, VEC_CUR_SPX);

	nsteps = 0;
	step_mdscr = MDSCR_SS;
	r = el1_steps();
	__asm__ volatile("msr daifset, #8" ::: "memory");
	check_eq("EL1 without KDE: no step exception", nsteps, 0);
	check_eq("EL1 without KDE: the code ran", r, 2);

	write_sysreg(mdscr_el1, 0);
	write_sysreg(oslar_el1, 1);
	isb();
}

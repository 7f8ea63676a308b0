/*
 * EL0 access to the counter and the virtual timer, which CNTKCTL_EL1 gates.
 * With EL0VCTEN and EL0VTEN clear, every EL0 access in el0_timer_ops must
 * trap to EL1 (EC 0x18, a trapped MSR/MRS whose ISS encodes the register,
 * Rt and the direction) and the timer must stay as EL1 left it. With both
 * set, the same accesses are allowed and take effect. Linux runs user space
 * with EL0VTEN clear: a timer write from EL0 that slipped through would
 * reprogram the kernel's tick.
 */
#include "guest.h"

u64 el0_timer_ops(u64 cval);
extern char el0_rd_cnt[], el0_rd_ctl[], el0_wr_cval[], el0_wr_ctl[], el0_wr_tval[];

#define EC_SYSREG 0x18
#define CNTKCTL_EL0VCTEN (1UL << 1)
#define CNTKCTL_EL0VTEN (1UL << 8)
#define CTL_ENABLE 1
#define CTL_IMASK 2
/* Far in the future, and recognisable. */
#define EL1_CVAL 0x00123456789abcdeUL
#define EL0_CVAL 0x00fedcba98765432UL
#define EL0_TVAL 0x40000000UL

struct seen {
	u64 esr, elr;
};
static struct seen seen[8];
static unsigned nseen;

static unsigned nirq;

/* Only a timer that EL0 wrongly armed could interrupt; silence it and count. */
static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	(void)vector;
	nirq++;
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	return 1;
}

static int on_sync(struct frame *f, u64 vector)
{
	if (vector != VEC_LOWER64 || nseen == 8)
		return 0;
	seen[nseen++] = (struct seen){f->esr, f->elr};
	f->elr += 4;
	return 1;
}

/* ISS of a trapped MSR/MRS (ARM ARM D17.2.37, EC 0x18). */
static u64 sysreg_trap(u64 op0, u64 op1, u64 crn, u64 crm, u64 op2, u64 rt, u64 read)
{
	return ESR(EC_SYSREG, op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 |
				      read);
}

static void check_trap(const char *group, unsigned i, u64 esr, const char *at)
{
	check_eq_in(group, "ESR", seen[i].esr, esr);
	check_eq_in(group, "ELR on the instruction", seen[i].elr, (u64)at);
}

void test_main(void)
{
	sync_handler = on_sync;
	irq_handler = on_irq;

	write_sysreg(cntkctl_el1, 0);
	write_sysreg(cntv_cval_el0, EL1_CVAL);
	write_sysreg(cntv_ctl_el0, CTL_IMASK);
	isb();
	run_el0(el0_timer_ops, EL0_CVAL, 0);
	check_eq("CNTKCTL_EL1 = 0: every EL0 access traps", nseen, 5);
	check_trap("EL0 mrs cntvct_el0", 0, sysreg_trap(3, 3, 14, 0, 2, 1, 1), el0_rd_cnt);
	check_trap("EL0 mrs cntv_ctl_el0", 1, sysreg_trap(3, 3, 14, 3, 1, 2, 1), el0_rd_ctl);
	check_trap("EL0 msr cntv_cval_el0", 2, sysreg_trap(3, 3, 14, 3, 2, 3, 0), el0_wr_cval);
	check_trap("EL0 msr cntv_ctl_el0", 3, sysreg_trap(3, 3, 14, 3, 1, 4, 0), el0_wr_ctl);
	check_trap("EL0 msr cntv_tval_el0", 4, sysreg_trap(3, 3, 14, 3, 0, 5, 0), el0_wr_tval);
	check_eq("CNTKCTL_EL1 = 0: CVAL as EL1 left it", read_sysreg(cntv_cval_el0), EL1_CVAL);
	check_eq("CNTKCTL_EL1 = 0: CNTV_CTL as EL1 left it", read_sysreg(cntv_ctl_el0), CTL_IMASK);

	nseen = 0;
	write_sysreg(cntkctl_el1, CNTKCTL_EL0VCTEN | CNTKCTL_EL0VTEN);
	isb();
	u64 before = read_sysreg(cntvct_el0);
	u64 seen_count = run_el0(el0_timer_ops, EL0_CVAL, 0);
	u64 after = read_sysreg(cntvct_el0);
	check_eq("EL0VCTEN and EL0VTEN set: no trap", nseen, 0);
	check_range("EL0VCTEN and EL0VTEN set: EL0 reads the counter", seen_count, before, after);
	/* The TVAL write came last: CVAL = the counter then + TVAL. */
	check_range("EL0VCTEN and EL0VTEN set: EL0's TVAL write sets CVAL",
		    read_sysreg(cntv_cval_el0), before + EL0_TVAL, after + EL0_TVAL);
	check_eq("EL0VCTEN and EL0VTEN set: EL0's CNTV_CTL write", read_sysreg(cntv_ctl_el0) & 3,
		 CTL_ENABLE | CTL_IMASK);
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	check_eq("no timer interrupt", nirq, 0);
}

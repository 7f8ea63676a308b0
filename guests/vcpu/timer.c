/*
 * WFI woken by the virtual timer, three ways: at EL1 with IRQs masked (WFI
 * still wakes, no interrupt is taken), at EL1 unmasked (the timer interrupt
 * arrives at VBAR+0x280), and at EL0 (VBAR+0x480). Each time the guest
 * checks, after waking, that the counter really reached the compare value
 * and that CNTV_CTL_EL0 shows ISTATUS. The host either waits for the
 * deadline or moves guest time forward; both must look the same from here.
 */
#include "guest.h"

void el1_wfi_unmasked(void);
u64 el0_wfi(u64 unused);
extern char el1_wfi_unmasked_ret[], el0_wfi_ret[];

#define CTL_ENABLE 1
#define CTL_IMASK 2
#define CTL_ISTATUS 4
#define SCTLR_NTWI (1UL << 16)

static unsigned nirq;
static u64 irq_vector, irq_elr, irq_spsr, irq_ctl, irq_count, irq_cval;

static int on_irq(struct frame *f, u64 vector)
{
	nirq++;
	irq_vector = vector;
	irq_elr = f->elr;
	irq_spsr = f->spsr;
	irq_ctl = read_sysreg(cntv_ctl_el0);
	irq_count = read_sysreg(cntvct_el0);
	irq_cval = read_sysreg(cntv_cval_el0);
	/* Masking the timer lowers its output, which the host routes to the IRQ line. */
	write_sysreg(cntv_ctl_el0, CTL_ENABLE | CTL_IMASK);
	isb();
	return 1;
}

/* 5 ms: long enough that the deadline cannot pass before the WFI runs. */
static u64 delay(void)
{
	return read_sysreg(cntfrq_el0) / 200;
}

static void check_woken_irq(const char *group, u64 vector, const char *ret, u64 spsr)
{
	check_eq_in(group, "one interrupt", nirq, 1);
	check_eq_in(group, "vector", irq_vector, vector);
	check_eq_in(group, "ELR after the wfi", irq_elr, (u64)ret);
	check_eq_in(group, "SPSR", irq_spsr & (SPSR_DAIF | SPSR_MODE_MASK), spsr);
	check_eq_in(group, "CNTV_CTL in the handler", irq_ctl, CTL_ENABLE | CTL_ISTATUS);
	check_in(group, "CNTVCT >= CVAL in the handler", irq_count >= irq_cval, irq_count,
		 irq_cval);
	check_eq_in(group, "CNTV_CTL once masked", read_sysreg(cntv_ctl_el0),
		    CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	nirq = 0;
}

void test_main(void)
{
	irq_handler = on_irq;

	/* Masked: WFI wakes on the pending interrupt without taking it. */
	u64 cval = read_sysreg(cntvct_el0) + delay();
	write_sysreg(cntv_cval_el0, cval);
	write_sysreg(cntv_ctl_el0, CTL_ENABLE);
	isb();
	check_eq("EL1 masked: CVAL reads back", read_sysreg(cntv_cval_el0), cval);
	check_eq("EL1 masked: CNTV_CTL before the deadline", read_sysreg(cntv_ctl_el0), CTL_ENABLE);
	__asm__ volatile("wfi" ::: "memory");
	u64 now = read_sysreg(cntvct_el0);
	check("EL1 masked: CNTVCT >= CVAL after wfi", now >= cval, now, cval);
	check_eq("EL1 masked: CNTV_CTL shows ISTATUS", read_sysreg(cntv_ctl_el0),
		 CTL_ENABLE | CTL_ISTATUS);
	check_eq("EL1 masked: no interrupt taken", nirq, 0);
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	check_eq("EL1 masked: CNTV_CTL once disabled", read_sysreg(cntv_ctl_el0), 0);

	/* Unmasked at EL1, programmed through TVAL this time. */
	u64 before = read_sysreg(cntvct_el0);
	write_sysreg(cntv_tval_el0, delay());
	u64 after = read_sysreg(cntvct_el0);
	write_sysreg(cntv_ctl_el0, CTL_ENABLE);
	isb();
	cval = read_sysreg(cntv_cval_el0);
	check_range("EL1 unmasked: TVAL sets CVAL = CNTVCT + TVAL", cval, before + delay(),
		    after + delay());
	el1_wfi_unmasked();
	check_woken_irq("EL1 unmasked", VEC_CUR_SPX + VEC_IRQ, el1_wfi_unmasked_ret,
			0x340 | SPSR_EL1H);

	/* EL0: nTWI lets WFI run there instead of trapping to EL1. */
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_NTWI);
	write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + delay());
	write_sysreg(cntv_ctl_el0, CTL_ENABLE);
	isb();
	run_el0(el0_wfi, 0, 0);
	check_woken_irq("EL0", VEC_LOWER64 + VEC_IRQ, el0_wfi_ret, SPSR_EL0T);
}

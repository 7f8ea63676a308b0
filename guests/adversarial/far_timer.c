/*
 * Arms the virtual timer 2^52 ticks ahead (at 62.5 MHz, over two years:
 * further than any host timer API takes in one go, 2^31 ms being the usual
 * limit), unmasks its interrupt and waits in WFI for ever. The VMM must
 * sleep without warnings or busy waiting and still answer Ctrl-A x.
 */
#include "adv.h"

#define AHEAD (1UL << 52)

static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	(void)vector;
	u32 iar = gic_ack();
	write_sysreg(cntv_ctl_el0, CTL_ENABLE | CTL_IMASK);
	isb();
	gic_eoi(iar);
	log_str("far_timer: an interrupt arrived (INTID ");
	log_u64(iar & 0x3ff);
	log_str(") long before the deadline\n");
	return 1;
}

void test_main(void)
{
	irq_handler = on_irq;
	gic_init();
	gic_enable(INTID_VTIMER);
	u64 cval = read_sysreg(cntvct_el0) + AHEAD;
	write_sysreg(cntv_cval_el0, cval);
	write_sysreg(cntv_ctl_el0, CTL_ENABLE);
	isb();
	check_eq("CVAL reads back", read_sysreg(cntv_cval_el0), cval);
	log_str("far_timer: the virtual timer fires in 2^52 ticks; waiting in WFI\n");
	daif_irq_on();
	for (;;)
		__asm__ volatile("wfi" ::: "memory");
}

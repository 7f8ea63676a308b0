/*
 * What every CPU runs: PSCI calls, its GIC CPU interface, the interrupt
 * handler that counts what it takes, and the mailbox loop of the CPUs the
 * boot CPU turned on.
 */
#include "cpu.h"

struct cpu cpus[MAX_CPUS];
/* Written by the boot CPU before any CPU_ON. */
volatile u64 boot_cpu;
volatile u64 expected_context[MAX_CPUS];

long psci(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return (long)x0;
}

void gic_cpu_init(void)
{
	/* SGIs and both timer PPIs, at the default priority (0), on this CPU's banked registers. */
	mmio_write(GICD_BASE + GICD_ISENABLER0,
		   0xffffu | (1u << INTID_VTIMER) | (1u << INTID_PTIMER));
	mmio_write(GICC_BASE + GICC_PMR, 0xff);
	mmio_write(GICC_BASE + GICC_CTLR, 1);
}

static unsigned this_cpu(void)
{
	return (unsigned)read_sysreg(tpidr_el1);
}

/* Takes everything pending, so a FENCE acknowledged after it proves nothing else was on its way. */
void irq_handler(void)
{
	struct cpu *me = &cpus[this_cpu()];
	for (;;) {
		u32 iar = mmio_read(GICC_BASE + GICC_IAR);
		u32 intid = iar & 0x3ff;
		if (intid >= 1020)
			break;
		if (intid < 16) {
			me->sgi[intid][(iar >> 10) & 7]++;
		} else if (intid < 32) {
			me->ppi[PPI(intid)]++;
			/* Level-triggered: the timer must be off before the EOI, or it pends again. */
			if (intid == INTID_VTIMER) {
				me->virtual_fired = read_sysreg(cntvct_el0);
				write_sysreg(cntv_ctl_el0, 0);
			} else if (intid == INTID_PTIMER) {
				me->physical_fired = read_sysreg(cntpct_el0);
				write_sysreg(cntp_ctl_el0, 0);
			}
			isb();
		} else {
			me->other++;
		}
		mmio_write(GICC_BASE + GICC_EOIR, iar);
	}
}

/* Sleeps `ticks` of the virtual counter in WFI with IRQs masked: nothing is taken or counted. */
void sleep_ticks(u64 ticks)
{
	u64 daif = read_sysreg(daif);
	irq_off();
	write_sysreg(cntv_tval_el0, ticks);
	write_sysreg(cntv_ctl_el0, CTL_ENABLE);
	isb();
	while (!(read_sysreg(cntv_ctl_el0) & CTL_ISTATUS))
		wfi();
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	write_sysreg(daif, daif);
}

void do_command(unsigned self, u64 cmd, const volatile u64 *arg, volatile u64 *result)
{
	struct cpu *me = &cpus[self];
	switch (cmd) {
	case CMD_FENCE:
		break;
	case CMD_SGI:
		mmio_write(GICD_BASE + GICD_SGIR, (u32)arg[0]);
		break;
	case CMD_TIMERS: {
		u32 virtual_before = me->ppi[PPI(INTID_VTIMER)];
		u32 physical_before = me->ppi[PPI(INTID_PTIMER)];
		u64 virtual_cval = read_sysreg(cntvct_el0) + arg[0];
		u64 physical_cval = read_sysreg(cntpct_el0) + arg[1];
		result[0] = virtual_cval;
		result[1] = physical_cval;
		write_sysreg(cntv_cval_el0, virtual_cval);
		write_sysreg(cntp_cval_el0, physical_cval);
		write_sysreg(cntv_ctl_el0, CTL_ENABLE);
		write_sysreg(cntp_ctl_el0, CTL_ENABLE);
		isb();
		WAIT_UNTIL(me->ppi[PPI(INTID_VTIMER)] != virtual_before &&
			   me->ppi[PPI(INTID_PTIMER)] != physical_before);
		break;
	}
	case CMD_SUSPEND: {
		irq_off();
		u64 start = read_sysreg(cntvct_el0);
		write_sysreg(cntv_cval_el0, start + arg[0]);
		write_sysreg(cntv_ctl_el0, CTL_ENABLE);
		isb();
		/* power_state 0: standby, power level 0. */
		result[0] = (u64)psci(PSCI_CPU_SUSPEND_64, 0, 0, 0);
		result[1] = read_sysreg(cntvct_el0) - start;
		result[2] = mmio_read(GICC_BASE + GICC_HPPIR);
		irq_on();
		break;
	}
	case CMD_WAKE_LATER:
		sleep_ticks(arg[0]);
		break;
	case CMD_PSCI:
		result[0] = (u64)psci(arg[0], arg[1], arg[2], arg[3]);
		break;
	case CMD_OFF:
		result[0] = (u64)psci(PSCI_CPU_OFF, 0, 0, 0);
		break;
	}
}

void secondary_main(u64 self, u64 ctx, u64 daif, u64 el, u64 sctlr)
{
	struct cpu *me = &cpus[self];
	me->ctx = ctx;
	me->ctx_ok = ctx == expected_context[self];
	me->daif = daif;
	me->el = el;
	me->sctlr = sctlr;
	me->mpidr = read_sysreg(mpidr_el1);
	gic_cpu_init();
	u64 last = me->seq;
	dmb();
	me->generation = me->generation + 1;
	dmb();
	mmio_write(GICD_BASE + GICD_SGIR, SGIR_LIST(1u << boot_cpu) | DOORBELL);
	irq_on();
	for (;;) {
		WAIT_UNTIL(me->seq != last);
		last = me->seq;
		dmb();
		do_command((unsigned)self, me->cmd, me->arg, me->result);
		dmb();
		me->ack = last;
		dmb();
		mmio_write(GICD_BASE + GICD_SGIR, SGIR_LIST(1u << boot_cpu) | DOORBELL);
	}
}

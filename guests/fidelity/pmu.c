/*
 * The performance monitors (PMUv3) as QEMU's cortex-a72 has them: the cycle
 * counter counts up while enabled and stops while not; software-increment
 * events count PMSWINC writes; a 32-bit overflow sets PMOVSSET and, when
 * the counter's interrupt is enabled, raises the PMU interrupt (PPI 7,
 * INTID 23) until the overflow flag is cleared; events PMCEID0/1 do not
 * list never count; EL0 reaches the PMU only as PMUSERENR_EL0 allows.
 */
#include "probe.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define GICD_CTLR 0x000
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ISPENDR 0x200
#define GICD_IPRIORITYR 0x400
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

#define PMU_INTID 23
#define EC_SYSREG 0x18

#define PMCR_E (1UL << 0)
#define PMCR_P (1UL << 1)
#define PMCR_C (1UL << 2)
#define PMCR_LC (1UL << 6)
#define PMCR_N(pmcr) (((pmcr) >> 11) & 0x1f)
#define CYCLES (1UL << 31)
#define EVENT_SW_INCR 0x00
#define EVENT_CPU_CYCLES 0x11

static inline u32 rd32(u64 a)
{
	return *(volatile u32 *)a;
}
static inline void wr32(u64 a, u32 v)
{
	*(volatile u32 *)a = v;
}

static volatile u64 irqs, last_iar;

static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	(void)vector;
	u32 iar = rd32(GICC + GICC_IAR);
	if ((iar & 0x3ff) == 1023)
		return 1;
	irqs++;
	last_iar = iar;
	/* The interrupt is level-sensitive: clear its cause before ending it. */
	write_sysreg(pmovsclr_el0, ~0UL);
	isb();
	wr32(GICC + GICC_EOIR, iar);
	return 1;
}

static volatile u64 traps, trap_esr, trap_vector;

static int on_sync(struct frame *f, u64 vector)
{
	if (ESR_EC(f->esr) != EC_SYSREG)
		return 0;
	traps++;
	trap_esr = f->esr;
	trap_vector = vector;
	f->elr += 4;
	f->x[0] = SKIPPED;
	return 1;
}

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

/* Lets pending interrupts in until one arrives or the wait is over. */
static void window(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	for (volatile int i = 0; i < 2000000 && irqs == 0; i++)
		;
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

static void select_counter(unsigned n)
{
	write_sysreg(pmselr_el0, n);
	isb();
}

static u64 el0_read_cycles(u64 unused)
{
	(void)unused;
	u64 v = SKIPPED;
	__asm__ volatile("mov x0, %1\n\tmrs x0, pmccntr_el0\n\tmov %0, x0"
			 : "=r"(v)
			 : "r"(v)
			 : "x0");
	return v;
}

static void cycle_counter(void)
{
	write_sysreg(pmccfiltr_el0, 0);
	write_sysreg(pmcntenset_el0, CYCLES);
	write_sysreg(pmcr_el0, PMCR_E | PMCR_C);
	isb();
	u64 first = read_sysreg(pmccntr_el0), prev = first, backwards = 0;
	for (int i = 0; i < 2000; i++) {
		u64 now = read_sysreg(pmccntr_el0);
		if (now < prev)
			backwards++;
		prev = now;
		spin(10);
	}
	check_eq("PMCCNTR_EL0 enabled: never goes backwards over 2000 reads", backwards, 0);
	check("PMCCNTR_EL0 enabled: counts up", prev > first, prev, first + 1);

	write_sysreg(pmcntenclr_el0, CYCLES);
	isb();
	u64 stopped = read_sysreg(pmccntr_el0);
	spin(100000);
	check_eq("PMCCNTR_EL0 disabled in PMCNTENSET: stands still", read_sysreg(pmccntr_el0),
		 stopped);
	write_sysreg(pmcntenset_el0, CYCLES);
	write_sysreg(pmcr_el0, 0);
	isb();
	stopped = read_sysreg(pmccntr_el0);
	spin(100000);
	check_eq("PMCCNTR_EL0 with PMCR_EL0.E clear: stands still", read_sysreg(pmccntr_el0),
		 stopped);
	write_sysreg(pmccntr_el0, 0x1234);
	isb();
	check_eq("PMCCNTR_EL0 write while stopped: reads back", read_sysreg(pmccntr_el0),
		 0x1234);
	write_sysreg(pmcr_el0, PMCR_E);
	isb();
	spin(1000);
	u64 resumed = read_sysreg(pmccntr_el0);
	check("PMCCNTR_EL0 enabled again: counts on from the written value", resumed > 0x1234,
	      resumed, 0x1235);
	/* Stopped first, so that the value read is exactly what PMCR_EL0.C left. */
	write_sysreg(pmcntenclr_el0, CYCLES);
	write_sysreg(pmcr_el0, PMCR_E | PMCR_C);
	isb();
	check_eq("PMCR_EL0.C: the cycle counter resets to zero", read_sysreg(pmccntr_el0), 0);
	write_sysreg(pmcntenset_el0, CYCLES);
	isb();
	/* Filtered out at EL1 (PMCCFILTR_EL0.P): stops while the program runs at EL1. */
	write_sysreg(pmccfiltr_el0, 1UL << 31);
	isb();
	stopped = read_sysreg(pmccntr_el0);
	spin(100000);
	check_eq("PMCCFILTR_EL0.P: does not count at EL1", read_sysreg(pmccntr_el0), stopped);
	write_sysreg(pmccfiltr_el0, 0);
	write_sysreg(pmcr_el0, 0);
	write_sysreg(pmcntenclr_el0, ~0UL);
	isb();
}

static void software_increment(unsigned counters)
{
	write_sysreg(pmcr_el0, PMCR_E | PMCR_P);
	for (unsigned n = 0; n < counters; n++) {
		select_counter(n);
		write_sysreg(pmxevtyper_el0, EVENT_SW_INCR);
	}
	/* Counter 1 stays disabled; counter 2 counts another event. */
	select_counter(2);
	write_sysreg(pmxevtyper_el0, EVENT_CPU_CYCLES);
	write_sysreg(pmcntenset_el0, (1UL << 0) | (1UL << 2) | (1UL << 3));
	isb();
	for (int i = 0; i < 10; i++)
		write_sysreg(pmswinc_el0, 0x0f);
	isb();
	check_eq("PMSWINC x10: enabled SW_INCR counter 0 counts 10", read_sysreg(pmevcntr0_el0),
		 10);
	check_eq("PMSWINC x10: disabled counter 1 stays 0", read_sysreg(pmevcntr1_el0), 0);
	check_eq("PMSWINC x10: enabled SW_INCR counter 3 counts 10", read_sysreg(pmevcntr3_el0),
		 10);
	select_counter(3);
	check_eq("PMXEVCNTR_EL0 reads the selected counter", read_sysreg(pmxevcntr_el0), 10);
	write_sysreg(pmswinc_el0, 1UL << 3);
	isb();
	check_eq("PMSWINC counter 3 only", read_sysreg(pmevcntr3_el0) * 100 +
						   read_sysreg(pmevcntr0_el0), 1110);
	write_sysreg(pmcr_el0, 0);
	isb();
	write_sysreg(pmswinc_el0, 1);
	isb();
	check_eq("PMSWINC with PMCR_EL0.E clear: no count", read_sysreg(pmevcntr0_el0), 10);
	write_sysreg(pmcr_el0, PMCR_E | PMCR_P);
	isb();
	check_eq("PMCR_EL0.P: event counters reset", read_sysreg(pmevcntr0_el0) +
							     read_sysreg(pmevcntr3_el0), 0);
}

static void overflow(void)
{
	irqs = 0;
	write_sysreg(pmovsclr_el0, ~0UL);
	write_sysreg(pmintenclr_el1, ~0UL);
	write_sysreg(pmevtyper0_el0, EVENT_SW_INCR);
	write_sysreg(pmcntenset_el0, 1);
	write_sysreg(pmevcntr0_el0, 0xfffffffeUL);
	write_sysreg(pmcr_el0, PMCR_E);
	isb();
	write_sysreg(pmswinc_el0, 1);
	isb();
	check_eq("SW_INCR to 0xffffffff: no overflow yet", read_sysreg(pmovsset_el0), 0);
	write_sysreg(pmswinc_el0, 1);
	isb();
	check_eq("SW_INCR past 0xffffffff: counter wraps to 0", read_sysreg(pmevcntr0_el0), 0);
	check_eq("SW_INCR past 0xffffffff: PMOVSSET_EL0 bit 0", read_sysreg(pmovsset_el0), 1);
	window();
	check_eq("overflow with PMINTENSET_EL1 clear: no interrupt", irqs, 0);

	/* The PMU interrupt is level-sensitive: pending while overflow and enable are both set. */
	write_sysreg(pmintenset_el1, 1);
	isb();
	window();
	check_eq("PMINTENSET_EL1 set with an overflow flagged: interrupt taken", irqs, 1);
	check_eq("PMU interrupt: INTID 23", last_iar, PMU_INTID);
	check_eq("PMU interrupt: handler cleared PMOVSSET_EL0", read_sysreg(pmovsset_el0), 0);
	irqs = 0;
	window();
	check_eq("PMU interrupt: not taken again once the flag is clear", irqs, 0);

	write_sysreg(pmevcntr0_el0, 0xffffffffUL);
	isb();
	write_sysreg(pmswinc_el0, 1);
	isb();
	window();
	check_eq("SW_INCR overflow with its interrupt enabled: taken", irqs, 1);
	check_eq("SW_INCR overflow: INTID 23", last_iar, PMU_INTID);

	/* The cycle counter overflows its low 32 bits (PMCR_EL0.LC clear). */
	irqs = 0;
	write_sysreg(pmcntenclr_el0, 1);
	write_sysreg(pmintenclr_el1, 1);
	write_sysreg(pmintenset_el1, CYCLES);
	write_sysreg(pmccfiltr_el0, 0);
	write_sysreg(pmccntr_el0, 0xffff0000UL);
	write_sysreg(pmcntenset_el0, CYCLES);
	isb();
	window();
	check_eq("PMCCNTR_EL0 32-bit overflow: interrupt taken", irqs, 1);
	check_eq("PMCCNTR_EL0 32-bit overflow: INTID 23", last_iar, PMU_INTID);
	u64 after = read_sysreg(pmccntr_el0);
	check("PMCCNTR_EL0 32-bit overflow: counts on past 2^32", after >= 0x100000000UL, after,
	      0x100000000UL);

	/* Nothing else pending: a WFI must end at the overflow (no other interrupt is enabled). */
	irqs = 0;
	write_sysreg(pmccntr_el0, 0xfff00000UL);
	isb();
	__asm__ volatile("dsb sy\n\twfi" ::: "memory");
	__asm__ volatile("msr daifclr, #2\n\tisb\n\tmsr daifset, #2" ::: "memory");
	check_eq("WFI: woken by the cycle counter's overflow interrupt", irqs, 1);
	check_eq("WFI: INTID 23", last_iar, PMU_INTID);

	write_sysreg(pmcr_el0, 0);
	write_sysreg(pmintenclr_el1, ~0UL);
	write_sysreg(pmcntenclr_el0, ~0UL);
	write_sysreg(pmovsclr_el0, ~0UL);
	isb();
}

/* Every event PMCEID0/1 does not list leaves its counter where it was. */
static void unlisted_events(u64 ceid0, u64 ceid1)
{
	u64 moved = 0, moved_at = 0, listed = 0;
	write_sysreg(pmcr_el0, PMCR_E);
	write_sysreg(pmcntenset_el0, 1);
	for (unsigned event = 1; event < 64; event++) {
		u64 ceid = event < 32 ? ceid0 : ceid1;
		if (ceid & (1UL << (event & 31))) {
			listed++;
			continue;
		}
		write_sysreg(pmevtyper0_el0, event);
		write_sysreg(pmevcntr0_el0, 0x100);
		isb();
		spin(2000);
		write_sysreg(pmswinc_el0, 1);
		isb();
		u64 count = read_sysreg(pmevcntr0_el0);
		if (count != 0x100) {
			moved++;
			moved_at = event;
		}
	}
	check_eq("events PMCEID0/1 do not list: counters stand still", moved, 0);
	check_eq("events PMCEID0/1 do not list: first that moved", moved_at, 0);
	check_eq("events PMCEID0/1 list besides SW_INCR: CPU_CYCLES only", listed, 1);

	write_sysreg(pmevtyper0_el0, EVENT_CPU_CYCLES);
	write_sysreg(pmevcntr0_el0, 0);
	isb();
	spin(10000);
	u64 cycles = read_sysreg(pmevcntr0_el0);
	check("event counter on CPU_CYCLES: counts", cycles > 0, cycles, 1);
	write_sysreg(pmcr_el0, 0);
	write_sysreg(pmcntenclr_el0, ~0UL);
	isb();
}

static void el0_access(void)
{
	write_sysreg(pmuserenr_el0, 0);
	isb();
	traps = 0;
	u64 r = run_el0(el0_read_cycles, 0, 0);
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0 clear: traps", traps, 1);
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0 clear: to EL1 from EL0", trap_vector,
		 VEC_LOWER64);
	/* Op0 3, Op2 0, Op1 3, CRn 9, CRm 13, Rt 0, read. */
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0 clear: syndrome", trap_esr,
		 ESR(EC_SYSREG, (3UL << 20) | (0UL << 17) | (3UL << 14) | (9UL << 10) |
					(0UL << 5) | (13UL << 1) | 1));
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0 clear: skipped", r, SKIPPED);
	write_sysreg(pmccntr_el0, 0x5000);
	write_sysreg(pmuserenr_el0, 1);
	isb();
	traps = 0;
	r = run_el0(el0_read_cycles, 0, 0);
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0.EN: no trap", traps, 0);
	check_eq("EL0 PMCCNTR_EL0 read, PMUSERENR_EL0.EN: the value", r, 0x5000);
	write_sysreg(pmuserenr_el0, 0);
	isb();
}

void test_main(void)
{
	probe_init();
	sync_handler = on_sync;
	irq_handler = on_irq;
	wr32(GICD + GICD_CTLR, 1);
	wr32(GICC + GICC_PMR, 0xff);
	wr32(GICC + GICC_CTLR, 1);
	*(volatile u8 *)(GICD + GICD_IPRIORITYR + PMU_INTID) = 0x80;
	wr32(GICD + GICD_ISENABLER, 1u << PMU_INTID);

	u64 dfr0 = read_sysreg(id_aa64dfr0_el1);
	check_eq("ID_AA64DFR0_EL1.PMUVer: PMUv3", (dfr0 >> 8) & 0xf, 1);
	u64 pmcr = read_sysreg(pmcr_el0);
	note("PMCR_EL0", pmcr);
	unsigned counters = PMCR_N(pmcr);
	check_eq("PMCR_EL0.N: six event counters", counters, 6);
	u64 ceid0 = read_sysreg(pmceid0_el0), ceid1 = read_sysreg(pmceid1_el0);
	check_eq("PMCEID0_EL0: SW_INCR and CPU_CYCLES", ceid0, (1UL << EVENT_SW_INCR) |
								(1UL << EVENT_CPU_CYCLES));
	check_eq("PMCEID1_EL0: none", ceid1, 0);
	check_eq("PMCR_EL0.LC: clear (32-bit overflow)", pmcr & PMCR_LC, 0);

	cycle_counter();
	software_increment(counters);
	overflow();
	unlisted_events(ceid0, ceid1);
	el0_access();
	wr32(GICD + GICD_ICENABLER, 1u << PMU_INTID);
}

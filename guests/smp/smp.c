/*
 * The SMP proof program: every CPU the machine has, brought up with PSCI
 * CPU_ON and driven by the boot CPU through per-CPU mailboxes, checks from
 * inside the guest what a multi-vCPU VMM must get right:
 *
 *  - PSCI: CPU_ON with a context id, its error codes (ALREADY_ON,
 *    ON_PENDING, INVALID_PARAMETERS for unknown or malformed MPIDRs and for
 *    entry points outside RAM, a PSCI error for garbage in every argument),
 *    AFFINITY_INFO for on, off and on-pending CPUs, CPU_OFF and CPU_ON again,
 *    CPU_SUSPEND to standby woken by an interrupt;
 *  - a distinct MPIDR_EL1 per CPU (Aff0 = index, bit 31 set);
 *  - SGIs between every ordered pair of CPUs through GICD_SGIR, with each
 *    target-list filter, checked on every CPU by id and source CPU;
 *  - each CPU's own virtual and physical timer, taken on its own GIC CPU
 *    interface and nowhere else.
 *
 * Every CPU idles in WFI while it waits (for a command, an acknowledgement
 * or a timer), so whole stretches of the run have every vCPU idle.
 *
 * Protocol: the boot CPU writes a command into a CPU's mailbox and rings its
 * doorbell (SGI 0); the CPU runs the command and acknowledges with SGI 0 back
 * to the boot CPU. Every CPU counts each interrupt it takes by INTID and
 * source; the boot CPU keeps its own model of what each CPU must have taken
 * and compares the two after every step. Only the boot CPU prints: a line per
 * phase, a line per failed check, and a last line with the totals. The
 * run ends through the exit-status device: pass, or the number of failed
 * checks as the status.
 */
#include "boot.h"

static long affinity(unsigned c)
{
	return psci(PSCI_AFFINITY_INFO_64, c, 0, 0);
}

static unsigned count_cpus(void)
{
	unsigned n = 0;
	while (n < MAX_CPUS && psci(PSCI_AFFINITY_INFO_64, n, 0, 0) != PSCI_INVALID_PARAMETERS)
		n++;
	return n;
}

/* Calls that must fail, made while every other CPU is off; none may start one. */
static void psci_errors(void)
{
	begin("PSCI errors");
	unsigned other = (boot + 1) % ncpus;
	u64 entry = (u64)secondary_entry;
	for (unsigned c = 0; c < ncpus; c++)
		expect_eq(affinity(c), c == boot ? AFFINITY_ON : AFFINITY_OFF,
			  "AFFINITY_INFO of CPU %u before any CPU_ON", c);
	expect_eq(psci(PSCI_AFFINITY_INFO_64, ncpus, 0, 0), PSCI_INVALID_PARAMETERS,
		  "AFFINITY_INFO of a CPU that does not exist");
	expect_eq(psci(PSCI_CPU_ON_64, boot, entry, 0), PSCI_ALREADY_ON, "CPU_ON of the boot CPU");
	expect_eq(psci(PSCI_CPU_ON_32, boot, entry, 0), PSCI_ALREADY_ON, "CPU_ON (SMC32) of the boot CPU");

	/* Targets that name no CPU: unknown affinity 0, or something in Aff1-3 or the bits that must be 0. */
	static const u64 bad_targets[] = {
		0x100, 0x10000, 1UL << 32, 1UL << 24, MPIDR_RES1, 1UL << 40, 1UL << 63, 0xff00ffff00UL,
	};
	expect_eq(psci(PSCI_CPU_ON_64, ncpus, entry, 0), PSCI_INVALID_PARAMETERS,
		  "CPU_ON of MPIDR %u (no such CPU)", ncpus);
	expect_eq(psci(PSCI_CPU_ON_64, 0xff, entry, 0), PSCI_INVALID_PARAMETERS, "CPU_ON of MPIDR 0xff");
	for (unsigned i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++) {
		u64 target = bad_targets[i] | other;
		expect_eq(psci(PSCI_CPU_ON_64, target, entry, 0), PSCI_INVALID_PARAMETERS,
			  "CPU_ON of MPIDR %lx", target);
		expect_eq(psci(PSCI_AFFINITY_INFO_64, target, 0, 0), PSCI_INVALID_PARAMETERS,
			  "AFFINITY_INFO of MPIDR %lx", target);
		/* SMC32 callers pass 32-bit values: only the low half is theirs. */
		if (target >> 32 == 0)
			expect_eq(psci(PSCI_CPU_ON_32, target, entry, 0), PSCI_INVALID_PARAMETERS,
				  "CPU_ON (SMC32) of MPIDR %lx", target);
	}

	/* Entry points outside RAM, for a CPU that exists and is off. */
	static const u64 bad_entries[] = {
		0, 0x1000, RAM_BASE - 4, GICD_BASE, UART_BASE, 0xfffffffffffffffcUL, 1UL << 48,
		0xffff000000000000UL | RAM_BASE, 0x8000000000000000UL | RAM_BASE,
	};
	for (unsigned i = 0; ncpus > 1 && i < sizeof(bad_entries) / sizeof(bad_entries[0]); i++)
		expect_eq(psci(PSCI_CPU_ON_64, other, bad_entries[i], 0), PSCI_INVALID_PARAMETERS,
			  "CPU_ON of CPU %u at %lx", other, bad_entries[i]);
	if (ncpus > 1)
		expect_eq(psci(PSCI_CPU_ON_32, other, 0x1000, 0), PSCI_INVALID_PARAMETERS,
			  "CPU_ON (SMC32) of CPU %u at 0x1000", other);

	/* Garbage everywhere, the function id's upper half included: an error code every time. */
	u64 x = 0x243f6a8885a308d3UL;
	u32 answered = 0;
	for (unsigned i = 0; i < 96; i++) {
		u64 r[4];
		for (unsigned k = 0; k < 4; k++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			r[k] = x ^ (x >> 29);
		}
		static const u64 fids[] = { PSCI_CPU_ON_64, PSCI_CPU_ON_32, PSCI_AFFINITY_INFO_64 };
		u64 fid = fids[i % 3] | (r[0] & 0xffffffff00000000UL);
		long result = psci(fid, r[1], r[2], r[3]);
		answered += expect(result < 0 && result >= PSCI_INVALID_ADDRESS, (u64)result,
				   "call %lx (%lx, %lx, %lx) answers a PSCI error", fid, r[1], r[2], r[3]);
	}
	/* Not one of them started a CPU. */
	for (unsigned c = 0; c < ncpus; c++)
		if (c != boot)
			expect_eq(affinity(c), AFFINITY_OFF, "CPU %u still off after the bad calls", c);
	print("smp: PSCI errors: unknown and malformed MPIDRs, entry points outside RAM, "
	      "%u calls with garbage arguments\n", answered);
}

/* The entry state of CPU c's last CPU_ON, as it recorded it. */
static void check_entry(unsigned c, u64 generation)
{
	struct cpu *p = &cpus[c];
	expect_eq(p->generation, generation, "CPU %u entered %lu times", c, generation);
	expect_eq(p->ctx, context_id(c, generation), "CPU %u: x0 at entry is its context id", c);
	expect_eq(p->ctx_ok, 1, "CPU %u found the context id it expected", c);
	expect_eq(p->mpidr, MPIDR_RES1 | c, "CPU %u: MPIDR_EL1", c);
	expect_eq(p->daif, DAIF_ALL, "CPU %u: DAIF masked at entry", c);
	expect_eq(p->el, CURRENT_EL1, "CPU %u: entered at EL1", c);
	expect_eq(p->sctlr & SCTLR_M, 0, "CPU %u: MMU off at entry", c);
}

/* Waits until CPU c has announced its entry number `generation`. */
static void wait_alive(unsigned c, u64 generation)
{
	expected_sgi[boot][DOORBELL][c]++;
	WAIT_UNTIL(cpus[boot].sgi[DOORBELL][c] == expected_sgi[boot][DOORBELL][c]);
	online |= 1u << c;
	check_entry(c, generation);
}

/*
 * Ends the boot CPU's turn on the engine: standby with an interrupt already
 * pending returns at once, but at the CPU's next turn. After a PSCI call the
 * caller goes on running for a few calls in a row, so the calls that follow
 * run before any CPU they turn on has run.
 */
static void new_turn(void)
{
	irq_off();
	send_sgi(SGIR_SELF | DOORBELL);
	psci(PSCI_CPU_SUSPEND_64, 0, 0, 0);
	irq_on();
}

static void bring_up(void)
{
	begin("CPU_ON");
	u64 entry = (u64)secondary_entry;
	for (unsigned c = 0; c < ncpus; c++) {
		if (c == boot)
			continue;
		expected_context[c] = context_id(c, 1);
		new_turn();
		expect_eq(psci(PSCI_CPU_ON_64, c, entry, context_id(c, 1)), PSCI_SUCCESS, "CPU_ON of CPU %u", c);
		expect_eq(psci(PSCI_CPU_ON_64, c, entry, 0), PSCI_ON_PENDING, "CPU_ON again of CPU %u", c);
		expect_eq(psci(PSCI_CPU_ON_32, c, entry, 0), PSCI_ON_PENDING,
			  "CPU_ON (SMC32) again of CPU %u", c);
		expect_eq(affinity(c), AFFINITY_ON_PENDING, "AFFINITY_INFO of CPU %u, just turned on", c);
		expect_eq(psci(PSCI_AFFINITY_INFO_32, c, 0, 0), AFFINITY_ON_PENDING,
			  "AFFINITY_INFO (SMC32) of CPU %u, just turned on", c);
		wait_alive(c, 1);
		expect_eq(affinity(c), AFFINITY_ON, "AFFINITY_INFO of CPU %u, running", c);
		expect_eq(psci(PSCI_CPU_ON_64, c, entry, 0), PSCI_ALREADY_ON, "CPU_ON of CPU %u, running", c);
	}
	for (unsigned a = 0; a < ncpus; a++)
		for (unsigned b = a + 1; b < ncpus; b++)
			expect(cpus[a].mpidr != cpus[b].mpidr, cpus[a].mpidr,
			       "CPUs %u and %u have distinct MPIDRs", a, b);
	verify_counts("bring-up");
	print("smp: CPU_ON: %u CPUs up, each with its context id and its own MPIDR\n", ncpus);
}

static u32 next_sgi_id = 1;
static u32 sgi_sends;

/* CPU `from` writes GICD_SGIR with the filter and list given and a fresh SGI id. */
static void sgi_case(unsigned from, u32 filter_and_list)
{
	u32 value = filter_and_list | next_sgi_id;
	next_sgi_id = next_sgi_id == 15 ? 1 : next_sgi_id + 1;
	if (from == boot) {
		send_sgi(value);
	} else {
		model_sgi(from, value);
		run_on(from, CMD_SGI, value, 0, 0, 0);
	}
	fence();
	sgi_sends++;
	static char what[64];
	/* "SGIR 0x........ from CPU n" without a formatting library. */
	const char *prefix = "SGIR ";
	unsigned n = 0;
	while (*prefix)
		what[n++] = *prefix++;
	for (int shift = 28; shift >= 0; shift -= 4)
		what[n++] = "0123456789abcdef"[(value >> shift) & 15];
	const char *by = " from CPU ";
	while (*by)
		what[n++] = *by++;
	what[n++] = (char)('0' + from);
	what[n] = 0;
	verify_counts(what);
}

static void sgis(void)
{
	begin("SGIs");
	for (unsigned s = 0; s < ncpus; s++) {
		for (unsigned t = 0; t < ncpus; t++)
			if (t != s)
				sgi_case(s, SGIR_LIST(1u << t));
		sgi_case(s, SGIR_LIST(0xff)); /* every CPU, self included; bits past the last ignored */
		sgi_case(s, SGIR_LIST(0));    /* nobody */
		sgi_case(s, SGIR_ALL_BUT_SELF);
		sgi_case(s, SGIR_SELF);
		sgi_case(s, SGIR_RESERVED);   /* a reserved filter sends nothing */
	}
	print("smp: SGIs: %u GICD_SGIR writes (every ordered pair, every filter), each taken by its "
	      "targets only, with its id and source\n", sgi_sends);
}

static void timers(void)
{
	begin("timers");
	/* Deadlines a little apart, so a timer taken on the wrong CPU shows in the counts. */
	u64 base = freq / 1000, step = freq / 4000;
	u64 seq[MAX_CPUS];
	for (unsigned c = 0; c < ncpus; c++) {
		expected_ppi[c][PPI(INTID_VTIMER)]++;
		expected_ppi[c][PPI(INTID_PTIMER)]++;
		if (c != boot)
			seq[c] = post(c, CMD_TIMERS, base + c * step, base + c * step + step / 2, 0, 0, 1);
	}
	run_on(boot, CMD_TIMERS, base + boot * step, base + boot * step + step / 2, 0, 0);
	for (unsigned c = 0; c < ncpus; c++)
		if (c != boot)
			wait_ack(c, seq[c]);
	fence();
	for (unsigned c = 0; c < ncpus; c++) {
		struct cpu *p = &cpus[c];
		expect(p->virtual_fired >= p->result[0], p->virtual_fired,
		       "CPU %u took its virtual timer at or after its deadline %lx", c, p->result[0]);
		expect(p->physical_fired >= p->result[1], p->physical_fired,
		       "CPU %u took its physical timer at or after its deadline %lx", c, p->result[1]);
	}
	verify_counts("the timers");
	print("smp: timers: virtual (PPI 27) and physical (PPI 30) timer of each CPU, taken on that CPU only\n");
}

static void suspend(void)
{
	begin("CPU_SUSPEND");
	u64 delay = freq / 500;
	expect_eq(psci(PSCI_CPU_SUSPEND_64, 1u << 16, 0, 0), PSCI_INVALID_PARAMETERS,
		  "CPU_SUSPEND to a power-down state");
	expect_eq(psci(PSCI_CPU_SUSPEND_64, 1u << 30, 0, 0), PSCI_INVALID_PARAMETERS,
		  "CPU_SUSPEND with reserved bits set");
	/* Each secondary in standby at once, each woken by its own timer. */
	u64 seq[MAX_CPUS];
	for (unsigned c = 0; c < ncpus; c++) {
		if (c == boot)
			continue;
		expected_ppi[c][PPI(INTID_VTIMER)]++;
		seq[c] = post(c, CMD_SUSPEND, delay + c * (delay / 8), 0, 0, 0, 1);
	}
	for (unsigned c = 0; c < ncpus; c++) {
		if (c == boot)
			continue;
		wait_ack(c, seq[c]);
		struct cpu *p = &cpus[c];
		expect_eq(p->result[0], PSCI_SUCCESS, "CPU_SUSPEND of CPU %u", c);
		expect(p->result[1] >= delay + c * (delay / 8), p->result[1],
		       "CPU %u stayed in standby until its timer", c);
		expect_eq(p->result[2] & 0x3ff, INTID_VTIMER, "CPU %u woke with its timer pending", c);
	}
	/* The boot CPU in standby, woken by an SGI a secondary sends later. */
	if (ncpus > 1) {
		unsigned c = (boot + 1) % ncpus;
		u64 start = read_sysreg(cntvct_el0);
		u64 seq1 = post(c, CMD_WAKE_LATER, delay, 0, 0, 0, 1);
		irq_off();
		long r = psci(PSCI_CPU_SUSPEND_64, 0, 0, 0);
		u64 slept = read_sysreg(cntvct_el0) - start;
		u32 pending = mmio_read(GICC_BASE + GICC_HPPIR);
		irq_on();
		wait_ack(c, seq1);
		expect_eq(r, PSCI_SUCCESS, "CPU_SUSPEND of the boot CPU");
		expect(slept >= delay, slept, "the boot CPU stayed in standby until CPU %u woke it", c);
		expect_eq(pending & 0x1fff, (c << 10) | DOORBELL, "the boot CPU woke with CPU %u's SGI pending", c);
	}
	fence();
	verify_counts("CPU_SUSPEND");
	print("smp: CPU_SUSPEND: standby on every CPU, each woken by an interrupt\n");
}

static void off_and_on(void)
{
	begin("CPU_OFF");
	u64 entry = (u64)secondary_entry;
	for (unsigned c = 0; c < ncpus; c++) {
		if (c == boot)
			continue;
		post(c, CMD_OFF, 0, 0, 0, 0, 0);
		online &= ~(1u << c);
		long state = -1;
		for (unsigned i = 0; i < 100000 && state != AFFINITY_OFF; i++)
			state = affinity(c);
		expect_eq(state, AFFINITY_OFF, "AFFINITY_INFO of CPU %u after its CPU_OFF", c);
		/* An SGI sent while it is off waits in the distributor until it is back. */
		send_sgi(SGIR_LIST(1u << c) | 9);
		expected_context[c] = context_id(c, 2);
		/* Turned on again by another secondary when there is one. */
		unsigned by = boot;
		for (unsigned o = 0; o < ncpus; o++)
			if (o != boot && o != c && (online & (1u << o))) {
				by = o;
				break;
			}
		run_on(by, CMD_PSCI, PSCI_CPU_ON_64, c, entry, context_id(c, 2));
		expect_eq(cpus[by].result[0], PSCI_SUCCESS, "CPU_ON of CPU %u by CPU %u", c, by);
		wait_alive(c, 2);
		expect_eq(affinity(c), AFFINITY_ON, "AFFINITY_INFO of CPU %u, on again", c);
	}
	fence();
	verify_counts("CPU_OFF and CPU_ON");
	/* The CPUs that came back take and send SGIs like before. */
	begin("SGIs after CPU_ON again");
	for (unsigned s = 0; s < ncpus; s++)
		sgi_case(s, SGIR_ALL_BUT_SELF);
	print("smp: CPU_OFF: every secondary off, on again (taking the SGI sent while it was off), "
	      "and taking SGIs again\n");
}

void boot_main(u64 self)
{
	boot = (unsigned)self;
	boot_cpu = boot;
	online = 1u << boot;
	freq = read_sysreg(cntfrq_el0);
	gic_cpu_init();
	mmio_write(GICD_BASE + GICD_CTLR, 1);
	irq_on();
	ncpus = count_cpus();
	begin("boot");
	print("smp: %u CPUs, booted on CPU %u\n", ncpus, boot);
	expect_eq(read_sysreg(mpidr_el1), MPIDR_RES1 | boot, "the boot CPU's MPIDR_EL1");
	expect(ncpus >= 1 && boot < ncpus, ncpus, "the boot CPU is one of the %u CPUs", ncpus);
	psci_errors();
	bring_up();
	sgis();
	timers();
	suspend();
	off_and_on();
	/* Under the virtual clock, the same in every run. */
	print("smp: guest counter at the end: %lu\n", read_sysreg(cntvct_el0));
	print("smp: %u checks passed, %u failed\n", passed, failed);
	exit_with(failed > 0xffff ? 0xffff : failed);
}

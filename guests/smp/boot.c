/*
 * The boot CPU's means of checking: counted checks that print what failed,
 * a model of the interrupts every CPU must have taken, and the mailbox
 * protocol that drives the other CPUs.
 */
#include "boot.h"

u32 passed, failed;
const char *phase;
/* Enough lines to see what broke without drowning the console. */
#define MAX_FAILURE_LINES 40

static int vexpect(int ok, u64 observed, int show_expected, u64 expected, const char *fmt,
		   __builtin_va_list ap)
{
	if (ok) {
		passed++;
		return 1;
	}
	if (failed++ < MAX_FAILURE_LINES) {
		print("FAIL %s: ", phase);
		vprint(fmt, ap);
		print(": observed %lx", observed);
		if (show_expected)
			print(", expected %lx", expected);
		putc_('\n');
	}
	return 0;
}

int expect(int ok, u64 observed, const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	int r = vexpect(ok, observed, 0, 0, fmt, ap);
	__builtin_va_end(ap);
	return r;
}

int expect_eq(u64 observed, u64 expected, const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	int r = vexpect(observed == expected, observed, 1, expected, fmt, ap);
	__builtin_va_end(ap);
	return r;
}

unsigned ncpus, boot;
u32 online;
u64 freq;
/* What each CPU must have taken so far: the model the counts are checked against. */
u32 expected_sgi[MAX_CPUS][16][MAX_CPUS];
u32 expected_ppi[MAX_CPUS][16];
/* Interrupts other than SGIs and PPIs: none is expected; these were reported already. */
static u32 other_seen[MAX_CPUS];

/* The CPUs an SGIR write by `from` reaches (GICv2: GICD_SGIR.TargetListFilter). */
static u32 sgi_targets(unsigned from, u32 value)
{
	u32 all = (1u << ncpus) - 1;
	switch (value & SGIR_RESERVED) {
	case 0:
		return (value >> 16) & all;
	case SGIR_ALL_BUT_SELF:
		return all & ~(1u << from);
	case SGIR_SELF:
		return 1u << from;
	default:
		return 0;
	}
}

/* `from` writes `value` to GICD_SGIR: every target must take SGI value[3:0] from `from`. */
void model_sgi(unsigned from, u32 value)
{
	u32 targets = sgi_targets(from, value);
	for (unsigned t = 0; t < ncpus; t++)
		if (targets & (1u << t))
			expected_sgi[t][value & 15][from]++;
}

void send_sgi(u32 value)
{
	model_sgi(boot, value);
	mmio_write(GICD_BASE + GICD_SGIR, value);
}

/*
 * Compares every CPU's interrupt counts with the model, then adopts what was
 * seen, so one stray interrupt is reported once. A failure's observed value is
 * the number of counts that differ; the first one is printed.
 */
void verify_counts(const char *after)
{
	for (unsigned t = 0; t < ncpus; t++) {
		struct cpu *p = &cpus[t];
		u32 wrong = 0;
		for (unsigned id = 0; id < 16; id++) {
			for (unsigned s = 0; s < MAX_CPUS; s++) {
				u32 seen = p->sgi[id][s];
				u32 want = s < ncpus ? expected_sgi[t][id][s] : 0;
				if (seen == want)
					continue;
				if (wrong++ == 0 && failed < MAX_FAILURE_LINES)
					print("     after %s: CPU %u took SGI %u from CPU %u %u times, expected %u\n",
					      after, t, id, s, seen, want);
				if (s < ncpus)
					expected_sgi[t][id][s] = seen;
			}
			u32 seen = p->ppi[id];
			if (seen != expected_ppi[t][id]) {
				if (wrong++ == 0 && failed < MAX_FAILURE_LINES)
					print("     after %s: CPU %u took INTID %u %u times, expected %u\n",
					      after, t, id + 16, seen, expected_ppi[t][id]);
				expected_ppi[t][id] = seen;
			}
		}
		wrong += p->other - other_seen[t];
		other_seen[t] = p->other;
		expect(wrong == 0, wrong, "CPU %u took exactly the interrupts meant for it, after %s", t,
		       after);
	}
}

/* Puts a command in CPU c's mailbox and rings its doorbell; returns its sequence number. */
u64 post(unsigned c, u64 cmd, u64 a0, u64 a1, u64 a2, u64 a3, int acknowledged)
{
	struct cpu *p = &cpus[c];
	p->cmd = cmd;
	p->arg[0] = a0;
	p->arg[1] = a1;
	p->arg[2] = a2;
	p->arg[3] = a3;
	dmb();
	u64 seq = p->seq + 1;
	p->seq = seq;
	dmb();
	if (acknowledged)
		expected_sgi[boot][DOORBELL][c]++;
	send_sgi(SGIR_LIST(1u << c) | DOORBELL);
	return seq;
}

/* The acknowledgement is counted once the SGI carrying it was taken, after CPU c wrote `ack`. */
void wait_ack(unsigned c, u64 seq)
{
	WAIT_UNTIL(cpus[boot].sgi[DOORBELL][c] == expected_sgi[boot][DOORBELL][c]);
	expect_eq(cpus[c].ack, seq, "CPU %u acknowledged its command", c);
}

void run_on(unsigned c, u64 cmd, u64 a0, u64 a1, u64 a2, u64 a3)
{
	if (c == boot) {
		struct cpu *p = &cpus[c];
		p->arg[0] = a0;
		p->arg[1] = a1;
		p->arg[2] = a2;
		p->arg[3] = a3;
		do_command(c, cmd, p->arg, p->result);
		return;
	}
	wait_ack(c, post(c, cmd, a0, a1, a2, a3, 1));
}

/* Every online CPU has taken every interrupt sent to it before now. */
void fence(void)
{
	u64 seq[MAX_CPUS];
	for (unsigned c = 0; c < ncpus; c++)
		if (c != boot && (online & (1u << c)))
			seq[c] = post(c, CMD_FENCE, 0, 0, 0, 0, 1);
	for (unsigned c = 0; c < ncpus; c++)
		if (c != boot && (online & (1u << c)))
			wait_ack(c, seq[c]);
}

void begin(const char *name)
{
	phase = name;
}

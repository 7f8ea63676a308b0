/*
 * Random firmware calls: random function ids (anywhere, in the SMCCC
 * ranges, and in PSCI's range), random arguments in x1-x7, over HVC and SMC
 * with several immediates; the calls that would end or suspend the run
 * (CPU_SUSPEND, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET, SYSTEM_SUSPEND,
 * SYSTEM_RESET2, CPU_DEFAULT_SUSPEND) are left out. Every call must return.
 * HVC and SMC at EL0 are undefined instructions there and must never reach
 * the firmware. Afterwards PSCI still answers.
 */
#include "adv.h"

#define CALLS 200000
#define EL0_CALLS 20000
#define PSCI_VERSION_1_1 0x10001

u64 fw_call(u64 which, u64 regs[8]);
extern const u32 fw_call_kinds;

static u64 el0_undefined;

static int on_sync(struct frame *f, u64 vector)
{
	if (vector != VEC_LOWER64 || ESR_EC(f->esr) != EC_UNKNOWN)
		return 0;
	el0_undefined++;
	f->elr += 4;
	return 1;
}

/* Whether a PSCI-range function would end, reset or suspend the run. */
static int ends_the_run(u64 fid)
{
	if (((fid >> 24) & 0x3f) != 4)
		return 0;
	switch (fid & 0xffff) {
	case 0x01: /* CPU_SUSPEND */
	case 0x02: /* CPU_OFF */
	case 0x08: /* SYSTEM_OFF */
	case 0x09: /* SYSTEM_RESET */
	case 0x0c: /* CPU_DEFAULT_SUSPEND */
	case 0x0e: /* SYSTEM_SUSPEND */
	case 0x12: /* SYSTEM_RESET2 */
		return 1;
	}
	return 0;
}

static u64 random_fid(struct rng *rng)
{
	u64 r = rng_next(rng);
	switch (r & 7) {
	case 0:
	case 1:
		return rng_next(rng);
	case 2: /* SMCCC architecture calls */
		return 0x80000000UL | ((r >> 8) & 0x40000000UL) | ((r >> 16) & 0xffff);
	case 3: /* any owning entity, fast calls */
		return 0x80000000UL | ((r >> 8) & 0x7f00ffffUL);
	default: /* PSCI, 32 and 64 bit, with garbage above bit 31 sometimes */
		return ((r & 0x100) ? r & 0xffffffff00000000UL : 0) | 0x84000000UL |
		       ((r >> 9) & 0x40000000UL) | ((r >> 16) & 0x1f);
	}
}

static u64 el0_calls(u64 seed)
{
	struct rng rng;
	rng_seed(&rng, seed);
	u64 regs[8];
	for (unsigned i = 0; i < EL0_CALLS; i++) {
		for (int j = 0; j < 8; j++)
			regs[j] = rng_next(&rng);
		fw_call(rng_below(&rng, fw_call_kinds), regs);
	}
	return 0;
}

void test_main(void)
{
	sync_handler = on_sync;
	struct rng rng;
	rng_seed(&rng, 0x95c1);
	u64 calls = 0, not_supported = 0;
	u64 regs[8];
	while (calls < CALLS) {
		u64 fid = random_fid(&rng);
		if (ends_the_run(fid))
			continue;
		regs[0] = fid;
		for (int j = 1; j < 8; j++)
			regs[j] = rng_next(&rng);
		not_supported += fw_call(rng_below(&rng, fw_call_kinds), regs) == PSCI_RET_NOT_SUPPORTED;
		calls++;
	}
	log_str("psci_fuzz: ");
	log_u64(calls);
	log_str(" calls returned, ");
	log_u64(not_supported);
	log_str(" with NOT_SUPPORTED\n");

	run_el0(el0_calls, rng_next(&rng), 0);
	check_eq("HVC and SMC at EL0 are undefined instructions, every one", el0_undefined,
		 EL0_CALLS);
	check_eq("PSCI_VERSION still answers 1.1", psci_call(PSCI_VERSION, 0, 0, 0),
		 PSCI_VERSION_1_1);
	check_eq("PSCI_FEATURES(CPU_ON) still answers", psci_call(PSCI_FEATURES, PSCI_CPU_ON_64, 0, 0),
		 0);
}

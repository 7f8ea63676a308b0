/*
 * Hundreds of thousands of synchronous exceptions, each handled and
 * returned from: SVC, UDF, BRK, an EL2 register read at EL1, HVC and SMC at
 * EL0, misaligned exclusive loads (alignment faults) and loads from an
 * unmapped address (translation faults), in a seeded random order, at EL1
 * and at EL0. Every exception must arrive once, with the expected class and
 * address; the counts per kind must match what was provoked.
 */
#include "adv.h"

#define ROUNDS 100000
#define EL0_BATCH 500
#define UNMAPPED 0x0000008000000000UL /* TTBR0 level 0 entry 1: never mapped */
#define FSC_ALIGNMENT 0x21

enum kind { SVC, UDF, BRK, MISALIGNED, UNMAPPED_LOAD, MRS_EL2, HVC_EL0, SMC_EL0, KINDS };

u64 storm_svc(u64), storm_udf(u64), storm_brk(u64), storm_misaligned(u64), storm_unmapped(u64),
	storm_mrs_el2(u64), storm_hvc(u64), storm_smc(u64);
extern char storm_svc_insn[], storm_udf_insn[], storm_brk_insn[], storm_misaligned_insn[],
	storm_unmapped_insn[], storm_mrs_el2_insn[], storm_hvc_insn[], storm_smc_insn[];

static const struct site {
	const char *name;
	u64 (*fn)(u64);
	const char *insn;
	u64 esr; /* expected, from EL1; EL0 differs in the EC of aborts */
	int el0_ok, el1_ok;
} sites[KINDS] = {
	[SVC] = {"SVC", storm_svc, storm_svc_insn, ESR(EC_SVC64, 0x42), 1, 1},
	[UDF] = {"UDF", storm_udf, storm_udf_insn, ESR(EC_UNKNOWN, 0), 1, 1},
	[BRK] = {"BRK", storm_brk, storm_brk_insn, ESR(EC_BRK64, 0x7), 1, 1},
	[MISALIGNED] = {"alignment fault", storm_misaligned, storm_misaligned_insn,
			ESR(EC_DABT_CURRENT, FSC_ALIGNMENT), 1, 1},
	[UNMAPPED_LOAD] = {"translation fault", storm_unmapped, storm_unmapped_insn,
			   ESR(EC_DABT_CURRENT, FSC_TRANSLATION(0)), 1, 1},
	[MRS_EL2] = {"EL2 register at EL1", storm_mrs_el2, storm_mrs_el2_insn,
		     ESR(EC_UNKNOWN, 0), 0, 1},
	[HVC_EL0] = {"HVC at EL0", storm_hvc, storm_hvc_insn, ESR(EC_UNKNOWN, 0), 1, 0},
	[SMC_EL0] = {"SMC at EL0", storm_smc, storm_smc_insn, ESR(EC_UNKNOWN, 0), 1, 0},
};

static u64 provoked[KINDS], taken[KINDS], wrong;
static enum kind current;
static int at_el0;
static u64 misaligned_buf[2];

static int on_sync(struct frame *f, u64 vector)
{
	const struct site *s = &sites[current];
	u64 esr = s->esr;
	if (at_el0 && (ESR_EC(esr) == EC_DABT_CURRENT))
		esr = ESR(EC_DABT_LOWER, esr & 0x3f);
	u64 vec = at_el0 ? VEC_LOWER64 : VEC_CUR_SPX;
	u64 elr = current == SVC ? (u64)s->insn + 4 : (u64)s->insn;
	if (f->esr != esr || f->elr != elr || vector != vec) {
		if (wrong++ < 4) {
			log_str("exception_storm: ");
			log_str(s->name);
			log_str(at_el0 ? " at EL0" : " at EL1");
			log_str(": ESR ");
			log_hex(f->esr);
			log_str(" ELR ");
			log_hex(f->elr);
			log_str(" vector ");
			log_hex(vector);
			log_str("\n");
		}
		if (ESR_EC(f->esr) == EC_SVC64 && (f->esr & 0xffff) == SVC_EL0_EXIT)
			return 0;
	}
	taken[current]++;
	if (current != SVC)
		f->elr += 4;
	f->x[0] = 0;
	return 1;
}

static u64 argument(enum kind k)
{
	if (k == MISALIGNED)
		return (u64)misaligned_buf + 1 + (taken[k] & 6);
	if (k == UNMAPPED_LOAD)
		return UNMAPPED + (taken[k] & 0xff8);
	return 0;
}

static enum kind pick(struct rng *rng, int el0)
{
	for (;;) {
		enum kind k = (enum kind)rng_below(rng, KINDS);
		if (el0 ? sites[k].el0_ok : sites[k].el1_ok)
			return k;
	}
}

static u64 el0_batch(u64 seed)
{
	struct rng rng;
	rng_seed(&rng, seed);
	for (unsigned i = 0; i < EL0_BATCH; i++) {
		current = pick(&rng, 1);
		provoked[current]++;
		sites[current].fn(argument(current));
	}
	return 0;
}

void test_main(void)
{
	sync_handler = on_sync;
	struct rng rng;
	rng_seed(&rng, 0x5707);
	for (unsigned i = 0; i < ROUNDS; i++) {
		current = pick(&rng, 0);
		provoked[current]++;
		sites[current].fn(argument(current));
	}
	at_el0 = 1;
	for (unsigned i = 0; i < ROUNDS / EL0_BATCH; i++)
		run_el0(el0_batch, rng_next(&rng), 0);
	at_el0 = 0;

	u64 total = 0;
	for (int k = 0; k < KINDS; k++) {
		check_in(sites[k].name, "every one taken once", taken[k] == provoked[k] && provoked[k],
			 taken[k], provoked[k]);
		total += taken[k];
	}
	check_eq("every exception had the expected ESR, ELR and vector", wrong, 0);
	log_str("exception_storm: ");
	log_u64(total);
	log_str(" exceptions handled\n");
}

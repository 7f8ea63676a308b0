/*
 * Undefined instructions: UDF, an EL2 register read at EL1, and at EL0 a
 * UDF, HVC, SMC and an EL1 register read. Each must arrive at the EL1
 * synchronous vector for its origin with EC 0 ("unknown reason", no ISS) and
 * ELR on the instruction itself; the handler skips it, as a kernel emulating
 * or refusing it would. BRK rides along, from both levels: EC 0x3c with the
 * immediate in the ISS.
 */
#include "guest.h"

void el1_undefs(void);
u64 el0_undefs(u64 unused);
extern char el1_udf[], el1_mrs_el2[], el1_brk[];
extern char el0_udf[], el0_hvc[], el0_smc[], el0_mrs_el1[], el0_brk[];

struct seen {
	u64 esr, elr, spsr, vector, insn;
};
static struct seen seen[8];
static unsigned nseen;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if ((ec != EC_UNKNOWN && ec != EC_BRK64) || nseen == 8)
		return 0;
	seen[nseen++] = (struct seen){f->esr, f->elr, f->spsr, vector, *(u32 *)f->elr};
	f->elr += 4;
	return 1;
}

static void check_undef(const char *group, const struct seen *s, u64 esr, const char *at,
			u64 mode, u64 vector)
{
	check_eq_in(group, "ESR", s->esr, esr);
	check_eq_in(group, "ELR on the instruction", s->elr, (u64)at);
	check_eq_in(group, "SPSR mode", s->spsr & SPSR_MODE_MASK, mode);
	check_eq_in(group, "vector", s->vector, vector);
}

void test_main(void)
{
	sync_handler = on_sync;

	el1_undefs();
	check_eq("EL1: three exceptions, then on to the return", nseen, 3);
	check_undef("EL1 udf #0x5a5a", &seen[0], ESR(EC_UNKNOWN, 0), el1_udf, SPSR_EL1H, VEC_CUR_SPX);
	check_eq("EL1 udf #0x5a5a: ELR holds the udf", seen[0].insn, 0x00005a5a);
	check_undef("EL1 mrs hcr_el2", &seen[1], ESR(EC_UNKNOWN, 0), el1_mrs_el2, SPSR_EL1H,
		    VEC_CUR_SPX);
	check_undef("EL1 brk #0x42", &seen[2], ESR(EC_BRK64, 0x42), el1_brk, SPSR_EL1H, VEC_CUR_SPX);

	nseen = 0;
	run_el0(el0_undefs, 0, 0);
	check_eq("EL0: five exceptions, then on to the return", nseen, 5);
	check_undef("EL0 udf #1", &seen[0], ESR(EC_UNKNOWN, 0), el0_udf, SPSR_EL0T, VEC_LOWER64);
	check_undef("EL0 hvc #0x77", &seen[1], ESR(EC_UNKNOWN, 0), el0_hvc, SPSR_EL0T, VEC_LOWER64);
	check_undef("EL0 smc #0x88", &seen[2], ESR(EC_UNKNOWN, 0), el0_smc, SPSR_EL0T, VEC_LOWER64);
	check_undef("EL0 mrs sctlr_el1", &seen[3], ESR(EC_UNKNOWN, 0), el0_mrs_el1, SPSR_EL0T,
		    VEC_LOWER64);
	check_undef("EL0 brk #0x7", &seen[4], ESR(EC_BRK64, 0x7), el0_brk, SPSR_EL0T, VEC_LOWER64);
}

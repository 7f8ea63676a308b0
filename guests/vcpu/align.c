/*
 * Alignment faults: exclusive loads from a misaligned address, from EL1 and
 * from EL0. Each must arrive at the synchronous vector for its origin as a
 * data abort (EC 0x25 from EL1, 0x24 from EL0) with DFSC 0x21 (alignment
 * fault), FAR the misaligned address and ELR on the instruction; the handler
 * skips it.
 *
 * A store-exclusive to the same address follows, with no reservation (its
 * load faulted). The engine checks the exclusive monitor before the address,
 * so it fails the store (status 1) instead of raising the alignment fault
 * the architecture's pseudocode raises first; either way nothing may be
 * written.
 */
#include "guest.h"

#define FSC_ALIGNMENT 0x21

u64 el1_misaligned(u64 addr);
u64 el0_misaligned(u64 addr);
extern char el1_ldxr[], el1_ldaxr_w[], el0_ldxr[], el0_ldaxr_w[];

struct seen {
	u64 esr, far, elr, spsr, vector;
};
static struct seen seen[4];
static unsigned nseen;
static u64 data[4] __attribute__((aligned(16)));

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if ((ec != EC_DABT_CURRENT && ec != EC_DABT_LOWER) || nseen == 4)
		return 0;
	seen[nseen++] = (struct seen){f->esr, f->far, f->elr, f->spsr, vector};
	f->elr += 4;
	return 1;
}

static void check_fault(const char *group, const struct seen *s, u64 ec, u64 addr,
			const char *at, u64 mode, u64 vector)
{
	/* ISV is 0 for exclusives, so the ISS holds only WnR (0: a read) and the DFSC. */
	check_eq_in(group, "ESR", s->esr, ESR(ec, FSC_ALIGNMENT));
	check_eq_in(group, "FAR is the misaligned address", s->far, addr);
	check_eq_in(group, "ELR on the instruction", s->elr, (u64)at);
	check_eq_in(group, "SPSR mode", s->spsr & SPSR_MODE_MASK, mode);
	check_eq_in(group, "vector", s->vector, vector);
}

void test_main(void)
{
	sync_handler = on_sync;
	u64 el1_addr = (u64)data + 3;
	u64 el0_addr = (u64)data + 13;

	u64 status = el1_misaligned(el1_addr);
	check_eq("EL1: two alignment faults, then on to the return", nseen, 2);
	check_fault("EL1 ldxr", &seen[0], EC_DABT_CURRENT, el1_addr, el1_ldxr, SPSR_EL1H,
		    VEC_CUR_SPX);
	check_fault("EL1 ldaxr (32-bit)", &seen[1], EC_DABT_CURRENT, el1_addr, el1_ldaxr_w,
		    SPSR_EL1H, VEC_CUR_SPX);
	check_eq("EL1 stxr without a reservation fails", status, 1);

	nseen = 0;
	status = run_el0(el0_misaligned, el0_addr, 0);
	check_eq("EL0: two alignment faults, then on to the return", nseen, 2);
	check_fault("EL0 ldxr", &seen[0], EC_DABT_LOWER, el0_addr, el0_ldxr, SPSR_EL0T,
		    VEC_LOWER64);
	check_fault("EL0 ldaxr (32-bit)", &seen[1], EC_DABT_LOWER, el0_addr, el0_ldaxr_w,
		    SPSR_EL0T, VEC_LOWER64);
	check_eq("EL0 stxr without a reservation fails", status, 1);
	check_eq("the misaligned data was never written", data[0] | data[1] | data[2] | data[3], 0);
}

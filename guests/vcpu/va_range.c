/*
 * Addresses outside both translated ranges. With T0SZ = 16 and TTBR1 walks
 * disabled (EPD1), every address from 2^48 up must take a level-0
 * translation fault: the upper half because of EPD1, the hole between the
 * halves (bits 63:48 neither all zeros nor all ones) because no range covers
 * it. With the MMU off, addresses beyond the CPU's physical range must take a
 * level-0 address size fault instead. Whatever the host has or has not
 * mapped there, the guest sees an ordinary fault; a stray pointer in a guest
 * program must never end the VM.
 *
 * The handler cannot map these addresses, so it skips the access (or, for a
 * fetch, returns to the caller as if the call had returned).
 */
#include "guest.h"

#define SKIPPED 0x5c1dUL

u64 probe_ldr(u64 va);
void probe_str(u64 va, u64 value);
extern char probe_ldr_insn[], probe_str_insn[];

static unsigned nfaults;
static u64 fault_esr, fault_far, fault_elr, fault_vector;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec != EC_DABT_CURRENT && ec != EC_DABT_LOWER && ec != EC_IABT_CURRENT &&
	    ec != EC_IABT_LOWER)
		return 0;
	nfaults++;
	fault_esr = f->esr;
	fault_far = f->far;
	fault_elr = f->elr;
	fault_vector = vector;
	f->elr = ec == EC_IABT_CURRENT || ec == EC_IABT_LOWER ? f->x[30] : f->elr + 4;
	f->x[0] = SKIPPED;
	return 1;
}

static u64 el0_store(u64 va)
{
	probe_str(va, 1);
	return SKIPPED;
}

static u64 call_at(u64 va)
{
	return ((u64(*)(void))va)();
}

static void expect_fault(const char *group, u64 result, u64 esr, u64 far, u64 elr, u64 vector)
{
	check_eq_in(group, "one fault", nfaults, 1);
	check_eq_in(group, "ESR", fault_esr, esr);
	check_eq_in(group, "FAR", fault_far, far);
	check_eq_in(group, "ELR on the access", fault_elr, elr);
	check_eq_in(group, "vector", fault_vector, vector);
	check_eq_in(group, "access skipped", result, SKIPPED);
	nfaults = 0;
	fault_esr = fault_far = fault_elr = fault_vector = 0;
}

#define DABT_EL1(fsc) ESR(EC_DABT_CURRENT, (fsc))
#define FSC_ADDRESS_SIZE_L0 0x00

void test_main(void)
{
	sync_handler = on_sync;
	u64 va, r;

	/* The cases that reach the guest today come first: the last ones end the run if broken. */
	va = 0x0000fffffffff008UL;
	r = probe_ldr(va);
	expect_fault("EL1 load from the top of the lower half", r, DABT_EL1(FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_CUR_SPX);

	va = 0xffff800000000010UL;
	r = probe_ldr(va);
	expect_fault("EL1 load from the upper half", r, DABT_EL1(FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_CUR_SPX);

	va = 0xffff000000000100UL;
	r = run_el0(el0_store, va, 0);
	expect_fault("EL0 store to the upper half", r,
		     ESR(EC_DABT_LOWER, ISS_WNR | FSC_TRANSLATION(0)), va, (u64)probe_str_insn,
		     VEC_LOWER64);

	/* The last page: no engine region can cover it (it would end at 2^64). */
	va = 0xfffffffffffff008UL;
	r = probe_ldr(va);
	expect_fault("EL1 load from the last page", r, DABT_EL1(FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_CUR_SPX);
	va = 0xfffffffffffff000UL;
	r = run_el0(probe_ldr, va, 0);
	expect_fault("EL0 load from the last page", r, ESR(EC_DABT_LOWER, FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_LOWER64);
	r = run_el0(el0_store, va + 0xff0, 0);
	expect_fault("EL0 store to the last page", r,
		     ESR(EC_DABT_LOWER, ISS_WNR | FSC_TRANSLATION(0)), va + 0xff0,
		     (u64)probe_str_insn, VEC_LOWER64);

	va = 0x0001000000000000UL;
	r = call_at(va);
	expect_fault("EL1 fetch from the hole", r, ESR(EC_IABT_CURRENT, FSC_TRANSLATION(0)), va, va,
		     VEC_CUR_SPX);

	va = 0x0001000000000008UL;
	r = probe_ldr(va);
	expect_fault("EL1 load from the hole", r, DABT_EL1(FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_CUR_SPX);

	va = 0x8000000000000000UL;
	probe_str(va, 1);
	expect_fault("EL1 store to the hole", SKIPPED, DABT_EL1(ISS_WNR | FSC_TRANSLATION(0)), va,
		     (u64)probe_str_insn, VEC_CUR_SPX);

	va = 0xfffefffffffff000UL;
	r = run_el0(probe_ldr, va, 0);
	expect_fault("EL0 load from the hole", r, ESR(EC_DABT_LOWER, FSC_TRANSLATION(0)), va,
		     (u64)probe_ldr_insn, VEC_LOWER64);

	/* Stage 1 off: the address is the physical address, checked against PARange. */
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~1UL);
	isb();
	va = 0x0000fffffffff000UL;
	r = probe_ldr(va);
	expect_fault("MMU off: EL1 load above the physical range", r,
		     DABT_EL1(FSC_ADDRESS_SIZE_L0), va, (u64)probe_ldr_insn, VEC_CUR_SPX);

	va = 0x0001000000000000UL;
	r = probe_ldr(va);
	expect_fault("MMU off: EL1 load from the hole", r, DABT_EL1(FSC_ADDRESS_SIZE_L0), va,
		     (u64)probe_ldr_insn, VEC_CUR_SPX);
}

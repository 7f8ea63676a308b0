/*
 * The last page of the address space, 0xffff_ffff_ffff_f000..fff, from a
 * whole VM: every load and store there, of every size, at EL1 and at EL0,
 * including accesses that would wrap past 2^64, must be an ordinary
 * translation fault in the guest (TTBR1 walks are off, so level 0), with
 * ESR, FAR, ELR and vector right. With the MMU off the
 * same accesses are beyond the physical range: address size faults. No
 * engine mapping can cover this page (it would end at 2^64); an access
 * there once ended the VM.
 */
#include "adv.h"
#include "probes.h"

#define LAST_PAGE 0xfffffffffffff000UL
#define SKIPPED 0x5c1dUL
#define FSC_ADDRESS_SIZE_L0 0x00

static unsigned nfaults;
static u64 fault_esr, fault_far, fault_elr, fault_vector;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec != EC_DABT_CURRENT && ec != EC_DABT_LOWER)
		return 0;
	nfaults++;
	fault_esr = f->esr;
	fault_far = f->far;
	fault_elr = f->elr;
	fault_vector = vector;
	f->elr += 4;
	f->x[0] = SKIPPED;
	return 1;
}

struct el0_args {
	const struct probe *p;
	u64 va;
};

static u64 el0_probe(u64 arg)
{
	const struct el0_args *a = (const struct el0_args *)arg;
	return a->p->fn(a->va, 0x1122334455667788UL);
}

static const u64 offsets[] = {0x000, 0x008, 0x7ff, 0x800, 0xff0, 0xff8, 0xffc, 0xffe, 0xfff};

/*
 * One probe at every offset, including those where it runs past 2^64 (the
 * first byte faults first); returns the first offset that went wrong, or ~0.
 */
static u64 sweep(const struct probe *p, int el0, u64 fsc)
{
	u64 ec = el0 ? EC_DABT_LOWER : EC_DABT_CURRENT;
	u64 vector = el0 ? VEC_LOWER64 : VEC_CUR_SPX;
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		u64 va = LAST_PAGE + offsets[i];
		nfaults = 0;
		fault_esr = fault_far = fault_elr = fault_vector = 0;
		struct el0_args a = {p, va};
		u64 r = el0 ? run_el0(el0_probe, (u64)&a, 0) : p->fn(va, 0x1122334455667788UL);
		u64 esr = ESR(ec, fsc | (p->write ? ISS_WNR : 0));
		if (nfaults != 1 || fault_esr != esr || fault_far != va || fault_elr != (u64)p->insn ||
		    fault_vector != vector || (!p->write && r != SKIPPED)) {
			log_str("  ");
			log_str(p->name);
			log_str(" at ");
			log_hex(va);
			log_str(": faults ");
			log_u64(nfaults);
			log_str(" ESR ");
			log_hex(fault_esr);
			log_str(" (want ");
			log_hex(esr);
			log_str(") FAR ");
			log_hex(fault_far);
			log_str(" ELR ");
			log_hex(fault_elr);
			log_str(" vector ");
			log_hex(fault_vector);
			log_str("\n");
			return offsets[i];
		}
	}
	return ~0UL;
}

static void sweep_all(const char *group, int el0, u64 fsc)
{
	for (unsigned i = 0; i < PROBES_N; i++)
		check_eq_in(group, probes[i].name, sweep(&probes[i], el0, fsc), ~0UL);
}

void test_main(void)
{
	sync_handler = on_sync;
	sweep_all("EL1 translation fault at every offset", 0, FSC_TRANSLATION(0));
	sweep_all("EL0 translation fault at every offset", 1, FSC_TRANSLATION(0));

	/* Stage 1 off: the virtual address is the physical one, beyond PARange. */
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~1UL);
	isb();
	sweep_all("MMU off: EL1 address size fault at every offset", 0, FSC_ADDRESS_SIZE_L0);
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1UL);
	isb();
	check_eq("the MMU is back on", read_sysreg(sctlr_el1) & 1, 1);
}

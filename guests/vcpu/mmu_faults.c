/*
 * Data and instruction aborts with the MMU on. The handler is a small demand
 * pager: on a translation fault it installs the missing table (or, at level
 * 3, the page) for FAR, on an access-flag fault it sets AF, then flushes the
 * TLB entry and returns to retry the access. An address with nothing mapped
 * under its level-0 entry therefore faults four times, once per level, before
 * the access completes; each fault's ESR and FAR is checked, and so is the
 * data the retried access finally reads or writes.
 *
 * The handler finds what to fix by walking the tables itself rather than by
 * trusting the reported level, so a wrong ESR shows up as a failed check
 * instead of a program that loops.
 */
#include "guest.h"

#define IA_MAGIC 0x1abc
#define STORE_VALUE 0x5702e5702e5702eUL
#define MAX_FAULTS 8

u64 probe_ldr(u64 va);
void probe_str(u64 va, u64 value);
extern char probe_ldr_insn[], probe_str_insn[], ia_page[];

/* Each under its own level-0 entry, which starts invalid. */
#define VA_EL1_LOAD 0x0000008000000000UL
#define VA_EL0_STORE 0x0000010000000000UL
#define VA_EXEC 0x0000018000000000UL
/* Mapped from the start with AF clear: a 1 GiB block, a 2 MiB block, a page. */
#define VA_AF_BLOCK1 0x00000000c0000000UL
#define VA_AF_BLOCK2 0x0000000080000000UL
#define VA_AF_PAGE 0x0000000080200000UL

struct fault {
	u64 esr, far, elr, spsr, vector;
};
static struct fault faults[MAX_FAULTS];
static unsigned nfaults;
/* The level-3 descriptor a translation fault at level 3 installs. */
static u64 next_page;

static u64 page_a[512] __attribute__((aligned(PAGE_SIZE)));
static u64 page_b[512] __attribute__((aligned(PAGE_SIZE)));
static u64 page_c[512] __attribute__((aligned(PAGE_SIZE)));
static u64 page_d[512] __attribute__((aligned(PAGE_SIZE)));
static u64 page_e[512] __attribute__((aligned(PAGE_SIZE)));

/* What RAM holds at physical address pa: unique per doubleword. */
static u64 pattern(u64 pa)
{
	return 0xda7a000000000000UL | pa;
}

static void fill(u64 *page)
{
	for (unsigned i = 0; i < 512; i++)
		page[i] = pattern((u64)&page[i]);
}

/* Makes the access to va succeed on retry; returns 0 if nothing was missing. */
static int fix_up(u64 va)
{
	for (int level = 0; level <= 3; level++) {
		u64 *e = pt_entry(va, level);
		u64 d = *e;
		if (!(d & PTE_VALID)) {
			pt_set(e, level < 3 ? (u64)pt_alloc() | PTE_TABLE : next_page);
			return 1;
		}
		if (level == 3 || (d & 3) == PTE_BLOCK) {
			if (d & PTE_AF)
				return 0;
			pt_set(e, d | PTE_AF);
			return 1;
		}
	}
	return 0;
}

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec != EC_DABT_CURRENT && ec != EC_DABT_LOWER && ec != EC_IABT_CURRENT &&
	    ec != EC_IABT_LOWER)
		return 0;
	if (nfaults == MAX_FAULTS)
		return 0;
	faults[nfaults++] = (struct fault){f->esr, f->far, f->elr, f->spsr, vector};
	if (!fix_up(f->far))
		return 0;
	tlb_flush_va(f->far);
	return 1;
}

/*
 * Checks the faults one access took: their number, each one's ESR (esr[i])
 * and FAR, and that all came from the same instruction and mode to the same
 * vector.
 */
static void check_faults(const char *group, const u64 *esr, const char *const *names, unsigned n,
			 u64 far, u64 elr, u64 vector, u64 mode)
{
	check_eq_in(group, "fault count", nfaults, n);
	for (unsigned i = 0; i < n; i++) {
		const struct fault *f = &faults[i];
		check_eq_in(group, names[2 * i], f->esr, esr[i]);
		check_eq_in(group, names[2 * i + 1], f->far, far);
	}
	/* All from the same instruction to the same vector: report the first that is not. */
	u64 seen_elr = elr, seen_vector = vector, seen_mode = mode;
	for (unsigned i = nfaults; i-- > 0;) {
		if (faults[i].elr != elr)
			seen_elr = faults[i].elr;
		if (faults[i].vector != vector)
			seen_vector = faults[i].vector;
		if ((faults[i].spsr & SPSR_MODE_MASK) != mode)
			seen_mode = faults[i].spsr & SPSR_MODE_MASK;
	}
	check_eq_in(group, "ELR on the access", seen_elr, elr);
	check_eq_in(group, "vector", seen_vector, vector);
	check_eq_in(group, "SPSR mode", seen_mode, mode);
	nfaults = 0;
}

static const char *const level_names[] = {
	"L0 translation fault ESR", "L0 translation fault FAR",
	"L1 translation fault ESR", "L1 translation fault FAR",
	"L2 translation fault ESR", "L2 translation fault FAR",
	"L3 translation fault ESR", "L3 translation fault FAR",
};
static const char *const af_names[] = {"access flag fault ESR", "access flag fault FAR"};
static const char *const l3_names[] = {"L3 translation fault ESR", "L3 translation fault FAR"};

static void walk_levels(u64 *esr, u64 ec, u64 iss)
{
	for (int level = 0; level < 4; level++)
		esr[level] = ESR(ec, iss | FSC_TRANSLATION(level));
}

static u64 el0_store_then_load(u64 va)
{
	probe_str(va, STORE_VALUE);
	return probe_ldr(va);
}

static u64 call_at(u64 va)
{
	return ((u64(*)(void))va)();
}

void test_main(void)
{
	u64 esr[4];
	sync_handler = on_sync;
	fill(page_a);
	fill(page_c);
	fill(page_d);
	fill(page_e);

	/* Loads at EL1 from an address with no tables at all below level 0. */
	u64 va = VA_EL1_LOAD + 0x5a8;
	next_page = (u64)page_a | PTE_PAGE | PTE_EL1_DATA;
	u64 v = probe_ldr(va);
	walk_levels(esr, EC_DABT_CURRENT, 0);
	check_faults("EL1 load", esr, level_names, 4, va, (u64)probe_ldr_insn, VEC_CUR_SPX,
		     SPSR_EL1H);
	check_eq("EL1 load: retried load reads the page", v, pattern((u64)page_a + 0x5a8));

	/* The same from EL0, with a store: EC 0x24 and WnR set. */
	va = VA_EL0_STORE + 0xff8;
	next_page = (u64)page_b | PTE_PAGE | PTE_EL0_DATA;
	v = run_el0(el0_store_then_load, va, 0);
	walk_levels(esr, EC_DABT_LOWER, ISS_WNR);
	check_faults("EL0 store", esr, level_names, 4, va, (u64)probe_str_insn, VEC_LOWER64,
		     SPSR_EL0T);
	check_eq("EL0 store: retried store reached the page", page_b[0xff8 / 8], STORE_VALUE);
	check_eq("EL0 store: EL0 reads it back", v, STORE_VALUE);

	/* Access-flag faults at each level that can hold a leaf. */
	u64 *l1 = pt_entry(VA_AF_BLOCK1, 1);
	pt_set(l1, RAM_BASE | PTE_BLOCK | (PTE_EL1_DATA & ~PTE_AF));
	u64 *l2_table = pt_alloc();
	pt_set(pt_entry(VA_AF_BLOCK2, 1), (u64)l2_table | PTE_TABLE);
	u64 *l2 = &l2_table[0];
	pt_set(l2, RAM_BASE | PTE_BLOCK | (PTE_EL1_DATA & ~PTE_AF));
	u64 *l3_table = pt_alloc();
	pt_set(&l2_table[1], (u64)l3_table | PTE_TABLE);
	u64 *l3 = &l3_table[0];
	pt_set(l3, (u64)page_e | PTE_PAGE | (PTE_EL0_DATA & ~PTE_AF));
	__asm__ volatile("tlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");

	va = VA_AF_BLOCK1 + ((u64)page_c - RAM_BASE) + 0x10;
	v = probe_ldr(va);
	esr[0] = ESR(EC_DABT_CURRENT, FSC_ACCESS_FLAG(1));
	check_faults("EL1 load, 1 GiB block", esr, af_names, 1, va, (u64)probe_ldr_insn,
		     VEC_CUR_SPX, SPSR_EL1H);
	check_eq("EL1 load, 1 GiB block: retried load reads the page", v,
		 pattern((u64)page_c + 0x10));
	check_eq("EL1 load, 1 GiB block: AF set", *l1 & PTE_AF, PTE_AF);

	va = VA_AF_BLOCK2 + ((u64)page_d - RAM_BASE) + 0x20;
	probe_str(va, STORE_VALUE);
	esr[0] = ESR(EC_DABT_CURRENT, ISS_WNR | FSC_ACCESS_FLAG(2));
	check_faults("EL1 store, 2 MiB block", esr, af_names, 1, va, (u64)probe_str_insn,
		     VEC_CUR_SPX, SPSR_EL1H);
	check_eq("EL1 store, 2 MiB block: retried store reached the page", page_d[0x20 / 8],
		 STORE_VALUE);
	check_eq("EL1 store, 2 MiB block: AF set", *l2 & PTE_AF, PTE_AF);

	va = VA_AF_PAGE + 0x30;
	v = run_el0(probe_ldr, va, 0);
	esr[0] = ESR(EC_DABT_LOWER, FSC_ACCESS_FLAG(3));
	check_faults("EL0 load, 4 KiB page", esr, af_names, 1, va, (u64)probe_ldr_insn,
		     VEC_LOWER64, SPSR_EL0T);
	check_eq("EL0 load, 4 KiB page: retried load reads the page", v,
		 pattern((u64)page_e + 0x30));
	check_eq("EL0 load, 4 KiB page: AF set", *l3 & PTE_AF, PTE_AF);

	/* Instruction aborts: branch to code that is not mapped yet. */
	va = VA_EXEC;
	next_page = (u64)ia_page | PTE_PAGE | PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_AP_RO |
		    PTE_UXN;
	v = call_at(va);
	walk_levels(esr, EC_IABT_CURRENT, 0);
	check_faults("EL1 exec", esr, level_names, 4, va, va, VEC_CUR_SPX, SPSR_EL1H);
	check_eq("EL1 exec: retried fetch runs the page", v, IA_MAGIC);

	/* From EL0, where only the level-3 entry is missing (the tables exist now). */
	va = VA_EXEC + 2 * PAGE_SIZE;
	next_page = (u64)ia_page | PTE_PAGE | PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 |
		    PTE_AP_RO | PTE_PXN;
	v = run_el0((u64(*)(u64))va, 0, 0);
	esr[0] = ESR(EC_IABT_LOWER, FSC_TRANSLATION(3));
	check_faults("EL0 exec", esr, l3_names, 1, va, va, VEC_LOWER64, SPSR_EL0T);
	check_eq("EL0 exec: retried fetch runs the page", v, IA_MAGIC);
}

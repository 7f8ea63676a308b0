/*
 * Watchpoints (DBGWVR/DBGWCR) as the guest's own debugger arms them: taken
 * before the access (memory still as it was in the handler) with ELR on the
 * instruction and FAR the data address, from EL1 (EC 0x35) with MDE, KDE and
 * PSTATE.D clear, from EL0 (EC 0x34) with MDE; for loads, stores or both
 * (WnR says which; FAR the access's lowest address when it starts before the
 * watched bytes), for the bytes BAS selects or the block MASK covers, at
 * the exception levels PAC selects (an unprivileged STTR counts as EL0's),
 * never while the OS lock is set, and only through the watched virtual
 * address, not another mapping of the same memory. The handler disarms the
 * watchpoint and returns; the access then happens once. Undoing the access
 * does not undo what the timer did meanwhile: a timer that expired just
 * before the access shows ISTATUS in the handler.
 */
#include "guest.h"

#define EC_WATCHPOINT_LOWER 0x34
#define EC_WATCHPOINT_CURRENT 0x35
#define FSC_DEBUG 0x22
#define MDSCR_KDE (1UL << 13)
#define MDSCR_MDE (1UL << 15)
/* DBGWCR: E, PAC, LSC, BAS, MASK. */
#define WCR_E 1UL
#define WCR_PAC_EL1 (1UL << 1)
#define WCR_PAC_EL0 (2UL << 1)
#define WCR_LOAD (1UL << 3)
#define WCR_STORE (2UL << 3)
#define WCR_BAS(b) ((u64)(b) << 5)
#define WCR_MASK(m) ((u64)(m) << 24)
#define BOTH_ELS (WCR_E | WCR_PAC_EL1 | WCR_PAC_EL0)
#define CTL_ENABLE 1UL
#define CTL_IMASK 2UL
#define CTL_ISTATUS 4UL
/* A second mapping of the watched page, under a level-0 entry of its own. */
#define ALIAS_VA 0x0000008000000000UL

void wp_store(u64 *p, u64 value);
u64 wp_load(u64 *p);
void wp_store_byte(u8 *p, u64 value);
void wp_sttr(u64 *p, u64 value);
u64 el0_store(u64 p);
extern char el0_store_insn[];

static u64 watched[64] __attribute__((aligned(PAGE_SIZE)));

struct seen {
	u64 esr, far, elr, vector, value, timer_ctl;
};
static struct seen seen[16];
static unsigned nseen;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if ((ec != EC_WATCHPOINT_LOWER && ec != EC_WATCHPOINT_CURRENT) || nseen == 16)
		return 0;
	/* What the watched doubleword holds when the exception is taken. */
	u64 value = *(volatile u64 *)(f->far & ~7UL);
	seen[nseen++] =
		(struct seen){f->esr, f->far, f->elr, vector, value, read_sysreg(cntv_ctl_el0)};
	write_sysreg(dbgwcr0_el1, 0);
	isb();
	return 1;
}

static void arm(u64 *address, u64 wcr, u64 mdscr)
{
	write_sysreg(dbgwvr0_el1, (u64)address);
	write_sysreg(dbgwcr0_el1, wcr);
	write_sysreg(mdscr_el1, mdscr);
	isb();
}

static void d_clear(void)
{
	__asm__ volatile("msr daifclr, #8" ::: "memory");
}

static void d_set(void)
{
	__asm__ volatile("msr daifset, #8" ::: "memory");
}

/* Checks the one exception the last access took. */
static void expect_hit(const char *group, unsigned before, u64 ec, u64 wnr, u64 far, u64 elr,
		       u64 vector, u64 old)
{
	check_eq_in(group, "one exception", nseen - before, 1);
	if (nseen - before != 1)
		return;
	const struct seen *s = &seen[nseen - 1];
	check_eq_in(group, "ESR", s->esr, ESR(ec, (wnr ? ISS_WNR : 0) | FSC_DEBUG));
	check_eq_in(group, "FAR is the data address", s->far, far);
	check_eq_in(group, "ELR on the access", s->elr, elr);
	check_eq_in(group, "vector", s->vector, vector);
	check_eq_in(group, "taken before the access", s->value, old);
}

static void expect_none(const char *group, unsigned before)
{
	check_eq_in(group, "no exception", nseen - before, 0);
}

static u64 *map_alias(void)
{
	for (int level = 0; level < 3; level++) {
		u64 *e = pt_entry(ALIAS_VA, level);
		if (!(*e & PTE_VALID))
			pt_set(e, (u64)pt_alloc() | PTE_TABLE);
	}
	pt_set(pt_entry(ALIAS_VA, 3), (u64)watched | PTE_PAGE | PTE_EL0_DATA);
	tlb_flush_va(ALIAS_VA);
	return (u64 *)ALIAS_VA;
}

void test_main(void)
{
	sync_handler = on_sync;
	unsigned before;
	const u64 store = BOTH_ELS | WCR_STORE | WCR_BAS(0xff);
	const u64 load = BOTH_ELS | WCR_LOAD | WCR_BAS(0xff);
	const u64 on = MDSCR_MDE | MDSCR_KDE;

	/* Out of reset the OS lock is set. */
	arm(&watched[0], store, on);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 1);
	d_set();
	expect_none("OS lock set", before);
	write_sysreg(oslar_el1, 0);
	isb();

	arm(&watched[0], store, on);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 2);
	d_set();
	expect_hit("EL1 store", before, EC_WATCHPOINT_CURRENT, 1, (u64)&watched[0], (u64)wp_store,
		   VEC_CUR_SPX, 1);
	check_eq("EL1 store: the store happened after", watched[0], 2);

	arm(&watched[0], load, on);
	before = nseen;
	d_clear();
	u64 v = wp_load(&watched[0]);
	d_set();
	expect_hit("EL1 load", before, EC_WATCHPOINT_CURRENT, 0, (u64)&watched[0], (u64)wp_load,
		   VEC_CUR_SPX, 2);
	check_eq("EL1 load: the load happened after", v, 2);

	/* Loads do not fire a store watchpoint, nor stores a load watchpoint. */
	arm(&watched[0], store, on);
	before = nseen;
	d_clear();
	v = wp_load(&watched[0]);
	d_set();
	expect_none("EL1 load, store watchpoint", before);
	arm(&watched[0], load, on);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 3);
	d_set();
	expect_none("EL1 store, load watchpoint", before);

	/* BAS: bytes 2 and 3 of the doubleword. */
	arm(&watched[1], BOTH_ELS | WCR_STORE | WCR_BAS(0x0c), on);
	before = nseen;
	d_clear();
	wp_store_byte((u8 *)&watched[1] + 1, 0xaa);
	wp_store_byte((u8 *)&watched[1] + 3, 0xbb);
	d_set();
	expect_hit("EL1 byte store, BAS bytes 2-3", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[1] + 3, (u64)wp_store_byte, VEC_CUR_SPX, 0xaa00);

	/* A doubleword store over watched byte 5: FAR is where the store starts. */
	arm(&watched[5], BOTH_ELS | WCR_STORE | WCR_BAS(0x20), on);
	before = nseen;
	d_clear();
	wp_store(&watched[5], 0x55);
	d_set();
	expect_hit("EL1 store over a watched byte", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[5], (u64)wp_store, VEC_CUR_SPX, 0);

	/* MASK: a 64-byte block. */
	arm(&watched[8], BOTH_ELS | WCR_STORE | WCR_MASK(6), on);
	before = nseen;
	d_clear();
	wp_store(&watched[16], 4);
	wp_store(&watched[13], 5);
	d_set();
	expect_hit("EL1 store, 64-byte MASK", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[13], (u64)wp_store, VEC_CUR_SPX, 0);

	/* What keeps EL1 from taking them. */
	arm(&watched[0], store, on);
	before = nseen;
	wp_store(&watched[0], 6);
	expect_none("EL1 with PSTATE.D set", before);
	arm(&watched[0], store, MDSCR_MDE);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 7);
	d_set();
	expect_none("EL1 without KDE", before);
	arm(&watched[0], store, MDSCR_KDE);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 8);
	d_set();
	expect_none("EL1 without MDE", before);
	arm(&watched[0], WCR_E | WCR_PAC_EL0 | WCR_STORE | WCR_BAS(0xff), on);
	before = nseen;
	d_clear();
	wp_store(&watched[0], 9);
	d_set();
	expect_none("EL1, watchpoint for EL0 only", before);

	/* STTR at EL1 is an access as from EL0. */
	arm(&watched[0], WCR_E | WCR_PAC_EL0 | WCR_STORE | WCR_BAS(0xff), on);
	before = nseen;
	d_clear();
	wp_sttr(&watched[0], 10);
	d_set();
	expect_hit("EL1 sttr, watchpoint for EL0", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[0], (u64)wp_sttr, VEC_CUR_SPX, 9);

	/* From EL0: MDE alone. */
	arm(&watched[2], WCR_E | WCR_PAC_EL0 | WCR_STORE | WCR_BAS(0xff), MDSCR_MDE);
	before = nseen;
	run_el0(el0_store, (u64)&watched[2], 0);
	expect_hit("EL0 store", before, EC_WATCHPOINT_LOWER, 1, (u64)&watched[2],
		   (u64)el0_store_insn, VEC_LOWER64, 0);
	check_eq("EL0 store: the store happened after", watched[2], 0x77);

	/* The same memory through another virtual address is not the watched address. */
	u64 *alias = map_alias();
	arm(&watched[3], store, on);
	before = nseen;
	d_clear();
	wp_store(&alias[3], 11);
	d_set();
	expect_none("EL1 store through another mapping", before);
	check_eq("EL1 store through another mapping: it landed", watched[3], 11);
	before = nseen;
	d_clear();
	wp_store(&watched[3], 12);
	d_set();
	expect_hit("EL1 store after the other mapping", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[3], (u64)wp_store, VEC_CUR_SPX, 11);

	/*
	 * The timer expires (masked) right before a watched store: the run that
	 * hits ends with ISTATUS newly set, which the undo must not take back.
	 */
	arm(&watched[4], store, on);
	/* Far enough ahead that it expires in the run the next loop runs in. */
	write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 2000);
	write_sysreg(cntv_ctl_el0, CTL_ENABLE | CTL_IMASK);
	isb();
	while (read_sysreg(cntvct_el0) < read_sysreg(cntv_cval_el0))
		;
	before = nseen;
	d_clear();
	wp_store(&watched[4], 13);
	d_set();
	expect_hit("EL1 store as the timer expires", before, EC_WATCHPOINT_CURRENT, 1,
		   (u64)&watched[4], (u64)wp_store, VEC_CUR_SPX, 0);
	if (nseen != before)
		check_eq("EL1 store as the timer expires: ISTATUS in the handler",
			 seen[nseen - 1].timer_ctl, CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
	check_eq("EL1 store as the timer expires: ISTATUS after", read_sysreg(cntv_ctl_el0),
		 CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
	write_sysreg(cntv_ctl_el0, 0);

	write_sysreg(dbgwcr0_el1, 0);
	write_sysreg(mdscr_el1, 0);
	write_sysreg(oslar_el1, 1);
	isb();
	check_eq("watchpoint exceptions in all", nseen, 9);
}

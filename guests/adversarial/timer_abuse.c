/*
 * Both EL1 timers (virtual: PPI 27, physical: PPI 30, through the GIC)
 * driven to their edges: CVAL 0 (fires at once) and CVAL ~0 (never), TVAL
 * negative (already due) and at its largest, then a storm of random
 * enable/IMASK toggles and random compare values with interrupts unmasked,
 * and finally real waits in WFI for 1 ms deadlines. Only the two timer
 * INTIDs may arrive, each when its timer is due and enabled.
 */
#include "adv.h"

#define STORM 100000
#define WAITS 20

enum timer { VIRT, PHYS };
static const char *const names[] = {"virtual timer", "physical timer"};

static volatile u64 fired[2], others, early;

static u64 get_ctl(enum timer t)
{
	return t == VIRT ? read_sysreg(cntv_ctl_el0) : read_sysreg(cntp_ctl_el0);
}
static void set_ctl(enum timer t, u64 v)
{
	if (t == VIRT)
		write_sysreg(cntv_ctl_el0, v);
	else
		write_sysreg(cntp_ctl_el0, v);
	isb();
}
static u64 get_cval(enum timer t)
{
	return t == VIRT ? read_sysreg(cntv_cval_el0) : read_sysreg(cntp_cval_el0);
}
static void set_cval(enum timer t, u64 v)
{
	if (t == VIRT)
		write_sysreg(cntv_cval_el0, v);
	else
		write_sysreg(cntp_cval_el0, v);
	isb();
}
static u64 get_tval(enum timer t)
{
	return t == VIRT ? read_sysreg(cntv_tval_el0) : read_sysreg(cntp_tval_el0);
}
static void set_tval(enum timer t, u64 v)
{
	if (t == VIRT)
		write_sysreg(cntv_tval_el0, v);
	else
		write_sysreg(cntp_tval_el0, v);
	isb();
}
static u64 count(enum timer t)
{
	return t == VIRT ? read_sysreg(cntvct_el0) : read_sysreg(cntpct_el0);
}

static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	(void)vector;
	u32 iar = gic_ack();
	u32 id = iar & 0x3ff;
	if (id == INTID_SPURIOUS)
		return 1;
	if (id == INTID_VTIMER || id == INTID_PTIMER) {
		enum timer t = id == INTID_VTIMER ? VIRT : PHYS;
		fired[t]++;
		/* The line must only be high while the timer is due and not masked. */
		if ((get_ctl(t) & (CTL_ENABLE | CTL_IMASK)) != CTL_ENABLE || count(t) < get_cval(t))
			early++;
		set_ctl(t, get_ctl(t) | CTL_IMASK);
	} else {
		others++;
	}
	gic_eoi(iar);
	return 1;
}

/*
 * Spins until timer t has fired more often than `before`, for up to 20 ms of
 * guest time; returns whether it did. A VMM may look at the timers only
 * between slices of guest code, so "at once" means within a slice or two.
 */
static int fires(enum timer t, u64 before)
{
	u64 end = read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 50;
	while (read_sysreg(cntvct_el0) < end)
		if (fired[t] != before)
			return 1;
	return fired[t] != before;
}

static void edges(enum timer t)
{
	const char *g = names[t];
	set_ctl(t, 0);
	set_cval(t, 0);
	u64 n = fired[t];
	set_ctl(t, CTL_ENABLE);
	check_in(g, "CVAL 0 fires at once", fires(t, n), 0, 1);

	set_ctl(t, 0);
	set_cval(t, ~0UL);
	n = fired[t];
	set_ctl(t, CTL_ENABLE);
	check_in(g, "CVAL ~0 never fires", !fires(t, n), 1, 0);
	check_eq_in(g, "CVAL ~0: ISTATUS clear", get_ctl(t), CTL_ENABLE);
	check_eq_in(g, "CVAL ~0 reads back", get_cval(t), ~0UL);

	set_ctl(t, 0);
	u64 before = count(t);
	set_tval(t, (u64)(u32)-100000);
	u64 cval = get_cval(t);
	check_in(g, "TVAL -100000 sets CVAL in the past", cval + 100000 >= before && cval < before,
		 cval, before - 100000);
	check_in(g, "TVAL reads back negative", (get_tval(t) & 0x80000000) != 0, get_tval(t), 0);
	n = fired[t];
	set_ctl(t, CTL_ENABLE);
	check_in(g, "negative TVAL fires at once", fires(t, n), 0, 1);

	set_ctl(t, 0);
	set_tval(t, 0x7fffffff);
	n = fired[t];
	set_ctl(t, CTL_ENABLE);
	check_in(g, "TVAL 0x7fffffff does not fire yet", !fires(t, n), 1, 0);
	set_ctl(t, 0);
}

static void storm(struct rng *rng)
{
	for (u64 i = 0; i < STORM; i++) {
		u64 r = rng_next(rng);
		enum timer t = (enum timer)(r & 1);
		switch ((r >> 1) & 7) {
		case 0:
			set_cval(t, 0);
			break;
		case 1:
			set_cval(t, ~0UL);
			break;
		case 2:
			set_cval(t, count(t) + ((r >> 8) & 0x3ff) - 0x200);
			break;
		case 3:
			set_tval(t, r >> 32);
			break;
		case 4:
			set_cval(t, rng_next(rng));
			break;
		default:
			break;
		}
		/* ISTATUS is read-only; writing it must change nothing. */
		set_ctl(t, (r >> 4) & 7);
	}
	set_ctl(VIRT, 0);
	set_ctl(PHYS, 0);
}

static void waits(struct rng *rng)
{
	u64 ms = read_sysreg(cntfrq_el0) / 1000, late = 0;
	for (int i = 0; i < WAITS; i++) {
		enum timer t = (enum timer)rng_below(rng, 2);
		u64 before = fired[t];
		set_tval(t, ms);
		u64 deadline = get_cval(t);
		set_ctl(t, CTL_ENABLE);
		/* A wake-up for anything else (or none at all) just waits again, up to a second. */
		while (fired[t] == before && count(t) < deadline + 1000 * ms)
			__asm__ volatile("wfi" ::: "memory");
		late += fired[t] == before;
		set_ctl(t, 0);
	}
	check_eq("1 ms waits in WFI: each woken by its timer", late, 0);
}

void test_main(void)
{
	irq_handler = on_irq;
	gic_init();
	gic_enable(INTID_VTIMER);
	gic_enable(INTID_PTIMER);
	daif_irq_on();
	edges(VIRT);
	edges(PHYS);
	struct rng rng;
	rng_seed(&rng, 0x7173);
	u64 before = fired[VIRT] + fired[PHYS];
	storm(&rng);
	log_str("timer_abuse: the toggle storm raised ");
	log_u64(fired[VIRT] + fired[PHYS] - before);
	log_str(" interrupts\n");
	waits(&rng);
	daif_irq_off();
	check_eq("no interrupt while its timer was not due, disabled or masked", early, 0);
	check_eq("no INTID other than 27 and 30", others, 0);
}

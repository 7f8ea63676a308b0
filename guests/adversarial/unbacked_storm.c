/*
 * Loads and stores of every size to guest-physical addresses with nothing
 * behind them: holes in the device area (0x0b00_0000, 0x0c00_0000,
 * 0x2000_0000), past the end of RAM (0x7fe0_0000 and up, for any --mem
 * below 1 GiB), at 4 GiB and 2^39, and a block whose output address lies
 * beyond the 40-bit physical range; plus calls into the unbacked blocks.
 * Each access must either complete (loads reading zero) or take a data
 * abort (an instruction abort, or an undefined instruction from fetching
 * zeros, for the calls), and none may reach RAM: a canary buffer filled
 * before the storm must be intact after it.
 */
#include "adv.h"
#include "probes.h"

#define ACCESSES 20000
#define CALLS 200
#define SKIPPED 0x5c1dUL
#define CANARY_WORDS 8192

struct region {
	const char *name;
	u64 va, pa;
	int map, exec;
	u64 loads, stores, aborts, fetch_aborts, undefined, nonzero;
};

static struct region regions[] = {
	{"device hole 0x0b00_0000", 0x0b000000UL, 0x0b000000UL, 0, 0, 0, 0, 0, 0, 0, 0},
	{"device hole 0x0c00_0000", 0x0c000000UL, 0x0c000000UL, 0, 0, 0, 0, 0, 0, 0, 0},
	{"device hole 0x2000_0000", 0x20000000UL, 0x20000000UL, 0, 0, 0, 0, 0, 0, 0, 0},
	{"past RAM 0x7fe0_0000", 0x7fe00000UL, 0x7fe00000UL, 1, 1, 0, 0, 0, 0, 0, 0},
	{"2 GiB", 0x80000000UL, 0x80000000UL, 1, 1, 0, 0, 0, 0, 0, 0},
	{"4 GiB", 0x100000000UL, 0x100000000UL, 1, 1, 0, 0, 0, 0, 0, 0},
	{"2^39", 0x8000000000UL, 0x8000000000UL, 1, 1, 0, 0, 0, 0, 0, 0},
	{"output address 2^40, beyond the physical range", 0x7f00000000UL, 0x10000000000UL, 1, 1,
	 0, 0, 0, 0, 0, 0},
};
#define REGIONS (sizeof(regions) / sizeof(regions[0]))

static struct region *current;
static u64 canary[CANARY_WORDS];

static int on_sync(struct frame *f, u64 vector)
{
	(void)vector;
	u64 ec = ESR_EC(f->esr);
	if (!current)
		return 0;
	if (ec == EC_DABT_CURRENT) {
		current->aborts++;
		f->elr += 4;
		f->x[0] = SKIPPED;
		return 1;
	}
	/* A call into the block: back to the caller, whether the fetch faulted or fetched zeros. */
	int in_block = f->elr >= current->va && f->elr < current->va + (2UL << 20);
	if ((ec == EC_IABT_CURRENT || ec == EC_UNKNOWN) && in_block) {
		if (ec == EC_IABT_CURRENT)
			current->fetch_aborts++;
		else
			current->undefined++;
		f->elr = f->x[30];
		f->x[0] = SKIPPED;
		return 1;
	}
	return 0;
}

static void storm(struct region *r, struct rng *rng)
{
	current = r;
	for (int i = 0; i < ACCESSES; i++) {
		const struct probe *p = &probes[rng_below(rng, PROBES_N)];
		u64 offset = rng_below(rng, 0x10000) & ~(u64)(p->size - 1);
		u64 aborts = r->aborts;
		u64 v = p->fn(r->va + offset, rng_next(rng));
		if (p->write) {
			r->stores++;
		} else {
			r->loads++;
			r->nonzero += r->aborts == aborts && v != 0;
		}
	}
	for (int i = 0; r->exec && i < CALLS; i++)
		((u64(*)(void))(r->va + rng_below(rng, 0x10000) * 4 % 0x10000))();
	current = 0;
	log_str("unbacked_storm: ");
	log_str(r->name);
	log_str(": ");
	log_u64(r->loads);
	log_str(" loads (");
	log_u64(r->nonzero);
	log_str(" read nonzero), ");
	log_u64(r->stores);
	log_str(" stores, ");
	log_u64(r->aborts);
	log_str(" data aborts");
	if (r->exec) {
		log_str("; calls: ");
		log_u64(r->fetch_aborts);
		log_str(" instruction aborts, ");
		log_u64(r->undefined);
		log_str(" undefined");
	}
	log_str("\n");
}

void test_main(void)
{
	sync_handler = on_sync;
	struct rng rng;
	rng_seed(&rng, 0xcafe);
	for (int i = 0; i < CANARY_WORDS; i++)
		canary[i] = rng_next(&rng);
	for (unsigned i = 0; i < REGIONS; i++)
		if (regions[i].map)
			map_block_2m(regions[i].va, regions[i].pa, regions[i].exec);
	for (unsigned i = 0; i < REGIONS; i++)
		storm(&regions[i], &rng);
	u64 bad = 0, nonzero = 0;
	for (unsigned i = 0; i < REGIONS; i++)
		nonzero += regions[i].nonzero;
	check_eq("loads that completed read zero", nonzero, 0);
	rng_seed(&rng, 0xcafe);
	for (int i = 0; i < CANARY_WORDS; i++)
		bad += canary[i] != rng_next(&rng);
	check_eq("the RAM canary is intact", bad, 0);
}

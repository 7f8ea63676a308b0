#include "mmio_fuzz.h"
#include "probes.h"

static struct fuzz_stats *current;

static int on_abort(struct frame *f, u64 vector)
{
	(void)vector;
	u64 ec = ESR_EC(f->esr);
	if (ec != EC_DABT_CURRENT || !current)
		return 0;
	current->aborts++;
	f->elr += 4;
	f->x[0] = 0;
	return 1;
}

void mmio_fuzz(struct rng *rng, u64 base, u64 size, u64 n, struct fuzz_stats *stats,
	       u64 (*value)(u64 offset, u64 v))
{
	exception_handler *saved = sync_handler;
	sync_handler = on_abort;
	current = stats;
	daif_irq_off();
	for (u64 i = 0; i < n; i++) {
		u64 r = rng_next(rng);
		const struct probe *p = &probes[r % PROBES_N];
		u64 offset = (r >> 8) % size;
		/* Three in four aligned: most accesses must reach the device's registers. */
		if ((r >> 40) & 3)
			offset &= ~(u64)(p->size - 1);
		else if (offset % p->size)
			stats->unaligned++;
		if (offset + p->size > size)
			offset = size - p->size;
		u64 v = rng_next(rng);
		if (value)
			v = value(offset, v);
		p->fn(base + offset, v);
		if (p->write)
			stats->stores++;
		else
			stats->loads++;
	}
	current = 0;
	sync_handler = saved;
}

void fuzz_report(const char *what, const struct fuzz_stats *stats)
{
	log_str(what);
	log_str(": ");
	log_u64(stats->loads);
	log_str(" loads, ");
	log_u64(stats->stores);
	log_str(" stores (");
	log_u64(stats->unaligned);
	log_str(" unaligned), ");
	log_u64(stats->aborts);
	log_str(" aborts\n");
}

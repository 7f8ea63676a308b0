/*
 * Random accesses to a device's MMIO window (mmio_fuzz.c): every size from
 * a byte to a pair of doublewords, aligned or not, loads and stores of
 * random values, with IRQs masked. Aborts the VMM delivers for them (an
 * alignment fault on Device memory, an external abort) are counted and
 * skipped; nothing else may happen.
 */
#ifndef MMIO_FUZZ_H
#define MMIO_FUZZ_H

#include "adv.h"

struct fuzz_stats {
	u64 loads, stores, unaligned, aborts;
};

/*
 * n accesses in [base, base + size). `value` (optional) may change what a
 * store writes at an offset, e.g. to keep a transmit register printable.
 */
void mmio_fuzz(struct rng *rng, u64 base, u64 size, u64 n, struct fuzz_stats *stats,
	       u64 (*value)(u64 offset, u64 v));
/* One line: "<what>: N loads, N stores (N unaligned), N aborts". */
void fuzz_report(const char *what, const struct fuzz_stats *stats);

#endif /* MMIO_FUZZ_H */

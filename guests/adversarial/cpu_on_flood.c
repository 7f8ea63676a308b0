/*
 * PSCI CPU_ON in a tight loop for ever, over HVC: targets that do not exist
 * (random MPIDRs), the boot CPU itself, and the other CPUs the device tree
 * describes (run with --smp 8), with valid and random entry points, in the
 * SMC64 and SMC32 forms. A VMM that logs every refused call lets a guest
 * flood its output; each 100,000 calls print one progress line.
 */
#include "adv.h"

#define PSCI_CPU_ON_32 0x84000003UL
#define PROGRESS_EVERY 100000

/* Where a started CPU would go: parked, since nothing here expects it. */
void secondary_park(void);
__asm__(".text\n.balign 4\nsecondary_park:\n1: wfi\nb 1b\n");

void test_main(void)
{
	struct rng rng;
	rng_seed(&rng, 0xc0de0001);
	u64 refused = 0;
	for (u64 n = 1;; n++) {
		u64 r = rng_next(&rng);
		u64 target, entry;
		switch (r & 3) {
		case 0:
			target = rng_next(&rng);
			break;
		case 1:
			target = 0;
			break;
		default:
			target = 1 + (r >> 2) % 7;
			break;
		}
		entry = r & 0x10 ? rng_next(&rng) : (u64)secondary_park;
		u64 fid = r & 0x20 ? PSCI_CPU_ON_32 : PSCI_CPU_ON_64;
		refused += psci_call(fid, target, entry, n) != 0;
		if (n % PROGRESS_EVERY == 0) {
			log_str("cpu_on_flood: ");
			log_u64(n);
			log_str(" calls, ");
			log_u64(refused);
			log_str(" refused\n");
		}
	}
}

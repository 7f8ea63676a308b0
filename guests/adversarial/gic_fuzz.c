/*
 * Random-size, random-offset loads and stores of random values over the
 * whole GIC distributor (0x0800_0000) and CPU interface (0x0801_0000)
 * windows, 8- and 16-byte ones included. Afterwards the GIC is put back in
 * order the way a kernel would and must still work: identification
 * registers unchanged, the running priority idle, and an SGI sent to itself
 * delivered once.
 */
#include "mmio_fuzz.h"

#define ACCESSES 400000
#define GICC_RPR 0x014
#define GICC_APR0 0x0d0
#define SGI 5

static volatile u64 sgis, others;

static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	(void)vector;
	u32 iar = gic_ack();
	u32 id = iar & 0x3ff;
	if (id == INTID_SPURIOUS)
		return 1;
	if (id == SGI)
		sgis++;
	else
		others++;
	gic_eoi(iar);
	return 1;
}

/* Everything acknowledged during the fuzz ends; every interrupt off. */
static void recover(void)
{
	u32 lines = 32 * ((mmio_read32(GICD_BASE + GICD_TYPER) & 0x1f) + 1);
	mmio_write32(GICC_BASE + GICC_CTLR, 1);
	for (u32 id = 0; id < lines; id++)
		gic_eoi(id);
	for (u32 i = 0; i < 4; i++)
		mmio_write32(GICC_BASE + GICC_APR0 + 4 * i, 0);
	gic_init();
}

void test_main(void)
{
	irq_handler = on_irq;
	u32 typer = mmio_read32(GICD_BASE + GICD_TYPER);
	u32 iidr = mmio_read32(GICD_BASE + GICD_IIDR);
	u32 cpu_iidr = mmio_read32(GICC_BASE + GICC_IIDR);
	struct rng rng;
	rng_seed(&rng, 0x61c0);
	struct fuzz_stats d = {0}, c = {0};
	for (int round = 0; round < 10; round++) {
		mmio_fuzz(&rng, GICD_BASE, GIC_SIZE, ACCESSES / 20, &d, 0);
		mmio_fuzz(&rng, GICC_BASE, GIC_SIZE, ACCESSES / 20, &c, 0);
	}
	fuzz_report("gic_fuzz: distributor", &d);
	fuzz_report("gic_fuzz: CPU interface", &c);

	recover();
	check_eq("GICD_TYPER unchanged", mmio_read32(GICD_BASE + GICD_TYPER), typer);
	check_eq("GICD_IIDR unchanged", mmio_read32(GICD_BASE + GICD_IIDR), iidr);
	check_eq("GICC_IIDR unchanged", mmio_read32(GICC_BASE + GICC_IIDR), cpu_iidr);
	check_eq("running priority idle after recovery", mmio_read32(GICC_BASE + GICC_RPR) & 0xff,
		 0xff);
	gic_enable(SGI);
	daif_irq_on();
	mmio_write32(GICD_BASE + GICD_SGIR, 2u << 24 | SGI); /* to this CPU only */
	for (int spin = 0; spin < 100000 && !sgis; spin++)
		barrier();
	daif_irq_off();
	check_eq("an SGI to itself arrives once", sgis, 1);
	check_eq("no other interrupt arrives", others, 0);
}

/* The shared helpers of adv.h. */
#include "adv.h"

void log_u64(u64 v)
{
	char buf[24];
	int n = 0;
	do
		buf[n++] = '0' + v % 10;
	while ((v /= 10) != 0);
	char out[2] = {0, 0};
	while (n > 0) {
		out[0] = buf[--n];
		log_str(out);
	}
}

u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;
	__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

void gic_init(void)
{
	mmio_write32(GICD_BASE + GICD_CTLR, 0);
	u32 lines = 32 * ((mmio_read32(GICD_BASE + GICD_TYPER) & 0x1f) + 1);
	for (u32 i = 0; i < lines / 32; i++) {
		mmio_write32(GICD_BASE + GICD_IGROUPR + 4 * i, 0);
		mmio_write32(GICD_BASE + GICD_ICENABLER + 4 * i, 0xffffffff);
		mmio_write32(GICD_BASE + GICD_ICPENDR + 4 * i, 0xffffffff);
		mmio_write32(GICD_BASE + GICD_ICACTIVER + 4 * i, 0xffffffff);
	}
	/* SGIs pending from each source are cleared here, not through ICPENDR. */
	for (u32 i = 0; i < 4; i++)
		mmio_write32(GICD_BASE + GICD_CPENDSGIR + 4 * i, 0xffffffff);
	for (u32 i = 0; i < lines / 4; i++)
		mmio_write32(GICD_BASE + GICD_IPRIORITYR + 4 * i, 0x80808080);
	mmio_write32(GICC_BASE + GICC_PMR, 0xff);
	mmio_write32(GICC_BASE + GICC_BPR, 0);
	mmio_write32(GICC_BASE + GICC_CTLR, 1);
	mmio_write32(GICD_BASE + GICD_CTLR, 1);
}

void gic_enable(u32 intid)
{
	mmio_write32(GICD_BASE + GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

void map_block_2m(u64 va, u64 pa, int exec)
{
	u64 *l1 = pt_entry(va, 0);
	if ((*l1 & 3) != PTE_TABLE)
		pt_set(l1, (u64)pt_alloc() | PTE_TABLE);
	u64 *l2 = pt_entry(va, 1);
	if ((*l2 & 3) != PTE_TABLE)
		pt_set(l2, (u64)pt_alloc() | PTE_TABLE);
	u64 attrs = PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_UXN | (exec ? 0 : PTE_PXN);
	pt_set(pt_entry(va, 2), pa | PTE_BLOCK | attrs);
	tlb_flush_va(va);
}

/*
 * The C half of the runtime: the exception dispatcher and the
 * identity-mapped page tables every program runs under. Reporting is the
 * suite's choice: report_testdev.c (the vCPU harness's test device) or
 * report_console.c (the VM's UART and PSCI).
 */
#include "guest.h"

exception_handler *sync_handler;
exception_handler *irq_handler;

extern char __text_start[], __text_end[];

/* An exception nobody expected leaves the program in an unknown state: say what it was and stop. */
static void unexpected(struct frame *f, u64 vector)
{
	log_str("unexpected exception at vector ");
	log_hex(vector);
	log_str(" ESR ");
	log_hex(f->esr);
	log_str(" ELR ");
	log_hex(f->elr);
	log_str(" FAR ");
	log_hex(f->far);
	log_str("\n");
	check("runtime: no unexpected exception", 0, f->esr, vector);
	finish();
}

void exception_dispatch(struct frame *f, u64 vector)
{
	u64 kind = vector & 0x180;
	if (kind == VEC_SYNC && vector == VEC_LOWER64 && ESR_EC(f->esr) == EC_SVC64 &&
	    (f->esr & 0xffff) == SVC_EL0_EXIT)
		el0_resume(f->x[0]);
	exception_handler *h = kind == VEC_SYNC ? sync_handler : kind == VEC_IRQ ? irq_handler : 0;
	if (!h || !h(f, vector))
		unexpected(f, vector);
}

/*
 * Page tables: 48-bit VAs through TTBR0_EL1, four levels. The first GiB is one
 * Device block (the test device lives there), and the 2 MiB of RAM is mapped
 * page by page so code can be read-only and executable at EL0 and EL1 while
 * data is writable by both and executable by neither. Everything else starts
 * unmapped; programs add to it with pt_entry/pt_alloc/pt_set.
 */
#define PT_POOL 24
static u64 l0[512] __attribute__((aligned(PAGE_SIZE)));
static u64 l1[512] __attribute__((aligned(PAGE_SIZE)));
static u64 l2_ram[512] __attribute__((aligned(PAGE_SIZE)));
static u64 l3_ram[512] __attribute__((aligned(PAGE_SIZE)));
static u64 pool[PT_POOL][512] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;

static unsigned pt_index(u64 va, int level)
{
	return (va >> (39 - 9 * level)) & 511;
}

u64 *pt_entry(u64 va, int level)
{
	u64 *table = l0;
	for (int l = 0; l < level; l++) {
		u64 desc = table[pt_index(va, l)];
		if ((desc & 3) != PTE_TABLE)
			return 0;
		table = (u64 *)(desc & PTE_ADDR_MASK);
	}
	return &table[pt_index(va, level)];
}

u64 *pt_alloc(void)
{
	if (pool_used == PT_POOL) {
		check("runtime: page-table pool large enough", 0, pool_used, PT_POOL);
		finish();
	}
	return pool[pool_used++];
}

void pt_set(u64 *entry, u64 desc)
{
	*(volatile u64 *)entry = desc;
	/* The table walker must see the descriptor before anything uses it. */
	__asm__ volatile("dsb ishst" ::: "memory");
}

void tlb_flush_va(u64 va)
{
	__asm__ volatile("tlbi vaae1is, %0\n\tdsb ish\n\tisb" ::"r"(va >> 12) : "memory");
}

#define MAIR_NORMAL_WB 0xffUL      /* attribute 0 */
#define MAIR_DEVICE_NGNRNE 0x00UL  /* attribute 1 */
#define TCR_T0SZ_48 16UL
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER (3UL << 12)
#define TCR_TG0_4K (0UL << 14)
#define TCR_EPD1 (1UL << 23) /* no TTBR1 walks: nothing lives in the upper half */
#define TCR_IPS_40 (2UL << 32)
#define SCTLR_M (1UL << 0)
#define SCTLR_A (1UL << 1)
#define SCTLR_C (1UL << 2)
#define SCTLR_I (1UL << 12)

static void mmu_init(void)
{
	pt_set(&l0[0], (u64)l1 | PTE_TABLE);
	pt_set(&l1[0], 0 | PTE_BLOCK | PTE_DEVICE | PTE_AF | PTE_PXN | PTE_UXN);
	pt_set(&l1[pt_index(RAM_BASE, 1)], (u64)l2_ram | PTE_TABLE);
	pt_set(&l2_ram[pt_index(RAM_BASE, 2)], (u64)l3_ram | PTE_TABLE);
	for (unsigned i = 0; i < RAM_SIZE / PAGE_SIZE; i++) {
		u64 pa = RAM_BASE + (u64)i * PAGE_SIZE;
		int text = pa >= (u64)__text_start && pa < (u64)__text_end;
		u64 attrs = text ? PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_AP_RO
				 : PTE_EL0_DATA;
		pt_set(&l3_ram[i], pa | PTE_PAGE | attrs);
	}
	write_sysreg(mair_el1, MAIR_NORMAL_WB | MAIR_DEVICE_NGNRNE << 8);
	write_sysreg(tcr_el1, TCR_T0SZ_48 | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
				      TCR_TG0_4K | TCR_EPD1 | TCR_IPS_40);
	write_sysreg(ttbr0_el1, (u64)l0);
	isb();
	__asm__ volatile("tlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
	u64 sctlr = read_sysreg(sctlr_el1);
	write_sysreg(sctlr_el1, (sctlr | SCTLR_M | SCTLR_C | SCTLR_I) & ~SCTLR_A);
	isb();
}

void guest_start(void)
{
	report_start();
	mmu_init();
	check_eq("runtime: MMU on", read_sysreg(sctlr_el1) & SCTLR_M, SCTLR_M);
	test_main();
	finish();
}

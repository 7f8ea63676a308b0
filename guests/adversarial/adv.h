/*
 * What the adversarial programs share beyond guests/lib: a seeded PRNG (runs
 * are reproducible), decimal output, the machine's GICv2 and PSCI, and a
 * helper that maps more guest-physical space than the runtime's identity map.
 */
#ifndef ADV_H
#define ADV_H

#include "guest.h"

/* The machine (QEMU virt's map, as VMKit presents it). */
#define GICD_BASE 0x08000000UL
#define GICC_BASE 0x08010000UL
#define GIC_SIZE 0x10000UL
#define UART_BASE 0x09000000UL
#define UART_SIZE 0x1000UL

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_IIDR 0x008
#define GICD_IGROUPR 0x080
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_ICACTIVER 0x380
#define GICD_IPRIORITYR 0x400
#define GICD_SGIR 0xf00
#define GICD_CPENDSGIR 0xf10
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_BPR 0x008
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010
#define GICC_IIDR 0x0fc
#define INTID_SPURIOUS 1023
#define INTID_VTIMER 27
#define INTID_PTIMER 30

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_ON_64 0xc4000003UL
#define PSCI_FEATURES 0x8400000aUL
#define PSCI_SYSTEM_RESET 0x84000009UL
#define PSCI_RET_NOT_SUPPORTED 0xffffffffffffffffUL

/* Generic timer CNT*_CTL bits. */
#define CTL_ENABLE 1UL
#define CTL_IMASK 2UL
#define CTL_ISTATUS 4UL

/* DAIF.I: masks IRQs. */
#define daif_irq_on() __asm__ volatile("msr daifclr, #2" ::: "memory")
#define daif_irq_off() __asm__ volatile("msr daifset, #2" ::: "memory")

static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}
static inline void mmio_write32(u64 addr, u32 value)
{
	*(volatile u32 *)addr = value;
}

/* xorshift64*: small, fast and good enough to spread accesses around. */
struct rng {
	u64 s;
};
static inline void rng_seed(struct rng *r, u64 seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15UL;
}
static inline u64 rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dUL;
}
/* A value in [0, n). */
static inline u64 rng_below(struct rng *r, u64 n)
{
	return rng_next(r) % n;
}

/* Decimal, no padding. */
void log_u64(u64 v);

/* An SMCCC call over SMC #0: x0-x3 in, x0 out. */
u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3);

/*
 * Distributor and CPU interface on for group 0, every interrupt in group 0,
 * disabled, not pending and inactive at priority 0x80, priority mask open;
 * gic_enable then enables one.
 */
void gic_init(void);
void gic_enable(u32 intid);
static inline u32 gic_ack(void)
{
	return mmio_read32(GICC_BASE + GICC_IAR);
}
static inline void gic_eoi(u32 iar)
{
	mmio_write32(GICC_BASE + GICC_EOIR, iar);
}

/*
 * Maps the 2 MiB block of guest-physical space at pa (2 MiB aligned) at the
 * virtual address va (2 MiB aligned, outside the first GiB, below 2^48):
 * Normal memory, EL1 read/write, EL1 may execute it when exec is set.
 * Builds the tables it needs.
 */
void map_block_2m(u64 va, u64 pa, int exec);

#endif /* ADV_H */

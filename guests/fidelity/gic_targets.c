/*
 * GICD_ITARGETSR on a GIC with one CPU interface. The GICv2 architecture
 * makes a uniprocessor GIC's target registers RAZ/WI: every byte and word
 * reads as zero, byte reads are allowed (they are byte-accessible
 * registers), writes change nothing, and every interrupt still goes to the
 * one CPU. The program reads and writes them by byte and by word, then
 * shows that an SPI and an SGI to itself are still delivered.
 */
#include "probe.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ISPENDR 0x200
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_SGIR 0xf00
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

#define SPI 40
#define SGI 5

static inline u32 rd32(u64 a)
{
	return *(volatile u32 *)a;
}
static inline u8 rd8(u64 a)
{
	return *(volatile u8 *)a;
}
static inline void wr32(u64 a, u32 v)
{
	*(volatile u32 *)a = v;
}
static inline void wr8(u64 a, u8 v)
{
	*(volatile u8 *)a = v;
}

static volatile u64 irqs, last_iar, irq_vector;

static int on_irq(struct frame *f, u64 vector)
{
	(void)f;
	u32 iar = rd32(GICC + GICC_IAR);
	if ((iar & 0x3ff) == 1023)
		return 1;
	irqs++;
	last_iar = iar;
	irq_vector = vector;
	wr32(GICC + GICC_EOIR, iar);
	return 1;
}

/* Lets pending interrupts in for a while. */
static void window(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	for (volatile int i = 0; i < 100000 && irqs == 0; i++)
		;
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

void test_main(void)
{
	probe_init();
	irq_handler = on_irq;
	u32 typer = rd32(GICD + GICD_TYPER);
	unsigned lines = ((typer & 0x1f) + 1) * 32;
	check_eq("GICD_TYPER: one CPU interface", (typer >> 5) & 7, 0);

	u32 any = 0;
	for (unsigned i = 0; i < lines; i++)
		any |= rd8(GICD + GICD_ITARGETSR + i);
	check_eq("ITARGETSR byte reads, SGIs to the last SPI: all zero", any, 0);
	any = 0;
	for (unsigned i = 0; i < lines; i += 4)
		any |= rd32(GICD + GICD_ITARGETSR + i);
	check_eq("ITARGETSR word reads: all zero", any, 0);
	check_eq("ITARGETSR reads: no abort", last_fault.count, 0);

	for (unsigned i = 32; i < 40; i++)
		wr8(GICD + GICD_ITARGETSR + i, 0xff);
	wr32(GICD + GICD_ITARGETSR + 40, 0x01010101);
	wr8(GICD + GICD_ITARGETSR + 27, 0xff);
	check_eq("ITARGETSR after byte writes: zero", rd32(GICD + GICD_ITARGETSR + 32), 0);
	check_eq("ITARGETSR after byte writes: zero (second word)",
		 rd32(GICD + GICD_ITARGETSR + 36), 0);
	check_eq("ITARGETSR after a word write: zero", rd32(GICD + GICD_ITARGETSR + 40), 0);
	check_eq("ITARGETSR of a PPI after a byte write: zero", rd8(GICD + GICD_ITARGETSR + 27), 0);

	/* Every interrupt still reaches the one CPU. */
	wr32(GICD + GICD_CTLR, 1);
	wr32(GICC + GICC_PMR, 0xff);
	wr32(GICC + GICC_CTLR, 1);
	wr8(GICD + GICD_IPRIORITYR + SPI, 0x80);
	wr32(GICD + GICD_ISENABLER + 4 * (SPI / 32), 1u << (SPI % 32));
	wr32(GICD + GICD_ISPENDR + 4 * (SPI / 32), 1u << (SPI % 32));
	window();
	check_eq("SPI set pending: taken", irqs, 1);
	check_eq("SPI set pending: INTID", last_iar, SPI);
	check_eq("SPI set pending: vector", irq_vector, VEC_CUR_SPX + VEC_IRQ);

	irqs = 0;
	wr8(GICD + GICD_IPRIORITYR + SGI, 0x80);
	wr32(GICD + GICD_ISENABLER, 1u << SGI);
	/* TargetListFilter 0b10: this CPU only. */
	wr32(GICD + GICD_SGIR, (2u << 24) | SGI);
	window();
	check_eq("SGI to itself: taken", irqs, 1);
	check_eq("SGI to itself: INTID and source CPU 0", last_iar, SGI);
	check_eq("no abort", last_fault.count, 0);
}

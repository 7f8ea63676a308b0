/*
 * Exceptions from AArch32 EL0 into the AArch64 EL1 handler: SVC, undefined
 * instructions and BKPT from A32 and T32, data aborts (a permission fault
 * and a synchronous external abort), a prefetch abort, and an IRQ. Each must
 * arrive at VBAR_EL1 + 0x600 (synchronous) or + 0x680 (IRQ), the vectors
 * for a lower EL using AArch32, with the AArch32 syndrome (EC 0x11 for SVC,
 * 0x38 for BKPT, IL clear for 16-bit instructions), ELR the AArch32 PC,
 * SPSR the user-mode CPSR (M = 0x10, T for Thumb) and r0-r14 in x0-x14;
 * returning with ERET resumes the AArch32 code.
 */
#include "probe.h"

#define VEC_LOWER32 0x600
#define SPSR_USR32 0x10
#define SPSR_T 0x20
#define EC_SVC32 0x11
#define EC_BKPT32 0x38
#define FSC_PERMISSION(level) (0x0c + (level))

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define SPI 41

extern char a32_svc[], a32_svc_insn[], a32_udf[], a32_udf_insn[], a32_bkpt[], a32_bkpt_insn[];
extern char a32_ldr[], a32_ldr_insn[], a32_str[], a32_str_insn[], a32_bx[], a32_spin[];
extern char a32_exit[], t16_svc[], t16_svc_insn[], t16_udf_insn[];

struct seen {
	u64 esr, elr, spsr, far, vector, r4;
};
static struct seen seen[4];
static unsigned nseen;

/* The EL1 side: record, then step over (or, for an abort or IRQ, leave through a32_exit). */
static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (vector == VEC_LOWER32 && ec == EC_SVC32 && (f->esr & 0xffff) == 0xe0e0)
		el0_resume(f->x[0] & 0xffffffffUL);
	if (nseen < 4)
		seen[nseen] = (struct seen){f->esr, f->elr, f->spsr, f->far, vector, f->x[4]};
	nseen++;
	if (ec == EC_SVC32)
		return 1;
	if (ec == EC_UNKNOWN || ec == EC_BKPT32) {
		/* IL is set for every unknown-reason exception; the size is in the encoding. */
		u32 hw = *(volatile unsigned short *)f->elr;
		f->elr += (f->spsr & SPSR_T) && (hw >> 11) < 0x1d ? 2 : 4;
		return 1;
	}
	f->elr = (u64)a32_exit;
	f->spsr &= ~(u64)SPSR_T;
	f->x[0] = SKIPPED;
	return 1;
}

static volatile u64 irq_iar, irq_vector, irq_spsr, irq_elr;

static int on_irq(struct frame *f, u64 vector)
{
	u32 iar = *(volatile u32 *)(GICC + 0x0c);
	if ((iar & 0x3ff) == 1023)
		return 1;
	irq_iar = iar;
	irq_vector = vector;
	irq_spsr = f->spsr;
	irq_elr = f->elr;
	*(volatile u32 *)(GICC + 0x10) = iar;
	f->elr = (u64)a32_exit;
	return 1;
}

static u64 a32(char *entry, u64 r0, u64 r1, u64 r2)
{
	nseen = 0;
	return run_el0_spsr((u64)entry, r0, SPSR_USR32, r1, r2);
}

static u64 t32(char *entry, u64 r0, u64 r1, u64 r2)
{
	nseen = 0;
	return run_el0_spsr((u64)entry, r0, SPSR_USR32 | SPSR_T, r1, r2);
}

static void expect(const char *group, unsigned count, u64 esr, char *elr, u64 spsr, u64 vector)
{
	check_eq_in(group, "exceptions", nseen, count);
	check_eq_in(group, "ESR", seen[0].esr, esr);
	check_eq_in(group, "ELR", seen[0].elr, (u64)elr);
	check_eq_in(group, "SPSR mode and T", seen[0].spsr & 0x3f, spsr);
	check_eq_in(group, "vector", seen[0].vector, vector);
}

/* An EL0-accessible Device window onto physical 0..1 GiB at 2 GiB. */
#define ALIAS 0x80000000UL

void test_main(void)
{
	sync_handler = on_sync;
	irq_handler = on_irq;
	pt_set(pt_entry(ALIAS, 1), 0 | PTE_BLOCK | PTE_DEVICE | PTE_AF | PTE_AP_EL0 | PTE_PXN | PTE_UXN);
	__asm__ volatile("tlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
	u64 r;

	/* Without AArch32 at EL0 the first ERET below would be an illegal return. */
	check_eq("ID_AA64PFR0_EL1.EL0: AArch64 and AArch32", read_sysreg(id_aa64pfr0_el1) & 0xf, 2);

	r = a32(a32_svc, 7, 0, 0);
	expect("A32 svc #0x123456", 1, ESR(EC_SVC32, 0x3456), a32_svc_insn + 4, SPSR_USR32,
	       VEC_LOWER32);
	check_eq("A32 svc #0x123456: r4 in x4", seen[0].r4, 0x44);
	check_eq("A32 svc #0x123456: the code goes on after the return", r, 8);

	r = t32(t16_svc, 9, 0, (u64)a32_exit);
	check_eq("T32: two exceptions, then back to A32", nseen, 2);
	check_eq_in("T32 svc #0x42 (16-bit)", "ESR", seen[0].esr, (u64)EC_SVC32 << 26 | 0x42);
	check_eq_in("T32 svc #0x42 (16-bit)", "ELR", seen[0].elr, (u64)t16_svc_insn + 2);
	check_eq_in("T32 svc #0x42 (16-bit)", "SPSR mode and T", seen[0].spsr & 0x3f,
		    SPSR_USR32 | SPSR_T);
	check_eq_in("T32 svc #0x42 (16-bit)", "vector", seen[0].vector, VEC_LOWER32);
	check_eq_in("T32 udf #5 (16-bit)", "ESR", seen[1].esr, ESR(EC_UNKNOWN, 0));
	check_eq_in("T32 udf #5 (16-bit)", "ELR", seen[1].elr, (u64)t16_udf_insn);
	check_eq_in("T32 udf #5 (16-bit)", "vector", seen[1].vector, VEC_LOWER32);
	check_eq("T32: r0 back in A32", r, 9);

	a32(a32_udf, 0, 0, 0);
	expect("A32 udf #0x1234", 1, ESR(EC_UNKNOWN, 0), a32_udf_insn, SPSR_USR32, VEC_LOWER32);

	a32(a32_bkpt, 0, 0, 0);
	expect("A32 bkpt #0x12", 1, ESR(EC_BKPT32, 0x12), a32_bkpt_insn, SPSR_USR32, VEC_LOWER32);

	r = a32(a32_ldr, 0, 0x09000000UL, 0);
	expect("A32 ldr from an EL1-only page", 1, ESR(EC_DABT_LOWER, FSC_PERMISSION(1)), a32_ldr_insn,
	       SPSR_USR32, VEC_LOWER32);
	check_eq("A32 ldr from an EL1-only page: FAR", seen[0].far, 0x09000000UL);

	r = a32(a32_ldr, 0, ALIAS + 0x08030000UL, 0);
	expect("A32 ldr from an unbacked address", 1, ESR(EC_DABT_LOWER, FSC_EXTERNAL), a32_ldr_insn,
	       SPSR_USR32, VEC_LOWER32);
	check_eq("A32 ldr from an unbacked address: FAR", seen[0].far, ALIAS + 0x08030000UL);
	check_eq("A32 ldr from an unbacked address: r0", r, SKIPPED);

	a32(a32_str, 0, ALIAS + 0x09001000UL, 0);
	expect("A32 str to an unbacked address", 1, ESR(EC_DABT_LOWER, ISS_WNR | FSC_EXTERNAL),
	       a32_str_insn, SPSR_USR32, VEC_LOWER32);
	check_eq("A32 str to an unbacked address: FAR", seen[0].far, ALIAS + 0x09001000UL);

	a32(a32_bx, 0, 0xc0000000UL, 0);
	expect("A32 bx to an unmapped address", 1, ESR(EC_IABT_LOWER, FSC_TRANSLATION(1)),
	       (char *)0xc0000000UL, SPSR_USR32, VEC_LOWER32);
	check_eq("A32 bx to an unmapped address: FAR", seen[0].far, 0xc0000000UL);

	/* An SPI pending before the ERET is taken at the first AArch32 instruction. */
	*(volatile u32 *)(GICD + 0x000) = 1;
	*(volatile u32 *)(GICC + 0x004) = 0xff;
	*(volatile u32 *)(GICC + 0x000) = 1;
	*(volatile u8 *)(GICD + 0x400 + SPI) = 0x80;
	*(volatile u32 *)(GICD + 0x100 + 4 * (SPI / 32)) = 1u << (SPI % 32);
	*(volatile u32 *)(GICD + 0x200 + 4 * (SPI / 32)) = 1u << (SPI % 32);
	nseen = 0;
	run_el0_spsr((u64)a32_spin, 0, SPSR_USR32, 0, 0);
	check_eq("AArch32 IRQ: INTID", irq_iar, SPI);
	check_eq("AArch32 IRQ: vector", irq_vector, VEC_LOWER32 + VEC_IRQ);
	check_eq("AArch32 IRQ: SPSR mode", irq_spsr & 0x3f, SPSR_USR32);
	check_eq("AArch32 IRQ: ELR", irq_elr, (u64)a32_spin);
	check_eq("AArch32 IRQ: no synchronous exception", nseen, 0);
}

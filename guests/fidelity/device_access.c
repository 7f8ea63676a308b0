/*
 * Accesses to device registers that are wider than a register, unaligned,
 * or narrower than a word-only register, with the MMU off and through a
 * Device mapping. QEMU 7.2's virt (the reference) takes no alignment fault
 * for any of them unless SCTLR_EL1.A asks for alignment checking: an 8-byte
 * access is two 4-byte register accesses, an unaligned one is carried out
 * on the aligned words it touches, and a narrow read of a GIC or
 * virtio-mmio register returns the register's bytes at the lanes read.
 * VMKit does the same (vmm README, "Device register accesses").
 */
#include "probe.h"

#define GICD 0x08000000UL
#define GICD_TYPER 0x004
#define GICD_PRIO 0x420 /* GICD_IPRIORITYR8..11: SPIs 32-47, byte-accessible */
#define GICC_IIDR 0x080100fcUL
#define UART 0x09000000UL
#define UART_PID0 0xfe0
#define VIRTIO_MAGIC 0x0a000000UL
#define SCTLR_A (1UL << 1)

static char name[96];

static const char *in(const char *mode, const char *what)
{
	unsigned n = 0;
	for (const char *s = mode; *s; s++)
		name[n++] = *s;
	name[n++] = ':';
	name[n++] = ' ';
	for (const char *s = what; *s; s++)
		name[n++] = *s;
	name[n] = 0;
	return name;
}

static inline u32 rd32(u64 a)
{
	return *(volatile u32 *)a;
}
static inline void wr32(u64 a, u32 v)
{
	*(volatile u32 *)a = v;
}

static void set_priorities(void)
{
	wr32(GICD + GICD_PRIO, 0x55667788);
	wr32(GICD + GICD_PRIO + 4, 0x11223344);
	wr32(GICD + GICD_PRIO + 8, 0x99aabbcc);
	wr32(GICD + GICD_PRIO + 12, 0xddeeff00);
}

static void sweep(const char *mode)
{
	u64 r;
	set_priorities();
	r = probe_ldr64(GICD + GICD_PRIO);
	expect_value(in(mode, "8-byte load of two GICD words"), r, 0x1122334455667788UL);
	r = probe_ldp(GICD + GICD_PRIO);
	expect_value(in(mode, "16-byte LDP of four GICD words"), r,
		     0x1122334455667788UL ^ 0xddeeff0099aabbccUL >> 32 ^
			     0xddeeff0099aabbccUL << 32);
	r = probe_str64(GICD + GICD_PRIO, 0x0102030405060708UL);
	expect_value(in(mode, "8-byte store to two GICD words"), r, GICD + GICD_PRIO);
	check_eq(in(mode, "8-byte store: low word"), rd32(GICD + GICD_PRIO), 0x05060708);
	check_eq(in(mode, "8-byte store: high word"), rd32(GICD + GICD_PRIO + 4), 0x01020304);

	set_priorities();
	r = probe_ldr32(GICD + GICD_PRIO + 1);
	expect_value(in(mode, "unaligned 4-byte load across two GICD words"), r, 0x44556677);
	r = probe_ldr64(GICD + GICD_PRIO + 2);
	expect_value(in(mode, "unaligned 8-byte load across three GICD words"), r,
		     0xbbcc112233445566UL);
	r = probe_ldrh(GICD + GICD_PRIO + 3);
	expect_value(in(mode, "unaligned 2-byte load across two GICD words"), r, 0x4455);
	r = probe_str32(GICD + GICD_PRIO + 1, 0xaabbccdd);
	expect_value(in(mode, "unaligned 4-byte store across two GICD words"), r,
		     GICD + GICD_PRIO + 1);
	check_eq(in(mode, "unaligned store: first word"), rd32(GICD + GICD_PRIO), 0xbbccdd88);
	check_eq(in(mode, "unaligned store: second word"), rd32(GICD + GICD_PRIO + 4), 0x112233aa);

	u32 typer = rd32(GICD + GICD_TYPER);
	r = probe_ldrb(GICD + GICD_TYPER);
	expect_value(in(mode, "byte load of word-only GICD_TYPER: its low byte"), r, typer & 0xff);
	r = probe_ldrh(GICD + GICD_TYPER);
	expect_value(in(mode, "2-byte load of GICD_TYPER: its low half"), r, typer & 0xffff);
	r = probe_ldrh(GICD + GICD_PRIO + 2);
	expect_value(in(mode, "2-byte load of GICD_IPRIORITYR: the upper half"), r, 0xbbcc);
	r = probe_strh(GICD + GICD_PRIO + 6, 0x7788);
	expect_value(in(mode, "2-byte store to GICD_IPRIORITYR"), r, GICD + GICD_PRIO + 6);
	check_eq(in(mode, "2-byte store to GICD_IPRIORITYR: the word"), rd32(GICD + GICD_PRIO + 4),
		 0x778833aa);
	wr32(GICD + 0x184, ~0u);
	r = probe_strb(GICD + 0x105, 0x81);
	expect_value(in(mode, "byte store to word-only GICD_ISENABLER1"), r, GICD + 0x105);
	check_eq(in(mode, "byte store of 0x81 to GICD_ISENABLER1+1: SPIs 40 and 47 enabled"),
		 rd32(GICD + 0x104), 0x8100);
	wr32(GICD + 0x184, ~0u);
	r = probe_strh(GICD + 0x106, 0x8001);
	expect_value(in(mode, "2-byte store to word-only GICD_ISENABLER1"), r, GICD + 0x106);
	check_eq(in(mode, "2-byte store of 0x8001 to GICD_ISENABLER1+2: SPIs 48 and 63 enabled"),
		 rd32(GICD + 0x104), 0x80010000);
	wr32(GICD + 0x184, ~0u);
	wr32(GICD + 0xc08, 0x2);
	r = probe_strb(GICD + 0xc09, 0x0c);
	expect_value(in(mode, "byte store to word-only GICD_ICFGR2"), r, GICD + 0xc09);
	/* Only the upper bit of each 2-bit field is writable: INTID 37 edge, INTID 32 kept. */
	check_eq(in(mode, "byte store to GICD_ICFGR2+1: INTID 37 edge-triggered, INTID 32 kept"),
		 rd32(GICD + 0xc08), 0x0802);
	wr32(GICD + 0xc08, 0);
	u32 iidr = rd32(GICC_IIDR);
	r = probe_ldrb(GICC_IIDR);
	expect_value(in(mode, "byte load of word-only GICC_IIDR: its low byte"), r, iidr & 0xff);
	/* virtio-mmio: a transport with a device answers only 32-bit accesses (VMKit's slot 0). */
	note(in(mode, "byte load of virtio-mmio MagicValue+1"), probe_ldrb(VIRTIO_MAGIC + 1));
	note(in(mode, "2-byte load of virtio-mmio MagicValue+2"), probe_ldrh(VIRTIO_MAGIC + 2));
	r = probe_ldr32(VIRTIO_MAGIC + 2);
	expect_value(in(mode, "unaligned 4-byte load of virtio-mmio MagicValue+2: low half"),
		     r & 0xffff, 0x7472);
	r = probe_ldr64(UART + UART_PID0);
	expect_value(in(mode, "8-byte load of the UART's PeriphID0 and PeriphID1"), r,
		     0x0000001000000011UL);
	r = probe_ldrb(UART + UART_PID0);
	expect_value(in(mode, "byte load of the UART's PeriphID0"), r, 0x11);
	/* QEMU's PL011 ignores the low address bits (it returns PeriphID0 whole). */
	note(in(mode, "byte load of the UART's PeriphID0+1"), probe_ldrb(UART + UART_PID0 + 1));
	probe_reset();
}

static void set_sctlr(u64 set, u64 clear)
{
	write_sysreg(sctlr_el1, (read_sysreg(sctlr_el1) | set) & ~clear);
	isb();
}

void test_main(void)
{
	probe_init();
	sweep("MMU on, Device-nGnRnE");
	set_sctlr(0, 1);
	sweep("MMU off");
	set_sctlr(1, 0);

	/*
	 * With alignment checking on (SCTLR_EL1.A), QEMU faults the unaligned
	 * ones; VMKit's engine does not check alignment for AArch64 (notes).
	 */
	set_sctlr(SCTLR_A, 0);
	u64 r = probe_ldr64(GICD + GICD_PRIO + 8);
	expect_value("SCTLR_EL1.A: aligned 8-byte GICD load", r, 0xddeeff0099aabbccUL);
	r = probe_ldr32(GICD + GICD_PRIO + 1);
	note("SCTLR_EL1.A: unaligned 4-byte GICD load: ESR", last_fault.count ? last_fault.esr : 0);
	probe_reset();
	r = probe_str32(GICD + GICD_PRIO + 1, 0);
	note("SCTLR_EL1.A: unaligned 4-byte GICD store: ESR", last_fault.count ? last_fault.esr : 0);
	probe_reset();
	(void)r;
	set_sctlr(0, SCTLR_A);
}

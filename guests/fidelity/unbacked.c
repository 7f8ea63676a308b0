/*
 * Accesses to guest-physical addresses with nothing behind them: loads,
 * stores and instruction fetches, from EL1 and EL0, with the MMU off and
 * on, a table walk that reads an unbacked table, and accesses that start on
 * a device or in RAM and run past its end. Each must be a synchronous
 * external abort (DFSC/IFSC 0x10, or 0x14 + level on a walk) at the access,
 * with FAR the virtual address the access (or the part of it) missed at —
 * what QEMU's virt board does for addresses it has nothing at.
 *
 * The machine: QEMU virt's map with 128 MiB of RAM (qemu -m 128M, vmkit
 * --mem 128M). Addresses where QEMU has a device and VMKit has none (and the
 * reverse) are reported as notes, for the host to compare.
 */
#include "probe.h"

#define RAM_END (PHYS_RAM_START + 0x8000000UL)
#define DABT_EL1(iss) ESR(EC_DABT_CURRENT, (iss))
#define DABT_EL0(iss) ESR(EC_DABT_LOWER, (iss))
#define READ_SEA_EL1 DABT_EL1(FSC_EXTERNAL)
#define WRITE_SEA_EL1 DABT_EL1(ISS_WNR | FSC_EXTERNAL)

/* Guest-physical addresses QEMU's virt and VMKit both leave empty. */
static const u64 unbacked[] = {
	0x08001000UL,	 /* past the GIC distributor's registers */
	0x08012000UL,	 /* past the GIC CPU interface's registers */
	0x08030000UL,	 /* the GICv2 hypervisor interface (not present) */
	0x09001000UL,	 /* past the UART */
	0x0a004000UL,	 /* past the 32 virtio-mmio slots */
	0x0c000000UL,	 /* the platform bus (empty) */
	RAM_END,	 /* past the end of RAM */
	0x100000000UL,	 /* 4 GiB */
	0x4000000000UL,	 /* 256 GiB (GICv3 redistributors on a GICv3 board) */
	0x10000000000UL, /* 1 TiB */
	0xffffffff000UL, /* the last page below the 44-bit physical limit */
};

/* Where QEMU has a device and VMKit has none, or the reverse: notes, not checks. */
static const struct {
	u64 address;
	const char *what;
} differences[] = {
	{0x00000000UL, "0x00000000 flash"},
	{0x08020000UL, "0x08020000 GICv2m MSI frame"},
	{0x09010000UL, "0x09010000 PL031 RTC"},
	{0x09020000UL, "0x09020000 fw_cfg"},
	{0x09030000UL, "0x09030000 PL061 GPIO"},
	{0x090c0000UL, "0x090c0000 VMKit exit-status device"},
	{0x0a000200UL, "0x0a000200 virtio-mmio slot 1"},
	{0x10000000UL, "0x10000000 PCIe MMIO window"},
	{0x3eff0000UL, "0x3eff0000 PCIe I/O window"},
	{0x4010000000UL, "0x4010000000 PCIe ECAM"},
	{0x8000000000UL, "0x8000000000 PCIe high MMIO window"},
};

static char name[96];

static const char *at(const char *what, u64 address)
{
	unsigned n = 0;
	for (const char *s = what; *s; s++)
		name[n++] = *s;
	name[n++] = ' ';
	name[n++] = '0';
	name[n++] = 'x';
	int started = 0;
	for (int shift = 60; shift >= 0; shift -= 4) {
		unsigned d = (address >> shift) & 0xf;
		if (d || started || shift == 0) {
			name[n++] = "0123456789abcdef"[d];
			started = 1;
		}
	}
	name[n] = 0;
	return name;
}

static u64 el0_load(u64 va)
{
	return probe_ldr64(va);
}

static u64 el0_store(u64 va)
{
	return probe_str32(va, 0x5a5a);
}

static u64 el0_call(u64 va)
{
	return probe_call(va);
}

static void set_sctlr_m(int on)
{
	u64 sctlr = read_sysreg(sctlr_el1);
	write_sysreg(sctlr_el1, on ? sctlr | 1 : sctlr & ~1UL);
	isb();
}

/* VA windows onto physical 0..1 GiB: Device for data at EL0 and EL1, Normal for fetches at EL0. */
#define ALIAS_DEVICE 0x300000000UL
#define ALIAS_NORMAL 0x340000000UL
/* VAs whose table walk reads an unbacked table: at level 2, and at level 3. */
#define WALK_L2 0x380000000UL
#define WALK_L3 0x3c0000000UL

static void map_aliases(void)
{
	pt_set(pt_entry(ALIAS_DEVICE, 1),
	       0 | PTE_BLOCK | PTE_DEVICE | PTE_AF | PTE_AP_EL0 | PTE_PXN | PTE_UXN);
	pt_set(pt_entry(ALIAS_NORMAL, 1),
	       0 | PTE_BLOCK | PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_AP_RO);
	pt_set(pt_entry(WALK_L2, 1), 0x08030000UL | PTE_TABLE);
	u64 *l2 = pt_alloc();
	pt_set(&l2[0], 0x08030000UL | PTE_TABLE);
	pt_set(pt_entry(WALK_L3, 1), (u64)l2 | PTE_TABLE);
	__asm__ volatile("tlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
}

void test_main(void)
{
	probe_init();
	u64 r;

	/* MMU off: every address is the physical address. */
	set_sctlr_m(0);
	for (unsigned i = 0; i < sizeof unbacked / sizeof unbacked[0]; i++) {
		u64 pa = unbacked[i];
		r = probe_ldr64(pa);
		expect_fault(at("MMU off: EL1 load from", pa), r, READ_SEA_EL1, pa,
			     (u64)probe_ldr64_insn, VEC_CUR_SPX);
		r = probe_str32(pa, 0xdead);
		expect_fault(at("MMU off: EL1 store to", pa), r, WRITE_SEA_EL1, pa,
			     (u64)probe_str32_insn, VEC_CUR_SPX);
		r = probe_call(pa);
		expect_fault(at("MMU off: EL1 fetch from", pa), r,
			     ESR(EC_IABT_CURRENT, FSC_EXTERNAL), pa, pa, VEC_CUR_SPX);
	}
	/* A load that begins on a device or in RAM and ends past it faults where it leaves. */
	r = probe_ldr64(0x09000ffcUL);
	expect_fault("MMU off: 8-byte load across the UART's end", r, READ_SEA_EL1, 0x09001000UL,
		     (u64)probe_ldr64_insn, VEC_CUR_SPX);
	r = probe_ldr64(RAM_END - 4);
	expect_fault("MMU off: 8-byte load across the end of RAM", r, READ_SEA_EL1, RAM_END,
		     (u64)probe_ldr64_insn, VEC_CUR_SPX);
	for (unsigned i = 0; i < sizeof differences / sizeof differences[0]; i++) {
		r = probe_ldr32(differences[i].address);
		note(differences[i].what,
		     last_fault.count ? last_fault.esr : r);
		probe_reset();
	}

	/* MMU on: the fault reports the virtual address. */
	set_sctlr_m(1);
	map_aliases();
	r = probe_ldr32(0x08030000UL);
	expect_fault("MMU on: EL1 load, identity map", r, READ_SEA_EL1, 0x08030000UL,
		     (u64)probe_ldr32_insn, VEC_CUR_SPX);
	r = probe_ldr32(ALIAS_DEVICE + 0x0c000000UL);
	expect_fault("MMU on: EL1 load through an alias", r, READ_SEA_EL1,
		     ALIAS_DEVICE + 0x0c000000UL, (u64)probe_ldr32_insn, VEC_CUR_SPX);
	r = probe_str32(ALIAS_DEVICE + 0x0c000000UL, 1);
	expect_fault("MMU on: EL1 store through an alias", r, WRITE_SEA_EL1,
		     ALIAS_DEVICE + 0x0c000000UL, (u64)probe_str32_insn, VEC_CUR_SPX);
	r = run_el0(el0_load, ALIAS_DEVICE + 0x08030008UL, 0);
	expect_fault("MMU on: EL0 load", r, DABT_EL0(FSC_EXTERNAL), ALIAS_DEVICE + 0x08030008UL,
		     (u64)probe_ldr64_insn, VEC_LOWER64);
	r = run_el0(el0_store, ALIAS_DEVICE + 0x09001010UL, 0);
	expect_fault("MMU on: EL0 store", r, DABT_EL0(ISS_WNR | FSC_EXTERNAL),
		     ALIAS_DEVICE + 0x09001010UL, (u64)probe_str32_insn, VEC_LOWER64);
	r = run_el0(el0_call, ALIAS_NORMAL + 0x0c000000UL, 0);
	expect_fault("MMU on: EL0 fetch", r, ESR(EC_IABT_LOWER, FSC_EXTERNAL),
		     ALIAS_NORMAL + 0x0c000000UL, ALIAS_NORMAL + 0x0c000000UL, VEC_LOWER64);
	/* The walk for these reads a table at an unbacked address. */
	r = probe_ldr64(WALK_L2 + 0x1000);
	expect_fault("MMU on: walk reads an unbacked level-2 table", r,
		     DABT_EL1(FSC_EXTERNAL_WALK(2)), WALK_L2 + 0x1000, (u64)probe_ldr64_insn,
		     VEC_CUR_SPX);
	r = probe_str64(WALK_L3 + 0x2000, 1);
	expect_fault("MMU on: walk reads an unbacked level-3 table", r,
		     DABT_EL1(ISS_WNR | FSC_EXTERNAL_WALK(3)), WALK_L3 + 0x2000,
		     (u64)probe_str64_insn, VEC_CUR_SPX);
	r = probe_call(WALK_L3 + 0x3000);
	expect_fault("MMU on: fetch whose walk reads an unbacked table", r,
		     ESR(EC_IABT_CURRENT, FSC_EXTERNAL_WALK(3)), WALK_L3 + 0x3000, WALK_L3 + 0x3000,
		     VEC_CUR_SPX);
	/* RAM and devices still work. */
	r = probe_ldr32(0x09000fe0UL);
	expect_value("MMU on: the UART's PeriphID0 still reads", r, 0x11);
}

/**
 * GICv2 register offsets, field layouts and the identification values this model reports.
 *
 * Offsets are relative to the start of the distributor (GICD) or CPU interface (GICC) region.
 *
 * @module
 */

/** Size of the distributor MMIO region in bytes. */
export const GICD_SIZE = 0x1_0000;
/** Size of the CPU interface MMIO region in bytes (GICC_DIR at 0x1000 is the last register). */
export const GICC_SIZE = 0x2000;

/** Distributor control: bit 0 enables group 0, bit 1 enables group 1. */
export const GICD_CTLR = 0x000;
/** Interrupt controller type: ITLinesNumber [4:0], CPUNumber [7:5]. */
export const GICD_TYPER = 0x004;
/** Distributor implementer identification. */
export const GICD_IIDR = 0x008;
/** Interrupt group registers, one bit per INTID. */
export const GICD_IGROUPR = 0x080;
/** Set-enable registers, one bit per INTID. */
export const GICD_ISENABLER = 0x100;
/** Clear-enable registers, one bit per INTID. */
export const GICD_ICENABLER = 0x180;
/** Set-pending registers, one bit per INTID. */
export const GICD_ISPENDR = 0x200;
/** Clear-pending registers, one bit per INTID. */
export const GICD_ICPENDR = 0x280;
/** Set-active registers, one bit per INTID. */
export const GICD_ISACTIVER = 0x300;
/** Clear-active registers, one bit per INTID. */
export const GICD_ICACTIVER = 0x380;
/** Priority registers, one byte per INTID. */
export const GICD_IPRIORITYR = 0x400;
/** Processor target registers, one byte per INTID. */
export const GICD_ITARGETSR = 0x800;
/** Configuration registers, two bits per INTID (the upper bit set = edge-triggered). */
export const GICD_ICFGR = 0xc00;
/** Software-generated interrupt register (write-only). */
export const GICD_SGIR = 0xf00;
/** SGI clear-pending registers, one byte per SGI, one bit per source CPU. */
export const GICD_CPENDSGIR = 0xf10;
/** SGI set-pending registers, one byte per SGI, one bit per source CPU. */
export const GICD_SPENDSGIR = 0xf20;
/** Peripheral ID 4 (first of the identification block). */
export const GICD_PIDR4 = 0xfd0;
/** Peripheral ID 0. */
export const GICD_PIDR0 = 0xfe0;
/** Peripheral ID 2: ArchRev in bits [7:4]. */
export const GICD_PIDR2 = 0xfe8;
/** Component ID 0 (first of the four component ID registers). */
export const GICD_CIDR0 = 0xff0;

/** CPU interface control: bit 0 group 0 enable, bit 1 group 1 enable, bit 9 EOImode. */
export const GICC_CTLR = 0x000;
/** Priority mask: interrupts with a priority numerically at or above it are not signalled. */
export const GICC_PMR = 0x004;
/** Binary point: splits priority into group priority (preemption) and subpriority. */
export const GICC_BPR = 0x008;
/** Interrupt acknowledge (read-only). */
export const GICC_IAR = 0x00c;
/** End of interrupt (write-only). */
export const GICC_EOIR = 0x010;
/** Running priority (read-only). */
export const GICC_RPR = 0x014;
/** Highest priority pending interrupt (read-only). */
export const GICC_HPPIR = 0x018;
/** Active priorities 0..3 (four consecutive words). */
export const GICC_APR0 = 0x0d0;
/** CPU interface identification (read-only). */
export const GICC_IIDR = 0x0fc;
/** Deactivate interrupt (write-only; meaningful with EOImode = 1). */
export const GICC_DIR = 0x1000;

/** GICC_CTLR bit that splits EOI into priority drop (EOIR) and deactivation (DIR). */
export const GICC_CTLR_EOIMODE = 1 << 9;

/** GICD_SGIR target filter: the CPUs in the target list. */
export const SGIR_FILTER_LIST = 0;
/** GICD_SGIR target filter: every CPU except the requester. */
export const SGIR_FILTER_OTHERS = 1;
/** GICD_SGIR target filter: only the requester. */
export const SGIR_FILTER_SELF = 2;

/** INTID returned by GICC_IAR and GICC_HPPIR when nothing can be signalled. */
export const SPURIOUS_INTID = 1023;
/** Mask of the INTID field in GICC_IAR, GICC_EOIR, GICC_HPPIR and GICC_DIR. */
export const IAR_INTID_MASK = 0x3ff;
/** Shift of the SGI source CPU field (bits [12:10]) in GICC_IAR, GICC_EOIR and GICC_DIR. */
export const IAR_CPUID_SHIFT = 10;

/** Number of SGIs (INTIDs 0–15). */
export const SGI_COUNT = 16;
/** Number of banked private interrupts per CPU (SGIs and PPIs, INTIDs 0–31). */
export const PRIVATE_IRQS = 32;
/** Largest INTID an interrupt can have plus one (1020–1023 are special). */
export const MAX_INTIDS = 1020;
/** Largest number of CPU interfaces a GICv2 supports. */
export const MAX_CPUS = 8;

/** Value of GICD_IIDR (Arm GIC-400 distributor). */
export const GICD_IIDR_VALUE = 0x0200_143b;
/** Value of GICC_IIDR (Arm GIC-400 CPU interface, architecture version 2). */
export const GICC_IIDR_VALUE = 0x0202_143b;
/** PIDR4, PIDR5, PIDR6, PIDR7, PIDR0, PIDR1, PIDR2, PIDR3, CIDR0..3 at 0xFD0..0xFFC (GIC-400). */
export const GICD_ID_VALUES: readonly number[] = [
  0x04,
  0x00,
  0x00,
  0x00,
  0x90,
  0xb4,
  0x2b,
  0x00,
  0x0d,
  0xf0,
  0x05,
  0xb1,
];

/**
 * GICv2 distributor (GICD) register offsets, the GICD_SGIR target filters and the identification
 * values the distributor reports.
 *
 * Offsets are relative to the start of the distributor region.
 *
 * @module
 */

/**
 * Size of the distributor MMIO region in bytes.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_SIZE } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.equal(gic.distributor.size, GICD_SIZE);
 * const gicdBase = 0x0800_0000;
 * assert.equal(gicdBase + GICD_SIZE, 0x0801_0000); // where QEMU's virt board puts the GICC
 * ```
 */
export const GICD_SIZE = 0x1_0000;
/**
 * Distributor control: bit 0 enables group 0, bit 1 enables group 1.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_CTLR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 0b11, 0); // forward group 0 and group 1
 * assert.equal(gic.distributor.read(GICD_CTLR, 4, 0), 0b11);
 * ```
 */
export const GICD_CTLR = 0x000;
/**
 * Interrupt controller type: ITLinesNumber [4:0], CPUNumber [7:5].
 *
 * @example Decoding the GIC's size
 * ```ts
 * import { Gicv2, GICD_TYPER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 4, irqs: 288 });
 * const typer = gic.distributor.read(GICD_TYPER, 4, 0);
 * assert.equal(((typer & 0x1f) + 1) * 32, 288); // ITLinesNumber
 * assert.equal(((typer >> 5) & 7) + 1, 4); // CPUNumber
 * ```
 */
export const GICD_TYPER = 0x004;
/**
 * Distributor implementer identification.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_IIDR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const iidr = new Gicv2().distributor.read(GICD_IIDR, 4, 0);
 * assert.equal(iidr & 0xfff, 0x43b); // Implementer: Arm
 * ```
 */
export const GICD_IIDR = 0x008;
/**
 * Interrupt group registers, one bit per INTID.
 *
 * @example Putting an interrupt in group 1
 * ```ts
 * import { Gicv2, GICD_IGROUPR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * const intid = 40; // bit 40 % 32 of word 40 / 32
 * gic.distributor.write(GICD_IGROUPR + 4 * (intid >> 5), 4, 1 << (intid & 31), 0);
 * assert.equal(gic.interruptState(intid).group, 1);
 * ```
 */
export const GICD_IGROUPR = 0x080;
/**
 * Set-enable registers, one bit per INTID.
 *
 * @example Enabling an interrupt
 * ```ts
 * import { Gicv2, GICD_ISENABLER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * const intid = 33;
 * gic.distributor.write(GICD_ISENABLER + 4 * (intid >> 5), 4, 1 << (intid & 31), 0);
 * assert.equal(gic.interruptState(intid).enabled, true);
 * // Writing zeros changes nothing: each 1 bit sets, each 0 bit leaves alone.
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 0, 0);
 * assert.equal(gic.interruptState(intid).enabled, true);
 * ```
 */
export const GICD_ISENABLER = 0x100;
/**
 * Clear-enable registers, one bit per INTID.
 *
 * @example Disabling an interrupt
 * ```ts
 * import { Gicv2, GICD_ICENABLER, GICD_ISENABLER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 0b11, 0); // enable INTIDs 32 and 33
 * gic.distributor.write(GICD_ICENABLER + 4, 4, 0b01, 0); // disable 32 only
 * assert.equal(gic.distributor.read(GICD_ISENABLER + 4, 4, 0), 0b10);
 * ```
 */
export const GICD_ICENABLER = 0x180;
/**
 * Set-pending registers, one bit per INTID.
 *
 * @example Making an interrupt pending from software
 * ```ts
 * import { Gicv2, GICD_ISPENDR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_ISPENDR + 4, 4, 1 << (40 - 32), 0);
 * assert.equal(gic.interruptState(40).pending, true);
 * ```
 */
export const GICD_ISPENDR = 0x200;
/**
 * Clear-pending registers, one bit per INTID.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_ICPENDR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.pulse(40); // a device's edge latched it
 * gic.distributor.write(GICD_ICPENDR + 4, 4, 1 << (40 - 32), 0);
 * assert.equal(gic.interruptState(40).pending, false);
 * ```
 */
export const GICD_ICPENDR = 0x280;
/**
 * Set-active registers, one bit per INTID.
 *
 * @example Restoring an active interrupt
 * ```ts
 * import { Gicv2, GICD_ISACTIVER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_ISACTIVER + 4, 4, 1 << (40 - 32), 0);
 * assert.equal(gic.interruptState(40).active, true);
 * ```
 */
export const GICD_ISACTIVER = 0x300;
/**
 * Clear-active registers, one bit per INTID.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_ICACTIVER, GICD_ISACTIVER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const deactivated: number[] = [];
 * const gic = new Gicv2({ onDeactivate: (_cpu, intid) => deactivated.push(intid) });
 * gic.distributor.write(GICD_ISACTIVER + 4, 4, 1 << (40 - 32), 0);
 * gic.distributor.write(GICD_ICACTIVER + 4, 4, 1 << (40 - 32), 0);
 * assert.equal(gic.interruptState(40).active, false);
 * assert.deepEqual(deactivated, [40]); // as an EOI would report it
 * ```
 */
export const GICD_ICACTIVER = 0x380;
/**
 * Priority registers, one byte per INTID.
 *
 * @example Setting one interrupt's priority with a byte access
 * ```ts
 * import { Gicv2, GICD_IPRIORITYR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_IPRIORITYR + 40, 1, 0xa0, 0); // one byte per INTID
 * assert.equal(gic.interruptState(40).priority, 0xa0);
 * assert.equal(gic.distributor.read(GICD_IPRIORITYR + 40, 4, 0), 0xa0); // INTIDs 40..43 in a word
 * ```
 */
export const GICD_IPRIORITYR = 0x400;
/**
 * Processor target registers, one byte per INTID.
 *
 * @example Routing an SPI to the second CPU
 * ```ts
 * import { Gicv2, GICD_ITARGETSR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * gic.distributor.write(GICD_ITARGETSR + 40, 1, 0b10, 0); // one byte per INTID, a bit per CPU
 * assert.equal(gic.interruptState(40).targets, 0b10);
 * // SGIs and PPIs are banked: each CPU reads its own bit.
 * assert.equal(gic.distributor.read(GICD_ITARGETSR + 27, 1, 1), 0b10);
 * ```
 */
export const GICD_ITARGETSR = 0x800;
/**
 * Configuration registers, two bits per INTID (the upper bit set = edge-triggered).
 *
 * @example Making an SPI edge-triggered
 * ```ts
 * import { Gicv2, GICD_ICFGR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * const intid = 40; // two bits per INTID, the upper one selects edge
 * gic.distributor.write(GICD_ICFGR + 4 * (intid >> 4), 4, 2 << (2 * (intid & 15)), 0);
 * assert.equal(gic.interruptState(intid).edgeTriggered, true);
 * assert.equal(gic.distributor.read(GICD_ICFGR, 4, 0), 0xaaaa_aaaa); // SGIs: always edge
 * ```
 */
export const GICD_ICFGR = 0xc00;
/**
 * Software-generated interrupt register (write-only).
 *
 * @example CPU 0 interrupts CPU 1
 * ```ts
 * import { Gicv2, GICD_SGIR, SGIR_FILTER_LIST } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * const sgi = 3;
 * gic.distributor.write(GICD_SGIR, 4, (SGIR_FILTER_LIST << 24) | (0b10 << 16) | sgi, 0);
 * assert.equal(gic.interruptState(sgi, 1).pending, true);
 * assert.equal(gic.interruptState(sgi, 1).sgiSources, 0b01); // sent by CPU 0
 * ```
 */
export const GICD_SGIR = 0xf00;
/**
 * SGI clear-pending registers, one byte per SGI, one bit per source CPU.
 *
 * @example Withdrawing a pending SGI
 * ```ts
 * import { Gicv2, GICD_CPENDSGIR, GICD_SGIR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * gic.distributor.write(GICD_SGIR, 4, (0b10 << 16) | 3, 0); // SGI 3 from CPU 0 to CPU 1
 * // On CPU 1: byte 3 is SGI 3, bit 0 its source CPU 0.
 * gic.distributor.write(GICD_CPENDSGIR + 3, 1, 0b01, 1);
 * assert.equal(gic.interruptState(3, 1).pending, false);
 * ```
 */
export const GICD_CPENDSGIR = 0xf10;
/**
 * SGI set-pending registers, one byte per SGI, one bit per source CPU.
 *
 * @example Restoring a pending SGI
 * ```ts
 * import { Gicv2, GICD_SPENDSGIR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * gic.distributor.write(GICD_SPENDSGIR + 5, 1, 0b01, 1); // SGI 5 on CPU 1, as if from CPU 0
 * assert.equal(gic.interruptState(5, 1).sgiSources, 0b01);
 * ```
 */
export const GICD_SPENDSGIR = 0xf20;
/**
 * Peripheral ID 4 (first of the identification block).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_PIDR4 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const pidr4 = new Gicv2().distributor.read(GICD_PIDR4, 4, 0);
 * assert.equal(pidr4 & 0xf, 0x4); // JEP106 continuation code of Arm
 * ```
 */
export const GICD_PIDR4 = 0xfd0;
/**
 * Peripheral ID 0.
 *
 * @example The part number
 * ```ts
 * import { Gicv2, GICD_PIDR0 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gicd = new Gicv2().distributor;
 * const pidr0 = gicd.read(GICD_PIDR0, 4, 0);
 * const pidr1 = gicd.read(GICD_PIDR0 + 4, 4, 0);
 * assert.equal(pidr0 | ((pidr1 & 0xf) << 8), 0x490); // GIC-400
 * ```
 */
export const GICD_PIDR0 = 0xfe0;
/**
 * Peripheral ID 2: ArchRev in bits [7:4].
 *
 * @example Which GIC architecture
 * ```ts
 * import { Gicv2, GICD_PIDR2 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const pidr2 = new Gicv2().distributor.read(GICD_PIDR2, 4, 0);
 * assert.equal((pidr2 >> 4) & 0xf, 2); // ArchRev: GICv2
 * ```
 */
export const GICD_PIDR2 = 0xfe8;
/**
 * Component ID 0 (first of the four component ID registers).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_CIDR0 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gicd = new Gicv2().distributor;
 * let cid = 0;
 * for (let i = 3; i >= 0; i--) cid = (cid << 8) | gicd.read(GICD_CIDR0 + 4 * i, 4, 0);
 * assert.equal(cid >>> 0, 0xb105_f00d); // the PrimeCell component ID
 * ```
 */
export const GICD_CIDR0 = 0xff0;
/**
 * GICD_SGIR target filter: the CPUs in the target list.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_SGIR, SGIR_FILTER_LIST } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 4 });
 * const targets = 0b1010; // CPUs 1 and 3
 * gic.distributor.write(GICD_SGIR, 4, (SGIR_FILTER_LIST << 24) | (targets << 16) | 2, 0);
 * const pending = [0, 1, 2, 3].map((cpu) => gic.interruptState(2, cpu).pending);
 * assert.deepEqual(pending, [false, true, false, true]);
 * ```
 */
export const SGIR_FILTER_LIST = 0;
/**
 * GICD_SGIR target filter: every CPU except the requester.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_SGIR, SGIR_FILTER_OTHERS } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 3 });
 * gic.distributor.write(GICD_SGIR, 4, (SGIR_FILTER_OTHERS << 24) | 1, 2); // from CPU 2
 * const pending = [0, 1, 2].map((cpu) => gic.interruptState(1, cpu).pending);
 * assert.deepEqual(pending, [true, true, false]);
 * ```
 */
export const SGIR_FILTER_OTHERS = 1;
/**
 * GICD_SGIR target filter: only the requester.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_SGIR, SGIR_FILTER_SELF } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * gic.distributor.write(GICD_SGIR, 4, (SGIR_FILTER_SELF << 24) | 7, 1); // CPU 1 to itself
 * assert.equal(gic.interruptState(7, 1).sgiSources, 0b10);
 * assert.equal(gic.interruptState(7, 0).pending, false);
 * ```
 */
export const SGIR_FILTER_SELF = 2;
/**
 * Value of GICD_IIDR (Arm GIC-400 distributor).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_IIDR, GICD_IIDR_VALUE } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2().distributor.read(GICD_IIDR, 4, 0), GICD_IIDR_VALUE);
 * assert.equal(GICD_IIDR_VALUE >>> 24, 0x02); // ProductID of the GIC-400
 * ```
 */
export const GICD_IIDR_VALUE = 0x0200_143b;
/**
 * PIDR4, PIDR5, PIDR6, PIDR7, PIDR0, PIDR1, PIDR2, PIDR3, CIDR0..3 at 0xFD0..0xFFC (GIC-400).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICD_ID_VALUES, GICD_PIDR4 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gicd = new Gicv2().distributor;
 * const ids = GICD_ID_VALUES.map((_, i) => gicd.read(GICD_PIDR4 + 4 * i, 4, 0));
 * assert.deepEqual(ids, GICD_ID_VALUES);
 * ```
 */
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

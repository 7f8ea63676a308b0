/**
 * GICv2 CPU interface (GICC) register offsets, field layouts, the identification value it reports
 * and the special INTIDs it returns.
 *
 * Offsets are relative to the start of the CPU interface region.
 *
 * @module
 */

/**
 * Size of the CPU interface MMIO region in bytes (GICC_DIR at 0x1000 is the last register).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_SIZE } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.equal(gic.cpuInterface.size, GICC_SIZE);
 * assert.equal(gic.cpuInterface.read(GICC_SIZE, 4, 0), 0); // past the block: reads as zero
 * assert.equal(gic.stats.badReads, 1); // and is counted
 * ```
 */
export const GICC_SIZE = 0x2000;
/**
 * CPU interface control: bit 0 group 0 enable, bit 1 group 1 enable, bit 9 EOImode.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_CTLR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.cpuInterface.write(GICC_CTLR, 4, 0b11, 0); // signal group 0 and group 1
 * assert.equal(gic.cpuInterface.read(GICC_CTLR, 4, 0), 0b11);
 * ```
 */
export const GICC_CTLR = 0x000;
/**
 * Priority mask: interrupts with a priority numerically at or above it are not signalled.
 *
 * @example Masking by priority
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_IPRIORITYR,
 *   GICD_ISENABLER,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.distributor.write(GICD_IPRIORITYR + 33, 1, 0xa0, 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.pulse(33);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xa0, 0); // only priorities below 0xa0 get through
 * assert.equal(gic.irqAsserted(0), false);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xf0, 0);
 * assert.equal(gic.irqAsserted(0), true);
 * ```
 */
export const GICC_PMR = 0x004;
/**
 * Binary point: splits priority into group priority (preemption) and subpriority.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_BPR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.cpuInterface.write(GICC_BPR, 4, 0xff, 0);
 * assert.equal(gic.cpuInterface.read(GICC_BPR, 4, 0), 7); // a 3-bit field
 * ```
 */
export const GICC_BPR = 0x008;
/**
 * Interrupt acknowledge (read-only).
 *
 * @example Taking an interrupt
 * ```ts
 * import { Gicv2, GICC_CTLR, GICC_IAR, GICC_PMR, GICD_CTLR, GICD_ISENABLER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * assert.equal(gic.cpuInterface.read(GICC_IAR, 4, 0), 33); // acknowledged: now active
 * assert.equal(gic.interruptState(33).active, true);
 * assert.equal(gic.irqAsserted(0), false);
 * ```
 */
export const GICC_IAR = 0x00c;
/**
 * End of interrupt (write-only).
 *
 * @example Completing an interrupt
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_EOIR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * const iar = gic.cpuInterface.read(GICC_IAR, 4, 0);
 * gic.cpuInterface.write(GICC_EOIR, 4, iar, 0); // the value IAR gave, written back
 * assert.equal(gic.interruptState(33).active, false);
 * ```
 */
export const GICC_EOIR = 0x010;
/**
 * Running priority (read-only).
 *
 * @example Usage
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICC_RPR,
 *   GICD_CTLR,
 *   GICD_IPRIORITYR,
 *   GICD_ISENABLER,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.equal(gic.cpuInterface.read(GICC_RPR, 4, 0), 0xff); // idle
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.distributor.write(GICD_IPRIORITYR + 33, 1, 0xa0, 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * gic.cpuInterface.read(GICC_IAR, 4, 0);
 * assert.equal(gic.cpuInterface.read(GICC_RPR, 4, 0), 0xa0); // running at SPI 33's priority
 * ```
 */
export const GICC_RPR = 0x014;
/**
 * Highest priority pending interrupt (read-only).
 *
 * @example Peeking without acknowledging
 * ```ts
 * import { Gicv2, GICC_CTLR, GICC_HPPIR, GICC_PMR, GICD_CTLR, GICD_ISENABLER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * assert.equal(gic.cpuInterface.read(GICC_HPPIR, 4, 0), 33);
 * assert.equal(gic.interruptState(33).active, false); // still only pending
 * ```
 */
export const GICC_HPPIR = 0x018;
/**
 * Active priorities 0..3 (four consecutive words).
 *
 * @example Usage
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_APR0,
 *   GICC_CTLR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_IPRIORITYR,
 *   GICD_ISENABLER,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.distributor.write(GICD_IPRIORITYR + 33, 1, 0x20, 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * gic.cpuInterface.read(GICC_IAR, 4, 0);
 * // One bit per preemption level (priority >> 1 with the binary point at 0): 0x20 is bit 16.
 * assert.equal(gic.cpuInterface.read(GICC_APR0, 4, 0), 1 << 16);
 * ```
 */
export const GICC_APR0 = 0x0d0;
/**
 * CPU interface identification (read-only).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_IIDR } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const iidr = new Gicv2().cpuInterface.read(GICC_IIDR, 4, 0);
 * assert.equal((iidr >> 16) & 0xf, 2); // ArchitectureVersion: GICv2
 * ```
 */
export const GICC_IIDR = 0x0fc;
/**
 * Deactivate interrupt (write-only; meaningful with EOImode = 1).
 *
 * @example Splitting priority drop from deactivation
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_CTLR_EOIMODE,
 *   GICC_DIR,
 *   GICC_EOIR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1 | GICC_CTLR_EOIMODE, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * const iar = gic.cpuInterface.read(GICC_IAR, 4, 0);
 * gic.cpuInterface.write(GICC_EOIR, 4, iar, 0); // priority drop only
 * assert.equal(gic.interruptState(33).active, true);
 * gic.cpuInterface.write(GICC_DIR, 4, iar, 0); // now deactivated
 * assert.equal(gic.interruptState(33).active, false);
 * ```
 */
export const GICC_DIR = 0x1000;
/**
 * GICC_CTLR bit that splits EOI into priority drop (EOIR) and deactivation (DIR).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_CTLR, GICC_CTLR_EOIMODE } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * // Linux sets EOImode when it runs at EL2; as a guest at EL1 it leaves it clear.
 * gic.cpuInterface.write(GICC_CTLR, 4, 1 | GICC_CTLR_EOIMODE, 0);
 * assert.equal(gic.cpuInterface.read(GICC_CTLR, 4, 0) & GICC_CTLR_EOIMODE, GICC_CTLR_EOIMODE);
 * ```
 */
export const GICC_CTLR_EOIMODE = 1 << 9;
/**
 * INTID returned by GICC_IAR and GICC_HPPIR when nothing can be signalled.
 *
 * @example Nothing to take
 * ```ts
 * import { Gicv2, GICC_IAR, SPURIOUS_INTID } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.equal(gic.cpuInterface.read(GICC_IAR, 4, 0), SPURIOUS_INTID);
 * assert.equal(gic.stats.spuriousAcks, 1);
 * ```
 */
export const SPURIOUS_INTID = 1023;
/**
 * Mask of the INTID field in GICC_IAR, GICC_EOIR, GICC_HPPIR and GICC_DIR.
 *
 * @example Decoding an acknowledged SGI
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 *   GICD_SGIR,
 *   IAR_CPUID_SHIFT,
 *   IAR_INTID_MASK,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER, 4, 0xffff, 0); // CPU 0's SGIs
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.distributor.write(GICD_SGIR, 4, (0b01 << 16) | 5, 1); // CPU 1 sends SGI 5 to CPU 0
 * const iar = gic.cpuInterface.read(GICC_IAR, 4, 0);
 * assert.equal(iar & IAR_INTID_MASK, 5);
 * assert.equal(iar >> IAR_CPUID_SHIFT, 1); // the sender
 * ```
 */
export const IAR_INTID_MASK = 0x3ff;
/**
 * Shift of the SGI source CPU field (bits [12:10]) in GICC_IAR, GICC_EOIR and GICC_DIR.
 *
 * @example Completing an SGI names its sender too
 * ```ts
 * import { IAR_CPUID_SHIFT, IAR_INTID_MASK } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const iar = (3 << IAR_CPUID_SHIFT) | 5; // SGI 5 from CPU 3, as GICC_IAR returns it
 * assert.equal(iar & IAR_INTID_MASK, 5);
 * assert.equal((iar >> IAR_CPUID_SHIFT) & 7, 3);
 * // Write the whole value back to GICC_EOIR: the source CPU picks which pending copy completes.
 * ```
 */
export const IAR_CPUID_SHIFT = 10;
/**
 * Value of GICC_IIDR (Arm GIC-400 CPU interface, architecture version 2).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_IIDR, GICC_IIDR_VALUE } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2().cpuInterface.read(GICC_IIDR, 4, 0), GICC_IIDR_VALUE);
 * assert.equal(GICC_IIDR_VALUE & 0xfff, 0x43b); // Implementer: Arm
 * ```
 */
export const GICC_IIDR_VALUE = 0x0202_143b;

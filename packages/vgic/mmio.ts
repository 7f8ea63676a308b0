/**
 * The shape of a memory-mapped register block and the diagnostics a bad guest access leaves.
 *
 * @module
 */

/**
 * A block of memory-mapped registers as a VMM's bus sees it: the one device
 * shape of VMKit (`@vmkit/vmm` calls it `MmioDevice`).
 *
 * Offsets are relative to the start of the block; `cpu` is the index of the accessing vCPU
 * (GICv2 banks several registers per CPU). Accesses never throw.
 *
 * @example Dispatching guest accesses from a bus
 * ```ts
 * import { Gicv2, GICD_TYPER, type MmioRegion } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * // Where QEMU's virt board puts the GICv2.
 * const bus: [base: number, region: MmioRegion][] = [
 *   [0x0800_0000, gic.distributor],
 *   [0x0801_0000, gic.cpuInterface],
 * ];
 * function mmioRead(address: number, size: number, cpu: number): number {
 *   for (const [base, region] of bus) {
 *     const offset = address - base;
 *     if (offset >= 0 && offset < (region.size ?? 0)) return region.read(offset, size, cpu);
 *   }
 *   return 0; // nothing mapped there
 * }
 * assert.equal(mmioRead(0x0800_0000 + GICD_TYPER, 4, 0), 7); // 256 interrupts, 1 CPU
 * ```
 */
export interface MmioRegion {
  /** Size of the block in bytes, when the block knows it; accesses beyond it are RAZ/WI and counted. */
  readonly size?: number;
  /**
   * Read `size` bytes (1, 2 or 4) at `offset` on behalf of vCPU `cpu`.
   *
   * @returns the value, zero-extended, as an unsigned 32-bit number
   */
  read(offset: number, size: number, cpu: number): number;
  /** Write the low `size` bytes (1, 2 or 4) of `value` at `offset` on behalf of vCPU `cpu`. */
  write(offset: number, size: number, value: number, cpu: number): void;
}

/**
 * Which register block a bad access hit.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, GICC_IAR, type VgicRegion } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.cpuInterface.write(GICC_IAR, 4, 0, 0); // GICC_IAR is read-only: ignored and counted
 * const region: VgicRegion = gic.stats.lastBadRegion;
 * assert.equal(region, "cpu-interface");
 * ```
 */
export type VgicRegion = "" | "distributor" | "cpu-interface";

/**
 * Counters of guest behaviour the model absorbed instead of failing on.
 *
 * The object is mutated in place (no allocation on the access path); read it whenever
 * convenient. It is not cleared by a GIC reset, so it covers the whole life of the model.
 *
 * @example What a misbehaving guest leaves behind
 * ```ts
 * import { Gicv2, GICD_SGIR, type VgicStats } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.equal(gic.distributor.read(GICD_SGIR, 4, 0), 0); // write-only: reads as zero
 * gic.distributor.write(0x2, 2, 0xffff, 0); // a halfword access, which GICD_CTLR does not take
 * const stats: VgicStats = gic.stats;
 * assert.equal(stats.badReads, 1);
 * assert.equal(stats.badWrites, 1);
 * assert.equal(stats.lastBadOffset, 0x2);
 * ```
 */
export interface VgicStats {
  /** Reads of reserved offsets, write-only registers, bad sizes/alignment or bad CPU indices. */
  badReads: number;
  /** Writes to reserved offsets, read-only registers, bad sizes/alignment or bad CPU indices. */
  badWrites: number;
  /** Offset of the most recent bad access (-1 before any). */
  lastBadOffset: number;
  /** Register block of the most recent bad access. */
  lastBadRegion: VgicRegion;
  /** CPU index of the most recent bad access (-1 before any). */
  lastBadCpu: number;
  /** GICC_IAR reads that returned the spurious INTID 1023. */
  spuriousAcks: number;
  /** EOIR/DIR writes that named nothing to complete (spurious INTIDs, inactive interrupts). */
  ignoredEois: number;
}

/**
 * A fresh, zeroed {@link VgicStats}.
 *
 * @example Counting in a device model of your own
 * ```ts
 * import { createStats } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const stats = createStats();
 * assert.equal(stats.badReads, 0);
 * assert.equal(stats.lastBadOffset, -1); // nothing yet
 * stats.badReads++;
 * stats.lastBadOffset = 0x40;
 * ```
 */
export function createStats(): VgicStats {
  return {
    badReads: 0,
    badWrites: 0,
    lastBadOffset: -1,
    lastBadRegion: "",
    lastBadCpu: -1,
    spuriousAcks: 0,
    ignoredEois: 0,
  };
}

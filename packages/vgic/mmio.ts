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

/** Which register block a bad access hit. */
export type VgicRegion = "" | "distributor" | "cpu-interface";

/**
 * Counters of guest behaviour the model absorbed instead of failing on.
 *
 * The object is mutated in place (no allocation on the access path); read it whenever
 * convenient. It is not cleared by a GIC reset, so it covers the whole life of the model.
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

/** A fresh, zeroed {@link VgicStats}. */
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

/**
 * The guest-physical map of one vCPU: which ranges are RAM, which are device
 * (MMIO) regions, and which are covered only to work around Unicorn 2.0.1's
 * virtual-address quirk.
 *
 * The quirk: the engine asks "is this address mapped?" with the guest
 * *virtual* address before translating it, so with the guest MMU on, a kernel
 * virtual address that is not also a mapped physical address is refused as
 * unmapped although it translates to RAM. Every range with nothing behind it
 * is therefore mapped as a catch-all MMIO region. Real accesses never reach
 * them: stage 2 (`_stage2.ts`) faults an unbacked physical address first.
 *
 * @module
 */

import { VcpuError } from "./errors.ts";

/**
 * Size of the guest-physical address space covered (48-bit).
 *
 * @example
 * ```ts
 * import { AddressSpace, PHYS_LIMIT } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const map = new AddressSpace();
 * map.add({ base: PHYS_LIMIT - 0x1000, size: 0x1000, kind: "mmio" }); // the last page fits
 * assert.throws(() => map.add({ base: PHYS_LIMIT, size: 0x1000, kind: "ram" }), {
 *   code: "BAD_REGION",
 * });
 * ```
 */
export const PHYS_LIMIT = 2 ** 48;
/** The top of the 64-bit space that kernels use for their virtual addresses. */
export const HIGH_COVER_BASE = 0xffff_0000_0000_0000n;
/**
 * Unicorn maps whole 4 KiB pages.
 *
 * @example
 * ```ts
 * import { PAGE_SIZE, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * vcpu.mapRam(0x4000_0000, new Uint8Array(PAGE_SIZE)); // the smallest RAM there is
 * assert.throws(() => vcpu.mapRam(0x5000_0000, new Uint8Array(PAGE_SIZE / 2)), {
 *   code: "BAD_REGION",
 * });
 * ```
 */
export const PAGE_SIZE = 0x1000;

/**
 * A mapped range.
 *
 * @example
 * ```ts
 * import { type Region, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * vcpu.mapRam(0x4000_0000, new Uint8Array(0x2000));
 * vcpu.mapMmio(0x0900_0000, 0x1000, () => {});
 * const regions: readonly Region[] = vcpu.regions; // sorted by base
 * assert.deepEqual(regions.map((r) => [r.base, r.size, r.kind]), [
 *   [0x0900_0000, 0x1000, "mmio"],
 *   [0x4000_0000, 0x2000, "ram"],
 * ]);
 * ```
 */
export interface Region {
  /** Guest-physical base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** What it is. */
  readonly kind: "ram" | "mmio";
}

/**
 * A range to cover, as 64-bit values (the high cover does not fit a number).
 *
 * @example
 * ```ts
 * import { AddressSpace, type CoverRange } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const map = new AddressSpace();
 * map.add({ base: 0x4000_0000, size: 0x1000, kind: "ram" });
 * const gaps: CoverRange[] = map.gaps();
 * assert.deepEqual(gaps[0], { base: 0n, size: 0x4000_0000n }); // below the RAM
 * assert.equal(gaps[1].base, 0x4000_1000n); // above it
 * ```
 */
export interface CoverRange {
  /** First byte. */
  readonly base: bigint;
  /** Size in bytes. */
  readonly size: bigint;
}

/**
 * Options for an {@link AddressSpace}.
 *
 * @example
 * ```ts
 * import { AddressSpace, type AddressSpaceOptions } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * // A VMM's device windows, placed on 64 KiB boundaries.
 * const options: AddressSpaceOptions = { granule: 0x1_0000 };
 * const windows = new AddressSpace(options);
 * windows.add({ base: 0x0800_0000, size: 0x1_0000, kind: "mmio" }, "gic");
 * assert.throws(() => windows.add({ base: 0x0900_0000, size: 0x1000, kind: "mmio" }, "uart"), {
 *   code: "BAD_REGION",
 * });
 * ```
 */
export interface AddressSpaceOptions {
  /** What bases and sizes must be multiples of. Default {@link PAGE_SIZE} (what an engine maps). */
  granule?: number;
}

/**
 * Bookkeeping of a guest-physical map, with overlap, overflow and alignment
 * checks: the engine's map (4 KiB pages) and a VMM's device windows use the
 * same one.
 *
 * @example
 * ```ts
 * import { AddressSpace } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const map = new AddressSpace();
 * map.add({ base: 0x4000_0000, size: 0x10_0000, kind: "ram" });
 * map.add({ base: 0x0900_0000, size: 0x1000, kind: "mmio" }, "uart");
 * assert.equal(map.find(0x4000_1234)?.kind, "ram");
 * assert.equal(map.find(0x0a00_0000), undefined);
 * assert.throws(() => map.add({ base: 0x4008_0000, size: 0x1000, kind: "mmio" }), (e: Error) => {
 *   assert.match(e.message, /overlaps the ram region at 0x40000000/);
 *   return true;
 * });
 * ```
 */
export class AddressSpace {
  readonly #regions: Region[] = [];
  readonly #names = new Map<Region, string>();
  readonly #granule: number;

  /** An empty map. */
  constructor(options: AddressSpaceOptions = {}) {
    this.#granule = options.granule ?? PAGE_SIZE;
  }

  /** The mapped regions, sorted by base. */
  get regions(): readonly Region[] {
    return this.#regions;
  }

  /**
   * Records a region.
   *
   * @throws {VcpuError} `BAD_REGION` if it is empty, not page aligned, beyond
   *   the 48-bit physical space or overlaps another region.
   */
  add(region: Region, name: string = region.kind): void {
    const { base, size } = region;
    const where = `${name} region at 0x${base.toString(16)} (size 0x${size.toString(16)})`;
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0) {
      throw new VcpuError("BAD_REGION", `${where}: base and size must be positive integers`);
    }
    if (base % this.#granule !== 0 || size % this.#granule !== 0) {
      throw new VcpuError(
        "BAD_REGION",
        `${where}: base and size must be multiples of ${
          this.#granule === PAGE_SIZE ? "4 KiB" : `0x${this.#granule.toString(16)}`
        }`,
      );
    }
    if (base + size > PHYS_LIMIT) {
      throw new VcpuError("BAD_REGION", `${where}: ends beyond the 48-bit physical address space`);
    }
    for (const r of this.#regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new VcpuError(
          "BAD_REGION",
          `${where} overlaps the ${this.#names.get(r)} region at 0x${r.base.toString(16)} (size 0x${
            r.size.toString(16)
          })`,
        );
      }
    }
    this.#regions.push(region);
    this.#names.set(region, name);
    this.#regions.sort((a, b) => a.base - b.base);
  }

  /** The ranges with nothing behind them, which need a catch-all mapping. */
  gaps(): CoverRange[] {
    const out: CoverRange[] = [];
    let next = 0;
    for (const r of this.#regions) {
      if (r.base > next) out.push({ base: BigInt(next), size: BigInt(r.base - next) });
      next = r.base + r.size;
    }
    if (next < PHYS_LIMIT) out.push({ base: BigInt(next), size: BigInt(PHYS_LIMIT - next) });
    // Neither physical nor a valid virtual address for a 48-bit MMU; covered
    // so that an access there faults in the guest's MMU (a translation or
    // address-size fault) instead of ending the run as an unmapped access.
    out.push({ base: BigInt(PHYS_LIMIT), size: HIGH_COVER_BASE - BigInt(PHYS_LIMIT) });
    // Unicorn cannot map a range ending exactly at 2^64; the last page stays out.
    out.push({ base: HIGH_COVER_BASE, size: (1n << 64n) - HIGH_COVER_BASE - BigInt(PAGE_SIZE) });
    return out;
  }

  /** The region containing `address`, if any. */
  find(address: number): Region | undefined {
    for (const r of this.#regions) {
      if (address >= r.base && address < r.base + r.size) return r;
    }
    return undefined;
  }
}

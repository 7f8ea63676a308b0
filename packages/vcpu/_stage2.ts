/**
 * Stage-2 translation over the guest-physical map, so that an access to an
 * address with nothing behind it faults precisely.
 *
 * Why: the engine cannot turn an access to an unbacked physical address into
 * a guest exception. Its bus-error path (`cpu_transaction_failed`) is
 * compiled out in every Unicorn release, an unmapped address ends the whole
 * run with the PC at the start of a translated block rather than at the
 * access (2.0.1 and 2.1.1), and an MMIO callback cannot raise an exception
 * at all. A stage-2 fault is raised by QEMU's own translation code, with the
 * CPU state restored to the faulting instruction, before any memory is
 * touched: the mechanism a hypervisor on real hardware uses. So every vCPU
 * runs with HCR_EL2.VM set and an identity stage-2 map (IPA = PA) of exactly
 * the RAM and MMIO regions the VMM mapped; every other address is invalid
 * at stage 2, and `_unbacked.ts` turns the fault into the guest's external
 * abort.
 *
 * Cost: nothing per access, but a TLB miss also translates each of the
 * guest's table addresses through stage 2. RAM is mapped with 2 MiB blocks,
 * and while the map ends below 16 GiB the walk starts at level 2, so that
 * is one more read per level (measured: 5 to 7 % more host time for a Linux
 * boot on 2.1.1; a 40-bit walk from level 1, needed for maps reaching
 * higher, twice that).
 *
 * The tables live in engine RAM at 1 TiB, above every input address the
 * walk accepts: the guest can neither reach nor change them.
 *
 * @module
 */

import type { Region } from "./address_space.ts";
import type { Engine } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { SysReg } from "./sysregs.ts";

const sys = (name: string, op0: number, op1: number, crn: number, crm: number, op2: number) =>
  Object.freeze({ name, op0, op1, crn, crm, op2 }) as SysReg;

/** The stage-2 table base. */
export const VTTBR_EL2: SysReg = sys("VTTBR_EL2", 3, 4, 2, 1, 0);
/** Stage-2 translation control. */
export const VTCR_EL2: SysReg = sys("VTCR_EL2", 3, 4, 2, 1, 2);
/** Where a stage-2 fault leaves the faulting IPA (bits 51:12 in bits 43:4). */
export const HPFAR_EL2: SysReg = sys("HPFAR_EL2", 3, 4, 6, 0, 4);
// Invalidates every EL1&0 translation, stage 1 and 2.
const TLBI_ALLE1 = sys("TLBI_ALLE1", 1, 4, 8, 7, 4);

/** HCR_EL2.VM: stage-2 translation on. */
export const HCR_EL2_VM = 1n;

/** Guest-physical addresses the guest can reach end here (1 TiB). */
export const IPA_LIMIT = 2 ** 40;
// A 4 KiB-granule walk can start at level 2 up to 34 input bits.
const SHORT_WALK_BITS = 34;
/** Bytes kept free for the tables at {@link IPA_LIMIT}, more than any map needs. */
const TABLES_RESERVED = 0x10_0000;
const PAGE = 0x1000;
const ENTRIES = 512;
const DESC_TABLE = 3n;
const DESC_BLOCK = 1n;
const DESC_PAGE = 3n;
// S2AP read/write, inner shareable, access flag set.
const S2_COMMON = (3n << 6n) | (3n << 8n) | (1n << 10n);
// MemAttr[5:2]: Normal write-back; Device-nGnRE.
const S2_NORMAL = (0xfn << 2n) | S2_COMMON;
const S2_DEVICE = (0x1n << 2n) | S2_COMMON;

/** Bytes one entry of a level maps: level 1 1 GiB, level 2 2 MiB, level 3 4 KiB. */
function span(level: number): number {
  return 2 ** (12 + 9 * (3 - level));
}

/** One engine's stage-2 map, rebuilt whenever its guest-physical map changes. */
export class Stage2 {
  /** Guest-physical (engine) base of the table memory. */
  readonly tablesBase: number = IPA_LIMIT;
  readonly #engine: Engine;
  // The tables, mapped at tablesBase; replaced by a larger buffer when a map needs it.
  #tables = new Uint8Array(0);
  #view = new DataView(this.#tables.buffer);
  #used = 0;
  #vtcr = 0n;

  /** Maps the table memory into `engine` and sets up an empty map. HCR_EL2.VM is the caller's. */
  constructor(engine: Engine) {
    this.#engine = engine;
    engine.writeSys(VTTBR_EL2, BigInt(this.tablesBase));
    this.build([]);
  }

  /** The range kept for the table memory, which nothing else may map. */
  get reserved(): { base: number; size: number } {
    return { base: this.tablesBase, size: TABLES_RESERVED };
  }

  /**
   * Refuses a region the guest could not reach.
   *
   * @throws {VcpuError} `BAD_REGION` for a region ending beyond 1 TiB.
   */
  check(base: number, size: number, kind: string): void {
    if (base + size > IPA_LIMIT) {
      throw new VcpuError(
        "BAD_REGION",
        `${kind} region at 0x${base.toString(16)} (size 0x${
          size.toString(16)
        }) ends beyond 1 TiB, where the vCPU's guest-physical address space ends`,
      );
    }
  }

  /**
   * Rewrites the tables for `regions` (RAM as Normal memory, MMIO as Device,
   * each region checked with {@link check}), sets VTCR_EL2 for them and drops
   * every cached translation.
   */
  build(regions: readonly Region[]): void {
    const end = regions.reduce((e, r) => Math.max(e, r.base + r.size), 0);
    // The fewest input bits that cover the map: a walk from level 2 up to 16
    // GiB, from level 1 beyond. The first level is several tables side by side.
    let inputBits = 32;
    while (inputBits < SHORT_WALK_BITS && 2 ** inputBits < end) inputBits++;
    if (2 ** inputBits < end) inputBits = 40;
    const startLevel = inputBits <= SHORT_WALK_BITS ? 2 : 1;
    const rootPages = 2 ** (inputBits - Math.log2(span(startLevel))) / ENTRIES;
    let pages = Math.max(this.#tables.byteLength / PAGE, rootPages + 8);
    for (;;) {
      const tables = pages * PAGE === this.#tables.byteLength
        ? this.#tables
        : new Uint8Array(pages * PAGE);
      if (this.#fill(tables, regions, startLevel, rootPages)) {
        if (tables !== this.#tables) {
          if (this.#tables.byteLength > 0) {
            this.#engine.unmap(BigInt(this.tablesBase), BigInt(this.#tables.byteLength));
          }
          this.#engine.mapPtr(this.tablesBase, tables);
          this.#tables = tables;
        }
        break;
      }
      pages *= 2;
    }
    // T0SZ, SL0 (1: level 1, 0: level 2 for 4 KiB granules), inner and outer
    // write-back walks, inner shareable, 4 KiB granule, 40-bit output (PS 2).
    const sl0 = startLevel === 1 ? 1n : 0n;
    this.#vtcr = (1n << 31n) | (2n << 16n) | (3n << 12n) | (1n << 10n) | (1n << 8n) |
      (sl0 << 6n) | BigInt(64 - inputBits);
    this.apply();
    this.#engine.writeSys(TLBI_ALLE1, 0n);
  }

  /** Writes VTCR_EL2 for the current map into the engine (after restoring a saved CPU state). */
  apply(): void {
    this.#engine.writeSys(VTCR_EL2, this.#vtcr);
  }

  // Writes the tables into `tables`; false when they do not fit.
  #fill(
    tables: Uint8Array<ArrayBuffer>,
    regions: readonly Region[],
    startLevel: number,
    rootPages: number,
  ): boolean {
    if (tables.byteLength > TABLES_RESERVED) {
      throw new VcpuError("BAD_REGION", "the guest-physical map is too fragmented for stage 2");
    }
    tables.fill(0);
    this.#view = new DataView(tables.buffer);
    this.#used = rootPages;
    const limit = tables.byteLength / PAGE;
    for (const r of regions) {
      const attrs = r.kind === "ram" ? S2_NORMAL : S2_DEVICE;
      const ok = this.#map(
        0,
        startLevel,
        rootPages * ENTRIES,
        0,
        r.base,
        r.base + r.size,
        attrs,
        limit,
      );
      if (!ok) return false;
    }
    return true;
  }

  // Maps [from, to) into the table at byte offset `table`, whose first entry
  // maps guest-physical `tableBase`, at `level`; false when out of pages.
  #map(
    table: number,
    level: number,
    entries: number,
    tableBase: number,
    from: number,
    to: number,
    attrs: bigint,
    limit: number,
  ): boolean {
    const size = span(level);
    const first = Math.floor((from - tableBase) / size);
    const last = Math.min(entries - 1, Math.floor((to - 1 - tableBase) / size));
    for (let i = first; i <= last; i++) {
      const entryBase = tableBase + i * size;
      const at = table + i * 8;
      const lo = Math.max(from, entryBase);
      const hi = Math.min(to, entryBase + size);
      if (lo === entryBase && hi === entryBase + size) {
        const type = level === 3 ? DESC_PAGE : DESC_BLOCK;
        this.#view.setBigUint64(at, BigInt(entryBase) | attrs | type, true);
        continue;
      }
      let desc = this.#view.getBigUint64(at, true);
      if ((desc & 3n) !== DESC_TABLE) {
        if (this.#used === limit) return false;
        desc = BigInt(this.tablesBase + this.#used * PAGE) | DESC_TABLE;
        this.#used++;
        this.#view.setBigUint64(at, desc, true);
      }
      const child = Number(desc & 0xffff_ffff_f000n) - this.tablesBase;
      if (!this.#map(child, level + 1, ENTRIES, entryBase, lo, hi, attrs, limit)) return false;
    }
    return true;
  }
}

/**
 * One vCPU's guest-physical map in its engine: RAM mapped in place, MMIO
 * regions whose accesses become decoded records for a handler, the
 * catch-all covers over everything else (see `address_space.ts` for why they
 * exist; stage 2 keeps real accesses from reaching them, so their callbacks
 * only report what should not happen), and the stage-2 map (`_stage2.ts`).
 *
 * @module
 */

import { AddressSpace, type CoverRange, type Region } from "./address_space.ts";
import type { Engine } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { MmioAccess, MmioHandler, VcpuStats } from "./exits.ts";
import type { Stage2 } from "./_stage2.ts";

// deno-lint-ignore no-explicit-any
type Callback = Deno.UnsafeCallback<any>;

/** What the map reports to its vCPU. */
export interface MemoryMapHooks {
  /** The running vCPU's counters (MMIO and unbacked accesses are counted here). */
  readonly stats: VcpuStats;
  /** The one record every access is decoded into. */
  readonly access: MmioAccess;
  /** Accesses to guest-physical addresses with nothing behind them. */
  readonly onUnbacked: ((access: Readonly<MmioAccess>) => void) | undefined;
  /** A handler threw: record it and end the run. */
  fail(error: unknown): void;
}

/** The guest-physical map of one engine. */
export class MemoryMap {
  readonly #engine: Engine;
  readonly #hooks: MemoryMapHooks;
  readonly #space = new AddressSpace();
  readonly #keepAlive: Uint8Array[] = [];
  readonly #ram: { base: number; end: number; view: DataView }[] = [];
  readonly #stage2: Stage2;
  readonly #callbacks: Callback[] = [];
  #coverCallbacks: Callback[] = [];
  #covers: CoverRange[] = [];
  #coversDirty = true;

  constructor(engine: Engine, hooks: MemoryMapHooks, stage2: Stage2) {
    this.#engine = engine;
    this.#hooks = hooks;
    this.#stage2 = stage2;
  }

  /** The regions, sorted by address. */
  get regions(): readonly Region[] {
    return this.#space.regions;
  }

  /** Maps `bytes` as RAM at `base`; the engine runs on them in place. */
  mapRam(base: number, bytes: Uint8Array<ArrayBuffer>): void {
    const pointer = Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes));
    if (Number(BigInt(pointer) % 16n) !== 0) {
      throw new VcpuError("BAD_REGION", "RAM buffer must be 16-byte aligned in host memory");
    }
    this.#stage2.check(base, bytes.byteLength, "RAM");
    this.#space.add({ base, size: bytes.byteLength, kind: "ram" });
    this.#dropCovers();
    this.#engine.mapPtr(base, bytes);
    this.#keepAlive.push(bytes);
    this.#ram.push({
      base,
      end: base + bytes.byteLength,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    });
    this.#stage2.build(this.#space.regions);
  }

  /** The doubleword of guest RAM at `address` (8-byte aligned), or undefined where there is no RAM. */
  readRam64(address: number): bigint | undefined {
    for (const r of this.#ram) {
      if (address >= r.base && address + 8 <= r.end) {
        return r.view.getBigUint64(address - r.base, true);
      }
    }
    return undefined;
  }

  /** Maps an MMIO region whose accesses call `handler` with the decoded record. */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    if (size > 2 ** 32) {
      throw new VcpuError("BAD_REGION", `MMIO region at 0x${base.toString(16)} exceeds 4 GiB`);
    }
    this.#stage2.check(base, size, "MMIO");
    this.#space.add({ base, size, kind: "mmio" });
    this.#dropCovers();
    const { access } = this.#hooks;
    const hooks = this.#hooks;
    // Offsets, values and the result are declared 32-bit although the C
    // signature says 64: regions are at most 4 GiB, the engine never moves
    // more than 4 bytes per call (and masks the result to the access size),
    // and on x86-64 and AArch64 the low half of a 64-bit register is the
    // 32-bit value. This keeps BigInt allocations off the MMIO path.
    const read = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u32", "u32", "pointer"], result: "u32" } as const,
      (_uc, offset, size) => {
        access.address = base + offset;
        access.offset = offset;
        access.size = size;
        access.write = false;
        access.value = 0;
        hooks.stats.mmioReads++;
        try {
          handler(access);
        } catch (e) {
          hooks.fail(e);
          return 0;
        }
        return size >= 4 ? access.value >>> 0 : access.value & ((1 << (size * 8)) - 1);
      },
    );
    const write = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u32", "u32", "u32", "pointer"], result: "void" } as const,
      (_uc, offset, size, value) => {
        access.address = base + offset;
        access.offset = offset;
        access.size = size;
        access.write = true;
        access.value = value;
        hooks.stats.mmioWrites++;
        try {
          handler(access);
        } catch (e) {
          hooks.fail(e);
        }
      },
    );
    this.#callbacks.push(read, write);
    this.#engine.mmioMap(BigInt(base), BigInt(size), read.pointer, write.pointer, null);
    this.#stage2.build(this.#space.regions);
  }

  /** Maps the covers if a region changed since they were last mapped. */
  ensureCovers(): void {
    if (this.#coversDirty) this.#installCovers();
  }

  #dropCovers(): void {
    for (const c of this.#covers) this.#engine.unmap(c.base, c.size);
    this.#covers = [];
    for (const cb of this.#coverCallbacks) cb.close();
    this.#coverCallbacks = [];
    this.#coversDirty = true;
  }

  #installCovers(): void {
    const { access } = this.#hooks;
    const hooks = this.#hooks;
    const record = (address: bigint, size: number, write: boolean, value: number) => {
      access.address = Number(address);
      access.offset = 0;
      access.size = size;
      access.write = write;
      access.value = value;
      const stats = hooks.stats;
      if (write) stats.unbackedWrites++;
      else stats.unbackedReads++;
      stats.lastUnbackedAddress = access.address;
      try {
        hooks.onUnbacked?.(access);
      } catch (e) {
        hooks.fail(e);
      }
    };
    const covers = withoutRange(this.#space.gaps(), this.#stage2.reserved);
    for (const c of covers) {
      const base = c.base;
      const read = new Deno.UnsafeCallback(
        { parameters: ["pointer", "u64", "u32", "pointer"], result: "u32" } as const,
        (_uc, offset, size) => {
          record(base + BigInt(offset), size, false, 0);
          return 0;
        },
      );
      const write = new Deno.UnsafeCallback(
        { parameters: ["pointer", "u64", "u32", "u64", "pointer"], result: "void" } as const,
        (_uc, offset, size, value) => record(base + BigInt(offset), size, true, Number(value)),
      );
      this.#coverCallbacks.push(read, write);
      this.#engine.mmioMap(c.base, c.size, read.pointer, write.pointer, null);
    }
    this.#covers = covers;
    this.#coversDirty = false;
  }

  /** Frees the callbacks and lets go of the RAM buffers. Close the engine first. */
  close(): void {
    for (const cb of this.#callbacks) cb.close();
    for (const cb of this.#coverCallbacks) cb.close();
    this.#callbacks.length = 0;
    this.#coverCallbacks = [];
    this.#keepAlive.length = 0;
    this.#ram.length = 0;
  }
}

// The covers minus the stage-2 tables, which are RAM of their own.
function withoutRange(covers: CoverRange[], hole: { base: number; size: number }): CoverRange[] {
  const lo = BigInt(hole.base);
  const hi = lo + BigInt(hole.size);
  const out: CoverRange[] = [];
  for (const c of covers) {
    const end = c.base + c.size;
    if (end <= lo || c.base >= hi) {
      out.push(c);
      continue;
    }
    if (c.base < lo) out.push({ base: c.base, size: lo - c.base });
    if (end > hi) out.push({ base: hi, size: end - hi });
  }
  return out;
}

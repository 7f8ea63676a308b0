/**
 * A host debugger's access to one vCPU: its memory by virtual address
 * through its own translation regime, the registers a debugger shows
 * besides the general-purpose ones, the engine's breakpoints and
 * watchpoints, and why the last run stopped for the debugger. Stepping is
 * `Vcpu.step()`.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import { check } from "./engine.ts";
import type { Region } from "./address_space.ts";
import type { DebugStop, HostDebugPoints } from "./debug_points.ts";
import { NO_TRANSLATION, translate } from "./_translate.ts";

/**
 * Why a debugger's memory access stopped short: no translation for the
 * address (`NO_TRANSLATION`), a physical address with nothing behind it
 * (`UNMAPPED`), or device registers (`DEVICE`), which a debugger must not
 * touch (reading them has side effects).
 *
 * @example
 * ```ts
 * import type { VirtualAccessFault } from "@vmkit/vcpu";
 *
 * const fault: VirtualAccessFault = "DEVICE";
 * console.log(fault); // DEVICE
 * ```
 */
export type VirtualAccessFault = "NO_TRANSLATION" | "UNMAPPED" | "DEVICE";

/**
 * The outcome of {@link VcpuDebug.readMemory} or {@link VcpuDebug.writeMemory}.
 *
 * @example
 * ```ts
 * import type { VirtualAccessResult } from "@vmkit/vcpu";
 *
 * const r: VirtualAccessResult = { ok: false, kind: "UNMAPPED", address: 0x1000n, done: 0 };
 * console.log(r.ok); // false
 * ```
 */
export type VirtualAccessResult =
  | { readonly ok: true }
  | {
    readonly ok: false;
    /** Why. */
    readonly kind: VirtualAccessFault;
    /** The first virtual address not accessed. */
    readonly address: bigint;
    /** Bytes transferred before it. */
    readonly done: number;
  };

const OK: { readonly ok: true } = Object.freeze({ ok: true } as const);
const PAGE = 4096n;
const TOP = 1n << 64n;
/** The PSTATE bits a debugger may change: NZCV and DAIF; the mode stays the vCPU's. */
const PSTATE_WRITABLE = 0xf000_03c0n;

/**
 * What {@link VcpuDebug} needs from its vCPU. A vCPU builds it for its own
 * `debug`; nothing outside this package creates one (the engine handle in
 * it is internal).
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, VcpuDebug, type VcpuDebugInternals } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * // The parts of a vCPU its debugger may reach, and no more.
 * const parts: (keyof VcpuDebugInternals)[] = ["enter", "regions", "points", "stop", "dropCode"];
 * assert.equal(parts.length, 5);
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * assert.ok(vcpu.debug instanceof VcpuDebug);
 * ```
 */
export interface VcpuDebugInternals {
  /** Puts the vCPU in the engine (for register access). */
  readonly enter: () => void;
  /** @internal The engine (its type is private to this package). */
  readonly engine: Engine;
  /** The guest-physical map. */
  readonly regions: () => readonly Region[];
  /** The engine's host points, shared by its vCPUs. */
  readonly points: HostDebugPoints;
  /** The record of the last stop. */
  readonly stop: DebugStop;
  /** Drops translated code after the debugger changed RAM. */
  readonly dropCode: () => void;
}

/**
 * The debugger's view of one vCPU (`vcpu.debug`). Use it between runs.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x10_0000);
 * ram.set([0x1f, 0x20, 0x03, 0xd5, 0x02, 0x00, 0x00, 0xd4]); // nop; hvc #0
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * vcpu.debug.points.addBreakpoint(0x4000_0004n);
 * assert.equal(vcpu.run().reason, "debug");
 * assert.equal(vcpu.debug.lastStop.kind, "breakpoint");
 * const bytes = new Uint8Array(4);
 * assert.ok(vcpu.debug.readMemory(0x4000_0004n, bytes).ok);
 * assert.equal(bytes[3], 0xd4); // the hvc's top byte: guest memory is not patched
 * ```
 */
export class VcpuDebug {
  readonly #i: VcpuDebugInternals;
  readonly #q = new Uint8Array(16);

  /** @internal Created by the vCPU. */
  constructor(internals: VcpuDebugInternals) {
    this.#i = internals;
  }

  /** The host's breakpoints and watchpoints, shared by every vCPU of the engine. */
  get points(): HostDebugPoints {
    return this.#i.points;
  }

  /** Why the last `debug` exit happened (reused record, valid until the next run). */
  get lastStop(): Readonly<DebugStop> {
    return this.#i.stop;
  }

  /**
   * The guest-physical address of virtual address `va` in the vCPU's
   * current translation regime (with EL1's permissions; flat with the MMU
   * off), or `undefined`. Changes nothing in the guest.
   */
  translate(va: bigint): bigint | undefined {
    if (va < 0n || va >= TOP) return undefined;
    this.#i.enter();
    const pa = translate(this.#i.engine, va);
    return pa === NO_TRANSLATION ? undefined : pa;
  }

  /** Reads `into.length` bytes at virtual address `address`; stops at the first byte it cannot. */
  readMemory(address: bigint, into: Uint8Array): VirtualAccessResult {
    return this.#access(address, into, false);
  }

  /** Writes `data` at virtual address `address` (RAM only); stops at the first byte it cannot. */
  writeMemory(address: bigint, data: Uint8Array): VirtualAccessResult {
    const result = this.#access(address, data, true);
    if (result.ok || result.done > 0) this.#i.dropCode();
    return result;
  }

  #access(address: bigint, buffer: Uint8Array, write: boolean): VirtualAccessResult {
    this.#i.enter();
    const e = this.#i.engine;
    let done = 0;
    while (done < buffer.length) {
      const va = address + BigInt(done);
      if (va >= TOP) return { ok: false, kind: "UNMAPPED", address: va, done };
      const pa = translate(e, va);
      if (pa === NO_TRANSLATION) return { ok: false, kind: "NO_TRANSLATION", address: va, done };
      const region = this.#i.regions().find((r) =>
        pa >= BigInt(r.base) && pa < BigInt(r.base) + BigInt(r.size)
      );
      if (region === undefined) return { ok: false, kind: "UNMAPPED", address: va, done };
      if (region.kind !== "ram") return { ok: false, kind: "DEVICE", address: va, done };
      const inPage = Number(PAGE - (va & (PAGE - 1n)));
      const inRegion = Number(BigInt(region.base) + BigInt(region.size) - pa);
      const n = Math.min(buffer.length - done, inPage, inRegion);
      const part = buffer.subarray(done, done + n);
      const err = write
        ? e.symbols.uc_mem_write(e.handle, pa, part, BigInt(n))
        : e.symbols.uc_mem_read(e.handle, pa, part, BigInt(n));
      check(e.symbols, err, write ? "uc_mem_write" : "uc_mem_read");
      done += n;
    }
    return OK;
  }

  /** Copies the 16 bytes of SIMD&FP register Vn (little-endian) into `into`. */
  readVector(n: number, into: Uint8Array): void {
    this.#vector(n);
    const e = this.#i.engine;
    check(e.symbols, e.symbols.uc_reg_read(e.handle, REG.Q0 + n, this.#q), "uc_reg_read");
    into.set(this.#q.subarray(0, Math.min(16, into.length)));
  }

  /** Sets Vn from 16 little-endian bytes. */
  writeVector(n: number, from: Uint8Array): void {
    this.#vector(n);
    this.#q.fill(0).set(from.subarray(0, 16));
    const e = this.#i.engine;
    check(e.symbols, e.symbols.uc_reg_write(e.handle, REG.Q0 + n, this.#q), "uc_reg_write");
  }

  #vector(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 31) {
      throw new RangeError(`SIMD&FP register index must be 0..31, got ${n}`);
    }
    this.#i.enter();
  }

  /** FPSR. */
  get fpsr(): number {
    this.#i.enter();
    return Number(this.#i.engine.readReg(REG.FPSR) & 0xffff_ffffn);
  }

  set fpsr(value: number) {
    this.#i.enter();
    this.#i.engine.writeReg(REG.FPSR, BigInt(value >>> 0));
  }

  /** FPCR. */
  get fpcr(): number {
    this.#i.enter();
    return Number(this.#i.engine.readReg(REG.FPCR) & 0xffff_ffffn);
  }

  set fpcr(value: number) {
    this.#i.enter();
    this.#i.engine.writeReg(REG.FPCR, BigInt(value >>> 0));
  }

  /** Sets the stack pointer of the current exception level. */
  setSp(value: bigint): void {
    this.#i.enter();
    this.#i.engine.writeReg(REG.SP, BigInt.asUintN(64, value));
  }

  /**
   * Sets PSTATE's condition flags and DAIF from `value` (laid out as SPSR);
   * the exception level and stack selection stay as they are.
   */
  setFlags(value: bigint): void {
    this.#i.enter();
    const e = this.#i.engine;
    const now = e.readReg(REG.PSTATE) & 0xffff_ffffn;
    e.writeReg(
      REG.PSTATE,
      (now & ~PSTATE_WRITABLE) | (BigInt.asUintN(64, value) & PSTATE_WRITABLE),
    );
  }
}

/**
 * A thin, checked wrapper over one Unicorn engine handle: every call that can
 * fail turns a `uc_err` into a {@link VcpuError} naming the function, so the
 * rest of the package never looks at raw error numbers.
 *
 * @module
 */

import {
  CPU_MODEL_IDS,
  REG,
  UC_ARCH_ARM64,
  UC_CTL_CPU_MODEL,
  UC_CTL_TB_FLUSH,
  UC_CTL_TB_REMOVE_CACHE,
  UC_CTL_TCG_BUFFER_SIZE,
  UC_CTL_UC_USE_EXITS,
  UC_MODE_ARM,
  ucCtl,
  ucErrName,
  xReg,
} from "./constants.ts";
import { VcpuError } from "./errors.ts";
import { executableMappings, TranslationCache } from "./_translation_cache.ts";
import type { UnicornSymbols } from "./symbols.ts";
import { CpRegBuffer, type SysReg, SYSREGS } from "./sysregs.ts";

/**
 * CPU models Unicorn 2.0.1 can run Linux on.
 *
 * @example
 * ```ts
 * import { type CpuModel, SYSREGS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const cpuModel: CpuModel = "cortex-a53";
 * using vcpu = new Vcpu({ library, cpuModel });
 * // MIDR_EL1's part number: 0xd03 is the Cortex-A53.
 * assert.equal((vcpu.readSysReg(SYSREGS.MIDR_EL1) >> 4n) & 0xfffn, 0xd03n);
 * // QEMU's "max" aborts the process under Linux, so it is refused.
 * assert.throws(() => new Vcpu({ library, cpuModel: "max" }), { code: "UNSUPPORTED_CPU_MODEL" });
 * ```
 */
export type CpuModel = "cortex-a72" | "cortex-a53" | "cortex-a57";

/** Secure monitor: non-secure below EL3, HVC enabled, EL2 is AArch64. */
export const SCR_EL3_BOOT = 0x501n;
/** Hypervisor: EL1 is AArch64, physical IRQs are routed so virtual IRQs reach EL1. */
export const HCR_EL2_BOOT = 0x8000_0010n;
/** HCR_EL2.VI: a virtual IRQ is pending. */
export const HCR_EL2_VI = 0x80n;

/** How to open an {@link Engine}. */
export interface EngineOptions {
  /**
   * Bytes of host memory for translated code (Unicorn 2.1 and later; the
   * engine's default is 1 GiB).
   */
  translationBufferBytes?: number;
  /** Find the translation buffer so that it can be kept from filling up (see `_translation_cache.ts`). */
  watchTranslations?: boolean;
}

/** The engine's own buffer size where it cannot be set (2.0.1). */
const ENGINE_DEFAULT_BUFFER_BYTES = 1024 * 1024 * 1024;

/** Checked operations on one Unicorn engine. */
export class Engine {
  /** The `uc_engine*`. */
  readonly handle: Deno.PointerObject;
  /** The translation buffer, when asked for and found. */
  translations: TranslationCache | undefined;
  readonly #uc: UnicornSymbols;
  readonly #u64 = new BigUint64Array(1);
  readonly #cp = new Map<SysReg, CpRegBuffer>();
  #closed = false;

  private constructor(uc: UnicornSymbols, handle: Deno.PointerObject) {
    this.#uc = uc;
    this.handle = handle;
  }

  /**
   * Opens an AArch64 engine with the given CPU model and the EL3/EL2 state a
   * guest kernel entered at EL1 needs.
   */
  static open(
    uc: UnicornSymbols,
    model: CpuModel | "max",
    options: EngineOptions = {},
  ): Engine {
    if (model === "max") {
      throw new VcpuError(
        "UNSUPPORTED_CPU_MODEL",
        'CPU model "max" is refused: in Unicorn 2.0.1 its SVE support trips an assertion ' +
          "inside the library when Linux probes the vector length, aborting the whole process. " +
          'Use "cortex-a72" or "cortex-a53".',
      );
    }
    const id = CPU_MODEL_IDS[model];
    if (id === undefined) {
      throw new VcpuError(
        "UNSUPPORTED_CPU_MODEL",
        `unknown CPU model ${JSON.stringify(model)}; choose cortex-a72, cortex-a53 or cortex-a57`,
      );
    }
    const mappingsBefore = options.watchTranslations ? executableMappings() : undefined;
    const out = new BigUint64Array(1);
    check(uc, uc.uc_open(UC_ARCH_ARM64, UC_MODE_ARM, out), "uc_open");
    const handle = Deno.UnsafePointer.create(out[0]);
    if (handle === null) throw new VcpuError("ENGINE_ERROR", "uc_open returned a null engine");
    const engine = new Engine(uc, handle);
    try {
      // The model and the buffer must be chosen before anything makes Unicorn create the CPU.
      engine.ctl1(ucCtl(UC_CTL_CPU_MODEL, 1, true), id, "select the CPU model");
      if (options.translationBufferBytes !== undefined) {
        engine.ctl1(
          ucCtl(UC_CTL_TCG_BUFFER_SIZE, 1, true),
          options.translationBufferBytes,
          "size the translation buffer",
        );
      }
      // With exits enabled uc_emu_start ignores its `until` argument, so no
      // guest address (not even 0) stops the run by accident.
      engine.ctl1(ucCtl(UC_CTL_UC_USE_EXITS, 1, true), 1, "disable the until address");
      engine.writeSys(SYSREGS.SCR_EL3, SCR_EL3_BOOT);
      engine.writeSys(SYSREGS.HCR_EL2, HCR_EL2_BOOT);
      // Lets EL1 read the physical counter, as the boot protocol asks.
      engine.writeSys(SYSREGS.CNTHCTL_EL2, 3n);
      if (mappingsBefore) {
        engine.translations = TranslationCache.locate(
          mappingsBefore,
          options.translationBufferBytes ?? ENGINE_DEFAULT_BUFFER_BYTES,
        );
      }
    } catch (e) {
      engine.close();
      throw e;
    }
    return engine;
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The library's symbols. */
  get symbols(): UnicornSymbols {
    return this.#uc;
  }

  /** Reads a register by Unicorn id. */
  readReg(id: number): bigint {
    check(this.#uc, this.#uc.uc_reg_read(this.handle, id, this.#u64), "uc_reg_read");
    return this.#u64[0];
  }

  /** Writes a register by Unicorn id. */
  writeReg(id: number, value: bigint): void {
    this.#u64[0] = value;
    check(this.#uc, this.#uc.uc_reg_write(this.handle, id, this.#u64), "uc_reg_write");
  }

  /** Reads `Xn`. */
  readX(n: number): bigint {
    return this.readReg(xReg(n));
  }

  /** Writes `Xn`. */
  writeX(n: number, value: bigint): void {
    this.writeReg(xReg(n), value);
  }

  /** Reads the program counter. */
  readPc(): bigint {
    return this.readReg(REG.PC);
  }

  #cpFor(reg: SysReg): CpRegBuffer {
    let b = this.#cp.get(reg);
    if (!b) {
      b = new CpRegBuffer(reg);
      this.#cp.set(reg, b);
    }
    return b;
  }

  /** Reads a system register. */
  readSys(reg: SysReg): bigint {
    const b = this.#cpFor(reg);
    check(this.#uc, this.#uc.uc_reg_read(this.handle, REG.CP_REG, b.bytes), `read ${reg.name}`);
    return b.value;
  }

  /** Writes a system register. */
  writeSys(reg: SysReg, value: bigint): void {
    const b = this.#cpFor(reg);
    b.value = value;
    check(this.#uc, this.#uc.uc_reg_write(this.handle, REG.CP_REG, b.bytes), `write ${reg.name}`);
  }

  /**
   * Makes the engine recompute the CPU state it caches (the exception level
   * its MMU lookups use, among others) after a PSTATE write. Unicorn 2.1
   * recomputes it after every system-register write; PAR_EL1, written back
   * with its own value, is one without side effects.
   */
  recomputeState(): void {
    this.writeSys(SYSREGS.PAR_EL1, this.readSys(SYSREGS.PAR_EL1));
  }

  /** Maps host memory (whose lifetime the caller guarantees) at a guest-physical address. */
  mapPtr(base: number, bytes: Uint8Array<ArrayBuffer>): void {
    check(
      this.#uc,
      this.#uc.uc_mem_map_ptr(this.handle, BigInt(base), BigInt(bytes.byteLength), 7, bytes),
      `uc_mem_map_ptr at 0x${base.toString(16)}`,
    );
  }

  /** Unmaps a range. */
  unmap(base: bigint, size: bigint): void {
    check(this.#uc, this.#uc.uc_mem_unmap(this.handle, base, size), "uc_mem_unmap");
  }

  /** Maps an MMIO range whose accesses call the given native callbacks. */
  mmioMap(
    base: bigint,
    size: bigint,
    read: Deno.PointerObject,
    write: Deno.PointerObject,
    userData: Deno.PointerValue,
  ): void {
    check(
      this.#uc,
      this.#uc.uc_mmio_map(this.handle, base, size, read, userData, write, userData),
      `uc_mmio_map at 0x${base.toString(16)}`,
    );
    // MMIO regions start without permissions in 2.0.1; the address-space cover
    // only works when they allow everything.
    check(this.#uc, this.#uc.uc_mem_protect(this.handle, base, size, 7), "uc_mem_protect");
  }

  /**
   * Adds a hook, over all addresses or over `[range.begin, range.end]`
   * (inclusive); returns its handle.
   */
  hookAdd(
    type: number,
    callback: Deno.PointerObject,
    insn?: number,
    userData: Deno.PointerValue = null,
    range: { begin: bigint; end: bigint } = { begin: 1n, end: 0n },
  ): bigint {
    const h = new BigUint64Array(1);
    const { begin, end } = range;
    const err = insn === undefined
      ? this.#uc.uc_hook_add(this.handle, h, type, callback, userData, begin, end)
      : this.#uc.uc_hook_add_insn(this.handle, h, type, callback, userData, begin, end, insn);
    check(this.#uc, err, "uc_hook_add");
    return h[0];
  }

  /** `uc_ctl` with one integer argument. */
  ctl1(code: number, arg: number, what: string): void {
    check(this.#uc, this.#uc.uc_ctl_1(this.handle, code, BigInt(arg)), `uc_ctl (${what})`);
  }

  /**
   * Drops translated code for a range, or all of it. Unicorn translates the
   * range's start through the guest's current MMU state, so a guest-physical
   * range is only right while the MMU is off (after a reset). Dropping
   * everything costs tens of milliseconds; a range, well under one.
   */
  flushCode(base?: number, size?: number): void {
    if (base === undefined || size === undefined) {
      check(
        this.#uc,
        this.#uc.uc_ctl_1(this.handle, ucCtl(UC_CTL_TB_FLUSH, 0, true), 0n),
        "uc_ctl (flush translated code)",
      );
    } else {
      check(
        this.#uc,
        this.#uc.uc_ctl_2(
          this.handle,
          ucCtl(UC_CTL_TB_REMOVE_CACHE, 2, true),
          BigInt(base),
          BigInt(base + size),
        ),
        "uc_ctl (remove translated code)",
      );
    }
  }

  /** Runs from `pc` for at most `count` instructions (0: no limit). Returns the `uc_err`. */
  start(pc: bigint, count: number): number {
    const err = this.#uc.uc_emu_start(this.handle, pc, 0n, 0n, BigInt(count));
    return err[0] | (err[1] << 8) | (err[2] << 16) | (err[3] << 24);
  }

  /** Requests the engine to stop; only safe from an interrupt hook. */
  stop(): void {
    this.#uc.uc_emu_stop(this.handle);
  }

  /** Releases the engine. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#uc.uc_close(this.handle);
    this.translations?.close();
  }
}

/** Throws a {@link VcpuError} for a non-zero `uc_err`. */
export function check(uc: UnicornSymbols, err: number, what: string): void {
  if (err === 0) return;
  const ptr = uc.uc_strerror(err);
  const text = ptr ? Deno.UnsafePointerView.getCString(ptr) : "";
  throw new VcpuError("ENGINE_ERROR", `${what} failed: ${ucErrName(err)} (${text})`);
}

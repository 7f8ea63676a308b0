/**
 * An AArch64 vCPU on a Unicorn engine: register access, an IRQ input line,
 * the EL1 virtual and physical timers, delivery of synchronous exceptions
 * into the guest's own EL1 vectors, and a run loop that returns typed exits.
 * The vCPUs of one guest share one engine and its memory map, taking turns
 * in it (`_core.ts`).
 *
 * How it regains control: only at block boundaries and through the engine's
 * interrupt hook. Unicorn 2.0.1 rewinds the PC to the start of the translated
 * block when stopped from another thread or from a memory callback, so code
 * that already ran (stores included) would run again. Slices are counted by a
 * native block hook (`block_budget.ts`) that stops the engine before a block's
 * first instruction, or, where that hook is unavailable, by the engine's own
 * per-instruction count; both stop exactly. A stop requested from an MMIO
 * handler takes effect at the next block boundary with the block hook, at
 * the end of the slice without it.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Region } from "./address_space.ts";
import { HCR_EL2_BOOT } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { MmioHandler, VcpuExit, VcpuStats } from "./exits.ts";
import { ExceptionEntry } from "./_exception_entry.ts";
import { SystemTraps } from "./_system_traps.ts";
import { HCR_EL2_VM } from "./_stage2.ts";
import type { VcpuCore } from "./_core.ts";
import { GuestDebug } from "./_guest_debug.ts";
import type { DebugHooks } from "./_debug_hooks.ts";
import { VcpuDebug } from "./debug.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";
import type { GenericTimer } from "./generic_timer.ts";
import { DEFAULT_SLICE_INSTRUCTIONS, type SliceCounter, type VcpuOptions } from "./vcpu_options.ts";
import { VcpuClock } from "./_vcpu_clock.ts";
import { VcpuRunner } from "./_vcpu_runner.ts";
import { openCore, openDebugHooks, setUpCore, type VcpuTenant } from "./_vcpu_setup.ts";

export {
  COUNTER_FREQUENCY_HZ,
  DEFAULT_SLICE_INSTRUCTIONS,
  DEFAULT_TRANSLATION_BUFFER_BYTES,
  type SliceCounter,
  type VcpuOptions,
} from "./vcpu_options.ts";

/** Translated code beyond which a reboot empties the engine's buffer (see `invalidateAllCode`). */
const REBOOT_FLUSH_BYTES = 16 * 1024 * 1024;

/**
 * One AArch64 vCPU. Create it, map RAM and MMIO regions, set the entry state,
 * then call {@link run} in a loop and react to each {@link VcpuExit}.
 *
 * Release it with `close()` or a `using` declaration: the engine (once its
 * last vCPU is closed), its callbacks and saved states are freed
 * deterministically.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x10_0000);
 * ram.set([0x02, 0x00, 0x00, 0xd4]); // hvc #0
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * assert.equal(vcpu.run().reason, "hvc");
 * ```
 */
export class Vcpu implements Disposable {
  /** Index of this vCPU (MPIDR affinity 0). */
  readonly id: number;
  /** Counters for diagnostics. */
  readonly stats: VcpuStats = {
    runs: 0,
    instructions: 0,
    exceptions: 0,
    hvc: 0,
    smc: 0,
    wfi: 0,
    sysregWrites: 0,
    mmioReads: 0,
    mmioWrites: 0,
    unbackedReads: 0,
    unbackedWrites: 0,
    lastUnbackedAddress: -1,
    cacheMaintenance: 0,
    translationFlushes: 0,
  };
  /** The virtual timer's state (read it; the guest writes it). */
  readonly timer: GenericTimer;
  /** The EL1 physical timer's state (read it; the guest writes it). */
  readonly physicalTimer: GenericTimer;
  /** How this vCPU counts slices. */
  readonly sliceCounter: SliceCounter;
  /** A host debugger's access: memory by virtual address, registers, breakpoints, watchpoints. */
  readonly debug: VcpuDebug;

  readonly #core: VcpuCore;
  readonly #tenant: VcpuTenant;
  readonly #clock: VcpuClock;
  readonly #runner: VcpuRunner;
  readonly #traps: SystemTraps;
  readonly #guestDebug: GuestDebug;
  readonly #debugHooks: DebugHooks;
  #closed = false;

  /**
   * Creates a vCPU in the state a kernel entered at EL1h expects: EL3 and EL2
   * configured as firmware would leave them, MMU and caches off, DAIF masked.
   *
   * @throws {VcpuError} `UNSUPPORTED_CPU_MODEL`, `INVALID_ARGUMENT`,
   *   `CALIBRATION_FAILED` or `ENGINE_ERROR`.
   */
  constructor(options: VcpuOptions) {
    const id = options.id ?? 0;
    if (!Number.isInteger(id) || id < 0 || id > 255) {
      throw new VcpuError("INVALID_ARGUMENT", `vCPU id must be an integer 0..255, got ${id}`);
    }
    const slice = options.sliceInstructions ?? DEFAULT_SLICE_INSTRUCTIONS;
    if (!Number.isInteger(slice) || slice < 1000 || slice > 2 ** 31) {
      throw new VcpuError(
        "INVALID_ARGUMENT",
        `sliceInstructions must be an integer from 1000 to 2^31, got ${slice}`,
      );
    }
    this.id = id;
    const shared = options.shareWith;
    if (shared && shared.#closed) throw new VcpuError("CLOSED", `vCPU ${shared.id} is closed`);
    const core = shared ? shared.#core : openCore(options);
    this.#core = core;
    this.sliceCounter = core.budget ? "native" : "engine";
    const engine = core.engine;
    const inEngine = () => core.tenant === this.#tenant;
    this.#clock = new VcpuClock({
      engine,
      stats: this.stats,
      inEngine,
      // The runner is made below; the clock is not read before.
      retiredInRun: () => this.#runner.retiredInRun(),
      fail: (e) => this.#runner.fail(e),
    }, options);
    this.timer = this.#clock.timer;
    this.physicalTimer = this.#clock.physical;
    const library = core.library;
    this.#traps = new SystemTraps(engine, this.stats, {
      cacheMaintenance: shared
        ? shared.#traps.hcrBits !== 0n
        : options.trapCacheMaintenance ?? !library.storesInvalidateCode,
      stateFollowsSysregWrites: library.atLeast(2, 1, 0),
      pmu: options.pmu,
    });
    const hcr = HCR_EL2_BOOT | HCR_EL2_VM | this.#traps.hcrBits;
    this.#guestDebug = new GuestDebug(this.#traps.debug, engine);
    this.#debugHooks = shared ? shared.#debugHooks : openDebugHooks(core);
    this.#debugHooks.register(this.#guestDebug);
    this.#runner = new VcpuRunner({
      id,
      core,
      stats: this.stats,
      slice,
      clock: this.#clock,
      entry: new ExceptionEntry(engine),
      traps: this.#traps,
      guestDebug: this.#guestDebug,
      debugHooks: this.#debugHooks,
      hcr,
      inEngine,
    });
    this.debug = new VcpuDebug({
      enter: () => this.#enter(),
      engine,
      regions: () => core.memory.regions,
      points: this.#debugHooks.points,
      stop: this.#debugHooks.stop,
      dropCode: () => engine.flushCode(),
    });
    let context: Deno.PointerObject | undefined;
    try {
      context = core.allocContext();
      const tenant: VcpuTenant = {
        id,
        stats: this.stats,
        context,
        runner: this.#runner,
        clock: this.#clock,
        swappedIn: () => this.#runner.swappedIn(),
        fail: (e) => this.#runner.fail(e),
      };
      this.#tenant = tenant;
      if (!shared) {
        setUpCore(core, {
          hcr,
          mdcrBits: this.#traps.mdcrBits,
          vmmClock: this.#clock.hasVmmClock,
        });
      }
      core.adopt(tenant);
      // Guest time starts at 0; the vCPUs of one guest share it.
      this.#clock.offset = shared ? shared.#clock.offset : engine.readSys(SYSREGS.CNTPCT_EL0);
      engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#clock.offset);
    } catch (e) {
      if (context) library.symbols.uc_context_free(context);
      if (!shared) core.close();
      throw e;
    }
    core.users++;
  }

  /** Puts this vCPU in the engine, for an operation on its registers. */
  #enter(): void {
    this.#assertOpen();
    this.#core.activate(this.#tenant);
  }

  // ---------------------------------------------------------------------------
  // Memory (shared by every vCPU of the engine)

  /**
   * Maps guest RAM at a guest-physical address, for every vCPU of this
   * engine. The engine reads and writes `bytes` directly (no copies), so the
   * same buffer can be shared by the loader and device models. The vCPU keeps
   * `bytes` alive.
   *
   * @throws {VcpuError} `BAD_REGION` for misaligned, overlapping or oversized regions.
   */
  mapRam(base: number, bytes: Uint8Array<ArrayBuffer>): void {
    this.#assertMapIdle("map RAM");
    this.#core.memory.mapRam(base, bytes);
  }

  /**
   * Maps a device region, for every vCPU of this engine. Each guest access
   * calls `handler` with a decoded, reused {@link MmioAccess} record whose
   * `cpu` is the accessing vCPU.
   *
   * @throws {VcpuError} `BAD_REGION` for misaligned or overlapping regions or
   *   regions larger than 4 GiB.
   */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    this.#assertMapIdle("map MMIO");
    this.#core.memory.mapMmio(base, size, handler);
  }

  /** The guest-physical map, sorted by address. */
  get regions(): readonly Region[] {
    return this.#core.memory.regions;
  }

  /** Context swaps between the vCPUs of this engine so far. */
  get contextSwitches(): number {
    return this.#core.swaps;
  }

  /**
   * Drops every translation of guest RAM, for a reboot that reloaded it. An
   * engine buffer holding much code (16 MiB) is emptied outright and its
   * memory returned, so a guest rebooting in a loop keeps the process's
   * memory flat; otherwise RAM's ranges are dropped, which needs the MMU off
   * (call it after {@link reset}).
   */
  invalidateAllCode(): void {
    this.#assertIdle("invalidate code");
    this.#enter();
    const engine = this.#core.engine;
    const cache = engine.translations;
    if (cache?.usedAtLeast(REBOOT_FLUSH_BYTES)) {
      engine.flushCode();
      cache.release();
      this.stats.translationFlushes++;
      return;
    }
    for (const r of this.#core.memory.regions) {
      if (r.kind === "ram") engine.flushCode(r.base, r.size);
    }
  }

  /**
   * Whether the engine's buffer of translated code is watched and emptied
   * before it fills (`_translation_cache.ts`). False where it could not be
   * found (not Linux, or the engine mapped it unlike the versions known);
   * a guest that rewrites code without end then meets the engine's own
   * handling, which crashes Unicorn 2.0.1 and 2.1.1.
   */
  get watchesTranslations(): boolean {
    this.#assertOpen();
    return this.#core.engine.translations !== undefined;
  }

  /**
   * Drops translated code for a range the VMM rewrote behind the engine's back
   * (images loaded into RAM, for instance). The range is taken through this
   * vCPU's current MMU state, so call it while the MMU is off (after
   * {@link reset}).
   */
  invalidateCode(base: number, size: number): void {
    this.#assertIdle("invalidate code");
    this.#enter();
    if (size > 0) this.#core.engine.flushCode(base, size);
  }

  // ---------------------------------------------------------------------------
  // Registers

  /** Reads general-purpose register `Xn` (0–30). */
  getX(n: number): bigint {
    this.#enter();
    checkGpr(n);
    return this.#core.engine.readX(n);
  }

  /** Writes general-purpose register `Xn` (0–30). */
  setX(n: number, value: bigint | number): void {
    this.#enter();
    checkGpr(n);
    this.#core.engine.writeX(n, BigInt.asUintN(64, BigInt(value)));
  }

  /** The program counter. */
  getPc(): bigint {
    this.#enter();
    return this.#core.engine.readPc();
  }

  /** Sets the program counter. */
  setPc(value: bigint | number): void {
    this.#enter();
    this.#core.engine.writeReg(REG.PC, BigInt.asUintN(64, BigInt(value)));
  }

  /** The stack pointer of the current exception level. */
  getSp(): bigint {
    this.#enter();
    return this.#core.engine.readReg(REG.SP);
  }

  /** PSTATE (NZCV, DAIF, EL and SP selection, as SPSR encodes them). */
  getPstate(): bigint {
    this.#enter();
    return this.#core.engine.readReg(REG.PSTATE);
  }

  /** Reads a system register. */
  readSysReg(reg: SysReg): bigint {
    this.#enter();
    return this.#core.engine.readSys(reg);
  }

  /** Writes a system register. */
  writeSysReg(reg: SysReg, value: bigint): void {
    this.#enter();
    this.#core.engine.writeSys(reg, BigInt.asUintN(64, value));
  }

  /**
   * Sets where the vCPU starts: `pc`, `x0` (the DTB address for Linux, the
   * context id for PSCI CPU_ON) and x1–x3 = 0, as the boot protocol asks.
   */
  setEntry(pc: bigint | number, x0: bigint | number): void {
    this.setPc(pc);
    this.setX(0, x0);
    for (let n = 1; n <= 3; n++) this.setX(n, 0n);
  }

  /**
   * Returns the vCPU to its power-on state: registers, system registers and
   * the timers as after construction, IRQ line low, no pending stop.
   * Memory maps are kept; guest time continues.
   */
  reset(): void {
    this.#assertIdle("reset");
    this.#enter();
    const core = this.#core;
    core.restore(core.pristine);
    core.engine.writeSys(SYSREGS.VMPIDR_EL2, 0x8000_0000n | BigInt(this.id));
    this.#clock.reset();
    this.#traps.debug.reset();
    this.#guestDebug.reset();
    this.#debugHooks.register(this.#guestDebug);
    this.#runner.reset();
  }

  // ---------------------------------------------------------------------------
  // Interrupt input and time

  /** The level of the IRQ input. */
  get irqLine(): boolean {
    return this.#runner.irqLine;
  }

  /**
   * Drives the IRQ input (the interrupt controller's output for this vCPU).
   * The guest takes the interrupt at its IRQ vector when PSTATE.I is clear.
   * Raised while this vCPU runs, the run ends at the next block boundary so
   * the interrupt is taken at once; raised while another vCPU of the engine
   * runs, that one's run ends there, so the VMM can let this one take it.
   */
  setIrqLine(level: boolean): void {
    if (level === this.#runner.irqLine) return;
    this.#assertOpen();
    this.#runner.setIrqLine(level, this.#core.tenant === this.#tenant);
  }

  /** The engine's physical counter (CNTPCT_EL0), which follows the host clock: the same for every vCPU. */
  physicalCounter(): bigint {
    this.#assertOpen();
    return this.#clock.physicalNow();
  }

  /**
   * The guest counter (CNTVCT_EL0) in ticks of {@link COUNTER_FREQUENCY_HZ}:
   * the `clock` option's when given, the engine's otherwise.
   */
  counter(): bigint {
    this.#assertOpen();
    return this.#clock.counter();
  }

  /**
   * CNTVOFF_EL2: guest counter = engine counter − offset. Lowering it moves
   * guest time forward (skipping idle periods); keep it equal on all vCPUs.
   */
  get counterOffset(): bigint {
    this.#assertOpen();
    return this.#clock.offset;
  }

  set counterOffset(value: bigint) {
    this.#assertOpen();
    this.#clock.offset = value;
  }

  /** The virtual timer's output level. */
  get timerLevel(): boolean {
    return this.#clock.virtualTimer.level;
  }

  /** The EL1 physical timer's output level. */
  get physicalTimerLevel(): boolean {
    return this.#clock.physicalTimer.level;
  }

  /**
   * Re-evaluates both timers against their counters: updates ISTATUS as the
   * guest reads it and reports changes of the output levels. Called at every
   * slice end; call it also when the guest acknowledges interrupts. Works
   * whether or not this vCPU is the one in the engine.
   */
  updateTimer(): void {
    this.#assertOpen();
    this.#clock.update();
  }

  /**
   * The guest counter value (CNTVCT_EL0) at which a timer whose output is low
   * now will raise it, or `undefined` if none will without a register write.
   * A timer whose output is already high is left out: if the interrupt
   * controller has not delivered it, waiting for it wakes nothing.
   */
  timerDeadline(): bigint | undefined {
    this.#assertOpen();
    return this.#clock.deadline();
  }

  // ---------------------------------------------------------------------------
  // Running

  /**
   * Asks the vCPU to stop. Safe from any callback: the run ends with a
   * `stopped` exit at the next block boundary (with the native slice counter)
   * or when the current slice ends; a vCPU that is not running reports it at
   * its next run.
   */
  requestStop(): void {
    this.#runner.requestStop();
  }

  /** Whether a stop was requested and not yet reported. */
  get stopRequested(): boolean {
    return this.#runner.stopRequested;
  }

  /**
   * Runs the guest until something needs the VMM: at most one slice of
   * instructions, an HVC/SMC, a WFI, or a stop request. Synchronous
   * exceptions are delivered into the guest along the way.
   *
   * @returns the exit record (reused; valid until the next call)
   * @throws {VcpuError} `CALLBACK_FAILED` if an MMIO handler or listener
   *   threw (the error is the `cause`), `EXCEPTION_DELIVERY_FAILED`,
   *   `ENGINE_ERROR`, `CLOSED`, `INVALID_STATE` (another vCPU of the
   *   engine runs).
   */
  run(): VcpuExit {
    this.#assertIdle("run");
    this.#enter();
    return this.#runner.run();
  }

  /**
   * Runs exactly one instruction, holding interrupts back (they are neither
   * taken nor lost because of the step), and returns a `debug` exit whose
   * record says `step`; an instruction that raises an exception ends the
   * step at its vector. An HVC, SMC or WFI returns its own exit, the
   * instruction done; a host watchpoint on its access returns `debug` with
   * `watchpoint` and the instruction not executed. A host breakpoint at the
   * PC does not stop a step.
   *
   * @throws {VcpuError} as {@link run}.
   */
  step(): VcpuExit {
    this.#assertIdle("step");
    this.#enter();
    return this.#runner.step();
  }

  // ---------------------------------------------------------------------------
  // Lifecycle

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new VcpuError("CLOSED", `vCPU ${this.id} is closed`);
  }

  #assertIdle(what: string): void {
    this.#assertOpen();
    if (this.#runner.running) {
      throw new VcpuError("INVALID_STATE", `cannot ${what} while vCPU ${this.id} is running`);
    }
  }

  #assertMapIdle(what: string): void {
    this.#assertOpen();
    if (this.#core.running) {
      throw new VcpuError("INVALID_STATE", `cannot ${what} while a vCPU of this engine runs`);
    }
  }

  /**
   * Frees this vCPU's saved state, and the engine with its callbacks when
   * this is its last vCPU. Idempotent.
   *
   * @throws {VcpuError} `INVALID_STATE` when called from inside one of this
   *   vCPU's callbacks while it runs: the engine cannot be freed under itself.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#runner.running) {
      throw new VcpuError(
        "INVALID_STATE",
        `cannot close vCPU ${this.id} from inside its own run; close it after run() returns`,
      );
    }
    this.#closed = true;
    const core = this.#core;
    if (core.tenant === this.#tenant) core.tenant = undefined;
    this.#debugHooks.unregister(this.#guestDebug);
    core.library.symbols.uc_context_free(this.#tenant.context);
    if (--core.users === 0) core.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkGpr(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 30) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `general-purpose register index must be 0..30, got ${n}`,
    );
  }
}

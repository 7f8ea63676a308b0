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

import {
  EXCP,
  REG,
  UC_ARM64_INS_MRS,
  UC_ARM64_INS_MSR,
  UC_ERR_FETCH_UNMAPPED,
  UC_ERR_READ_UNMAPPED,
  UC_HOOK_BLOCK,
  UC_HOOK_INSN,
  UC_HOOK_INTR,
  ucErrName,
} from "./constants.ts";
import type { Region } from "./address_space.ts";
import { HCR_EL2_BOOT, HCR_EL2_VI } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { MmioHandler, VcpuExit, VcpuExitReason, VcpuStats } from "./exits.ts";
import { ExceptionEntry } from "./_exception_entry.ts";
import { SystemTraps } from "./_system_traps.ts";
import { LAST_PAGE, UC_HOOK_MEM_UNMAPPED } from "./_last_page.ts";
import { HCR_EL2_VM } from "./_stage2.ts";
import { type CoreTenant, VcpuCore } from "./_core.ts";
import { COUNTER_NONE, COUNTER_PHYSICAL, TimerMsr } from "./_timer_msr.ts";
import { GuestDebug } from "./_guest_debug.ts";
import { DEBUG_DELIVER, DEBUG_STOP, DebugHooks, type DebugTenant } from "./_debug_hooks.ts";
import { HostDebugPoints } from "./debug_points.ts";
import { VcpuDebug } from "./debug.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";
import type { GenericTimer } from "./generic_timer.ts";
import { TimerTrap } from "./timer_trap.ts";
import {
  COUNTER_FREQUENCY_HZ,
  DEFAULT_SLICE_INSTRUCTIONS,
  type SliceCounter,
  translationBuffer,
  type VcpuOptions,
} from "./vcpu_options.ts";

export {
  COUNTER_FREQUENCY_HZ,
  DEFAULT_SLICE_INSTRUCTIONS,
  DEFAULT_TRANSLATION_BUFFER_BYTES,
  type SliceCounter,
  type VcpuOptions,
} from "./vcpu_options.ts";

/** Translated code beyond which a reboot empties the engine's buffer (see `invalidateAllCode`). */
const REBOOT_FLUSH_BYTES = 16 * 1024 * 1024;

// What the interrupt hook decided, read by run() after uc_emu_start returns.
const HOOK_NONE = 0;
const HOOK_HVC = 1;
const HOOK_SMC = 2;
const HOOK_DELIVERED = 3;
const HOOK_UNHANDLED = 4;
const HOOK_LOOP = 5;
const HOOK_FAILED = 6;
const HOOK_DEBUG = 7;

interface VcpuTenant extends CoreTenant {
  readonly vcpu: Vcpu;
}

/**
 * One AArch64 vCPU. Create it, map RAM and MMIO regions, set the entry state,
 * then call {@link run} in a loop and react to each {@link VcpuExit}.
 *
 * Release it with `close()` or a `using` declaration: the engine (once its
 * last vCPU is closed), its callbacks and saved states are freed
 * deterministically.
 *
 * @example
 * ```ts ignore
 * import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x10_0000);
 * ram.set([0x02, 0x00, 0x00, 0xd4]); // hvc #0
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * console.log(vcpu.run().reason); // "hvc"
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
  readonly #slice: number;
  readonly #virtualTimer: TimerTrap;
  readonly #physicalTimer: TimerTrap;
  readonly #exit: VcpuExit;
  readonly #entry: ExceptionEntry;
  readonly #traps: SystemTraps;
  readonly #guestDebug: GuestDebug;
  readonly #debugHooks: DebugHooks;
  readonly #debugTenant: DebugTenant;
  readonly #timerMsr = new TimerMsr();
  readonly #clock: ((retiredInRun: number) => bigint) | undefined;
  // HCR_EL2 as this vCPU runs the guest, without VI.
  readonly #hcr: bigint;

  #counterOffset = 0n;
  #irqLine = false;
  #stopRequested = false;
  #running = false;
  #closed = false;
  #hook = HOOK_NONE;
  #hookError: unknown = undefined;
  #stepping = false;

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
    this.#slice = slice;
    this.#clock = options.clock;
    this.#exit = {
      reason: "preempted",
      imm: 0,
      args: new BigUint64Array(8),
      deadline: undefined,
      exception: 0,
      syndrome: 0,
      instructions: 0,
      debug: { kind: "step", address: 0n, access: undefined },
    };
    const shared = options.shareWith;
    if (shared && shared.#closed) throw new VcpuError("CLOSED", `vCPU ${shared.id} is closed`);
    const core = shared ? shared.#core : Vcpu.#openCore(options);
    this.#core = core;
    this.sliceCounter = core.budget ? "native" : "engine";
    const engine = core.engine;
    this.#virtualTimer = new TimerTrap(engine, {
      control: SYSREGS.CNTV_CTL_EL0,
      compare: SYSREGS.CNTV_CVAL_EL0,
    }, options.onTimerLevel);
    this.#physicalTimer = new TimerTrap(engine, {
      control: SYSREGS.CNTP_CTL_EL0,
      compare: SYSREGS.CNTP_CVAL_EL0,
    }, options.onPhysicalTimerLevel);
    this.timer = this.#virtualTimer.timer;
    this.physicalTimer = this.#physicalTimer.timer;
    this.#entry = new ExceptionEntry(engine);
    const library = core.library;
    this.#traps = new SystemTraps(engine, this.stats, {
      cacheMaintenance: shared
        ? shared.#traps.hcrBits !== 0n
        : options.trapCacheMaintenance ?? !library.storesInvalidateCode,
      stateFollowsSysregWrites: library.atLeast(2, 1, 0),
      pmu: options.pmu,
    });
    this.#hcr = HCR_EL2_BOOT | HCR_EL2_VM | this.#traps.hcrBits;
    this.#guestDebug = new GuestDebug(this.#traps.debug, engine);
    this.#debugHooks = shared ? shared.#debugHooks : Vcpu.#openDebugHooks(core);
    this.#debugHooks.register(this.#guestDebug);
    this.#exit.debug = this.#debugHooks.stop;
    this.#debugTenant = {
      guest: this.#guestDebug,
      stopForDebug: () => {
        this.#hook = HOOK_DEBUG;
        engine.stop();
      },
      markForDebug: () => {
        this.#hook = HOOK_DEBUG;
      },
      deliver: (intno, syndrome, address) => {
        this.#deliver(intno, syndrome, address);
        engine.stop();
      },
      fail: (e) => this.#fail(e),
    };
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
      this.#tenant = {
        id,
        stats: this.stats,
        context,
        vcpu: this,
        swappedIn: () => this.#swappedIn(),
        fail: (e) => this.#fail(e),
      };
      if (!shared) this.#setUpCore();
      core.adopt(this.#tenant);
      // Guest time starts at 0; the vCPUs of one guest share it.
      this.#counterOffset = shared ? shared.#counterOffset : engine.readSys(SYSREGS.CNTPCT_EL0);
      engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#counterOffset);
    } catch (e) {
      if (context) library.symbols.uc_context_free(context);
      if (!shared) core.close();
      throw e;
    }
    core.users++;
  }

  static #openCore(options: VcpuOptions): VcpuCore {
    const library = options.library;
    const blockHook = options.sliceCounter === "engine" ? undefined : library.blockHook;
    if (options.sliceCounter === "native" && blockHook === undefined) {
      throw new VcpuError(
        "INVALID_ARGUMENT",
        `sliceCounter "native" is unavailable here: ${library.sliceCounterUnavailable}`,
      );
    }
    if (blockHook === undefined && library.layout.instructionCounterOffset === undefined) {
      throw library.calibrationFailure(
        "could not locate the engine's instruction counter, and without the native slice " +
          `counter (${library.sliceCounterUnavailable ?? "not chosen"}) ` +
          "WFI cannot be told apart from the end of a slice",
      );
    }
    const core = new VcpuCore({
      library,
      cpuModel: options.cpuModel ?? "cortex-a72",
      translationBufferBytes: translationBuffer(options),
      onUnbackedAccess: options.onUnbackedAccess,
    });
    try {
      if (blockHook) {
        core.budget = blockHook.budget();
        core.engine.hookAdd(UC_HOOK_BLOCK, blockHook.pointer, undefined, core.budget.pointer);
      }
    } catch (e) {
      core.close();
      throw e;
    }
    return core;
  }

  // The debug instrumentation the vCPUs of an engine share (`_debug_hooks.ts`).
  static #openDebugHooks(core: VcpuCore): DebugHooks {
    let scratch: Deno.PointerObject | undefined;
    const offset = core.layout.instructionCounterOffset;
    const count = core.budget === undefined && offset !== undefined
      ? new DataView(Deno.UnsafePointerView.getArrayBuffer(core.engine.handle, 8, offset))
      : undefined;
    const ram = (pa: bigint, size: number) =>
      core.memory.regions.some((r) =>
        r.kind === "ram" && pa >= BigInt(r.base) && pa + BigInt(size) <= BigInt(r.base + r.size)
      );
    return new DebugHooks(new HostDebugPoints(), {
      engine: core.engine,
      tenant: () => (core.tenant as VcpuTenant).vcpu.#debugTenant,
      memoryHooksVirtual: () => core.library.memoryHooksVirtual,
      engineCounts: core.budget === undefined,
      isRam: ram,
      budget: core.budget,
      instructionCount: count,
      saveState: () => core.save(scratch ??= core.allocContext()),
      restoreState: () => core.restore(scratch!),
      callbacks: core.callbacks,
    });
  }

  // The first vCPU of an engine: the EL2 and EL3 state every vCPU starts
  // from, the hooks (which serve whichever vCPU is in the engine), and the
  // saved set-up state a reset returns to.
  #setUpCore(): void {
    const core = this.#core;
    const engine = core.engine;
    engine.writeSys(SYSREGS.HCR_EL2, this.#hcr);
    engine.writeSys(SYSREGS.MDCR_EL2, engine.readSys(SYSREGS.MDCR_EL2) | this.#traps.mdcrBits);
    engine.writeSys(SYSREGS.CNTFRQ_EL0, BigInt(COUNTER_FREQUENCY_HZ));
    const tenant = () => (core.tenant as VcpuTenant).vcpu;
    const intr = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u32", "pointer"], result: "void" } as const,
      (_uc, intno) => tenant().#onException(intno),
    );
    core.callbacks.push(intr);
    engine.hookAdd(UC_HOOK_INTR, intr.pointer);
    const msr = new Deno.UnsafeCallback(
      { parameters: ["pointer", "i32", "pointer", "pointer"], result: "u32" } as const,
      (_uc, _reg, cpReg) => tenant().#onMsr(cpReg),
    );
    core.callbacks.push(msr);
    engine.hookAdd(UC_HOOK_INSN, msr.pointer, UC_ARM64_INS_MSR);
    if (this.#clock) {
      // Only for a VMM clock: every MRS then leaves the translated code.
      const mrs = new Deno.UnsafeCallback(
        { parameters: ["pointer", "i32", "pointer", "pointer"], result: "u32" } as const,
        (_uc, reg, cpReg) => tenant().#onMrs(reg, cpReg),
      );
      core.callbacks.push(mrs);
      engine.hookAdd(UC_HOOK_INSN, mrs.pointer, UC_ARM64_INS_MRS);
    }
    const lastPage = core.lastPage;
    if (lastPage) {
      // Over the last page only: it holds no RAM, so no store takes a slower path for it.
      const unmapped = new Deno.UnsafeCallback(
        {
          parameters: ["pointer", "i32", "u64", "i32", "i64", "pointer"],
          result: "bool",
        } as const,
        (_uc, type, address) => {
          lastPage.record(type, address);
          return false;
        },
      );
      core.callbacks.push(unmapped);
      engine.hookAdd(UC_HOOK_MEM_UNMAPPED, unmapped.pointer, undefined, null, {
        begin: LAST_PAGE,
        end: 0xffff_ffff_ffff_ffffn,
      });
    }
    core.save(core.pristine);
  }

  // Back in the engine: what changed while this vCPU was out (its IRQ line,
  // guest time, the timers' ISTATUS) reaches its registers.
  #swappedIn(): void {
    const engine = this.#core.engine;
    engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | (this.#irqLine ? HCR_EL2_VI : 0n));
    engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#counterOffset);
    this.updateTimer();
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
    core.engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#counterOffset);
    this.#virtualTimer.reset();
    this.#physicalTimer.reset();
    this.#irqLine = false;
    this.#stopRequested = false;
    this.#entry.reset();
    this.#traps.debug.reset();
    this.#guestDebug.reset();
    this.#debugHooks.register(this.#guestDebug);
    core.engine.writeSys(SYSREGS.HCR_EL2, this.#hcr);
  }

  // ---------------------------------------------------------------------------
  // Interrupt input and time

  /** The level of the IRQ input. */
  get irqLine(): boolean {
    return this.#irqLine;
  }

  /**
   * Drives the IRQ input (the interrupt controller's output for this vCPU).
   * The guest takes the interrupt at its IRQ vector when PSTATE.I is clear.
   * Raised while this vCPU runs, the run ends at the next block boundary so
   * the interrupt is taken at once; raised while another vCPU of the engine
   * runs, that one's run ends there, so the VMM can let this one take it.
   */
  setIrqLine(level: boolean): void {
    if (level === this.#irqLine) return;
    this.#irqLine = level;
    this.#assertOpen();
    const core = this.#core;
    if (core.tenant !== this.#tenant) {
      // Applied when this vCPU is next in the engine.
      if (level && core.running) core.budget?.exhaust();
      return;
    }
    // During an exception delivery VI is in use, and a step holds interrupts
    // back; the line is applied after either. While debug code hooks are
    // installed the engine would take an interrupt between two blocks with a
    // stale return address (see `_debug_hooks.ts`), so a raised line is
    // applied when the run next starts.
    const debugHooks = this.#running && this.#debugHooks.codeHooks;
    if (this.#hook !== HOOK_DELIVERED && !this.#stepping && !(level && debugHooks)) {
      core.engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | (level ? HCR_EL2_VI : 0n));
    }
    // The engine only looks at VI between blocks it returns to its main loop
    // for; ending the run at the next block boundary (run() goes on at once)
    // lets a raised line be taken without waiting for the slice to end.
    if (level && this.#running) {
      if (core.budget) core.budget.exhaust();
      else if (debugHooks && this.#hook === HOOK_NONE) this.#debugHooks.stopSoon(false);
    }
  }

  // The physical counter is the engine's clock, the same whichever vCPU is in it.
  #physicalNow(): bigint {
    return this.#core.engine.readSys(SYSREGS.CNTPCT_EL0);
  }

  /** The engine's physical counter (CNTPCT_EL0), which follows the host clock: the same for every vCPU. */
  physicalCounter(): bigint {
    this.#assertOpen();
    return this.#physicalNow();
  }

  /**
   * The guest counter (CNTVCT_EL0) in ticks of {@link COUNTER_FREQUENCY_HZ}:
   * the `clock` option's when given, the engine's otherwise.
   */
  counter(): bigint {
    this.#assertOpen();
    const clock = this.#clock;
    if (clock === undefined) return BigInt.asUintN(64, this.#physicalNow() - this.#counterOffset);
    return clock(this.#running ? this.#retiredInRun() : 0);
  }

  // Instructions retired in the current run so far, as the slice counter has
  // counted them: whole blocks, when entered.
  #retiredInRun(): number {
    const core = this.#core;
    const counter = core.budget;
    const now = counter
      ? counter.counted
      : core.engineView.getUint32(core.layout.instructionCounterOffset!);
    return this.#exit.instructions + now;
  }

  /**
   * CNTVOFF_EL2: guest counter = engine counter − offset. Lowering it moves
   * guest time forward (skipping idle periods); keep it equal on all vCPUs.
   */
  get counterOffset(): bigint {
    this.#assertOpen();
    return this.#counterOffset;
  }

  set counterOffset(value: bigint) {
    this.#assertOpen();
    this.#counterOffset = BigInt.asUintN(64, value);
    if (this.#core.tenant === this.#tenant) {
      this.#core.engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#counterOffset);
    }
  }

  /** The virtual timer's output level. */
  get timerLevel(): boolean {
    return this.#virtualTimer.level;
  }

  /** The EL1 physical timer's output level. */
  get physicalTimerLevel(): boolean {
    return this.#physicalTimer.level;
  }

  /**
   * Re-evaluates both timers against their counters: updates ISTATUS as the
   * guest reads it and reports changes of the output levels. Called at every
   * slice end; call it also when the guest acknowledges interrupts. Works
   * whether or not this vCPU is the one in the engine.
   */
  updateTimer(): void {
    this.#assertOpen();
    const inEngine = this.#core.tenant === this.#tenant;
    const virtual = this.counter();
    this.#virtualTimer.update(virtual, inEngine);
    this.#physicalTimer.update(BigInt.asUintN(64, virtual + this.#counterOffset), inEngine);
  }

  /**
   * The guest counter value (CNTVCT_EL0) at which a timer whose output is low
   * now will raise it, or `undefined` if none will without a register write.
   * A timer whose output is already high is left out: if the interrupt
   * controller has not delivered it, waiting for it wakes nothing.
   */
  timerDeadline(): bigint | undefined {
    this.#assertOpen();
    let due = this.#virtualTimer.level ? undefined : this.timer.deadline();
    const physical = this.#physicalTimer.level ? undefined : this.physicalTimer.deadline();
    if (physical !== undefined) {
      // The physical timer compares against CNTPCT = CNTVCT + CNTVOFF.
      const inGuestTicks = physical - this.#counterOffset;
      if (due === undefined || inGuestTicks < due) due = inGuestTicks;
    }
    return due;
  }

  // The engine drops guest writes to the timer registers; trap them.
  #onMsr(cpReg: Deno.PointerValue): number {
    this.stats.sysregWrites++;
    if (cpReg === null) return 0;
    try {
      return this.#timerMsr.handle(
          cpReg,
          this.#core.engine,
          this.#virtualTimer,
          this.#physicalTimer,
          () => this.counter(),
          () => BigInt.asUintN(64, this.counter() + this.#counterOffset),
        )
        ? 1
        : 0;
    } catch (e) {
      this.#fail(e);
      return 1;
    }
  }

  // Counter reads under a VMM clock return its time.
  #onMrs(reg: number, cpReg: Deno.PointerValue): number {
    if (cpReg === null) return 0;
    try {
      const engine = this.#core.engine;
      const kind = this.#timerMsr.counterRead(cpReg, engine);
      if (kind === COUNTER_NONE) return 0;
      let value = this.counter();
      if (kind === COUNTER_PHYSICAL) value = BigInt.asUintN(64, value + this.#counterOffset);
      // The hook names the destination; XZR (and anything else) is not written.
      if ((reg >= REG.X0 && reg < REG.X0 + 29) || reg === REG.X29 || reg === REG.X30) {
        engine.writeReg(reg, value);
      }
      return 1;
    } catch (e) {
      this.#fail(e);
      return 1;
    }
  }

  // ---------------------------------------------------------------------------
  // Exceptions

  #onException(intno: number): void {
    const exit = this.#exit;
    const core = this.#core;
    // The rest of an instruction a watchpoint stopped is undone: take nothing.
    if (this.#debugHooks.watchHit) {
      core.engine.stop();
      return;
    }
    try {
      const state = core.exceptionState;
      state.capture();
      const syndrome = state.syndrome;
      switch (intno) {
        case EXCP.HVC:
        case EXCP.SMC:
          this.#hook = intno === EXCP.HVC ? HOOK_HVC : HOOK_SMC;
          exit.imm = syndrome & 0xffff;
          for (let n = 0; n < 8; n++) exit.args[n] = core.engine.readX(n);
          break;
        case EXCP.UDEF:
          // Instructions trapped for the VMM are carried out and stepped over
          // without stopping the engine.
          if (this.#traps.handle(syndrome)) {
            // A debug register write may need hooks the engine lacks: end the run to add them.
            if (this.#debugHooks.syncNeeded) this.#debugHooks.stopSoon(true);
            return;
          }
          this.#deliver(intno, syndrome, state.faultAddress);
          break;
        case EXCP.PREFETCH_ABORT:
        case EXCP.DATA_ABORT: {
          const el = Number((core.engine.readReg(REG.PSTATE) >> 2n) & 3n);
          const guest = core.unbacked.guestSyndrome(
            intno,
            syndrome,
            state.faultAddress,
            el,
            state.targetEl,
          );
          this.#deliver(intno, guest, state.faultAddress);
          break;
        }
        case EXCP.SWI:
        case EXCP.BKPT:
          this.#deliver(intno, syndrome, state.faultAddress);
          break;
        default:
          this.#hook = HOOK_UNHANDLED;
          exit.exception = intno;
          exit.syndrome = syndrome;
      }
    } catch (e) {
      this.#fail(e);
      return;
    }
    core.engine.stop();
  }

  #deliver(intno: number, syndrome: number, faultAddress: bigint): void {
    const outcome = this.#entry.deliver(intno, syndrome, faultAddress, this.#hcr);
    if (outcome === "delivered") {
      this.#hook = HOOK_DELIVERED;
      this.stats.exceptions++;
      return;
    }
    this.#hook = outcome === "loop" ? HOOK_LOOP : HOOK_UNHANDLED;
    this.#exit.exception = intno;
    this.#exit.syndrome = syndrome;
  }

  #fail(e: unknown): void {
    if (this.#hookError === undefined) this.#hookError = e;
    this.#hook = HOOK_FAILED;
    // Unsafe mid-block, but the run is being abandoned with an error anyway.
    this.#core.engine.stop();
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
    this.#stopRequested = true;
    if (this.#running) this.#core.budget?.exhaust();
  }

  /** Whether a stop was requested and not yet reported. */
  get stopRequested(): boolean {
    return this.#stopRequested;
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
    const core = this.#core;
    core.memory.ensureCovers();
    const exit = this.#exit;
    exit.instructions = 0;
    exit.deadline = undefined;
    this.stats.runs++;
    // Time may have moved (host sleep, skipped idle time) since the last run.
    this.updateTimer();
    this.#running = true;
    core.running = true;
    try {
      return this.#slices();
    } finally {
      this.#running = false;
      core.running = false;
    }
  }

  #slices(): VcpuExit {
    const core = this.#core;
    const engine = core.engine;
    const exit = this.#exit;
    const debug = this.#debugHooks;
    const step = this.#stepping;
    let budget = this.#slice;
    for (;;) {
      if (this.#stopRequested) {
        this.#stopRequested = false;
        return this.#finish("stopped");
      }
      debug.prepare();
      // With code hooks the IRQ line is applied between runs (see setIrqLine).
      if (debug.codeHooks) {
        const vi = this.#irqLine && !this.#stepping ? HCR_EL2_VI : 0n;
        engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | vi);
      }
      this.#hook = HOOK_NONE;
      let err: number;
      let ran: number;
      let usedUp: boolean;
      const counter = core.budget;
      if (step) debug.beginStep(engine.readPc());
      try {
        if (counter) {
          counter.arm(step ? 1 : budget);
          err = engine.start(engine.readPc(), debug.count(budget));
          // Whole blocks are counted when entered; the one the hook stopped
          // in front of is not.
          ran = counter.counted;
          usedUp = counter.stopped;
          // With a code hook the engine leaves the PC stale when the slice
          // counter stops it; the counter knows where it stopped.
          if (usedUp && debug.codeHooks) engine.writeReg(REG.PC, counter.stoppedAt);
        } else {
          const count = debug.count(budget);
          err = engine.start(engine.readPc(), count);
          // The count hook stops the engine when its counter passes the
          // budget, so a used-up slice reads budget + 1.
          const counted = debug.counted(
            core.engineView.getUint32(core.layout.instructionCounterOffset!),
          );
          ran = Math.min(counted, count);
          usedUp = counted > count;
        }
      } finally {
        if (step) debug.endStep();
      }
      if (step) ran = Math.min(ran, 1);
      const hook = this.#hook;
      this.#hook = HOOK_NONE;
      exit.instructions += ran;
      this.stats.instructions += ran;
      if (hook === HOOK_FAILED) {
        const cause = this.#hookError;
        this.#hookError = undefined;
        throw new VcpuError(
          "CALLBACK_FAILED",
          `a callback failed while vCPU ${this.id} ran: ${(cause as Error)?.message ?? cause}`,
          { cause },
        );
      }
      if (hook === HOOK_DELIVERED) {
        this.#entry.finish(this.#hcr | (this.#irqLine ? HCR_EL2_VI : 0n));
      }
      this.#keepTranslationsBounded();
      this.updateTimer();
      if (
        err !== 0 && core.lastPage?.pending && err >= UC_ERR_READ_UNMAPPED &&
        err <= UC_ERR_FETCH_UNMAPPED
      ) {
        const outcome = this.#faultLastPage();
        if (outcome !== undefined) return this.#finish(outcome);
        budget -= ran;
        if (budget <= 0) return this.#finish("preempted");
        continue;
      }
      if (err !== 0) {
        throw new VcpuError(
          "ENGINE_ERROR",
          `vCPU ${this.id} stopped with ${ucErrName(err)} at pc 0x${engine.readPc().toString(16)}`,
        );
      }
      switch (hook) {
        case HOOK_HVC:
          this.stats.hvc++;
          return this.#finish("hvc");
        case HOOK_SMC:
          this.stats.smc++;
          return this.#finish("smc");
        case HOOK_UNHANDLED:
          return this.#finish("unhandled-exception");
        case HOOK_LOOP:
          return this.#finish("exception-loop");
        case HOOK_DEBUG: {
          const outcome = this.#afterDebug();
          if (outcome !== undefined) return this.#finish(outcome);
          if (step) return this.#stepped();
          // Hooks to add, or a guest watchpoint delivered: go on with the slice.
          budget -= ran;
          if (budget <= 0) return this.#finish("preempted");
          continue;
        }
      }
      if (step) return this.#stepped();
      budget -= ran;
      if (usedUp || hook === HOOK_DELIVERED) {
        // The slice was used up, or a stop request, a raised IRQ line or an
        // exception delivery ended the run early: the loop reports the stop,
        // or goes on with what is left of the slice. An interrupt raised for
        // another vCPU of the engine ends the slice: the VMM schedules it.
        if (budget <= 0 || (usedUp && !this.#stopRequested && !this.#irqLine)) {
          return this.#finish("preempted");
        }
        continue;
      }
      // Nothing stopped the engine and the budget was not used up: the guest
      // executed WFI with no interrupt pending, which halts the engine. A
      // timer that fired since (updateTimer above) may have raised the IRQ
      // line already: then the wait is over before it began.
      if (this.#irqLine) {
        if (budget <= 0) return this.#finish("preempted");
        continue;
      }
      this.stats.wfi++;
      exit.deadline = this.timerDeadline();
      return this.#finish("wfi");
    }
  }

  /**
   * Delivers the fault of a refused last-page access (see `_last_page.ts`).
   * The entry is QEMU's own, as for every exception: a run started with a
   * budget of nothing takes the prepared interrupt and stops before the
   * vector's first instruction. Returns an exit reason when the fault cannot
   * be delivered.
   */
  #faultLastPage(): VcpuExitReason | undefined {
    const core = this.#core;
    const fault = core.lastPage!.take(core.engine);
    const counter = core.budget;
    if (counter === undefined) {
      throw new VcpuError(
        "ENGINE_ERROR",
        `vCPU ${this.id} accessed the last page of the address space (0x${
          fault.address.toString(16)
        }); ${core.library.description} cannot fault that into the guest without the native ` +
          "slice counter. Use Unicorn 2.1 or newer.",
      );
    }
    this.#exit.exception = fault.intno;
    this.#exit.syndrome = fault.syndrome;
    const outcome = this.#entry.deliver(fault.intno, fault.syndrome, fault.address, this.#hcr);
    if (outcome === "loop") return "exception-loop";
    if (outcome === "unhandled") return "unhandled-exception";
    counter.arm(0);
    core.engine.start(core.engine.readPc(), 0);
    this.#entry.finish(this.#hcr | (this.#irqLine ? HCR_EL2_VI : 0n));
    this.stats.exceptions++;
    return undefined;
  }

  // Empties the engine's translated code before the buffer fills (see
  // `_translation_cache.ts`): between runs, where no translated code is on
  // the stack.
  #keepTranslationsBounded(): void {
    const engine = this.#core.engine;
    const cache = engine.translations;
    if (cache === undefined || !cache.nearlyFull()) return;
    engine.flushCode();
    cache.release();
    this.stats.translationFlushes++;
  }

  #finish(reason: VcpuExitReason): VcpuExit {
    this.#exit.reason = reason;
    return this.#exit;
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
    const engine = this.#core.engine;
    this.#stepping = true;
    engine.writeSys(SYSREGS.HCR_EL2, this.#hcr);
    try {
      return this.run();
    } finally {
      this.#stepping = false;
      if (!this.#closed && this.#core.tenant === this.#tenant) {
        engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | (this.#irqLine ? HCR_EL2_VI : 0n));
      }
    }
  }

  // A run ended for the debug machinery (`_debug_hooks.ts`).
  #afterDebug(): VcpuExitReason | undefined {
    const debug = this.#debugHooks;
    const action = debug.afterRun();
    // An undone access also put back HCR_EL2 as it was; the IRQ line may have moved since.
    const vi = this.#irqLine && !this.#stepping ? HCR_EL2_VI : 0n;
    this.#core.engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | vi);
    if (action === DEBUG_STOP) return "debug";
    if (action !== DEBUG_DELIVER) return undefined;
    return this.#enterNow(EXCP.DATA_ABORT, debug.pendingSyndrome, debug.pendingAddress);
  }

  #stepped(): VcpuExit {
    const stop = this.#debugHooks.stop;
    stop.kind = "step";
    stop.address = this.#core.engine.readPc();
    stop.access = undefined;
    return this.#finish("debug");
  }

  /**
   * Takes an exception between runs: QEMU's entry is started as the
   * interrupt hook would, then the engine runs without executing an
   * instruction (a budget of nothing, or a hook that stops before the first
   * where the engine counts). Returns an exit reason when it cannot be taken.
   */
  #enterNow(intno: number, syndrome: number, address: bigint): VcpuExitReason | undefined {
    const core = this.#core;
    const engine = core.engine;
    const outcome = this.#entry.deliver(intno, syndrome, address, this.#hcr);
    if (outcome === "loop") return "exception-loop";
    if (outcome === "unhandled") return "unhandled-exception";
    const counter = core.budget;
    if (counter) {
      counter.arm(0);
      engine.start(engine.readPc(), this.#debugHooks.count(0));
    } else {
      const undo = this.#debugHooks.haltBeforeNextInstruction();
      try {
        engine.start(engine.readPc(), 1);
      } finally {
        undo();
      }
    }
    this.#entry.finish(this.#hcr | (this.#irqLine && !this.#stepping ? HCR_EL2_VI : 0n));
    this.stats.exceptions++;
    return undefined;
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
    if (this.#running) {
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
    if (this.#running) {
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

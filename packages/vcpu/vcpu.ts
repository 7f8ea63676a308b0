/**
 * An AArch64 vCPU on one Unicorn engine: guest-physical map, register access,
 * an IRQ input line, the EL1 virtual and physical timers, delivery of synchronous exceptions into
 * the guest's own EL1 vectors, and a run loop that returns typed exits.
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
  UC_ARM64_INS_MSR,
  UC_ERR_FETCH_UNMAPPED,
  UC_ERR_READ_UNMAPPED,
  UC_HOOK_BLOCK,
  UC_HOOK_INSN,
  UC_HOOK_INTR,
  ucErrName,
} from "./constants.ts";
import type { BlockBudget } from "./block_budget.ts";
import type { Region } from "./address_space.ts";
import { type CpuModel, Engine, HCR_EL2_BOOT, HCR_EL2_VI } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { MmioAccess, MmioHandler, VcpuExit, VcpuExitReason, VcpuStats } from "./exits.ts";
import type { EngineLayout } from "./calibration.ts";
import type { UnicornLibrary } from "./library.ts";
import { MemoryMap } from "./_memory_map.ts";
import { ExceptionEntry, ExceptionState } from "./_exception_entry.ts";
import { SystemTraps } from "./_system_traps.ts";
import { LAST_PAGE, LastPageAccess, UC_HOOK_MEM_UNMAPPED } from "./_last_page.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";
import type { GenericTimer } from "./generic_timer.ts";
import { TimerTrap } from "./timer_trap.ts";

/** The frequency of the engine's generic counter: QEMU derives it from the host clock in 16 ns steps. */
export const COUNTER_FREQUENCY_HZ = 62_500_000;

/**
 * Default host memory for translated code where the engine lets it be set
 * (2.1 and later): the engine's own 1 GiB is never needed, and emptying a
 * buffer that large the first time costs seconds.
 */
export const DEFAULT_TRANSLATION_BUFFER_BYTES = 128 * 1024 * 1024;

/** Translated code beyond which a reboot empties the engine's buffer (see `invalidateAllCode`). */
const REBOOT_FLUSH_BYTES = 16 * 1024 * 1024;

/** Default instructions per slice: the longest a guest runs before the VMM regains control. */
export const DEFAULT_SLICE_INSTRUCTIONS = 200_000;

/** Options for a {@link Vcpu}. */
export interface VcpuOptions {
  /** The loaded engine library (share one between vCPUs). */
  library: UnicornLibrary;
  /** Index of this vCPU; also its MPIDR affinity 0. Default 0. */
  id?: number;
  /** CPU model. Default `cortex-a72`. `max` is refused (it aborts the process under Linux). */
  cpuModel?: CpuModel | "max";
  /** Instructions per slice, 1000 to 2^31. Default {@link DEFAULT_SLICE_INSTRUCTIONS}. */
  sliceInstructions?: number;
  /** Called when the virtual timer's output changes (route it to PPI 27). */
  onTimerLevel?: (level: boolean) => void;
  /** Called when the EL1 physical timer's output changes (route it to PPI 30). */
  onPhysicalTimerLevel?: (level: boolean) => void;
  /** Called for each access to a guest-physical address with nothing behind it. */
  onUnbackedAccess?: (access: Readonly<MmioAccess>) => void;
  /**
   * How slices are counted. `native`: a few bytes of machine code run at the
   * start of each translated block (x86-64 Linux); `engine`: Unicorn's own
   * count, which calls a hook before every instruction and runs tight loops
   * at a quarter of the speed. Default: `native` where available.
   */
  sliceCounter?: SliceCounter;
  /**
   * Trap the guest's instruction-cache maintenance (IC IVAU, IC IALLU) and
   * drop the code translated from the pages it names. Default: where the
   * engine needs it to stay coherent (`UnicornLibrary.storesInvalidateCode`
   * is false, as on 2.1.x).
   */
  trapCacheMaintenance?: boolean;
  /**
   * Host memory for translated code, 16 MiB to 1 GiB. Settable on Unicorn
   * 2.1 and later (where the default is {@link DEFAULT_TRANSLATION_BUFFER_BYTES});
   * 2.0.1 always uses 1 GiB.
   */
  translationBufferBytes?: number;
}

/** How a vCPU counts its instruction slices (see {@link VcpuOptions.sliceCounter}). */
export type SliceCounter = "native" | "engine";

// What the interrupt hook decided, read by run() after uc_emu_start returns.
const HOOK_NONE = 0;
const HOOK_HVC = 1;
const HOOK_SMC = 2;
const HOOK_DELIVERED = 3;
const HOOK_UNHANDLED = 4;
const HOOK_LOOP = 5;
const HOOK_FAILED = 6;

const PSTATE_EL = 0xcn;
/** CNTKCTL_EL1.EL0VTEN: EL0 may access the virtual timer's registers. */
const CNTKCTL_EL0VTEN = 0x100n;
/** CNTKCTL_EL1.EL0PTEN: EL0 may access the physical timer's registers. */
const CNTKCTL_EL0PTEN = 0x200n;

/**
 * One AArch64 vCPU. Create it, map RAM and MMIO regions, set the entry state,
 * then call {@link run} in a loop and react to each {@link VcpuExit}.
 *
 * Release it with `close()` or a `using` declaration: the engine, its
 * callbacks and saved states are freed deterministically.
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

  readonly #library: UnicornLibrary;
  readonly #engine: Engine;
  readonly #layout: EngineLayout;
  readonly #slice: number;
  readonly #virtualTimer: TimerTrap;
  readonly #physicalTimer: TimerTrap;
  // The native hook's counter, or undefined when the engine counts.
  readonly #budget: BlockBudget | undefined;
  // deno-lint-ignore no-explicit-any
  readonly #callbacks: Deno.UnsafeCallback<any>[] = [];
  readonly #exit: VcpuExit;
  readonly #memory: MemoryMap;
  readonly #engineView: Deno.UnsafePointerView;
  readonly #exceptionState: ExceptionState;
  readonly #entry: ExceptionEntry;
  readonly #traps: SystemTraps;
  // Engines that end the run on the last page of the address space (2.0.1).
  readonly #lastPage: LastPageAccess | undefined;
  // HCR_EL2 as this vCPU runs the guest, without VI.
  readonly #hcr: bigint;
  readonly #pristine: Deno.PointerObject;
  readonly #msrBuf = new Uint8Array(32);
  readonly #msrWords = new Uint32Array(this.#msrBuf.buffer);
  readonly #msrValue = new BigUint64Array(this.#msrBuf.buffer, 24, 1);

  #irqLine = false;
  #stopRequested = false;
  #running = false;
  #closed = false;
  #hook = HOOK_NONE;
  #hookError: unknown = undefined;

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
    const layout = options.library.layout;
    const blockHook = options.sliceCounter === "engine" ? undefined : options.library.blockHook;
    if (options.sliceCounter === "native" && blockHook === undefined) {
      throw new VcpuError(
        "INVALID_ARGUMENT",
        `sliceCounter "native" is unavailable here: ${options.library.sliceCounterUnavailable}`,
      );
    }
    if (blockHook === undefined && layout.instructionCounterOffset === undefined) {
      throw options.library.calibrationFailure(
        "could not locate the engine's instruction counter, and without the native slice " +
          `counter (${options.library.sliceCounterUnavailable ?? "not chosen"}) ` +
          "WFI cannot be told apart from the end of a slice",
      );
    }
    this.sliceCounter = blockHook ? "native" : "engine";
    this.id = id;
    this.#library = options.library;
    this.#layout = layout;
    this.#slice = slice;
    this.#exit = {
      reason: "preempted",
      imm: 0,
      args: new BigUint64Array(8),
      deadline: undefined,
      exception: 0,
      syndrome: 0,
      instructions: 0,
    };

    const uc = options.library.symbols;
    const trapCacheMaintenance = options.trapCacheMaintenance ??
      !options.library.storesInvalidateCode;
    this.#engine = Engine.open(uc, options.cpuModel ?? "cortex-a72", {
      translationBufferBytes: translationBuffer(options),
      watchTranslations: true,
    });
    this.#virtualTimer = new TimerTrap(this.#engine, {
      counter: SYSREGS.CNTVCT_EL0,
      control: SYSREGS.CNTV_CTL_EL0,
      compare: SYSREGS.CNTV_CVAL_EL0,
    }, options.onTimerLevel);
    this.#physicalTimer = new TimerTrap(this.#engine, {
      counter: SYSREGS.CNTPCT_EL0,
      control: SYSREGS.CNTP_CTL_EL0,
      compare: SYSREGS.CNTP_CVAL_EL0,
    }, options.onPhysicalTimerLevel);
    this.timer = this.#virtualTimer.timer;
    this.physicalTimer = this.#physicalTimer.timer;
    this.#memory = new MemoryMap(this.#engine, {
      stats: this.stats,
      access: { cpu: id, address: 0, offset: 0, size: 0, write: false, value: 0 },
      onUnbacked: options.onUnbackedAccess,
      fail: (e) => this.#fail(e),
    });
    this.#entry = new ExceptionEntry(this.#engine);
    this.#traps = new SystemTraps(this.#engine, this.stats, {
      cacheMaintenance: trapCacheMaintenance,
      stateFollowsSysregWrites: options.library.atLeast(2, 1, 0),
      ram: () => this.#memory.regions.filter((r) => r.kind === "ram"),
    });
    this.#hcr = HCR_EL2_BOOT | this.#traps.hcrBits;
    this.#lastPage = options.library.atLeast(2, 1, 0) ? undefined : new LastPageAccess();
    let state: ExceptionState | undefined;
    let pristine: Deno.PointerObject | undefined;
    let budget: BlockBudget | undefined;
    try {
      if (blockHook) {
        budget = blockHook.budget();
        this.#engine.hookAdd(UC_HOOK_BLOCK, blockHook.pointer, undefined, budget.pointer);
      }
      state = new ExceptionState(uc, this.#engine, layout);
      const out = new BigUint64Array(1);
      if (uc.uc_context_alloc(this.#engine.handle, out) !== 0 || out[0] === 0n) {
        throw new VcpuError("ENGINE_ERROR", "uc_context_alloc failed");
      }
      pristine = Deno.UnsafePointer.create(out[0])!;
      this.#engineView = new Deno.UnsafePointerView(this.#engine.handle);
      this.#engine.writeSys(SYSREGS.HCR_EL2, this.#hcr);
      this.#engine.writeSys(
        SYSREGS.MDCR_EL2,
        this.#engine.readSys(SYSREGS.MDCR_EL2) | this.#traps.mdcrBits,
      );
      this.#engine.writeSys(SYSREGS.VMPIDR_EL2, 0x8000_0000n | BigInt(id));
      this.#engine.writeSys(SYSREGS.CNTFRQ_EL0, BigInt(COUNTER_FREQUENCY_HZ));
      this.#installHooks();
      if (uc.uc_context_save(this.#engine.handle, pristine) !== 0) {
        throw new VcpuError("ENGINE_ERROR", "uc_context_save failed");
      }
      // Guest time starts at 0.
      this.counterOffset = this.#engine.readSys(SYSREGS.CNTPCT_EL0);
    } catch (e) {
      state?.close();
      if (pristine) uc.uc_context_free(pristine);
      for (const cb of this.#callbacks) cb.close();
      this.#engine.close();
      this.#memory.close();
      budget?.close();
      throw e;
    }
    this.#budget = budget;
    this.#exceptionState = state;
    this.#pristine = pristine;
  }

  #installHooks(): void {
    const intr = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u32", "pointer"], result: "void" } as const,
      (_uc, intno) => this.#onException(intno),
    );
    this.#callbacks.push(intr);
    this.#engine.hookAdd(UC_HOOK_INTR, intr.pointer);
    const msr = new Deno.UnsafeCallback(
      { parameters: ["pointer", "i32", "pointer", "pointer"], result: "u32" } as const,
      (_uc, _reg, cpReg) => this.#onMsr(cpReg),
    );
    this.#callbacks.push(msr);
    this.#engine.hookAdd(UC_HOOK_INSN, msr.pointer, UC_ARM64_INS_MSR);
    const lastPage = this.#lastPage;
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
      this.#callbacks.push(unmapped);
      this.#engine.hookAdd(UC_HOOK_MEM_UNMAPPED, unmapped.pointer, undefined, null, {
        begin: LAST_PAGE,
        end: 0xffff_ffff_ffff_ffffn,
      });
    }
  }

  // ---------------------------------------------------------------------------
  // Memory

  /**
   * Maps guest RAM at a guest-physical address. The engine reads and writes
   * `bytes` directly (no copies), so the same buffer can be shared by several
   * vCPUs, the loader and device models. The vCPU keeps `bytes` alive.
   *
   * @throws {VcpuError} `BAD_REGION` for misaligned, overlapping or oversized regions.
   */
  mapRam(base: number, bytes: Uint8Array<ArrayBuffer>): void {
    this.#assertIdle("map RAM");
    this.#memory.mapRam(base, bytes);
  }

  /**
   * Maps a device region. Each guest access calls `handler` with a decoded,
   * reused {@link MmioAccess} record.
   *
   * @throws {VcpuError} `BAD_REGION` for misaligned or overlapping regions or
   *   regions larger than 4 GiB.
   */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    this.#assertIdle("map MMIO");
    this.#memory.mapMmio(base, size, handler);
  }

  /** The guest-physical map, sorted by address. */
  get regions(): readonly Region[] {
    return this.#memory.regions;
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
    const cache = this.#engine.translations;
    if (cache?.usedAtLeast(REBOOT_FLUSH_BYTES)) {
      this.#engine.flushCode();
      cache.release();
      this.stats.translationFlushes++;
      return;
    }
    for (const r of this.#memory.regions) {
      if (r.kind === "ram") this.#engine.flushCode(r.base, r.size);
    }
  }

  /**
   * Drops translated code for a range the VMM rewrote behind the engine's back
   * (images loaded into RAM, for instance). The range is taken through the
   * guest's current MMU state, so call it while the MMU is off (after
   * {@link reset}).
   */
  invalidateCode(base: number, size: number): void {
    this.#assertIdle("invalidate code");
    if (size > 0) this.#engine.flushCode(base, size);
  }

  // ---------------------------------------------------------------------------
  // Registers

  /** Reads general-purpose register `Xn` (0–30). */
  getX(n: number): bigint {
    this.#assertOpen();
    checkGpr(n);
    return this.#engine.readX(n);
  }

  /** Writes general-purpose register `Xn` (0–30). */
  setX(n: number, value: bigint | number): void {
    this.#assertOpen();
    checkGpr(n);
    this.#engine.writeX(n, BigInt.asUintN(64, BigInt(value)));
  }

  /** The program counter. */
  getPc(): bigint {
    this.#assertOpen();
    return this.#engine.readPc();
  }

  /** Sets the program counter. */
  setPc(value: bigint | number): void {
    this.#assertOpen();
    this.#engine.writeReg(REG.PC, BigInt.asUintN(64, BigInt(value)));
  }

  /** The stack pointer of the current exception level. */
  getSp(): bigint {
    this.#assertOpen();
    return this.#engine.readReg(REG.SP);
  }

  /** PSTATE (NZCV, DAIF, EL and SP selection, as SPSR encodes them). */
  getPstate(): bigint {
    this.#assertOpen();
    return this.#engine.readReg(REG.PSTATE);
  }

  /** Reads a system register. */
  readSysReg(reg: SysReg): bigint {
    this.#assertOpen();
    return this.#engine.readSys(reg);
  }

  /** Writes a system register. */
  writeSysReg(reg: SysReg, value: bigint): void {
    this.#assertOpen();
    this.#engine.writeSys(reg, BigInt.asUintN(64, value));
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
    const offset = this.counterOffset;
    const uc = this.#library.symbols;
    if (uc.uc_context_restore(this.#engine.handle, this.#pristine) !== 0) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_restore failed");
    }
    this.counterOffset = offset;
    this.#virtualTimer.reset();
    this.#physicalTimer.reset();
    this.#irqLine = false;
    this.#stopRequested = false;
    this.#entry.reset();
    this.#traps.debug.reset();
    this.#engine.writeSys(SYSREGS.HCR_EL2, this.#hcr);
  }

  // ---------------------------------------------------------------------------
  // Interrupt input and time

  /** The level of the IRQ input. */
  get irqLine(): boolean {
    return this.#irqLine;
  }

  /**
   * Drives the IRQ input (the interrupt controller's output for this vCPU).
   * The guest takes the interrupt at its IRQ vector when PSTATE.I is clear; a
   * change is noticed at the guest's next DAIF write, exception return or at
   * the end of the slice.
   */
  setIrqLine(level: boolean): void {
    if (level === this.#irqLine) return;
    this.#irqLine = level;
    this.#assertOpen();
    // During an exception delivery VI is in use; the line is applied after it.
    if (this.#hook !== HOOK_DELIVERED) {
      this.#engine.writeSys(SYSREGS.HCR_EL2, this.#hcr | (level ? HCR_EL2_VI : 0n));
    }
    // The engine only looks at VI between blocks it returns to its main loop
    // for; ending the run at the next block boundary (run() goes on at once)
    // lets a raised line be taken without waiting for the slice to end.
    if (level && this.#running) this.#budget?.exhaust();
  }

  /** The counter the guest reads (CNTVCT_EL0), in ticks of {@link COUNTER_FREQUENCY_HZ}. */
  counter(): bigint {
    this.#assertOpen();
    return this.#engine.readSys(SYSREGS.CNTVCT_EL0);
  }

  /**
   * CNTVOFF_EL2: guest counter = engine counter − offset. Lowering it moves
   * guest time forward (skipping idle periods); keep it equal on all vCPUs.
   */
  get counterOffset(): bigint {
    this.#assertOpen();
    return this.#engine.readSys(SYSREGS.CNTVOFF_EL2);
  }

  set counterOffset(value: bigint) {
    this.#assertOpen();
    this.#engine.writeSys(SYSREGS.CNTVOFF_EL2, BigInt.asUintN(64, value));
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
   * slice end; call it also when the guest acknowledges interrupts.
   */
  updateTimer(): void {
    this.#assertOpen();
    this.#virtualTimer.update();
    this.#physicalTimer.update();
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
      const inGuestTicks = physical - this.#engine.readSys(SYSREGS.CNTVOFF_EL2);
      if (due === undefined || inGuestTicks < due) due = inGuestTicks;
    }
    return due;
  }

  // The engine drops guest writes to the timer registers; trap them.
  #onMsr(cpReg: Deno.PointerValue): number {
    this.stats.sysregWrites++;
    if (cpReg === null) return 0;
    Deno.UnsafePointerView.copyInto(cpReg, this.#msrBuf);
    const w = this.#msrWords;
    // uc_arm64_cp_reg: crn, crm, op0, op1, op2, pad, val. CNTP_*: 14, 2, 3, 3, op2;
    // CNTV_*: 14, 3, 3, 3, op2.
    if (w[0] !== 14 || w[2] !== 3 || w[3] !== 3) return 0;
    const trap = w[1] === 3 ? this.#virtualTimer : w[1] === 2 ? this.#physicalTimer : undefined;
    if (trap === undefined) return 0;
    try {
      // The hook runs before the engine's access check. EL0 may only write a
      // timer when CNTKCTL_EL1 allows it; otherwise the engine's own MSR must
      // run so that it traps into the guest's EL1.
      if (
        (this.#engine.readReg(REG.PSTATE) & PSTATE_EL) === 0n &&
        (this.#engine.readSys(SYSREGS.CNTKCTL_EL1) &
            (trap === this.#virtualTimer ? CNTKCTL_EL0VTEN : CNTKCTL_EL0PTEN)) === 0n
      ) {
        return 0;
      }
      if (!trap.write(w[4], this.#msrValue[0])) return 0;
    } catch (e) {
      this.#fail(e);
    }
    return 1;
  }

  // ---------------------------------------------------------------------------
  // Exceptions

  #onException(intno: number): void {
    const exit = this.#exit;
    try {
      const state = this.#exceptionState;
      state.capture();
      const syndrome = state.syndrome;
      switch (intno) {
        case EXCP.HVC:
        case EXCP.SMC:
          this.#hook = intno === EXCP.HVC ? HOOK_HVC : HOOK_SMC;
          exit.imm = syndrome & 0xffff;
          for (let n = 0; n < 8; n++) exit.args[n] = this.#engine.readX(n);
          break;
        case EXCP.UDEF:
          // Instructions trapped for the VMM are carried out and stepped over
          // without stopping the engine.
          if (this.#traps.handle(syndrome)) return;
          this.#deliver(intno, syndrome, state.faultAddress);
          break;
        case EXCP.SWI:
        case EXCP.PREFETCH_ABORT:
        case EXCP.DATA_ABORT:
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
    this.#engine.stop();
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
    this.#engine.stop();
  }

  // ---------------------------------------------------------------------------
  // Running

  /**
   * Asks the vCPU to stop. Safe from any callback: the run ends with a
   * `stopped` exit at the next block boundary (with the native slice counter)
   * or when the current slice ends.
   */
  requestStop(): void {
    this.#stopRequested = true;
    if (this.#running) this.#budget?.exhaust();
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
   *   `ENGINE_ERROR`, `CLOSED`.
   */
  run(): VcpuExit {
    this.#assertIdle("run");
    this.#memory.ensureCovers();
    const exit = this.#exit;
    exit.instructions = 0;
    exit.deadline = undefined;
    this.stats.runs++;
    // Time may have moved (host sleep, skipped idle time) since the last run.
    this.updateTimer();
    this.#running = true;
    try {
      let budget = this.#slice;
      for (;;) {
        if (this.#stopRequested) {
          this.#stopRequested = false;
          return this.#finish("stopped");
        }
        this.#hook = HOOK_NONE;
        let err: number;
        let ran: number;
        let usedUp: boolean;
        const counter = this.#budget;
        if (counter) {
          counter.arm(budget);
          err = this.#engine.start(this.#engine.readPc(), 0);
          // Whole blocks are counted when entered; the one the hook stopped
          // in front of is not.
          ran = counter.counted;
          usedUp = counter.stopped;
        } else {
          err = this.#engine.start(this.#engine.readPc(), budget);
          // The count hook stops the engine when its counter passes the
          // budget, so a used-up slice reads budget + 1.
          const counted = this.#engineView.getUint32(this.#layout.instructionCounterOffset!);
          ran = Math.min(counted, budget);
          usedUp = counted > budget;
        }
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
          err !== 0 && this.#lastPage?.pending && err >= UC_ERR_READ_UNMAPPED &&
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
            `vCPU ${this.id} stopped with ${ucErrName(err)} at pc 0x${
              this.#engine.readPc().toString(16)
            }`,
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
        }
        budget -= ran;
        if (usedUp || hook === HOOK_DELIVERED) {
          // The slice was used up, or a stop request, a raised IRQ line or an
          // exception delivery ended the run early: the loop reports the stop,
          // or goes on with what is left of the slice.
          if (budget <= 0) return this.#finish("preempted");
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
    } finally {
      this.#running = false;
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
    const fault = this.#lastPage!.take(this.#engine);
    const counter = this.#budget;
    if (counter === undefined) {
      throw new VcpuError(
        "ENGINE_ERROR",
        `vCPU ${this.id} accessed the last page of the address space (0x${
          fault.address.toString(16)
        }); ${this.#library.description} cannot fault that into the guest without the native ` +
          "slice counter. Use Unicorn 2.1 or newer.",
      );
    }
    this.#exit.exception = fault.intno;
    this.#exit.syndrome = fault.syndrome;
    const outcome = this.#entry.deliver(fault.intno, fault.syndrome, fault.address, this.#hcr);
    if (outcome === "loop") return "exception-loop";
    if (outcome === "unhandled") return "unhandled-exception";
    counter.arm(0);
    this.#engine.start(this.#engine.readPc(), 0);
    this.#entry.finish(this.#hcr | (this.#irqLine ? HCR_EL2_VI : 0n));
    this.stats.exceptions++;
    return undefined;
  }

  // Empties the engine's translated code before the buffer fills (see
  // `_translation_cache.ts`): between runs, where no translated code is on
  // the stack.
  #keepTranslationsBounded(): void {
    const cache = this.#engine.translations;
    if (cache === undefined || !cache.nearlyFull()) return;
    this.#engine.flushCode();
    cache.release();
    this.stats.translationFlushes++;
  }

  #finish(reason: VcpuExitReason): VcpuExit {
    this.#exit.reason = reason;
    return this.#exit;
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

  /**
   * Frees the engine, its callbacks and saved states. Idempotent.
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
    const uc = this.#library.symbols;
    this.#engine.close();
    this.#exceptionState.close();
    uc.uc_context_free(this.#pristine);
    this.#budget?.close();
    for (const cb of this.#callbacks) cb.close();
    this.#callbacks.length = 0;
    this.#memory.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function translationBuffer(options: VcpuOptions): number | undefined {
  const bytes = options.translationBufferBytes;
  const settable = options.library.canSizeTranslationBuffer;
  if (bytes === undefined) return settable ? DEFAULT_TRANSLATION_BUFFER_BYTES : undefined;
  if (!Number.isInteger(bytes) || bytes < 16 * 1024 * 1024 || bytes > 1024 * 1024 * 1024) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `translationBufferBytes must be an integer from 16 MiB to 1 GiB, got ${bytes}`,
    );
  }
  if (!settable) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `translationBufferBytes cannot be set on ${options.library.description}; it needs Unicorn 2.1 or newer`,
    );
  }
  return bytes;
}

function checkGpr(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 30) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `general-purpose register index must be 0..30, got ${n}`,
    );
  }
}

/**
 * Running one vCPU: the slices of guest code between the engine's stops,
 * what the interrupt hook decided, exception delivery into the guest, single
 * steps, and the IRQ input as the engine's HCR_EL2.VI. `vcpu.ts` owns the
 * public surface and hands each run here.
 *
 * @module
 */

import { EXCP, REG, UC_ERR_FETCH_UNMAPPED, UC_ERR_READ_UNMAPPED, ucErrName } from "./constants.ts";
import { HCR_EL2_VI } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { VcpuExit, VcpuExitReason, VcpuStats } from "./exits.ts";
import { SYSREGS } from "./sysregs.ts";
import type { ExceptionEntry } from "./_exception_entry.ts";
import type { SystemTraps } from "./_system_traps.ts";
import type { VcpuCore } from "./_core.ts";
import { DEBUG_DELIVER, DEBUG_STOP, type DebugHooks, type DebugTenant } from "./_debug_hooks.ts";
import type { GuestDebug } from "./_guest_debug.ts";
import type { VcpuClock } from "./_vcpu_clock.ts";

// What the interrupt hook decided, read after uc_emu_start returns.
const HOOK_NONE = 0;
const HOOK_HVC = 1;
const HOOK_SMC = 2;
const HOOK_DELIVERED = 3;
const HOOK_UNHANDLED = 4;
const HOOK_LOOP = 5;
const HOOK_FAILED = 6;
const HOOK_DEBUG = 7;

/** The parts of a vCPU its runner works with. */
export interface RunnerParts {
  readonly id: number;
  readonly core: VcpuCore;
  readonly stats: VcpuStats;
  readonly slice: number;
  readonly clock: VcpuClock;
  readonly entry: ExceptionEntry;
  readonly traps: SystemTraps;
  readonly guestDebug: GuestDebug;
  readonly debugHooks: DebugHooks;
  /** HCR_EL2 as this vCPU runs the guest, without VI. */
  readonly hcr: bigint;
  /** Whether this vCPU's registers are the engine's now. */
  inEngine(): boolean;
}

/** One vCPU's run state and run loop. */
export class VcpuRunner {
  /** The exit record, reused by every run. */
  readonly exit: VcpuExit;
  /** What the shared debug hooks call on this vCPU while it is in the engine. */
  readonly debugTenant: DebugTenant;
  irqLine = false;
  stopRequested = false;
  running = false;

  readonly #p: RunnerParts;
  #hook = HOOK_NONE;
  #hookError: unknown = undefined;
  #stepping = false;
  // A raised line waits for the next run start while debug code hooks are installed.
  #lineDeferred = false;

  constructor(parts: RunnerParts) {
    this.#p = parts;
    this.exit = {
      reason: "preempted",
      imm: 0,
      args: new BigUint64Array(8),
      deadline: undefined,
      exception: 0,
      syndrome: 0,
      instructions: 0,
      debug: parts.debugHooks.stop,
    };
    const engine = parts.core.engine;
    this.debugTenant = {
      guest: parts.guestDebug,
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
      fail: (e) => this.fail(e),
    };
  }

  /** HCR_EL2 with VI as the IRQ line says, held back during a step. */
  #hcrNow(): bigint {
    return this.#p.hcr | (this.irqLine && !this.#stepping ? HCR_EL2_VI : 0n);
  }

  /** HCR_EL2 with VI as the IRQ line says, after an exception entry borrowed VI. */
  #hcrWithLine(): bigint {
    return this.#p.hcr | (this.irqLine ? HCR_EL2_VI : 0n);
  }

  /** Back in the engine: the IRQ line, guest time and the timers reach its registers. */
  swappedIn(): void {
    const engine = this.#p.core.engine;
    engine.writeSys(SYSREGS.HCR_EL2, this.#hcrWithLine());
    engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#p.clock.offset);
    this.#p.clock.update();
  }

  /** The run state of a vCPU just reset (its registers are already restored). */
  reset(): void {
    this.irqLine = false;
    this.stopRequested = false;
    this.#p.entry.reset();
    this.#p.core.engine.writeSys(SYSREGS.HCR_EL2, this.#p.hcr);
  }

  /** Instructions retired in the current run so far (whole blocks, when entered), 0 outside one. */
  retiredInRun(): number {
    if (!this.running) return 0;
    const core = this.#p.core;
    const counter = core.budget;
    const now = counter
      ? counter.counted
      : core.engineView.getUint32(core.layout.instructionCounterOffset!);
    return this.exit.instructions + now;
  }

  /** Drives the IRQ input; see `Vcpu.setIrqLine`. */
  setIrqLine(level: boolean, inEngine: boolean): void {
    this.irqLine = level;
    const core = this.#p.core;
    if (!inEngine) {
      // Applied when this vCPU is next in the engine.
      if (level && core.running) core.budget?.exhaust();
      return;
    }
    // During an exception delivery VI is in use, and a step holds interrupts
    // back; the line is applied after either. While debug code hooks are
    // installed the engine would take an interrupt between two blocks with a
    // stale return address (see `_debug_hooks.ts`), so a raised line is
    // applied when the run next starts.
    const debugHooks = this.running && this.#p.debugHooks.codeHooks;
    if (this.#hook !== HOOK_DELIVERED && !this.#stepping && !(level && debugHooks)) {
      core.engine.writeSys(SYSREGS.HCR_EL2, this.#p.hcr | (level ? HCR_EL2_VI : 0n));
    } else if (level && debugHooks) {
      // The hooks may be gone by the next run start: it must apply the line all the same.
      this.#lineDeferred = true;
    }
    // The engine only looks at VI between blocks it returns to its main loop
    // for; ending the run at the next block boundary (the run goes on at
    // once) lets a raised line be taken without waiting for the slice to end.
    if (level && this.running) {
      if (core.budget) core.budget.exhaust();
      else if (debugHooks && this.#hook === HOOK_NONE) this.#p.debugHooks.stopSoon(false);
    }
  }

  /** Asks for a `stopped` exit at the next block boundary or slice end. */
  requestStop(): void {
    this.stopRequested = true;
    if (this.running) this.#p.core.budget?.exhaust();
  }

  // ---------------------------------------------------------------------------
  // The engine's interrupt hook

  /** Called by the engine for every exception this vCPU raises. */
  onException(intno: number): void {
    const exit = this.exit;
    const { core, traps, debugHooks } = this.#p;
    // The rest of an instruction a watchpoint stopped is undone: take nothing.
    if (debugHooks.watchHit) {
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
          if (traps.handle(syndrome)) {
            // A debug register write may need hooks the engine lacks: end the run to add them.
            if (debugHooks.syncNeeded) debugHooks.stopSoon(true);
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
      this.fail(e);
      return;
    }
    core.engine.stop();
  }

  #deliver(intno: number, syndrome: number, faultAddress: bigint): void {
    const outcome = this.#p.entry.deliver(intno, syndrome, faultAddress, this.#p.hcr);
    if (outcome === "delivered") {
      this.#hook = HOOK_DELIVERED;
      this.#p.stats.exceptions++;
      return;
    }
    this.#hook = outcome === "loop" ? HOOK_LOOP : HOOK_UNHANDLED;
    this.exit.exception = intno;
    this.exit.syndrome = syndrome;
  }

  /** A hook failed: keep the first error and abandon the run. */
  fail(e: unknown): void {
    if (this.#hookError === undefined) this.#hookError = e;
    this.#hook = HOOK_FAILED;
    // Unsafe mid-block, but the run is being abandoned with an error anyway.
    this.#p.core.engine.stop();
  }

  // ---------------------------------------------------------------------------
  // Runs

  /** One run (see `Vcpu.run`); the vCPU is in the engine and idle. */
  run(): VcpuExit {
    const core = this.#p.core;
    core.memory.ensureCovers();
    const exit = this.exit;
    exit.instructions = 0;
    exit.deadline = undefined;
    this.#p.stats.runs++;
    // Time may have moved (host sleep, skipped idle time) since the last run.
    this.#p.clock.update();
    this.running = true;
    core.running = true;
    try {
      return this.#slices();
    } finally {
      this.running = false;
      core.running = false;
    }
  }

  /** One instruction (see `Vcpu.step`); the vCPU is in the engine and idle. */
  step(): VcpuExit {
    const engine = this.#p.core.engine;
    this.#stepping = true;
    engine.writeSys(SYSREGS.HCR_EL2, this.#p.hcr);
    try {
      return this.run();
    } finally {
      this.#stepping = false;
      if (this.#p.inEngine()) engine.writeSys(SYSREGS.HCR_EL2, this.#hcrWithLine());
    }
  }

  #slices(): VcpuExit {
    const { core, debugHooks: debug, stats } = this.#p;
    const engine = core.engine;
    const exit = this.exit;
    const step = this.#stepping;
    let budget = this.#p.slice;
    for (;;) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return this.#finish("stopped");
      }
      debug.prepare();
      // With code hooks the IRQ line is applied between runs (see setIrqLine).
      if (debug.codeHooks || this.#lineDeferred) {
        this.#lineDeferred = false;
        engine.writeSys(SYSREGS.HCR_EL2, this.#hcrNow());
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
      stats.instructions += ran;
      if (hook === HOOK_FAILED) {
        const cause = this.#hookError;
        this.#hookError = undefined;
        throw new VcpuError(
          "CALLBACK_FAILED",
          `a callback failed while vCPU ${this.#p.id} ran: ${(cause as Error)?.message ?? cause}`,
          { cause },
        );
      }
      if (hook === HOOK_DELIVERED) this.#p.entry.finish(this.#hcrWithLine());
      this.#keepTranslationsBounded();
      this.#p.clock.update();
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
          `vCPU ${this.#p.id} stopped with ${ucErrName(err)} at pc 0x${
            engine.readPc().toString(16)
          }`,
        );
      }
      switch (hook) {
        case HOOK_HVC:
          stats.hvc++;
          return this.#finish("hvc");
        case HOOK_SMC:
          stats.smc++;
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
        if (budget <= 0 || (usedUp && !this.stopRequested && !this.irqLine)) {
          return this.#finish("preempted");
        }
        continue;
      }
      // Nothing stopped the engine and the budget was not used up: the guest
      // executed WFI with no interrupt pending, which halts the engine. A
      // timer that fired since (the clock update above) may have raised the
      // IRQ line already: then the wait is over before it began.
      if (this.irqLine) {
        if (budget <= 0) return this.#finish("preempted");
        continue;
      }
      stats.wfi++;
      exit.deadline = this.#p.clock.deadline();
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
    const core = this.#p.core;
    const fault = core.lastPage!.take(core.engine);
    const counter = core.budget;
    if (counter === undefined) {
      throw new VcpuError(
        "ENGINE_ERROR",
        `vCPU ${this.#p.id} accessed the last page of the address space (0x${
          fault.address.toString(16)
        }); ${core.library.description} cannot fault that into the guest without the native ` +
          "slice counter. Use Unicorn 2.1 or newer.",
      );
    }
    this.exit.exception = fault.intno;
    this.exit.syndrome = fault.syndrome;
    const outcome = this.#p.entry.deliver(fault.intno, fault.syndrome, fault.address, this.#p.hcr);
    if (outcome === "loop") return "exception-loop";
    if (outcome === "unhandled") return "unhandled-exception";
    counter.arm(0);
    core.engine.start(core.engine.readPc(), 0);
    this.#p.entry.finish(this.#hcrWithLine());
    this.#p.stats.exceptions++;
    return undefined;
  }

  // Empties the engine's translated code before the buffer fills (see
  // `_translation_cache.ts`): between runs, where no translated code is on
  // the stack.
  #keepTranslationsBounded(): void {
    const engine = this.#p.core.engine;
    const cache = engine.translations;
    if (cache === undefined || !cache.nearlyFull()) return;
    engine.flushCode();
    cache.release();
    this.#p.stats.translationFlushes++;
  }

  #finish(reason: VcpuExitReason): VcpuExit {
    this.exit.reason = reason;
    return this.exit;
  }

  // A run ended for the debug machinery (`_debug_hooks.ts`).
  #afterDebug(): VcpuExitReason | undefined {
    const debug = this.#p.debugHooks;
    const action = debug.afterRun();
    // An undone access also put back HCR_EL2 as it was; the IRQ line may have moved since.
    this.#p.core.engine.writeSys(SYSREGS.HCR_EL2, this.#hcrNow());
    if (action === DEBUG_STOP) return "debug";
    if (action !== DEBUG_DELIVER) return undefined;
    return this.#enterNow(EXCP.DATA_ABORT, debug.pendingSyndrome, debug.pendingAddress);
  }

  #stepped(): VcpuExit {
    const stop = this.#p.debugHooks.stop;
    stop.kind = "step";
    stop.address = this.#p.core.engine.readPc();
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
    const { core, debugHooks } = this.#p;
    const engine = core.engine;
    const outcome = this.#p.entry.deliver(intno, syndrome, address, this.#p.hcr);
    if (outcome === "loop") return "exception-loop";
    if (outcome === "unhandled") return "unhandled-exception";
    const counter = core.budget;
    if (counter) {
      counter.arm(0);
      engine.start(engine.readPc(), debugHooks.count(0));
    } else {
      const undo = debugHooks.haltBeforeNextInstruction();
      try {
        engine.start(engine.readPc(), 1);
      } finally {
        undo();
      }
    }
    this.#p.entry.finish(this.#hcrNow());
    this.#p.stats.exceptions++;
    return undefined;
  }
}

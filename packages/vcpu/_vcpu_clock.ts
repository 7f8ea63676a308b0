/**
 * One vCPU's view of time: the guest counter (the engine's, offset by
 * CNTVOFF_EL2, or a VMM clock), its virtual and physical timers, and the
 * traps that make the engine's timer registers behave (`_timer_msr.ts`).
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import type { VcpuStats } from "./exits.ts";
import type { GenericTimer } from "./generic_timer.ts";
import { SYSREGS } from "./sysregs.ts";
import { TimerTrap } from "./timer_trap.ts";
import { COUNTER_NONE, COUNTER_PHYSICAL, TimerMsr } from "./_timer_msr.ts";

/** What the clock needs from its vCPU. */
export interface ClockHost {
  readonly engine: Engine;
  readonly stats: VcpuStats;
  /** Whether this vCPU's registers are the engine's now. */
  inEngine(): boolean;
  /** Instructions retired in the current run so far, or 0 outside a run. */
  retiredInRun(): number;
  /** Ends the run with a hook's error. */
  fail(error: unknown): void;
}

/** Options the clock takes from `VcpuOptions`. */
export interface ClockOptions {
  readonly clock?: (retiredInRun: number) => bigint;
  readonly onTimerLevel?: (level: boolean) => void;
  readonly onPhysicalTimerLevel?: (level: boolean) => void;
}

/** A vCPU's guest counter and timers. */
export class VcpuClock {
  readonly virtualTimer: TimerTrap;
  readonly physicalTimer: TimerTrap;
  /** Whether guest counter reads are answered by a VMM clock (an MRS hook). */
  readonly hasVmmClock: boolean;
  readonly #host: ClockHost;
  readonly #clock: ((retiredInRun: number) => bigint) | undefined;
  readonly #msr = new TimerMsr();
  #offset = 0n;

  constructor(host: ClockHost, options: ClockOptions) {
    this.#host = host;
    this.#clock = options.clock;
    this.hasVmmClock = options.clock !== undefined;
    this.virtualTimer = new TimerTrap(host.engine, {
      control: SYSREGS.CNTV_CTL_EL0,
      compare: SYSREGS.CNTV_CVAL_EL0,
    }, options.onTimerLevel);
    this.physicalTimer = new TimerTrap(host.engine, {
      control: SYSREGS.CNTP_CTL_EL0,
      compare: SYSREGS.CNTP_CVAL_EL0,
    }, options.onPhysicalTimerLevel);
  }

  /** CNTVOFF_EL2 as this vCPU's registers hold it when in the engine. */
  get offset(): bigint {
    return this.#offset;
  }

  set offset(value: bigint) {
    this.#offset = BigInt.asUintN(64, value);
    if (this.#host.inEngine()) this.#host.engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#offset);
  }

  /** The engine's physical counter: its clock, the same whichever vCPU is in it. */
  physicalNow(): bigint {
    return this.#host.engine.readSys(SYSREGS.CNTPCT_EL0);
  }

  /** The guest counter (CNTVCT_EL0). */
  counter(): bigint {
    const clock = this.#clock;
    if (clock === undefined) return BigInt.asUintN(64, this.physicalNow() - this.#offset);
    return clock(this.#host.retiredInRun());
  }

  /** Both timers against their counters: ISTATUS as the guest reads it, output levels. */
  update(): void {
    const inEngine = this.#host.inEngine();
    const virtual = this.counter();
    this.virtualTimer.update(virtual, inEngine);
    this.physicalTimer.update(BigInt.asUintN(64, virtual + this.#offset), inEngine);
  }

  /** The guest counter value at which a timer whose output is low raises it. */
  deadline(): bigint | undefined {
    let due = this.virtualTimer.level ? undefined : this.timer.deadline();
    const physical = this.physicalTimer.level ? undefined : this.physical.deadline();
    if (physical !== undefined) {
      // The physical timer compares against CNTPCT = CNTVCT + CNTVOFF.
      const inGuestTicks = physical - this.#offset;
      if (due === undefined || inGuestTicks < due) due = inGuestTicks;
    }
    return due;
  }

  /** The virtual timer's state. */
  get timer(): GenericTimer {
    return this.virtualTimer.timer;
  }

  /** The EL1 physical timer's state. */
  get physical(): GenericTimer {
    return this.physicalTimer.timer;
  }

  /** Returns the timers to their power-on state and this vCPU's CNTVOFF to the engine. */
  reset(): void {
    this.#host.engine.writeSys(SYSREGS.CNTVOFF_EL2, this.#offset);
    this.virtualTimer.reset();
    this.physicalTimer.reset();
  }

  // The engine drops guest writes to the timer registers; the MSR hook traps them.
  onMsr(cpReg: Deno.PointerValue): number {
    this.#host.stats.sysregWrites++;
    if (cpReg === null) return 0;
    try {
      return this.#msr.handle(
          cpReg,
          this.#host.engine,
          this.virtualTimer,
          this.physicalTimer,
          () => this.counter(),
          () => BigInt.asUintN(64, this.counter() + this.#offset),
        )
        ? 1
        : 0;
    } catch (e) {
      this.#host.fail(e);
      return 1;
    }
  }

  // Counter reads under a VMM clock return its time.
  onMrs(reg: number, cpReg: Deno.PointerValue): number {
    if (cpReg === null) return 0;
    try {
      const engine = this.#host.engine;
      const kind = this.#msr.counterRead(cpReg, engine);
      if (kind === COUNTER_NONE) return 0;
      let value = this.counter();
      if (kind === COUNTER_PHYSICAL) value = BigInt.asUintN(64, value + this.#offset);
      // The hook names the destination; XZR (and anything else) is not written.
      if ((reg >= REG.X0 && reg < REG.X0 + 29) || reg === REG.X29 || reg === REG.X30) {
        engine.writeReg(reg, value);
      }
      return 1;
    } catch (e) {
      this.#host.fail(e);
      return 1;
    }
  }
}

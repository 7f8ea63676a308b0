/**
 * One EL1 generic timer as the vCPU emulates it around the engine: the
 * state machine, the copy of its registers the guest reads back from the
 * engine, and its output line.
 *
 * The engine drops guest writes to the timer registers (its timers are
 * compiled out), so the vCPU traps them and hands them here; guest reads are
 * served by the engine from the values written back through CP_REG. Several
 * vCPUs can share one engine, each with its own CPU state swapped in and out
 * (`_core.ts`): a timer is evaluated from its own state and a counter value
 * at any time, and its engine copy is brought up to date whenever its vCPU is
 * the one in the engine.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import { GenericTimer } from "./generic_timer.ts";
import type { SysReg } from "./sysregs.ts";

/** The registers of one timer: its control and compare value. */
export interface TimerRegisters {
  /** CNTx_CTL_EL0. */
  readonly control: SysReg;
  /** CNTx_CVAL_EL0. */
  readonly compare: SysReg;
}

/** A trapped timer: guest writes in, ISTATUS and the output level out. */
export class TimerTrap {
  /** The timer's state. */
  readonly timer: GenericTimer = new GenericTimer();
  readonly #engine: Engine;
  readonly #regs: TimerRegisters;
  readonly #onLevel: ((level: boolean) => void) | undefined;
  // What the engine's copy of the control register holds (ISTATUS included),
  // or -1 when it is not known to match (the vCPU was out of the engine).
  #engineControl = 0;
  #level = false;

  /** Traps the timer with `regs` on `engine`; `onLevel` hears output changes. */
  constructor(engine: Engine, regs: TimerRegisters, onLevel?: (level: boolean) => void) {
    this.#engine = engine;
    this.#regs = regs;
    this.#onLevel = onLevel;
  }

  /** The output level. */
  get level(): boolean {
    return this.#level;
  }

  /**
   * A guest write to TVAL (`op2` 0), CTL (1) or CVAL (2) at counter value
   * `now`, made while the timer's vCPU is in the engine; returns false for
   * any other `op2`, which the engine then executes itself.
   */
  write(op2: number, value: bigint, now: bigint): boolean {
    const t = this.timer;
    switch (op2) {
      case 0:
        t.writeTimerValue(value, now);
        this.#engine.writeSys(this.#regs.compare, t.compare);
        break;
      case 1:
        t.writeControl(value);
        break;
      case 2:
        t.writeCompare(value);
        this.#engine.writeSys(this.#regs.compare, t.compare);
        break;
      default:
        return false;
    }
    this.update(now, true);
    return true;
  }

  /**
   * Re-evaluates the timer at counter value `now`: its output, reported when
   * it changes, and — when `inEngine`, its vCPU being the one in the engine —
   * ISTATUS as the guest reads it.
   */
  update(now: bigint, inEngine: boolean): void {
    const t = this.timer;
    if (t.control === 0 && this.#engineControl === 0 && !this.#level) return;
    // One counter reading decides both ISTATUS and the output, so the two can
    // never disagree.
    if (inEngine) {
      const control = t.controlRegister(now);
      if (control !== this.#engineControl) {
        this.#engine.writeSys(this.#regs.control, BigInt(control));
        this.#engineControl = control;
      }
    } else {
      this.#engineControl = -1;
    }
    const level = t.level(now);
    if (level !== this.#level) {
      this.#level = level;
      this.#onLevel?.(level);
    }
  }

  /** Back to the reset state; the engine's registers are reset by the caller. */
  reset(): void {
    this.timer.reset();
    this.#engineControl = 0;
    // The interrupt controller keeps the line's level: tell it the output fell.
    if (this.#level) {
      this.#level = false;
      this.#onLevel?.(false);
    }
  }
}

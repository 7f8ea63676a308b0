/**
 * One EL1 generic timer as the vCPU emulates it around the engine: the
 * state machine, the copy of its registers the guest reads back from the
 * engine, and its output line.
 *
 * The engine drops guest writes to the timer registers (its timers are
 * compiled out), so the vCPU traps them and hands them here; guest reads are
 * served by the engine from the values written back through CP_REG.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import { GenericTimer } from "./generic_timer.ts";
import type { SysReg } from "./sysregs.ts";

/** The registers of one timer: its counter, control and compare value. */
export interface TimerRegisters {
  /** The counter it compares against (CNTVCT_EL0 or CNTPCT_EL0). */
  readonly counter: SysReg;
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
  // What the engine's copy of the control register holds (ISTATUS included).
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
   * A guest write to TVAL (`op2` 0), CTL (1) or CVAL (2); returns false for
   * any other `op2`, which the engine then executes itself.
   */
  write(op2: number, value: bigint): boolean {
    const t = this.timer;
    switch (op2) {
      case 0:
        t.writeTimerValue(value, this.#engine.readSys(this.#regs.counter));
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
    this.update();
    return true;
  }

  /**
   * Re-evaluates the timer against its counter: ISTATUS as the guest reads it,
   * and the output, reported when it changes.
   */
  update(): void {
    const t = this.timer;
    if (t.control === 0 && this.#engineControl === 0 && !this.#level) return;
    // One counter reading decides both ISTATUS and the output, so the two can
    // never disagree.
    const now = this.#engine.readSys(this.#regs.counter);
    const control = t.controlRegister(now);
    if (control !== this.#engineControl) {
      this.#engine.writeSys(this.#regs.control, BigInt(control));
      this.#engineControl = control;
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

/**
 * The MSR hook's decision for the timer registers. The engine drops guest
 * writes to CNTV_* and CNTP_* (its timers are compiled out), so every MSR
 * passes through a hook; the few that write a timer are taken here, the rest
 * go on to the engine untouched.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import { SYSREGS } from "./sysregs.ts";
import type { TimerTrap } from "./timer_trap.ts";

const PSTATE_EL = 0xcn;
/** CNTKCTL_EL1.EL0VTEN: EL0 may access the virtual timer's registers. */
const CNTKCTL_EL0VTEN = 0x100n;
/** CNTKCTL_EL1.EL0PTEN: EL0 may access the physical timer's registers. */
const CNTKCTL_EL0PTEN = 0x200n;
/** CNTKCTL_EL1.EL0PCTEN: EL0 may read CNTPCT_EL0. */
const CNTKCTL_EL0PCTEN = 0x1n;
/** CNTKCTL_EL1.EL0VCTEN: EL0 may read CNTVCT_EL0. */
const CNTKCTL_EL0VCTEN = 0x2n;

/** Which counter an MRS reads, as {@link TimerMsr.counterRead} reports it. */
export const COUNTER_NONE = 0;
/** CNTVCT_EL0. */
export const COUNTER_VIRTUAL = 1;
/** CNTPCT_EL0. */
export const COUNTER_PHYSICAL = 2;

/**
 * Decodes the hook's `uc_arm64_cp_reg`: hands timer writes to their trap and,
 * for a VMM that keeps its own guest clock, recognises counter reads.
 */
export class TimerMsr {
  readonly #buf = new Uint8Array(32);
  readonly #words = new Uint32Array(this.#buf.buffer);
  readonly #value = new BigUint64Array(this.#buf.buffer, 24, 1);

  /**
   * Handles the MSR the hook reports at `cpReg`; returns true when it was a
   * timer write, carried out here (the engine must then skip the
   * instruction), false when the engine executes the instruction itself.
   * `virtualNow`/`physicalNow` read the counters when a TVAL write needs them.
   */
  handle(
    cpReg: Deno.PointerObject,
    engine: Engine,
    virtual: TimerTrap,
    physical: TimerTrap,
    virtualNow: () => bigint,
    physicalNow: () => bigint,
  ): boolean {
    Deno.UnsafePointerView.copyInto(cpReg, this.#buf);
    const w = this.#words;
    // uc_arm64_cp_reg: crn, crm, op0, op1, op2, pad, val. CNTP_*: 14, 2, 3, 3, op2;
    // CNTV_*: 14, 3, 3, 3, op2.
    if (w[0] !== 14 || w[2] !== 3 || w[3] !== 3) return false;
    const isVirtual = w[1] === 3;
    if (!isVirtual && w[1] !== 2) return false;
    // The hook runs before the engine's access check. EL0 may only write a
    // timer when CNTKCTL_EL1 allows it; otherwise the engine's own MSR must
    // run so that it traps into the guest's EL1.
    if (
      (engine.readReg(REG.PSTATE) & PSTATE_EL) === 0n &&
      (engine.readSys(SYSREGS.CNTKCTL_EL1) & (isVirtual ? CNTKCTL_EL0VTEN : CNTKCTL_EL0PTEN)) ===
        0n
    ) {
      return false;
    }
    return isVirtual
      ? virtual.write(w[4], this.#value[0], virtualNow())
      : physical.write(w[4], this.#value[0], physicalNow());
  }

  /**
   * Which counter the MRS the hook reports at `cpReg` reads:
   * {@link COUNTER_VIRTUAL}, {@link COUNTER_PHYSICAL}, or {@link COUNTER_NONE}
   * for any other register and for an EL0 read CNTKCTL_EL1 forbids (the
   * engine's own MRS must then run, so that it traps into the guest's EL1).
   */
  counterRead(cpReg: Deno.PointerObject, engine: Engine): number {
    Deno.UnsafePointerView.copyInto(cpReg, this.#buf);
    const w = this.#words;
    // CNTPCT_EL0 is op0 3, op1 3, CRn 14, CRm 0, op2 1; CNTVCT_EL0 op2 2.
    if (w[0] !== 14 || w[1] !== 0 || w[2] !== 3 || w[3] !== 3) return COUNTER_NONE;
    const kind = w[4] === 2 ? COUNTER_VIRTUAL : w[4] === 1 ? COUNTER_PHYSICAL : COUNTER_NONE;
    if (kind === COUNTER_NONE) return kind;
    if (
      (engine.readReg(REG.PSTATE) & PSTATE_EL) === 0n &&
      (engine.readSys(SYSREGS.CNTKCTL_EL1) &
          (kind === COUNTER_VIRTUAL ? CNTKCTL_EL0VCTEN : CNTKCTL_EL0PCTEN)) === 0n
    ) {
      return COUNTER_NONE;
    }
    return kind;
  }
}

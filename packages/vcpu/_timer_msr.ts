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

/** Decodes the hook's `uc_arm64_cp_reg` and hands timer writes to their trap. */
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
}

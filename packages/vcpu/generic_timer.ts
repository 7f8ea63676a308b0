/**
 * One EL1 generic timer (the virtual one, CNTV_CTL_EL0 / CNTV_CVAL_EL0, or the
 * physical one, CNTP_CTL_EL0 / CNTP_CVAL_EL0) as a state machine.
 *
 * Unicorn 2.0.1 compiles QEMU's timers out: guest writes to these registers
 * are dropped and no timer interrupt is ever raised. The vCPU traps the writes
 * and keeps the state here; the output is a level line the VMM routes to the
 * interrupt controller (PPI 27 for the virtual timer, PPI 30 for the physical
 * one on a GIC).
 *
 * @module
 */

/**
 * CNTx_CTL_EL0.ENABLE.
 *
 * @example
 * ```ts
 * import { GenericTimer, TIMER_ENABLE } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const timer = new GenericTimer();
 * timer.writeCompare(100n);
 * assert.equal(timer.level(200n), false); // disabled: the output stays low
 * timer.writeControl(BigInt(TIMER_ENABLE));
 * assert.equal(timer.level(200n), true);
 * ```
 */
export const TIMER_ENABLE = 1;
/**
 * CNTx_CTL_EL0.IMASK.
 *
 * @example
 * ```ts
 * import { GenericTimer, TIMER_ENABLE, TIMER_IMASK } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const timer = new GenericTimer();
 * timer.writeControl(BigInt(TIMER_ENABLE | TIMER_IMASK)); // compare value 0: met at once
 * assert.equal(timer.status(1n), true); // the condition holds...
 * assert.equal(timer.level(1n), false); // ...but masked, the line stays low
 * assert.equal(timer.deadline(), undefined);
 * ```
 */
export const TIMER_IMASK = 2;
/**
 * CNTx_CTL_EL0.ISTATUS (read-only to the guest).
 *
 * @example
 * ```ts
 * import { TIMER_ENABLE, TIMER_ISTATUS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd51be35f, // msr cntv_cval_el0, xzr
 *   0xd2800020, // mov x0, #1
 *   0xd51be320, // msr cntv_ctl_el0, x0
 *   0xd53be320, // mrs x0, cntv_ctl_el0
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * vcpu.run();
 * // The guest wrote ENABLE and reads ENABLE | ISTATUS back: the compare value has passed.
 * assert.equal(vcpu.getX(0), BigInt(TIMER_ENABLE | TIMER_ISTATUS));
 * ```
 */
export const TIMER_ISTATUS = 4;

/**
 * A timer's state: control bits and compare value, against its own counter.
 * A pure model: the vCPU feeds it the guest's writes and its counter.
 *
 * @example
 * ```ts
 * import { GenericTimer } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const timer = new GenericTimer();
 * timer.writeControl(1n); // ENABLE
 * timer.writeTimerValue(100n, 1_000n); // TVAL = 100 at counter 1000
 * assert.equal(timer.deadline(), 1_100n);
 * assert.equal(timer.level(1_099n), false);
 * assert.equal(timer.level(1_100n), true);
 * assert.equal(timer.controlRegister(1_100n), 5); // ENABLE | ISTATUS
 * timer.reset();
 * assert.equal(timer.deadline(), undefined);
 * ```
 */
export class GenericTimer {
  /** ENABLE and IMASK as the guest last wrote them. */
  control = 0;
  /** The compare value, in counter ticks. */
  compare = 0n;

  /** Whether the timer condition is met at `now` (ISTATUS). */
  status(now: bigint): boolean {
    return (this.control & TIMER_ENABLE) !== 0 && now >= this.compare;
  }

  /** The interrupt output at `now`: enabled, not masked, condition met. */
  level(now: bigint): boolean {
    return (this.control & (TIMER_ENABLE | TIMER_IMASK)) === TIMER_ENABLE && now >= this.compare;
  }

  /** The control register as the guest reads it at `now`. */
  controlRegister(now: bigint): number {
    return this.control | (this.status(now) ? TIMER_ISTATUS : 0);
  }

  /**
   * When the output will next rise, in counter ticks, or `undefined` if it
   * cannot without a register write (disabled or masked).
   */
  deadline(): bigint | undefined {
    return (this.control & (TIMER_ENABLE | TIMER_IMASK)) === TIMER_ENABLE
      ? this.compare
      : undefined;
  }

  /** A guest write to the control register (ISTATUS is read-only, other bits RES0). */
  writeControl(value: bigint): void {
    this.control = Number(value & 3n);
  }

  /** A guest write to the compare value (CVAL). */
  writeCompare(value: bigint): void {
    this.compare = BigInt.asUintN(64, value);
  }

  /** A guest write to the timer value (TVAL): a signed 32-bit offset from `now`. */
  writeTimerValue(value: bigint, now: bigint): void {
    this.compare = BigInt.asUintN(64, now + BigInt.asIntN(32, value));
  }

  /** Back to the reset state (disabled). */
  reset(): void {
    this.control = 0;
    this.compare = 0n;
  }
}

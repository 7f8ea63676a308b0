/**
 * The vCPUs' power and wait states, as PSCI and the scheduler see them: one
 * small state machine per vCPU.
 *
 * ```
 *          CPU_ON                first slice
 *   off ───────────► pending ───────────────► on ◄──┐ interrupt (or its
 *    ▲                                         │    │ timer's deadline)
 *    └──────────────── CPU_OFF ────────────────┤  waiting
 *                                              └───┘ WFI, CPU_SUSPEND standby
 * ```
 *
 * A reboot leaves the boot vCPU `on` and every other `off`.
 *
 * @module
 */

/**
 * A vCPU's power state: `pending` between a successful CPU_ON and its first
 * instruction (PSCI's ON_PENDING).
 *
 * @example
 * ```ts
 * import type { CpuPower } from "@vmkit/vmm";
 *
 * const running = (p: CpuPower) => p !== "off";
 * console.log(running("pending")); // true
 * ```
 */
export type CpuPower = "off" | "pending" | "on";

/**
 * Power and wait state of every vCPU of a VM.
 *
 * @example
 * ```ts
 * import { CpuStates } from "@vmkit/vmm";
 *
 * const cpus = new CpuStates(4);
 * cpus.reset(0);
 * cpus.turnOn(2);
 * console.log(cpus.affinity(2), cpus.affinity(3)); // 2 1
 * ```
 */
export class CpuStates {
  /** How many vCPUs. */
  readonly count: number;
  readonly #power: CpuPower[];
  readonly #waiting: boolean[];

  /** `count` vCPUs, all off. */
  constructor(count: number) {
    this.count = count;
    this.#power = new Array<CpuPower>(count).fill("off");
    this.#waiting = new Array<boolean>(count).fill(false);
  }

  /** Boot state: vCPU `boot` on, the rest off, none waiting. */
  reset(boot: number): void {
    this.#power.fill("off");
    this.#waiting.fill(false);
    this.#power[boot] = "on";
  }

  /** vCPU `i`'s power state. */
  power(i: number): CpuPower {
    return this.#power[i];
  }

  /** PSCI AFFINITY_INFO for vCPU `i`: 0 on, 1 off, 2 on pending. */
  affinity(i: number): 0 | 1 | 2 {
    const p = this.#power[i];
    return p === "on" ? 0 : p === "off" ? 1 : 2;
  }

  /** CPU_ON accepted: `i` starts at its next turn. */
  turnOn(i: number): void {
    this.#power[i] = "pending";
    this.#waiting[i] = false;
  }

  /** `i` runs its first slice. */
  started(i: number): void {
    if (this.#power[i] === "pending") this.#power[i] = "on";
  }

  /** CPU_OFF: `i` stops. */
  turnOff(i: number): void {
    this.#power[i] = "off";
    this.#waiting[i] = false;
  }

  /** Whether `i` waits for an interrupt. */
  waiting(i: number): boolean {
    return this.#waiting[i];
  }

  /** `i` waits for an interrupt (WFI, CPU_SUSPEND to standby). */
  wait(i: number): void {
    this.#waiting[i] = true;
  }

  /** `i`'s wait is over. */
  wake(i: number): void {
    this.#waiting[i] = false;
  }

  /** Whether any vCPU is on (or about to be). */
  anyOn(): boolean {
    return this.#power.some((p) => p !== "off");
  }
}

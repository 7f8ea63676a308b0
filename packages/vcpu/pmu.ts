/**
 * The performance monitors (PMUv3) of a vCPU, emulated the way QEMU's
 * cortex-a72 has them. The engine's own PMU is unusable: its event counters
 * never count under a hypervisor that leaves MDCR_EL2.HPMN at 0, its cycle
 * counter follows the host clock and is seen going backwards across
 * register-context switches, and it has no interrupt output. So every PMU
 * register access traps to EL2 (MDCR_EL2.TPM, see `_system_traps.ts`) and
 * lands here.
 *
 * What the guest sees, as on QEMU 7.2 (`-M virt -cpu cortex-a72`):
 * - PMCR_EL0 0x41023000: six event counters (N = 6) and the cycle counter.
 * - Events: SW_INCR (0x00) and CPU_CYCLES (0x11), and no other (PMCEID0_EL0
 *   0x20001, PMCEID1_EL0 0). A counter set to any other event stands still,
 *   so it never shows a made-up count.
 * - Cycles run at 1 GHz of guest time: 16 per tick of the generic counter
 *   (62.5 MHz), whichever clock drives it (the host's, or the VMM's virtual
 *   clock, which keeps runs reproducible). They only ever count up.
 * - A 32-bit overflow (64-bit for the cycle counter with PMCR_EL0.LC) sets
 *   the counter's PMOVSSET_EL0 bit; the interrupt output is high while
 *   PMCR_EL0.E is set and any flagged counter has its PMINTENSET_EL1 bit
 *   (QEMU's rule), for the VMM to route to PPI 7 (INTID 23).
 *
 * Counts are brought up to date at accounting points: every PMU register
 * access and every {@link Pmu.update} (the VMM calls it at each slice end).
 * Event filtering (PMEVTYPER/PMCCFILTR P, U, NSH) is applied per period
 * between two accounting points, by the exception level the vCPU is at when
 * the period is accounted; QEMU accounts at every exception-level change,
 * which a guest that samples at one level and runs at another can tell
 * apart.
 *
 * @module
 */

import { COUNTER_FREQUENCY_HZ } from "./vcpu_options.ts";

/**
 * PMCR_EL0 as QEMU's cortex-a72 resets it: implementer 0x41, id 0x02, N = 6.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pmu, PMU_PMCR_RESET } from "@vmkit/vcpu";
 *
 * const pmu = new Pmu({ counter: () => 0n });
 * assert.equal(pmu.read("PMCR_EL0", 1), PMU_PMCR_RESET);
 * ```
 */
export const PMU_PMCR_RESET: bigint = 0x4102_3000n;
/**
 * Event counters the PMU has (PMCR_EL0.N).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PMU_COUNTERS, PMU_PMCR_RESET } from "@vmkit/vcpu";
 *
 * assert.equal(Number((PMU_PMCR_RESET >> 11n) & 0x1fn), PMU_COUNTERS);
 * ```
 */
export const PMU_COUNTERS: number = 6;
/**
 * The events the PMU counts, as PMCEID0_EL0 lists them: SW_INCR and CPU_CYCLES.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pmu, PMU_PMCEID0 } from "@vmkit/vcpu";
 *
 * const pmu = new Pmu({ counter: () => 0n });
 * assert.equal(pmu.read("PMCEID0_EL0", 1), PMU_PMCEID0);
 * assert.equal((PMU_PMCEID0 >> 0x11n) & 1n, 1n); // CPU_CYCLES
 * ```
 */
export const PMU_PMCEID0: bigint = (1n << 0x00n) | (1n << 0x11n);
/**
 * Common events 0x20..0x3f the PMU counts: none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pmu, PMU_PMCEID1 } from "@vmkit/vcpu";
 *
 * const pmu = new Pmu({ counter: () => 0n });
 * assert.equal(pmu.read("PMCEID1_EL0", 1), PMU_PMCEID1);
 * ```
 */
export const PMU_PMCEID1: bigint = 0n;
/**
 * Cycles per generic-counter tick: a 1 GHz cycle clock, as QEMU's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COUNTER_FREQUENCY_HZ, PMU_CYCLES_PER_TICK } from "@vmkit/vcpu";
 *
 * assert.equal(PMU_CYCLES_PER_TICK * COUNTER_FREQUENCY_HZ, 1e9);
 * ```
 */
export const PMU_CYCLES_PER_TICK: number = 1_000_000_000 / COUNTER_FREQUENCY_HZ;

const PMCR_E = 1n;
const PMCR_P = 2n;
const PMCR_C = 4n;
const PMCR_D = 8n;
const PMCR_LC = 0x40n;
/** PMCR bits the guest can set: LC, DP, X, D, E (C and P act and read as zero). */
const PMCR_WRITABLE = 0x40n | 0x20n | 0x10n | PMCR_D | PMCR_E;
const CYCLE_BIT = 31;
/** PMCNTEN, PMINTEN and PMOVS bits that exist: the event counters and the cycle counter. */
const COUNTER_MASK = (1n << 31n) | ((1n << BigInt(PMU_COUNTERS)) - 1n);
/** PMEVTYPER bits QEMU keeps: P, U, NSK, NSU, NSH, M, MT and the event number. */
const EVTYPER_MASK = 0xfe00_ffffn;
/** PMCCFILTR_EL0 bits: P, U, NSK, NSU, NSH, M. */
const CCFILTR_MASK = 0xfc00_0000n;
const FILTER_P = 1n << 31n;
const FILTER_U = 1n << 30n;
const FILTER_NSH = 1n << 27n;
const EVENT_SW_INCR = 0;
const EVENT_CPU_CYCLES = 0x11;
const U32 = 1n << 32n;
const U64_MASK = (1n << 64n) - 1n;
const TICK_CYCLES = BigInt(PMU_CYCLES_PER_TICK);

/**
 * Where a {@link Pmu} gets its time and sends its interrupt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pmu, type PmuOptions } from "@vmkit/vcpu";
 *
 * const levels: boolean[] = [];
 * const options: PmuOptions = { counter: () => 0n, onLevel: (l) => levels.push(l) };
 * const pmu = new Pmu(options);
 * pmu.write("PMINTENSET_EL1", 1n, 1);
 * pmu.write("PMCR_EL0", 1n, 1);
 * pmu.write("PMOVSSET_EL0", 1n, 1);
 * assert.deepEqual(levels, [true]);
 * ```
 */
export interface PmuOptions {
  /** The vCPU's generic counter (CNTVCT_EL0 ticks): the time cycles are counted in. */
  counter: () => bigint;
  /** Called when the PMU interrupt output changes (route it to the vCPU's PPI 7, INTID 23). */
  onLevel?: (level: boolean) => void;
}

/**
 * One vCPU's performance monitors.
 *
 * @example
 * ```ts
 * import { Pmu } from "@vmkit/vcpu";
 *
 * let ticks = 0n;
 * const pmu = new Pmu({ counter: () => ticks });
 * pmu.write("PMCNTENSET_EL0", 1n << 31n, 1);
 * pmu.write("PMCR_EL0", 1n, 1);
 * ticks += 100n;
 * console.log(pmu.read("PMCCNTR_EL0", 1)); // 1600n
 * ```
 */
export class Pmu {
  readonly #counter: () => bigint;
  readonly #onLevel: ((level: boolean) => void) | undefined;
  #pmcr = 0n;
  #enabled = 0n;
  #interrupts = 0n;
  #overflows = 0n;
  #select = 0n;
  #userEnable = 0n;
  #cycles = 0n;
  #filter = 0n;
  // Cycles left over under PMCR_EL0.D (the cycle counter counts every 64th).
  #divided = 0n;
  readonly #types = new Array<bigint>(PMU_COUNTERS).fill(0n);
  readonly #counts = new Array<bigint>(PMU_COUNTERS).fill(0n);
  // The counter at the last accounting point; unset until the first.
  #last: bigint | undefined;
  #el = 1;
  #level = false;

  /** A PMU in its reset state. */
  constructor(options: PmuOptions) {
    this.#counter = options.counter;
    this.#onLevel = options.onLevel;
  }

  /** The interrupt output: high while an enabled overflow is flagged. */
  get level(): boolean {
    return this.#level;
  }

  /** PMUSERENR_EL0: what EL0 may reach (EN, SW, CR, ER). */
  get userEnable(): bigint {
    return this.#userEnable;
  }

  /** Back to the reset state (counters stopped and zero, interrupt low). */
  reset(): void {
    this.#pmcr = 0n;
    this.#enabled = this.#interrupts = this.#overflows = 0n;
    this.#select =
      this.#userEnable =
      this.#cycles =
      this.#filter =
      this.#divided =
        0n;
    this.#types.fill(0n);
    this.#counts.fill(0n);
    this.#last = undefined;
    this.#el = 1;
    this.#setLevel();
  }

  /**
   * Brings the counts up to date, `el` being the exception level the vCPU is
   * at (the last one seen when omitted), flags overflows and updates the
   * interrupt output.
   */
  update(el?: number): void {
    if (el !== undefined) this.#el = el;
    if ((this.#pmcr & PMCR_E) === 0n) {
      // Nothing counts: no need to read the clock (this runs at every slice end).
      this.#last = undefined;
      this.#setLevel();
      return;
    }
    const now = this.#counter();
    const last = this.#last ?? now;
    const elapsed = now > last ? (now - last) * TICK_CYCLES : 0n;
    this.#last = now > last ? now : last;
    if (elapsed > 0n) {
      if (this.#cycleCounting()) {
        let add = elapsed;
        if ((this.#pmcr & PMCR_D) !== 0n) {
          const total = this.#divided + elapsed;
          add = total / 64n;
          this.#divided = total % 64n;
        }
        const before = this.#cycles;
        const after = before + add;
        const overflowAt = (this.#pmcr & PMCR_LC) !== 0n ? 1n << 64n : U32;
        if (after / overflowAt !== before / overflowAt) this.#overflows |= 1n << 31n;
        this.#cycles = after & U64_MASK;
      }
      for (let n = 0; n < PMU_COUNTERS; n++) {
        if (this.#event(n) === EVENT_CPU_CYCLES && this.#counting(n)) this.#add(n, elapsed);
      }
    }
    this.#setLevel();
  }

  /**
   * The generic-counter tick at which an overflow whose interrupt is enabled
   * will raise the output, or `undefined` if none will without a register
   * write (or the output is already high).
   */
  deadline(): bigint | undefined {
    if (this.#level || (this.#pmcr & PMCR_E) === 0n) return undefined;
    let cycles: bigint | undefined;
    const consider = (left: bigint) => {
      if (cycles === undefined || left < cycles) cycles = left;
    };
    const armed = this.#interrupts & ~this.#overflows;
    if ((armed & (1n << 31n)) !== 0n && this.#cycleCounting()) {
      const wide = (this.#pmcr & PMCR_LC) !== 0n;
      const left = (wide ? 1n << 64n : U32) - (wide ? this.#cycles : this.#cycles % U32);
      consider((this.#pmcr & PMCR_D) !== 0n ? left * 64n - this.#divided : left);
    }
    for (let n = 0; n < PMU_COUNTERS; n++) {
      if ((armed & (1n << BigInt(n))) === 0n) continue;
      if (this.#event(n) === EVENT_CPU_CYCLES && this.#counting(n)) consider(U32 - this.#counts[n]);
    }
    if (cycles === undefined) return undefined;
    return (this.#last ?? this.#counter()) + (cycles + TICK_CYCLES - 1n) / TICK_CYCLES;
  }

  /** Reads register `name` at exception level `el` (counts brought up to date first). */
  read(name: PmuRegister, el: number): bigint {
    this.update(el);
    switch (name) {
      case "PMCR_EL0":
        return PMU_PMCR_RESET | this.#pmcr;
      case "PMCNTENSET_EL0":
      case "PMCNTENCLR_EL0":
        return this.#enabled;
      case "PMINTENSET_EL1":
      case "PMINTENCLR_EL1":
        return this.#interrupts;
      case "PMOVSSET_EL0":
      case "PMOVSCLR_EL0":
        return this.#overflows;
      case "PMSELR_EL0":
        return this.#select;
      case "PMCEID0_EL0":
        return PMU_PMCEID0;
      case "PMCEID1_EL0":
        return PMU_PMCEID1;
      case "PMCCNTR_EL0":
        return this.#cycles;
      case "PMCCFILTR_EL0":
        return this.#filter;
      case "PMUSERENR_EL0":
        return this.#userEnable;
      case "PMXEVTYPER_EL0":
        return this.#select === 31n ? this.#filter : this.#types[this.#selected()] ?? 0n;
      case "PMXEVCNTR_EL0":
        return this.#counts[this.#selected()] ?? 0n;
      case "PMSWINC_EL0":
        return 0n;
    }
  }

  /** Reads event counter `n` (PMEVCNTR<n>_EL0), or its type (PMEVTYPER<n>_EL0). */
  readCounter(n: number, type: boolean, el: number): bigint {
    this.update(el);
    if (n >= PMU_COUNTERS) return 0n;
    return type ? this.#types[n] : this.#counts[n];
  }

  /** Writes `value` to register `name` at exception level `el`. */
  write(name: PmuRegister, value: bigint, el: number): void {
    this.update(el);
    switch (name) {
      case "PMCR_EL0":
        if ((value & PMCR_C) !== 0n) this.#cycles = this.#divided = 0n;
        if ((value & PMCR_P) !== 0n) this.#counts.fill(0n);
        this.#pmcr = value & PMCR_WRITABLE;
        // Counting starts now (while disabled, the time is not followed).
        if ((value & PMCR_E) !== 0n) this.#last ??= this.#counter();
        break;
      case "PMCNTENSET_EL0":
        this.#enabled |= value & COUNTER_MASK;
        break;
      case "PMCNTENCLR_EL0":
        this.#enabled &= ~value;
        break;
      case "PMINTENSET_EL1":
        this.#interrupts |= value & COUNTER_MASK;
        break;
      case "PMINTENCLR_EL1":
        this.#interrupts &= ~value;
        break;
      case "PMOVSSET_EL0":
        this.#overflows |= value & COUNTER_MASK;
        break;
      case "PMOVSCLR_EL0":
        this.#overflows &= ~value;
        break;
      case "PMSELR_EL0":
        this.#select = value & 31n;
        break;
      case "PMSWINC_EL0":
        this.#softwareIncrement(value);
        break;
      case "PMCCNTR_EL0":
        this.#cycles = value & U64_MASK;
        break;
      case "PMCCFILTR_EL0":
        this.#filter = value & CCFILTR_MASK;
        break;
      case "PMUSERENR_EL0":
        this.#userEnable = value & 0xfn;
        break;
      case "PMXEVTYPER_EL0":
        if (this.#select === 31n) this.#filter = value & CCFILTR_MASK;
        else if (this.#selected() < PMU_COUNTERS) {
          this.#types[this.#selected()] = value & EVTYPER_MASK;
        }
        break;
      case "PMXEVCNTR_EL0":
        if (this.#selected() < PMU_COUNTERS) this.#counts[this.#selected()] = value % U32;
        break;
      case "PMCEID0_EL0":
      case "PMCEID1_EL0":
        break;
    }
    this.#setLevel();
  }

  /** Writes event counter `n` (PMEVCNTR<n>_EL0), or its type (PMEVTYPER<n>_EL0). */
  writeCounter(n: number, type: boolean, value: bigint, el: number): void {
    this.update(el);
    if (n >= PMU_COUNTERS) return;
    if (type) this.#types[n] = value & EVTYPER_MASK;
    else this.#counts[n] = value % U32;
  }

  #selected(): number {
    return Number(this.#select);
  }

  #event(n: number): number {
    return Number(this.#types[n] & 0xffffn);
  }

  #softwareIncrement(value: bigint): void {
    for (let n = 0; n < PMU_COUNTERS; n++) {
      if ((value & (1n << BigInt(n))) === 0n) continue;
      if (this.#event(n) === EVENT_SW_INCR && this.#counting(n)) this.#add(n, 1n);
    }
  }

  #add(n: number, count: bigint): void {
    const after = this.#counts[n] + count;
    if (after >= U32) this.#overflows |= 1n << BigInt(n);
    this.#counts[n] = after % U32;
  }

  /** Whether the cycle counter counts now. */
  #cycleCounting(): boolean {
    return (this.#pmcr & PMCR_E) !== 0n && (this.#enabled & (1n << BigInt(CYCLE_BIT))) !== 0n &&
      this.#admits(this.#filter);
  }

  /** Whether event counter `n` counts now (enabled, not filtered out, a supported event). */
  #counting(n: number): boolean {
    if ((this.#pmcr & PMCR_E) === 0n || (this.#enabled & (1n << BigInt(n))) === 0n) return false;
    const event = this.#event(n);
    if (event >= 64) return false;
    const listed = event < 32 ? PMU_PMCEID0 : PMU_PMCEID1;
    if ((listed & (1n << BigInt(event & 31))) === 0n) return false;
    return this.#admits(this.#types[n]);
  }

  /** The filter bits of a PMEVTYPER or PMCCFILTR at the vCPU's exception level (non-secure). */
  #admits(filter: bigint): boolean {
    if (this.#el === 0) return (filter & FILTER_U) === 0n;
    if (this.#el === 1) return (filter & FILTER_P) === 0n;
    return (filter & FILTER_NSH) !== 0n;
  }

  #setLevel(): void {
    const level = (this.#pmcr & PMCR_E) !== 0n && (this.#overflows & this.#interrupts) !== 0n;
    if (level === this.#level) return;
    this.#level = level;
    this.#onLevel?.(level);
  }
}

/**
 * The PMU registers addressed by name (the event counters are addressed by number).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pmu, type PmuRegister } from "@vmkit/vcpu";
 *
 * const pmu = new Pmu({ counter: () => 0n });
 * const reg: PmuRegister = "PMSELR_EL0";
 * pmu.write(reg, 3n, 1);
 * assert.equal(pmu.read(reg, 1), 3n);
 * ```
 */
export type PmuRegister =
  | "PMCR_EL0"
  | "PMCNTENSET_EL0"
  | "PMCNTENCLR_EL0"
  | "PMOVSCLR_EL0"
  | "PMSWINC_EL0"
  | "PMSELR_EL0"
  | "PMCEID0_EL0"
  | "PMCEID1_EL0"
  | "PMCCNTR_EL0"
  | "PMXEVTYPER_EL0"
  | "PMXEVCNTR_EL0"
  | "PMUSERENR_EL0"
  | "PMINTENSET_EL1"
  | "PMINTENCLR_EL1"
  | "PMOVSSET_EL0"
  | "PMCCFILTR_EL0";

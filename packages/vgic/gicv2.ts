/**
 * The GICv2 model: a distributor and up to eight CPU interfaces with their IRQ outputs.
 *
 * @module
 */

import { CpuInterface } from "./cpu_interface.ts";
import { Distributor } from "./distributor.ts";
import { VgicError } from "./errors.ts";
import type { MmioRegion, VgicStats } from "./mmio.ts";
import { MAX_CPUS, MAX_INTIDS, PRIVATE_IRQS, SGI_COUNT } from "./intid_limits.ts";
import { type DeactivateCallback, GicState, type IrqOutputCallback } from "./state.ts";

/**
 * Interrupt count used when none is given (and the smallest accepted).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_IRQS, Gicv2 } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2().irqs, DEFAULT_IRQS);
 * assert.equal(new Gicv2({ irqs: 64 }).irqs, DEFAULT_IRQS); // raised to the minimum
 * assert.equal(new Gicv2({ irqs: 300 }).irqs, 320); // rounded up to a multiple of 32
 * ```
 */
export const DEFAULT_IRQS = 256;

/**
 * Options for {@link Gicv2}.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, type Gicv2Options } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const irqInputs = [false, false, false, false]; // one per vCPU
 * const options: Gicv2Options = {
 *   cpus: 4,
 *   irqs: 288,
 *   onIrq: (cpu, asserted) => irqInputs[cpu] = asserted,
 * };
 * const gic = new Gicv2(options);
 * assert.equal(gic.irqs, 288);
 * assert.equal(gic.cpus, 4);
 * ```
 */
export interface Gicv2Options {
  /** Number of CPU interfaces, 1–8. Default 1. */
  readonly cpus?: number;
  /**
   * Number of INTIDs, counting the 32 banked SGIs/PPIs. Default 256; smaller values are raised
   * to 256, others rounded up to a multiple of 32; at most 1020 (1020 reports 1024 lines in
   * GICD_TYPER, INTIDs 1020–1023 being the special ones).
   */
  readonly irqs?: number;
  /** Called with a CPU's IRQ output level each time it changes. */
  readonly onIrq?: IrqOutputCallback;
  /** Called after the guest deactivates an interrupt (see {@link DeactivateCallback}). */
  readonly onDeactivate?: DeactivateCallback;
}

/**
 * One interrupt input, resolved and checked once at wiring time so that a device model can
 * drive it on its hot path without validation.
 *
 * @example A level-triggered device line
 * ```ts
 * import { Gicv2, type IrqLine } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * const uart: IrqLine = gic.line(33); // checked once, when the device is wired
 * uart.set(true); // the device has data
 * assert.equal(gic.interruptState(33).pending, true);
 * uart.set(false); // drained: a level interrupt stops pending
 * assert.equal(gic.interruptState(33).pending, false);
 * ```
 */
export interface IrqLine {
  /** The INTID this line drives. */
  readonly intid: number;
  /** The CPU whose banked copy a PPI line drives (0 for SPIs). */
  readonly cpu: number;
  /** Drive the line: a level-sensitive interrupt is pending while high; a rising edge latches. */
  set(high: boolean): void;
  /** Latch the interrupt pending, as an edge would (also for level-configured interrupts). */
  pulse(): void;
}

/**
 * A snapshot of one interrupt's state, for debugging and tests (allocates).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, type InterruptState } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * gic.setLevel(40, true);
 * const state: InterruptState = gic.interruptState(40);
 * assert.equal(state.lineHigh, true);
 * assert.equal(state.pending, true);
 * assert.equal(state.enabled, false); // the guest has not enabled it yet
 * ```
 */
export interface InterruptState {
  /** The INTID. */
  readonly intid: number;
  /** The CPU whose banked view this is (meaningful for INTIDs 0–31). */
  readonly cpu: number;
  /** GICD_ISENABLER bit. */
  readonly enabled: boolean;
  /** GICD_ISPENDR bit (for SGIs: pending from any source). */
  readonly pending: boolean;
  /** GICD_ISACTIVER bit. */
  readonly active: boolean;
  /** Input line level (always false for SGIs). */
  readonly lineHigh: boolean;
  /** Edge-triggered (true for SGIs). */
  readonly edgeTriggered: boolean;
  /** Group (0 or 1). */
  readonly group: number;
  /** Priority byte. */
  readonly priority: number;
  /**
   * The CPUs the interrupt goes to, as a bit mask (with one CPU interface
   * always CPU 0, while GICD_ITARGETSR reads as zero).
   */
  readonly targets: number;
  /** For SGIs, the pending source CPUs as a bit mask; 0 otherwise. */
  readonly sgiSources: number;
}

/**
 * A GICv2 interrupt controller model.
 *
 * The VMM maps {@link Gicv2.distributor} and {@link Gicv2.cpuInterface} and forwards guest
 * accesses with the accessing vCPU's index, wires `onIrq` to each vCPU's IRQ input, and has
 * devices drive their lines through {@link Gicv2.setLevel} / {@link Gicv2.line}.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * const gic = new Gicv2({ cpus: 2, onIrq: (cpu, high) => console.log(cpu, high) });
 * ```
 */
export class Gicv2 {
  /** Number of CPU interfaces. */
  readonly cpus: number;
  /** Number of implemented INTIDs (a multiple of 32, or 1020). */
  readonly irqs: number;
  /** The distributor registers (GICD, 64 KiB). */
  readonly distributor: MmioRegion;
  /** The CPU interface registers (GICC, 8 KiB), banked by the accessing CPU. */
  readonly cpuInterface: MmioRegion;
  /** Diagnostics of absorbed guest misbehaviour; kept across {@link Gicv2.reset}. */
  readonly stats: VgicStats;
  readonly #s: GicState;

  /**
   * Create a GIC in its power-on state.
   *
   * @param options CPU and interrupt counts, output callbacks
   * @throws {VgicError} `BAD_CONFIG` for a CPU count outside 1–8 or a bad interrupt count
   */
  constructor(options: Gicv2Options = {}) {
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
      throw new VgicError("BAD_CONFIG", `cpus must be an integer in 1..${MAX_CPUS}: ${cpus}`);
    }
    const irqs = options.irqs ?? DEFAULT_IRQS;
    if (!Number.isInteger(irqs) || irqs < 0 || irqs > MAX_INTIDS) {
      throw new VgicError("BAD_CONFIG", `irqs must be an integer up to ${MAX_INTIDS}: ${irqs}`);
    }
    const lines = Math.ceil(Math.max(irqs, DEFAULT_IRQS) / 32) * 32;
    const s = new GicState(cpus, lines);
    s.onIrq = options.onIrq;
    s.onDeactivate = options.onDeactivate;
    this.#s = s;
    this.cpus = cpus;
    this.irqs = s.irqs;
    this.stats = s.stats;
    this.distributor = new Distributor(s);
    this.cpuInterface = new CpuInterface(s);
  }

  /** Called with a CPU's IRQ output level each time it changes (never for an unchanged one). */
  get onIrq(): IrqOutputCallback | undefined {
    return this.#s.onIrq;
  }
  set onIrq(callback: IrqOutputCallback | undefined) {
    this.#s.onIrq = callback;
  }

  /** Called after the guest deactivates an interrupt; see {@link DeactivateCallback}. */
  get onDeactivate(): DeactivateCallback | undefined {
    return this.#s.onDeactivate;
  }
  set onDeactivate(callback: DeactivateCallback | undefined) {
    this.#s.onDeactivate = callback;
  }

  /**
   * Adds an observer of deactivation, called after {@link onDeactivate} each time the guest
   * deactivates an interrupt (GICC_EOIR with EOImode 0, GICC_DIR, GICD_ICACTIVER). Several may
   * listen; {@link onDeactivate} stays the one the virq API owns.
   *
   * @returns a function that removes the listener
   */
  addDeactivateListener(listener: DeactivateCallback): () => void {
    const listeners = this.#s.deactivateListeners;
    listeners.push(listener);
    return () => {
      const i = listeners.indexOf(listener);
      if (i >= 0) listeners.splice(i, 1);
    };
  }

  /**
   * Drive the input line of a PPI or SPI. Level-sensitive interrupts are pending while the line
   * is high (and pend again after EOI if it still is); edge-triggered ones latch on each rising
   * edge. Setting the level it already has changes nothing.
   *
   * @param intid 16–31 (PPI, needs `cpu`) or 32 up to {@link Gicv2.irqs} − 1 (SPI)
   * @param cpu the CPU whose PPI this is; ignored for SPIs
   * @throws {VgicError} `INVALID_IRQ` / `INVALID_CPU` for a wiring mistake
   */
  setLevel(intid: number, high: boolean, cpu?: number): void {
    this.#s.setLine(intid, this.#checkLine(intid, cpu), high);
  }

  /**
   * Make a PPI or SPI pending once, as a rising edge (or a GICD_ISPENDR write) would.
   *
   * @throws {VgicError} `INVALID_IRQ` / `INVALID_CPU` for a wiring mistake
   */
  pulse(intid: number, cpu?: number): void {
    this.#s.latchPending(intid, this.#checkLine(intid, cpu));
  }

  /**
   * Resolve an input line once, for a device model to drive without per-call checks.
   *
   * @throws {VgicError} `INVALID_IRQ` / `INVALID_CPU` for a wiring mistake
   */
  line(intid: number, cpu?: number): IrqLine {
    const c = this.#checkLine(intid, cpu);
    const s = this.#s;
    return {
      intid,
      cpu: c,
      set: (high: boolean): void => s.setLine(intid, c, high),
      pulse: (): void => s.latchPending(intid, c),
    };
  }

  /** Current IRQ output level of CPU interface `cpu` (false for an unknown CPU). */
  irqAsserted(cpu: number): boolean {
    return this.#s.irqOut[cpu] === 1;
  }

  /**
   * Snapshot one interrupt's state (allocates; for debugging and tests).
   *
   * @param intid 0 up to {@link Gicv2.irqs} − 1
   * @param cpu the banked view for INTIDs 0–31 (default 0)
   * @throws {VgicError} `INVALID_IRQ` / `INVALID_CPU`
   */
  interruptState(intid: number, cpu = 0): InterruptState {
    const s = this.#s;
    if (!Number.isInteger(intid) || intid < 0 || intid >= s.irqs) {
      throw new VgicError("INVALID_IRQ", `no such interrupt: ${intid}`, { intid });
    }
    this.#checkCpu(cpu, intid);
    const w = s.wordOf(intid, cpu);
    const b = intid & 31;
    const bit = (x: number): boolean => ((x >>> b) & 1) === 1;
    const sgi = intid < SGI_COUNT;
    return {
      intid,
      cpu,
      enabled: bit(s.enabled[w]),
      pending: bit(s.pendingWord(w)),
      active: bit(s.active[w]),
      lineHigh: bit(s.level[w]),
      edgeTriggered: sgi || bit(s.edge[w]),
      group: bit(s.group[w]) ? 1 : 0,
      priority: s.priority[(w << 5) | b],
      targets: intid < PRIVATE_IRQS ? 1 << cpu : s.cpus === 1 ? 1 : s.targets[(w << 5) | b],
      sgiSources: sgi ? s.sgiSources[cpu * SGI_COUNT + intid] : 0,
    };
  }

  /**
   * Return to the power-on state (for a VM restart): everything disabled, inactive, not
   * pending, priorities and masks zero. Input line levels belong to the devices and are kept;
   * {@link Gicv2.stats} is kept. IRQ outputs that were asserted are reported deasserted.
   */
  reset(): void {
    this.#s.reset();
  }

  /**
   * Return CPU interface `cpu` and its banked SGIs and PPIs to the power-on state, leaving the
   * distributor's shared state, the SPIs and every other CPU as they are (an SPI this CPU had
   * acknowledged and not deactivated becomes inactive). For a vCPU set up on its own; a VM
   * restart resets everything with {@link Gicv2.reset}.
   *
   * @throws {VgicError} `INVALID_CPU` for a CPU interface that does not exist
   */
  resetCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new VgicError("INVALID_CPU", `no such CPU interface: ${cpu}`, { cpu });
    }
    this.#s.resetCpu(cpu);
  }

  /**
   * Make SGI `intid` pending on CPU `cpu` as sent by CPU `source` (as a GICD_SGIR write from
   * `source`, or GICD_SPENDSGIR, would): GICC_IAR reports `source` in its CPU ID field.
   *
   * @param source the sending CPU; default `cpu` itself
   * @throws {VgicError} `INVALID_IRQ` / `INVALID_CPU` for a wiring mistake
   */
  sendSgi(intid: number, cpu: number, source: number = cpu): void {
    if (!Number.isInteger(intid) || intid < 0 || intid >= SGI_COUNT) {
      throw new VgicError("INVALID_IRQ", `not an SGI (0..${SGI_COUNT - 1}): ${intid}`, { intid });
    }
    this.#checkCpu(cpu, intid);
    this.#checkCpu(source, intid);
    this.#s.changeSgiSources(cpu, intid, 1 << source, true);
  }

  #checkLine(intid: number, cpu: number | undefined): number {
    const s = this.#s;
    if (!Number.isInteger(intid) || intid < SGI_COUNT || intid >= s.irqs) {
      throw new VgicError(
        "INVALID_IRQ",
        `not a PPI or SPI of this GIC (16..${s.irqs - 1}): ${intid}`,
        { intid },
      );
    }
    if (intid >= PRIVATE_IRQS) return 0;
    if (cpu === undefined) {
      throw new VgicError("INVALID_CPU", `PPI ${intid} needs a CPU index`, { intid });
    }
    this.#checkCpu(cpu, intid);
    return cpu;
  }

  #checkCpu(cpu: number, intid: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.#s.cpus) {
      throw new VgicError("INVALID_CPU", `no such CPU interface: ${cpu}`, { intid, cpu });
    }
  }
}

/**
 * The GICv2 state machine shared by the distributor and the CPU interfaces.
 *
 * Interrupt state lives in 32-bit bitmaps indexed by "bank word": words `0..cpus-1` hold each
 * CPU's banked INTIDs 0–31, the following words hold the SPIs, 32 per word. A slot (bank word
 * × 32 + bit) indexes the byte-per-interrupt arrays (priority, targets). Nothing here allocates
 * after construction, so every register access and line change is allocation-free.
 *
 * Inputs are trusted (decoding and validation happen in the register and API layers).
 *
 * @module
 */

import { createStats, type VgicRegion, type VgicStats } from "./mmio.ts";
import {
  GICC_CTLR_EOIMODE,
  IAR_CPUID_SHIFT,
  IAR_INTID_MASK,
  SPURIOUS_INTID,
} from "./cpu_interface_registers.ts";
import { MAX_INTIDS, PRIVATE_IRQS, SGI_COUNT } from "./intid_limits.ts";

/**
 * Receives the IRQ output level of a CPU interface whenever it changes.
 *
 * @example Driving each vCPU's IRQ input
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 *   type IrqOutputCallback,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const irqInput = [false];
 * const onIrq: IrqOutputCallback = (cpu, asserted) => irqInput[cpu] = asserted;
 * const gic = new Gicv2({ onIrq });
 * // What the guest's driver does: enable the distributor, SPI 33 and the CPU interface.
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * gic.pulse(33);
 * assert.equal(irqInput[0], true);
 * ```
 */
export type IrqOutputCallback = (cpu: number, asserted: boolean) => void;

/**
 * Told that the guest deactivated interrupt `intid` on CPU `cpu` (EOIR with EOImode = 0, DIR,
 * or a GICD_ICACTIVER write), after the model's state already reflects it.
 *
 * @example Re-arming a device when the guest is done
 * ```ts
 * import { type DeactivateCallback, Gicv2, GICD_ICACTIVER, GICD_ISACTIVER } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const done: number[] = [];
 * const onDeactivate: DeactivateCallback = (_cpu, intid) => done.push(intid);
 * const gic = new Gicv2({ onDeactivate });
 * gic.distributor.write(GICD_ISACTIVER + 4, 4, 1 << (40 - 32), 0); // SPI 40 active
 * gic.distributor.write(GICD_ICACTIVER + 4, 4, 1 << (40 - 32), 0); // and deactivated
 * assert.deepEqual(done, [40]);
 * ```
 */
export type DeactivateCallback = (cpu: number, intid: number) => void;

/** Running priority while nothing is active: lower than every real priority. */
export const IDLE_PRIORITY = 0x100;

/**
 * Each running-priority stack entry has a strictly lower group priority value than the one
 * below it (preemption demands it), and values are 0..255, so 256 entries always suffice.
 */
const STACK_SLOTS = 256;

/** Index of the lowest set bit of a non-zero 32-bit value. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** The mutable state of one GICv2 and the transitions the architecture defines on it. */
export class GicState {
  /** Number of CPU interfaces. */
  readonly cpus: number;
  /** Interrupt lines reported by GICD_TYPER (a multiple of 32). */
  readonly lines: number;
  /** Implemented INTIDs: `min(lines, 1020)`. */
  readonly irqs: number;
  /** One bit per implemented CPU interface. */
  readonly cpuMask: number;
  /** Number of bank words. */
  readonly words: number;

  /** Enable bits per bank word. */
  readonly enabled: Int32Array;
  /** Group bits per bank word (set = group 1). */
  readonly group: Int32Array;
  /** Latched pending bits (edges, GICD_ISPENDR, injections) per bank word; unused for SGIs. */
  readonly latch: Int32Array;
  /** Input line levels per bank word; owned by the devices, so kept across a reset. */
  readonly level: Int32Array;
  /** Active bits per bank word. */
  readonly active: Int32Array;
  /** Edge-triggered configuration bits per bank word (PPIs and SPIs; SGIs are always edge). */
  readonly edge: Int32Array;
  /** Priority per slot. */
  readonly priority: Uint8Array;
  /** CPU target bits per slot (SPIs only). */
  readonly targets: Uint8Array;
  /** Pending source CPUs per (target CPU, SGI): index `cpu * 16 + sgi`. */
  readonly sgiSources: Uint8Array;
  /** Per CPU, one bit per SGI that has at least one pending source. */
  readonly sgiPending: Int32Array;

  /** GICD_CTLR: bit 0 group 0 enable, bit 1 group 1 enable. */
  distCtlr = 0;
  /** GICC_CTLR per CPU. */
  readonly cpuCtlr: Uint16Array;
  /** GICC_PMR per CPU. */
  readonly pmr: Uint8Array;
  /** GICC_BPR per CPU. */
  readonly bpr: Uint8Array;
  /** Running-priority stack: the acknowledged IAR value per entry, `cpu * 256 + depth`. */
  readonly stackKey: Uint16Array;
  /** Running-priority stack: the group priority per entry. */
  readonly stackPrio: Uint16Array;
  /** Running-priority stack depth per CPU. */
  readonly depth: Uint16Array;

  /** Highest-priority candidate per CPU as GICC_IAR would return it (1023 when none). */
  readonly hpKey: Uint16Array;
  /** Slot of the highest-priority candidate per CPU (-1 when none). */
  readonly hpSlot: Int32Array;
  /** Priority of the highest-priority candidate per CPU (256 when none). */
  readonly hpPrio: Uint16Array;
  /** IRQ output level per CPU (0/1). */
  readonly irqOut: Uint8Array;

  /** Diagnostics counters. */
  readonly stats: VgicStats = createStats();
  /** IRQ output listener. */
  onIrq: IrqOutputCallback | undefined;
  /** Deactivation listener. */
  onDeactivate: DeactivateCallback | undefined;
  /** Further observers of deactivation, after {@link onDeactivate}. */
  readonly deactivateListeners: DeactivateCallback[] = [];

  /** With one CPU interface every SPI goes to it, whatever ITARGETSR says. */
  readonly #targetOverride: number;

  /**
   * Allocate the state of a GIC in its power-on state.
   *
   * @param cpus number of CPU interfaces (already validated, 1..8)
   * @param lines interrupt lines (already validated, a multiple of 32 in 32..1024)
   */
  constructor(cpus: number, lines: number) {
    this.cpus = cpus;
    this.lines = lines;
    this.irqs = Math.min(lines, MAX_INTIDS);
    this.cpuMask = (1 << cpus) - 1;
    this.words = cpus + lines / 32 - 1;
    this.enabled = new Int32Array(this.words);
    this.group = new Int32Array(this.words);
    this.latch = new Int32Array(this.words);
    this.level = new Int32Array(this.words);
    this.active = new Int32Array(this.words);
    this.edge = new Int32Array(this.words);
    this.priority = new Uint8Array(this.words * 32);
    this.targets = new Uint8Array(this.words * 32);
    this.sgiSources = new Uint8Array(cpus * SGI_COUNT);
    this.sgiPending = new Int32Array(cpus);
    this.cpuCtlr = new Uint16Array(cpus);
    this.pmr = new Uint8Array(cpus);
    this.bpr = new Uint8Array(cpus);
    this.stackKey = new Uint16Array(cpus * STACK_SLOTS);
    this.stackPrio = new Uint16Array(cpus * STACK_SLOTS);
    this.depth = new Uint16Array(cpus);
    this.hpKey = new Uint16Array(cpus).fill(SPURIOUS_INTID);
    this.hpSlot = new Int32Array(cpus).fill(-1);
    this.hpPrio = new Uint16Array(cpus).fill(IDLE_PRIORITY);
    this.irqOut = new Uint8Array(cpus);
    this.#targetOverride = cpus === 1 ? 1 : 0;
  }

  /** Bank word holding `intid` as seen by `cpu`. */
  wordOf(intid: number, cpu: number): number {
    return intid < PRIVATE_IRQS ? cpu : this.cpus + (intid >>> 5) - 1;
  }

  /** Bank word of register index `n` (32 INTIDs per index) as seen by `cpu`. */
  wordOfIndex(n: number, cpu: number): number {
    return n === 0 ? cpu : this.cpus + n - 1;
  }

  /** INTID of bit `bit` of bank word `w`. */
  intidOf(w: number, bit: number): number {
    return w < this.cpus ? bit : (w - this.cpus + 1) * 32 + bit;
  }

  /** Bits of register index `n` that name implemented INTIDs. */
  implementedMask(n: number): number {
    const top = this.irqs - n * 32;
    return top >= 32 ? -1 : top <= 0 ? 0 : (1 << top) - 1;
  }

  /** Pending bits of bank word `w`, as GICD_ISPENDR reports them. */
  pendingWord(w: number): number {
    const sgi = w < this.cpus ? this.sgiPending[w] : 0;
    return this.latch[w] | (this.level[w] & ~this.edge[w]) | sgi;
  }

  /** Running priority of `cpu` for comparisons (256 when idle). */
  runningPriority(cpu: number): number {
    const d = this.depth[cpu];
    return d === 0 ? IDLE_PRIORITY : this.stackPrio[cpu * STACK_SLOTS + d - 1];
  }

  /** Active-priority bits for GICC_APRn: one bit per active group priority / 2. */
  activePriorityWord(cpu: number, n: number): number {
    let bits = 0;
    const base = cpu * STACK_SLOTS;
    const d = this.depth[cpu];
    for (let i = 0; i < d; i++) {
      const level = this.stackPrio[base + i] >>> 1;
      if (level >>> 5 === n) bits |= 1 << (level & 31);
    }
    return bits >>> 0;
  }

  /** Return to the power-on state. Input line levels are the devices' and stay. */
  reset(): void {
    this.enabled.fill(0);
    this.group.fill(0);
    this.latch.fill(0);
    this.active.fill(0);
    this.edge.fill(0);
    this.priority.fill(0);
    this.targets.fill(0);
    this.sgiSources.fill(0);
    this.sgiPending.fill(0);
    this.distCtlr = 0;
    this.cpuCtlr.fill(0);
    this.pmr.fill(0);
    this.bpr.fill(0);
    this.depth.fill(0);
    this.updateAll();
  }

  /**
   * Return one CPU's part to the power-on state: its banked SGIs and PPIs (enables, groups,
   * pending, active, trigger, priorities, SGI sources) and its CPU interface. An SPI it had
   * acknowledged and not deactivated becomes inactive. Line levels and other CPUs are untouched.
   */
  resetCpu(cpu: number): void {
    const base = cpu * STACK_SLOTS;
    let spis = false;
    for (let i = 0; i < this.depth[cpu]; i++) {
      const intid = this.stackKey[base + i] & IAR_INTID_MASK;
      if (intid < PRIVATE_IRQS) continue;
      this.active[this.wordOf(intid, cpu)] &= ~(1 << (intid & 31));
      spis = true;
    }
    this.enabled[cpu] = 0;
    this.group[cpu] = 0;
    this.latch[cpu] = 0;
    this.active[cpu] = 0;
    this.edge[cpu] = 0;
    this.priority.fill(0, cpu * 32, cpu * 32 + 32);
    this.sgiSources.fill(0, cpu * SGI_COUNT, cpu * SGI_COUNT + SGI_COUNT);
    this.sgiPending[cpu] = 0;
    this.cpuCtlr[cpu] = 0;
    this.pmr[cpu] = 0;
    this.bpr[cpu] = 0;
    this.depth[cpu] = 0;
    if (spis) this.updateAll();
    else this.update(cpu);
  }

  /** Recompute the highest-priority candidate and IRQ output of every CPU. */
  updateAll(): void {
    for (let c = 0; c < this.cpus; c++) this.update(c);
  }

  /** Recompute after a change to bank word `w` (banked words affect one CPU only). */
  updateWord(w: number): void {
    if (w < this.cpus) this.update(w);
    else this.updateAll();
  }

  /** Recompute the highest-priority candidate and IRQ output of `cpu` from scratch. */
  update(cpu: number): void {
    this.#scan(cpu);
    this.refreshOutput(cpu);
  }

  /** Recompute the IRQ output of `cpu` from its cached candidate, PMR and running priority. */
  refreshOutput(cpu: number): void {
    const p = this.hpPrio[cpu];
    const out = p < this.pmr[cpu] && p < this.runningPriority(cpu) ? 1 : 0;
    if (out !== this.irqOut[cpu]) {
      this.irqOut[cpu] = out;
      this.onIrq?.(cpu, out === 1);
    }
  }

  #scan(cpu: number): void {
    let best = IDLE_PRIORITY;
    let bestSlot = -1;
    const ctl = this.distCtlr & this.cpuCtlr[cpu] & 3;
    if (ctl !== 0) {
      // Locals rather than property loads: this loop runs on every state change.
      const enabled = this.enabled;
      const latch = this.latch;
      const level = this.level;
      const edge = this.edge;
      const active = this.active;
      const group = this.group;
      const priority = this.priority;
      const targets = this.targets;
      const g0 = (ctl & 1) !== 0 ? -1 : 0;
      const g1 = (ctl & 2) !== 0 ? -1 : 0;
      const cpuBit = 1 << cpu;
      const override = this.#targetOverride;
      const words = this.words;
      // The CPU's own bank word first, then every SPI word.
      for (let w = cpu; w < words; w = w === cpu ? this.cpus : w + 1) {
        const pending = latch[w] | (level[w] & ~edge[w]) | (w === cpu ? this.sgiPending[cpu] : 0);
        let cand = enabled[w] & pending & ~active[w];
        if (cand === 0) continue;
        const grp = group[w];
        cand &= (grp & g1) | (~grp & g0);
        const spi = w !== cpu;
        const base = w << 5;
        while (cand !== 0) {
          const low = cand & -cand;
          cand ^= low;
          const slot = base | (31 - Math.clz32(low));
          if (spi && ((targets[slot] | override) & cpuBit) === 0) continue;
          const p = priority[slot];
          if (p < best) {
            best = p;
            bestSlot = slot;
          }
        }
      }
    }
    let key = SPURIOUS_INTID;
    if (bestSlot >= 0) {
      const w = bestSlot >>> 5;
      const bit = bestSlot & 31;
      if (w >= this.cpus) key = (w - this.cpus + 1) * 32 + bit;
      else if (bit >= SGI_COUNT) key = bit;
      else key = bit | (lowestBit(this.sgiSources[cpu * SGI_COUNT + bit]) << IAR_CPUID_SHIFT);
    }
    this.hpKey[cpu] = key;
    this.hpSlot[cpu] = bestSlot;
    this.hpPrio[cpu] = best;
  }

  /**
   * The PPI/SPI at bank word `w`, bit `bit` may have become a candidate: compare it with each
   * affected CPU's cached best instead of rescanning. Only valid after changes that can add
   * candidacy, never remove it.
   */
  #raise(w: number, bit: number): void {
    const m = 1 << bit;
    if ((this.enabled[w] & this.pendingWord(w) & ~this.active[w] & m) === 0) return;
    const slot = (w << 5) | bit;
    const p = this.priority[slot];
    const g = (this.group[w] >>> bit) & 1;
    if (w < this.cpus) {
      this.#consider(w, slot, bit, p, g);
      return;
    }
    const intid = (w - this.cpus + 1) * 32 + bit;
    const t = this.targets[slot] | this.#targetOverride;
    for (let c = 0; c < this.cpus; c++) {
      if (((t >>> c) & 1) !== 0) this.#consider(c, slot, intid, p, g);
    }
  }

  #consider(cpu: number, slot: number, intid: number, p: number, g: number): void {
    if ((((this.distCtlr & this.cpuCtlr[cpu]) >>> g) & 1) === 0) return;
    const best = this.hpPrio[cpu];
    // Same order as the scan: lower priority value first, then lower INTID.
    if (p < best || (p === best && intid < (this.hpKey[cpu] & IAR_INTID_MASK))) {
      this.hpPrio[cpu] = p;
      this.hpSlot[cpu] = slot;
      this.hpKey[cpu] = intid;
      this.refreshOutput(cpu);
    }
  }

  /**
   * The interrupt at bank word `w`, bit `bit` may have stopped being a candidate: only CPUs
   * whose cached best it was need a rescan.
   */
  #lower(w: number, bit: number): void {
    const slot = (w << 5) | bit;
    if (w < this.cpus) {
      if (this.hpSlot[w] === slot) this.update(w);
      return;
    }
    for (let c = 0; c < this.cpus; c++) if (this.hpSlot[c] === slot) this.update(c);
  }

  /** GICC_IAR read: acknowledge the highest-priority deliverable interrupt of `cpu`. */
  acknowledge(cpu: number): number {
    const p = this.hpPrio[cpu];
    if (p >= this.pmr[cpu] || p >= this.runningPriority(cpu)) {
      this.stats.spuriousAcks++;
      return SPURIOUS_INTID;
    }
    const slot = this.hpSlot[cpu];
    const w = slot >>> 5;
    const bit = 1 << (slot & 31);
    const key = this.hpKey[cpu];
    const intid = key & IAR_INTID_MASK;
    if (intid < SGI_COUNT) {
      const i = cpu * SGI_COUNT + intid;
      const rest = this.sgiSources[i] & ~(1 << (key >>> IAR_CPUID_SHIFT));
      this.sgiSources[i] = rest;
      if (rest === 0) this.sgiPending[cpu] &= ~bit;
    } else {
      this.latch[w] &= ~bit;
    }
    this.active[w] |= bit;
    const d = this.depth[cpu];
    if (d < STACK_SLOTS) {
      const at = cpu * STACK_SLOTS + d;
      this.stackKey[at] = key;
      this.stackPrio[at] = p & ((0xff << (this.bpr[cpu] + 1)) & 0xff);
      this.depth[cpu] = d + 1;
    }
    // It was this CPU's cached best, so this rescans (and re-evaluates the output of) `cpu`.
    this.#lower(w, slot & 31);
    return key;
  }

  /** GICC_EOIR write: priority drop, plus deactivation unless EOImode = 1. */
  endOfInterrupt(cpu: number, value: number): void {
    const intid = value & IAR_INTID_MASK;
    const key = intid < SGI_COUNT ? value & 0x1fff : intid;
    const base = cpu * STACK_SLOTS;
    const d = this.depth[cpu];
    let i = d - 1;
    while (i >= 0 && this.stackKey[base + i] !== key) i--;
    if (intid >= this.irqs || i < 0) {
      this.stats.ignoredEois++;
      return;
    }
    // Completing out of order is UNPREDICTABLE architecturally; dropping exactly the named
    // entry keeps the stack sorted and the model well-defined.
    for (let j = i + 1; j < d; j++) {
      this.stackKey[base + j - 1] = this.stackKey[base + j];
      this.stackPrio[base + j - 1] = this.stackPrio[base + j];
    }
    this.depth[cpu] = d - 1;
    this.refreshOutput(cpu);
    if ((this.cpuCtlr[cpu] & GICC_CTLR_EOIMODE) === 0) this.deactivate(cpu, intid);
  }

  /** GICC_DIR write: deactivation, only meaningful with EOImode = 1. */
  deactivateByDir(cpu: number, value: number): void {
    const intid = value & IAR_INTID_MASK;
    if (
      (this.cpuCtlr[cpu] & GICC_CTLR_EOIMODE) === 0 || intid >= this.irqs ||
      !this.deactivate(cpu, intid)
    ) {
      this.stats.ignoredEois++;
    }
  }

  /**
   * Make `intid` (as banked for `cpu`) inactive if it is active, then tell the listener.
   *
   * @returns whether it was active
   */
  deactivate(cpu: number, intid: number): boolean {
    const w = this.wordOf(intid, cpu);
    const bit = 1 << (intid & 31);
    if ((this.active[w] & bit) === 0) return false;
    this.active[w] &= ~bit;
    // SGI candidates carry a source CPU, which only the full scan picks.
    if (intid < SGI_COUNT) this.update(cpu);
    else this.#raise(w, intid & 31);
    this.#deactivated(cpu, intid);
    return true;
  }

  #deactivated(cpu: number, intid: number): void {
    this.onDeactivate?.(cpu, intid);
    const listeners = this.deactivateListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](cpu, intid);
  }

  /** GICD_ICACTIVER write: deactivate every set bit of `mask` in bank word `w`. */
  clearActive(w: number, mask: number, cpu: number): void {
    let hit = this.active[w] & mask;
    if (hit === 0) return;
    this.active[w] &= ~hit;
    this.updateWord(w);
    while (hit !== 0) {
      const low = hit & -hit;
      hit ^= low;
      this.#deactivated(cpu, this.intidOf(w, 31 - Math.clz32(low)));
    }
  }

  /** Drive the input line of `intid` (as banked for `cpu`). */
  setLine(intid: number, cpu: number, high: boolean): void {
    const w = this.wordOf(intid, cpu);
    const bit = 1 << (intid & 31);
    const lv = this.level[w];
    if (high) {
      if ((lv & bit) !== 0) return;
      this.level[w] = lv | bit;
      if ((this.edge[w] & bit) !== 0) this.latch[w] |= bit;
      this.#raise(w, intid & 31);
    } else {
      if ((lv & bit) === 0) return;
      this.level[w] = lv & ~bit;
      // An edge interrupt's falling line changes nothing; a latched one stays pending.
      if (((this.edge[w] | this.latch[w]) & bit) !== 0) return;
      this.#lower(w, intid & 31);
    }
  }

  /** Latch `intid` (as banked for `cpu`) pending, as an edge or GICD_ISPENDR would. */
  latchPending(intid: number, cpu: number): void {
    const w = this.wordOf(intid, cpu);
    const bit = 1 << (intid & 31);
    this.latch[w] |= bit;
    this.#raise(w, intid & 31);
  }

  /**
   * GICD_SGIR write from `cpu`.
   *
   * @returns false for the reserved target filter (nothing is sent)
   */
  sendSgi(cpu: number, value: number): boolean {
    const filter = (value >>> 24) & 3;
    let targets: number;
    if (filter === 0) targets = (value >>> 16) & this.cpuMask;
    else if (filter === 1) targets = this.cpuMask & ~(1 << cpu);
    else if (filter === 2) targets = 1 << cpu;
    else return false;
    const sgi = value & 0xf;
    for (let t = 0; t < this.cpus; t++) {
      if (((targets >>> t) & 1) === 0) continue;
      this.sgiSources[t * SGI_COUNT + sgi] |= 1 << cpu;
      this.sgiPending[t] |= 1 << sgi;
      this.update(t);
    }
    return true;
  }

  /** GICD_SPENDSGIR / GICD_CPENDSGIR byte write for SGI `sgi` targeting `cpu`. */
  changeSgiSources(cpu: number, sgi: number, sources: number, set: boolean): void {
    const i = cpu * SGI_COUNT + sgi;
    const bits = sources & this.cpuMask;
    const now = set ? this.sgiSources[i] | bits : this.sgiSources[i] & ~bits;
    this.sgiSources[i] = now;
    if (now === 0) this.sgiPending[cpu] &= ~(1 << sgi);
    else this.sgiPending[cpu] |= 1 << sgi;
    this.update(cpu);
  }

  /** Record a bad read and return the RAZ value. */
  badRead(region: VgicRegion, offset: number, cpu: number): number {
    const s = this.stats;
    s.badReads++;
    s.lastBadOffset = offset;
    s.lastBadRegion = region;
    s.lastBadCpu = cpu;
    return 0;
  }

  /** Record a bad (ignored) write. */
  badWrite(region: VgicRegion, offset: number, cpu: number): void {
    const s = this.stats;
    s.badWrites++;
    s.lastBadOffset = offset;
    s.lastBadRegion = region;
    s.lastBadCpu = cpu;
  }
}

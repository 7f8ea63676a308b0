/**
 * The GICv2 distributor (GICD) register block.
 *
 * @module
 */

import type { MmioRegion } from "./mmio.ts";
import {
  GICD_CTLR,
  GICD_ICFGR,
  GICD_ID_VALUES,
  GICD_IIDR,
  GICD_IIDR_VALUE,
  GICD_IPRIORITYR,
  GICD_ITARGETSR,
  GICD_PIDR4,
  GICD_SGIR,
  GICD_SIZE,
  GICD_SPENDSGIR,
  GICD_TYPER,
} from "./distributor_registers.ts";
import { PRIVATE_IRQS, SGI_COUNT } from "./intid_limits.ts";
import type { GicState } from "./state.ts";

/** First offset past the set/clear bit-register block (IGROUPR … ICACTIVER). */
const BIT_REGISTERS_END = GICD_IPRIORITYR;
/** First offset past the configuration registers. */
const ICFGR_END = 0xd00;
/** SGI pending-register block: CPENDSGIR (0xF10) and SPENDSGIR (0xF20), four words each. */
const SGI_PEND_START = 0xf10;
const SGI_PEND_END = 0xf30;
/** First offset past the identification registers. */
const ID_END = 0x1000;
/** GICD_ICFGR0: SGIs are always edge-triggered (upper bit of each field set, read-only). */
const ICFGR_SGI = 0xaaaa_aaaa;

/** Kind of bit register, from bits [9:7] of the offset. */
const GROUP = 1;
const SET_ENABLE = 2;
const CLEAR_ENABLE = 3;
const SET_PENDING = 4;
const CLEAR_PENDING = 5;
const SET_ACTIVE = 6;

/**
 * GICD register decoding over a {@link GicState}. Accepts aligned 4-byte accesses everywhere,
 * and 1-byte accesses to IPRIORITYR, ITARGETSR, CPENDSGIR and SPENDSGIR (as the architecture
 * requires); everything else is RAZ/WI and counted.
 */
export class Distributor implements MmioRegion {
  /** Size of the distributor block. */
  readonly size: number = GICD_SIZE;
  readonly #s: GicState;

  /** Expose the distributor registers of `state`. */
  constructor(state: GicState) {
    this.#s = state;
  }

  /** Guest read; never throws. */
  read(offset: number, size: number, cpu: number): number {
    const s = this.#s;
    if (!this.#valid(offset, size, cpu)) return s.badRead("distributor", offset, cpu);
    if (size === 4) return this.#readWord(offset, cpu) >>> 0;
    return this.#readByte(offset, cpu);
  }

  /** Guest write; never throws. */
  write(offset: number, size: number, value: number, cpu: number): void {
    const s = this.#s;
    if (!this.#valid(offset, size, cpu)) {
      s.badWrite("distributor", offset, cpu);
      return;
    }
    if (size === 4) this.#writeWord(offset, value | 0, cpu);
    else this.#writeByte(offset, value & 0xff, cpu);
  }

  #valid(offset: number, size: number, cpu: number): boolean {
    if (!(cpu >= 0 && cpu < this.#s.cpus && (cpu | 0) === cpu)) return false;
    if (!(offset >= 0 && offset < GICD_SIZE && (offset | 0) === offset)) return false;
    if (size === 4) return (offset & 3) === 0;
    if (size !== 1) return false;
    return (offset >= GICD_IPRIORITYR && offset < ICFGR_END - 0x100) ||
      (offset >= SGI_PEND_START && offset < SGI_PEND_END);
  }

  #readWord(offset: number, cpu: number): number {
    const s = this.#s;
    if (offset < BIT_REGISTERS_END) {
      if (offset < 0x80) {
        if (offset === GICD_CTLR) return s.distCtlr;
        if (offset === GICD_TYPER) return ((s.lines >>> 5) - 1) | ((s.cpus - 1) << 5);
        if (offset === GICD_IIDR) return GICD_IIDR_VALUE;
        return s.badRead("distributor", offset, cpu);
      }
      const n = (offset & 0x7f) >>> 2;
      if (n >= s.lines >>> 5) return s.badRead("distributor", offset, cpu);
      const w = s.wordOfIndex(n, cpu);
      let v: number;
      switch (offset >>> 7) {
        case GROUP:
          v = s.group[w];
          break;
        case SET_ENABLE:
        case CLEAR_ENABLE:
          v = s.enabled[w];
          break;
        case SET_PENDING:
        case CLEAR_PENDING:
          v = s.pendingWord(w);
          break;
        default:
          v = s.active[w];
      }
      return v & s.implementedMask(n);
    }
    if (offset < ICFGR_END - 0x100) {
      // IPRIORITYR and ITARGETSR: four byte-wide fields per word.
      const first = offset - (offset < GICD_ITARGETSR ? GICD_IPRIORITYR : GICD_ITARGETSR);
      if (first >= s.irqs) return s.badRead("distributor", offset, cpu);
      return this.#readByte(offset, cpu) | (this.#readByte(offset + 1, cpu) << 8) |
        (this.#readByte(offset + 2, cpu) << 16) | (this.#readByte(offset + 3, cpu) << 24);
    }
    if (offset < ICFGR_END) {
      const n = (offset - GICD_ICFGR) >>> 2;
      if (n * 16 >= s.irqs) return s.badRead("distributor", offset, cpu);
      if (n === 0) return ICFGR_SGI;
      const first = n * 16;
      const edges = s.edge[s.wordOf(first, cpu)] >>> (first & 31);
      let v = 0;
      for (let k = 0; k < 16; k++) {
        if (((edges >>> k) & 1) !== 0 && first + k < s.irqs) v |= 2 << (2 * k);
      }
      return v;
    }
    if (offset >= SGI_PEND_START && offset < SGI_PEND_END) {
      return this.#readByte(offset, cpu) | (this.#readByte(offset + 1, cpu) << 8) |
        (this.#readByte(offset + 2, cpu) << 16) | (this.#readByte(offset + 3, cpu) << 24);
    }
    if (offset >= GICD_PIDR4 && offset < ID_END) return GICD_ID_VALUES[(offset - GICD_PIDR4) >>> 2];
    // Includes GICD_SGIR, which is write-only.
    return s.badRead("distributor", offset, cpu);
  }

  #readByte(offset: number, cpu: number): number {
    const s = this.#s;
    if (offset >= SGI_PEND_START) {
      const sgi = offset & 0xf;
      return s.sgiSources[cpu * SGI_COUNT + sgi];
    }
    const targets = offset >= GICD_ITARGETSR;
    const intid = offset - (targets ? GICD_ITARGETSR : GICD_IPRIORITYR);
    // Word accesses never get here past the last INTID: the INTID count is a multiple of 4.
    if (intid >= s.irqs) return s.badRead("distributor", offset, cpu);
    const slot = (s.wordOf(intid, cpu) << 5) | (intid & 31);
    if (!targets) return s.priority[slot];
    // A uniprocessor GIC's target registers are RAZ/WI: everything goes to
    // the one CPU (GICv2 architecture, GICD_ITARGETSRn; QEMU does the same).
    if (s.cpus === 1) return 0;
    if (intid < PRIVATE_IRQS) return 1 << cpu;
    return s.targets[slot];
  }

  #writeWord(offset: number, value: number, cpu: number): void {
    const s = this.#s;
    if (offset < BIT_REGISTERS_END) {
      if (offset < 0x80) {
        if (offset === GICD_CTLR) {
          s.distCtlr = value & 3;
          s.updateAll();
        } else {
          s.badWrite("distributor", offset, cpu);
        }
        return;
      }
      const n = (offset & 0x7f) >>> 2;
      if (n >= s.lines >>> 5) {
        s.badWrite("distributor", offset, cpu);
        return;
      }
      const w = s.wordOfIndex(n, cpu);
      const v = value & s.implementedMask(n);
      switch (offset >>> 7) {
        case GROUP:
          s.group[w] = v;
          break;
        case SET_ENABLE:
          s.enabled[w] |= v;
          break;
        case CLEAR_ENABLE:
          s.enabled[w] &= ~v;
          break;
        case SET_PENDING:
          // SGI pending state is per source and only set through GICD_SPENDSGIR.
          s.latch[w] |= n === 0 ? v & ~0xffff : v;
          break;
        case CLEAR_PENDING:
          s.latch[w] &= ~(n === 0 ? v & ~0xffff : v);
          break;
        case SET_ACTIVE:
          s.active[w] |= v;
          break;
        default:
          s.clearActive(w, v, cpu);
          return;
      }
      s.updateWord(w);
      return;
    }
    if (offset < ICFGR_END - 0x100) {
      const targets = offset >= GICD_ITARGETSR;
      const first = offset - (targets ? GICD_ITARGETSR : GICD_IPRIORITYR);
      if (first >= s.irqs || (targets && first < PRIVATE_IRQS)) {
        s.badWrite("distributor", offset, cpu);
        return;
      }
      for (let k = 0; k < 4; k++) {
        this.#storeByte(targets, first + k, (value >>> (8 * k)) & 0xff, cpu);
      }
      s.updateWord(s.wordOf(first, cpu));
      return;
    }
    if (offset < ICFGR_END) {
      const n = (offset - GICD_ICFGR) >>> 2;
      if (n === 0 || n * 16 >= s.irqs) {
        s.badWrite("distributor", offset, cpu);
        return;
      }
      const first = n * 16;
      const w = s.wordOf(first, cpu);
      let edges = 0;
      for (let k = 0; k < 16; k++) {
        if (((value >>> (2 * k + 1)) & 1) !== 0 && first + k < s.irqs) edges |= 1 << k;
      }
      const shift = first & 31;
      s.edge[w] = (s.edge[w] & ~(0xffff << shift)) | (edges << shift);
      s.updateWord(w);
      return;
    }
    if (offset === GICD_SGIR) {
      if (!s.sendSgi(cpu, value)) s.badWrite("distributor", offset, cpu);
      return;
    }
    if (offset >= SGI_PEND_START && offset < SGI_PEND_END) {
      for (let k = 0; k < 4; k++) this.#writeByte(offset + k, (value >>> (8 * k)) & 0xff, cpu);
      return;
    }
    s.badWrite("distributor", offset, cpu);
  }

  #writeByte(offset: number, value: number, cpu: number): void {
    const s = this.#s;
    if (offset >= SGI_PEND_START) {
      s.changeSgiSources(cpu, offset & 0xf, value, offset >= GICD_SPENDSGIR);
      return;
    }
    const targets = offset >= GICD_ITARGETSR;
    const intid = offset - (targets ? GICD_ITARGETSR : GICD_IPRIORITYR);
    if (intid >= s.irqs || (targets && intid < PRIVATE_IRQS)) {
      s.badWrite("distributor", offset, cpu);
      return;
    }
    this.#storeByte(targets, intid, value, cpu);
    s.updateWord(s.wordOf(intid, cpu));
  }

  /** Store one priority or (SPI) target byte; the caller recomputes outputs. */
  #storeByte(targets: boolean, intid: number, value: number, cpu: number): void {
    const s = this.#s;
    if (intid >= s.irqs) return;
    const slot = (s.wordOf(intid, cpu) << 5) | (intid & 31);
    if (!targets) s.priority[slot] = value;
    // With a single CPU interface the targets are fixed (every SPI goes to CPU 0).
    else if (s.cpus > 1) s.targets[slot] = value & s.cpuMask;
  }
}

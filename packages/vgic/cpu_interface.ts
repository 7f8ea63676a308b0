/**
 * The GICv2 CPU interface (GICC) register block, banked by the accessing CPU.
 *
 * @module
 */

import type { MmioRegion } from "./mmio.ts";
import {
  GICC_APR0,
  GICC_BPR,
  GICC_CTLR,
  GICC_DIR,
  GICC_EOIR,
  GICC_HPPIR,
  GICC_IAR,
  GICC_IIDR,
  GICC_IIDR_VALUE,
  GICC_PMR,
  GICC_RPR,
  GICC_SIZE,
} from "./cpu_interface_registers.ts";
import { type GicState, IDLE_PRIORITY } from "./state.ts";

/**
 * Writable GICC_CTLR bits: group enables (0, 1), the bypass-disable bits (5–8, stored only:
 * there is no bypass signal to disable) and EOImode (9). AckCtl, FIQEn and CBPR read as zero
 * because this model signals every group on IRQ and has a single binary point.
 */
const CTLR_WRITABLE = 0x3e3;
/** First offset past the four active-priority registers. */
const APR_END = GICC_APR0 + 0x10;

/** GICC register decoding over a {@link GicState}; aligned 4-byte accesses only. */
export class CpuInterface implements MmioRegion {
  /** Size of the CPU interface block. */
  readonly size: number = GICC_SIZE;
  readonly #s: GicState;

  /** Expose the CPU interface registers of `state`. */
  constructor(state: GicState) {
    this.#s = state;
  }

  /** Guest read; never throws. Reading GICC_IAR acknowledges an interrupt. */
  read(offset: number, size: number, cpu: number): number {
    const s = this.#s;
    if (!this.#valid(offset, size, cpu)) return s.badRead("cpu-interface", offset, cpu);
    switch (offset) {
      case GICC_IAR:
        return s.acknowledge(cpu);
      case GICC_CTLR:
        return s.cpuCtlr[cpu];
      case GICC_PMR:
        return s.pmr[cpu];
      case GICC_BPR:
        return s.bpr[cpu];
      case GICC_RPR: {
        const rp = s.runningPriority(cpu);
        return rp === IDLE_PRIORITY ? 0xff : rp;
      }
      case GICC_HPPIR:
        return s.hpKey[cpu];
      case GICC_IIDR:
        return GICC_IIDR_VALUE;
    }
    if (offset >= GICC_APR0 && offset < APR_END) {
      return s.activePriorityWord(cpu, (offset - GICC_APR0) >>> 2);
    }
    // Includes the write-only GICC_EOIR and GICC_DIR.
    return s.badRead("cpu-interface", offset, cpu);
  }

  /** Guest write; never throws. Writing GICC_EOIR or GICC_DIR completes an interrupt. */
  write(offset: number, size: number, value: number, cpu: number): void {
    const s = this.#s;
    if (!this.#valid(offset, size, cpu)) {
      s.badWrite("cpu-interface", offset, cpu);
      return;
    }
    switch (offset) {
      case GICC_EOIR:
        s.endOfInterrupt(cpu, value >>> 0);
        return;
      case GICC_DIR:
        s.deactivateByDir(cpu, value >>> 0);
        return;
      case GICC_CTLR:
        s.cpuCtlr[cpu] = value & CTLR_WRITABLE;
        s.update(cpu);
        return;
      case GICC_PMR:
        s.pmr[cpu] = value & 0xff;
        s.refreshOutput(cpu);
        return;
      case GICC_BPR:
        // Only later acknowledgements use it: the running priority was fixed at acknowledge.
        s.bpr[cpu] = value & 7;
        return;
    }
    // The active priorities are derived from the running-priority stack, so the save/restore
    // writes a guest makes (Linux clears them at boot) have nothing to change.
    if (offset >= GICC_APR0 && offset < APR_END) return;
    // Includes the read-only GICC_IAR, GICC_RPR, GICC_HPPIR and GICC_IIDR.
    s.badWrite("cpu-interface", offset, cpu);
  }

  #valid(offset: number, size: number, cpu: number): boolean {
    return cpu >= 0 && cpu < this.#s.cpus && (cpu | 0) === cpu && size === 4 &&
      offset >= 0 && offset < GICC_SIZE && (offset | 0) === offset && (offset & 3) === 0;
  }
}

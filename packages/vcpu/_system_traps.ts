/**
 * System instructions the vCPU makes trap to EL2 and emulates there, out of
 * the guest's sight: the engine reports them as an exception with syndrome
 * class 0x18 (MSR, MRS or SYS), and the vCPU carries them out and steps over
 * them without the guest taking any exception.
 *
 * Cache maintenance to the point of unification (HCR_EL2.TPU). On engines
 * whose stores through one virtual address do not drop code translated at
 * another (2.1.x: translated pages are tracked by the virtual address they
 * ran at), a guest that writes code through a non-executable alias — every
 * kernel loading a program through its linear map — would go on running the
 * old code. The architecture makes such a guest say when code changed: DC
 * CVAU, then IC IVAU for each line (or IC IALLU). Trapping IC IVAU and
 * dropping the translations of that physical page keeps the engine coherent
 * at exactly the points the guest asks for.
 *
 * The cache geometry (HCR_EL2.TID2). A trap per 64-byte line would cost a
 * Linux boot some 120,000 of them, so the cache type register the guest
 * reads says what is true of this machine instead: there is no data cache
 * to clean for the instruction side (CTR_EL0.IDC), and an instruction-cache
 * line is a whole 4 KiB page, which is exactly what one IC IVAU drops here.
 * A guest then issues one IC IVAU per page and no DC CVAU at all.
 *
 * The debug registers (MDCR_EL2.TDA, TDOSA, TDRA): see `_debug_registers.ts`.
 *
 * The performance monitors (MDCR_EL2.TPM, TPMCR), when the vCPU has a
 * {@link Pmu}: see `pmu.ts` and `_pmu_traps.ts`.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import {
  debugRegisterKey,
  DebugRegisters,
  MDCR_EL2_TDA,
  MDCR_EL2_TDOSA,
  MDCR_EL2_TDRA,
} from "./_debug_registers.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";
import { handlePmuAccess, MDCR_EL2_TPM, MDCR_EL2_TPMCR } from "./_pmu_traps.ts";
import type { Pmu } from "./pmu.ts";

/** Exception class of a trapped MSR, MRS or system instruction. */
export const EC_SYSTEM = 0x18;
/** HCR_EL2.TPU: trap cache maintenance to the point of unification to EL2. */
export const HCR_EL2_TPU = 1n << 24n;
/** HCR_EL2.TID2: trap reads of the cache identification registers to EL2. */
export const HCR_EL2_TID2 = 1n << 17n;

const PSTATE_EL = 0xcn;
/** SCTLR_EL1.UCI: EL0 may use DC CVAU and IC IVAU (else they trap to EL1). */
const SCTLR_UCI = 1n << 26n;
/** MDSCR_EL1.TDCC: EL0 access to the debug communication channel traps to EL1. */
const MDSCR_TDCC = 1n << 12n;
/** SCTLR_EL1.UCT: EL0 may read CTR_EL0 (else it traps to EL1). */
const SCTLR_UCT = 1n << 15n;
const SCTLR_M = 1n;
const PSTATE_MODE = 0xfn;
const PSTATE_EL2H = 0x9n;
const PAR_F = 1n;
const PAR_PA = 0x0000_ffff_ffff_f000n;
const PAGE = 0x1000;
/** CTR_EL0.IDC: no data-cache clean is needed for instruction-to-data coherence. */
const CTR_IDC = 1n << 28n;
/** CTR_EL0.IminLine = log2(words per line): 10 is 4 KiB. */
const CTR_IMINLINE_PAGE = 10n;

/** The ISS bits that name a system instruction or register: Op0, Op2, Op1, CRn, CRm. */
function encoding(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (crm << 1);
}
function encodingOf(reg: SysReg): number {
  return encoding(reg.op0, reg.op1, reg.crn, reg.crm, reg.op2);
}
const ISS_ENCODING_MASK = 0x3f_fc1e;
const ISS_READ = 1;
const IC_IVAU = encoding(1, 3, 7, 5, 1);
const IC_IALLU = encoding(1, 0, 7, 5, 0);
const IC_IALLUIS = encoding(1, 0, 7, 1, 0);
const DC_CVAU = encoding(1, 3, 7, 11, 1);
const CTR_EL0 = encodingOf(SYSREGS.CTR_EL0);
const CCSIDR_EL1 = encodingOf(SYSREGS.CCSIDR_EL1);
const CLIDR_EL1 = encodingOf(SYSREGS.CLIDR_EL1);
const CSSELR_EL1 = encodingOf(SYSREGS.CSSELR_EL1);

/** Counters of emulated instructions. */
export interface SystemTrapStats {
  /** IC IVAU, IC IALLU(IS) and DC CVAU carried out for the guest. */
  cacheMaintenance: number;
  /** Times the engine's whole translation buffer was emptied (IC IALLU). */
  translationFlushes: number;
}

/** Emulates the system instructions a vCPU traps to EL2. */
export class SystemTraps {
  /** HCR_EL2 bits that route the trapped instructions here. */
  readonly hcrBits: bigint;
  /** MDCR_EL2 bits that route the debug registers (always) and the PMU (with a {@link Pmu}) here. */
  readonly mdcrBits: bigint;
  /** The guest's debug registers. */
  readonly debug: DebugRegisters = new DebugRegisters();
  readonly #stats: SystemTrapStats;
  readonly #engine: Engine;
  readonly #ctr: bigint;
  readonly #lookupAtEl2: boolean;
  readonly #pmu: Pmu | undefined;

  /**
   * `cacheMaintenance`: trap and carry out IC IVAU and IC IALLU, and present
   * the cache geometry that goes with it (see the module docs);
   * `stateFollowsSysregWrites`: the engine recomputes its cached CPU state
   * after a system-register write (2.1 and later); `pmu`: the vCPU's
   * performance monitors, which every PMU register access then reaches
   * (without one the engine's own answer). `stats` is counted into.
   */
  constructor(
    engine: Engine,
    stats: SystemTrapStats,
    options: {
      cacheMaintenance: boolean;
      stateFollowsSysregWrites: boolean;
      pmu?: Pmu;
    },
  ) {
    this.#pmu = options.pmu;
    this.mdcrBits = MDCR_EL2_TDA | MDCR_EL2_TDOSA | MDCR_EL2_TDRA |
      (options.pmu ? MDCR_EL2_TPM | MDCR_EL2_TPMCR : 0n);
    this.#engine = engine;
    this.#lookupAtEl2 = options.stateFollowsSysregWrites;
    this.#stats = stats;
    this.hcrBits = options.cacheMaintenance ? HCR_EL2_TPU | HCR_EL2_TID2 : 0n;
    this.#ctr = (engine.readSys(SYSREGS.CTR_EL0) & ~0xfn) | CTR_IDC | CTR_IMINLINE_PAGE;
  }

  /** CTR_EL0 as the guest reads it. */
  get cacheType(): bigint {
    return this.hcrBits === 0n ? this.#engine.readSys(SYSREGS.CTR_EL0) : this.#ctr;
  }

  /**
   * Carries out the instruction a class-0x18 exception with `syndrome`
   * reports and steps over it, if it is one this vCPU traps; returns false
   * for anything else, which belongs to the guest.
   */
  handle(syndrome: number): boolean {
    if (syndrome >>> 26 !== EC_SYSTEM) return false;
    const op = syndrome & ISS_ENCODING_MASK;
    const rt = (syndrome >>> 5) & 31;
    const read = (syndrome & ISS_READ) !== 0;
    const e = this.#engine;
    if (op >>> 20 === 2) return this.#debugRegister(op, rt, read);
    if (this.#pmu && handlePmuAccess(this.#pmu, e, op, rt, read)) return true;
    if (this.hcrBits === 0n) return false;
    switch (op) {
      case IC_IVAU:
      case DC_CVAU:
      case IC_IALLU:
      case IC_IALLUIS:
        // At EL0 these trap to the guest's own EL1 unless SCTLR_EL1.UCI
        // allows them, and that trap comes first; only the one to EL2 is ours.
        if (this.#atEl0() && (e.readSys(SYSREGS.SCTLR_EL1) & SCTLR_UCI) === 0n) return false;
        if (op === IC_IVAU) this.#invalidatePage(e.readX(rt));
        else if (op !== DC_CVAU) this.#invalidateRam();
        this.#stats.cacheMaintenance++;
        break;
      case CTR_EL0:
        if (this.#atEl0() && (e.readSys(SYSREGS.SCTLR_EL1) & SCTLR_UCT) === 0n) return false;
        this.#setX(rt, this.#ctr);
        break;
      case CCSIDR_EL1:
      case CLIDR_EL1:
      case CSSELR_EL1: {
        // Trapped together with CTR_EL0 and answered by the engine's own values.
        const reg = op === CCSIDR_EL1
          ? SYSREGS.CCSIDR_EL1
          : op === CLIDR_EL1
          ? SYSREGS.CLIDR_EL1
          : SYSREGS.CSSELR_EL1;
        if (read) this.#setX(rt, e.readSys(reg));
        else if (reg === SYSREGS.CSSELR_EL1) e.writeSys(reg, rt === 31 ? 0n : e.readX(rt));
        break;
      }
      default:
        return false;
    }
    e.writeReg(REG.PC, e.readPc() + 4n);
    return true;
  }

  /**
   * Drops all translated code: empties the engine's buffer and returns its
   * pages. Not RAM range by range in place: Unicorn 2.1.1, after dropping
   * every block of RAM that way (Linux issues IC IALLU as each secondary CPU
   * starts, so CPU hotplug does it over and over), reports later faults in
   * blocks translated afterwards at the block's first instruction instead of
   * the faulting one; the guest re-runs the instructions before it, and
   * Linux kills processes and panics (`tests/linux_smp_test.ts`, hotplug),
   * or the host process crashes. 2.1.4 does not. Emptying the buffer costs
   * a few milliseconds; guests do this rarely.
   */
  #invalidateRam(): void {
    const e = this.#engine;
    e.flushCode();
    e.translations?.release();
    this.#stats.translationFlushes++;
  }

  #debugRegister(op: number, rt: number, read: boolean): boolean {
    // The registers EL0 may reach at all (the debug communication channel)
    // trap to the guest's EL1 first when MDSCR_EL1.TDCC says so.
    if (this.#atEl0() && (this.debug.mdscr & MDSCR_TDCC) !== 0n) return false;
    const key = debugRegisterKey(
      (op >>> 14) & 7,
      (op >>> 10) & 15,
      (op >>> 1) & 15,
      (op >>> 17) & 7,
    );
    const e = this.#engine;
    if (read) this.#setX(rt, this.debug.read(key));
    else this.debug.write(key, rt === 31 ? 0n : e.readX(rt));
    e.writeReg(REG.PC, e.readPc() + 4n);
    return true;
  }

  #atEl0(): boolean {
    return (this.#engine.readReg(REG.PSTATE) & PSTATE_EL) === 0n;
  }

  #setX(rt: number, value: bigint): void {
    if (rt !== 31) this.#engine.writeX(rt, value);
  }

  /**
   * Drops the code translated from the physical page behind `va`. The engine
   * only removes translations by a virtual address it translates as an
   * instruction fetch, which fails for a non-executable alias, so the page
   * is found with AT and removed by its physical address, looked up where
   * nothing translates it: at EL2, whose MMU is off and whose TLB the guest
   * never uses. The switch takes effect when a system-register write makes
   * the engine recompute its cached state (2.1 and later); older engines
   * turn the EL1 MMU off for the lookup instead, and must then evict the
   * entries for that address from the guest's TLB before and after.
   */
  #invalidatePage(va: bigint): void {
    const e = this.#engine;
    const par = e.readSys(SYSREGS.PAR_EL1);
    e.writeSys(SYSREGS.AT_S1E1R, va);
    const result = e.readSys(SYSREGS.PAR_EL1);
    e.writeSys(SYSREGS.PAR_EL1, par);
    // An address that does not translate has nothing to drop.
    if ((result & PAR_F) === 0n) this.#invalidatePhysical(result & PAR_PA, PAGE);
  }

  /** Drops the code translated from guest-physical `[pa, pa + size)`, inside one RAM region. */
  #invalidatePhysical(pa: bigint, size: number): void {
    const e = this.#engine;
    if (this.#lookupAtEl2) {
      const pstate = e.readReg(REG.PSTATE);
      e.writeReg(REG.PSTATE, (pstate & ~PSTATE_MODE) | PSTATE_EL2H);
      try {
        e.recomputeState();
        e.flushCode(Number(pa), size);
      } finally {
        e.writeReg(REG.PSTATE, pstate);
        e.recomputeState();
      }
      return;
    }
    const sctlr = e.readSys(SYSREGS.SCTLR_EL1);
    const page = pa >> 12n;
    e.writeSys(SYSREGS.SCTLR_EL1, sctlr & ~SCTLR_M);
    try {
      e.writeSys(SYSREGS.TLBI_VAAE1, page);
      e.flushCode(Number(pa), size);
      e.writeSys(SYSREGS.TLBI_VAAE1, page);
    } finally {
      e.writeSys(SYSREGS.SCTLR_EL1, sctlr);
    }
  }
}

/**
 * What the guest's self-hosted debug registers make it take: breakpoint,
 * watchpoint and software-step exceptions, as the ARM ARM (D2) specifies
 * them for a guest at EL1 and EL0 with debug exceptions routed to EL1.
 *
 * - Enabling: nothing but BRK while the OS lock (OSLAR_EL1) or the OS
 *   double lock (OSDLR_EL1) is set. From EL0 the debug target (EL1) is
 *   higher, so breakpoints and watchpoints need only MDSCR_EL1.MDE; from
 *   EL1 they also need MDSCR_EL1.KDE and PSTATE.D clear.
 * - Breakpoints (DBGBCR/DBGBVR) of the unlinked and linked address-match
 *   types, filtered by PMC/HMC/SSC (the exception levels and security state
 *   they apply to) and, when linked, by a context-ID breakpoint on
 *   CONTEXTIDR_EL1. Other types never fire (QEMU does the same).
 * - Watchpoints (DBGWCR/DBGWVR) by BAS bytes or a MASK of 2^3 to 2^31
 *   bytes, for loads, stores or both (LSC), PAC, HMC, SSC and links as for
 *   breakpoints; LDTR/STTR match as EL0 accesses.
 * - Software step is the engine's own: QEMU implements MDSCR_EL1.SS with
 *   PSTATE.SS and SPSR.SS exactly (active-not-pending, active-pending, the
 *   syndrome's ISV and EX bits). The guest's MDSCR_EL1 is trapped, so its SS
 *   and KDE bits are copied into the engine's own MDSCR_EL1 while the OS
 *   locks are clear; nothing else is, so the engine's breakpoint machinery,
 *   which brings the host down, stays unused.
 *
 * The exceptions are raised by `_debug_hooks.ts` with the syndromes built
 * here. This module also says which breakpoint addresses and whether
 * watchpoints need the engine instrumented: while debug is on (MDE, locks
 * clear), every address a breakpoint was enabled at stays instrumented and
 * watchpoints stay armed, because guests switch a breakpoint's E bit off and
 * on around each hit (Linux steps over it that way) and instrumenting anew
 * empties the engine's translated code, which costs tens of milliseconds.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import {
  type DebugRegisters,
  MDSCR_EL1,
  OSDLR_EL1,
  OSLAR_EL1,
  slotKey,
} from "./_debug_registers.ts";
import type { SysReg } from "./sysregs.ts";

const MDSCR_SS = 1n;
const MDSCR_KDE = 1n << 13n;
const MDSCR_MDE = 1n << 15n;
const PSTATE_D = 1 << 9;

const EC_BREAKPOINT_LOWER = 0x30;
const EC_WATCHPOINT_LOWER = 0x34;
const ESR_IL = 1 << 25;
const ISS_WNR = 1 << 6;
/** IFSC/DFSC 0b100010: a debug exception. */
const FSC_DEBUG = 0x22;

/** The engine's own MDSCR_EL1 (writes through the API are not trapped). */
const ENGINE_MDSCR: SysReg = { name: "MDSCR_EL1", op0: 2, op1: 0, crn: 0, crm: 2, op2: 2 };
const ID_AA64DFR0_EL1: SysReg = { name: "ID_AA64DFR0_EL1", op0: 3, op1: 0, crn: 0, crm: 5, op2: 0 };
const CONTEXTIDR_EL1: SysReg = { name: "CONTEXTIDR_EL1", op0: 3, op1: 0, crn: 13, crm: 0, op2: 1 };

/** Addresses kept instrumented at most; beyond it only the enabled ones are. */
const MAX_STICKY = 64;
const MAX_SLOTS = 16;

/** DBGBVR/DBGWVR bits 63:49 read as bit 48; bits 1:0 are RES0. */
function vaOf(value: bigint): bigint {
  return BigInt.asUintN(64, BigInt.asIntN(49, value)) & ~3n;
}

/** One enabled watchpoint, as its registers define it. */
interface Watch {
  slot: number;
  control: number;
  start: bigint;
  /** Bytes watched (at most 2^31). */
  length: number;
  /** `start`'s low 12 bits, for the physical-address filter. */
  pageOffset: number;
}

/** The self-hosted debug state of one vCPU. */
export class GuestDebug {
  /** Addresses of the enabled breakpoints, `breakpointCount` of them. */
  readonly breakpoints: BigUint64Array = new BigUint64Array(MAX_SLOTS);
  /** How many entries of {@link breakpoints} are in use. */
  breakpointCount = 0;
  /** The enabled watchpoints, `watchCount` of them. */
  readonly watches: Watch[] = Array.from(
    { length: MAX_SLOTS },
    () => ({ slot: 0, control: 0, start: 0n, length: 0, pageOffset: 0 }),
  );
  /** How many entries of {@link watches} are in use. */
  watchCount = 0;
  /** Breakpoint addresses to keep instrumented (see the module docs). */
  readonly instrumented: Set<bigint> = new Set();
  /** Whether watchpoints must stay armed (see the module docs). */
  watchArmed = false;
  /** Called after a write changed what the engine must be instrumented for. */
  onChange: (() => void) | undefined;

  readonly #regs: DebugRegisters;
  readonly #engine: Engine;
  readonly #slotBreakpoint = new Int8Array(MAX_SLOTS);
  readonly #breakpointSlots: number;
  readonly #watchpointSlots: number;
  readonly #firstContextSlot: number;
  #mdscr = 0n;
  #locked = true;
  #mirrored = 0n;

  /** Interprets `regs` for the vCPU in `engine` (read its debug feature register now). */
  constructor(regs: DebugRegisters, engine: Engine) {
    this.#regs = regs;
    this.#engine = engine;
    const dfr0 = Number(engine.readSys(ID_AA64DFR0_EL1) & 0xffff_ffffn);
    this.#breakpointSlots = ((dfr0 >>> 12) & 15) + 1;
    this.#watchpointSlots = ((dfr0 >>> 20) & 15) + 1;
    this.#firstContextSlot = this.#breakpointSlots - (((dfr0 >>> 28) & 15) + 1);
    regs.onWrite = (key) => this.#written(key);
  }

  /** After a reset of the registers: nothing enabled, nothing mirrored. */
  reset(): void {
    this.#mdscr = 0n;
    this.#locked = true;
    this.#mirrored = 0n;
    this.breakpointCount = 0;
    this.watchCount = 0;
    this.instrumented.clear();
    this.watchArmed = false;
  }

  /** Whether breakpoints and watchpoints can fire at all (MDE set, the OS locks clear). */
  get on(): boolean {
    return !this.#locked && (this.#mdscr & MDSCR_MDE) !== 0n;
  }

  #written(key: number): void {
    const regs = this.#regs;
    this.#mdscr = regs.mdscr;
    this.#locked = regs.osLocked || regs.osDoubleLocked;
    if (key === MDSCR_EL1 || key === OSLAR_EL1 || key === OSDLR_EL1) this.#mirror();
    this.#plan();
    this.onChange?.();
  }

  // Software step is left to the engine (see the module docs); the vCPU
  // whose register was written is the one in the engine.
  #mirror(): void {
    const value = this.#locked ? 0n : this.#mdscr & (MDSCR_SS | MDSCR_KDE);
    if (value === this.#mirrored) return;
    this.#mirrored = value;
    this.#engine.writeSys(ENGINE_MDSCR, value);
  }

  #plan(): void {
    const regs = this.#regs;
    let n = 0;
    for (let slot = 0; slot < this.#breakpointSlots; slot++) {
      const control = Number(regs.read(slotKey(slot, 5)) & 0xffff_ffffn);
      const type = (control >>> 20) & 15;
      // Enabled, an address match (linked or not), some byte selected.
      if ((control & 1) === 0 || type > 1 || ((control >>> 5) & 15) === 0) continue;
      this.breakpoints[n] = vaOf(regs.read(slotKey(slot, 4)));
      this.#slotBreakpoint[n++] = slot;
    }
    this.breakpointCount = n;
    n = 0;
    for (let slot = 0; slot < this.#watchpointSlots; slot++) {
      const control = Number(regs.read(slotKey(slot, 7)) & 0xffff_ffffn);
      if ((control & 1) === 0 || ((control >>> 3) & 3) === 0) continue;
      let start = vaOf(regs.read(slotKey(slot, 6)));
      let length: number;
      const mask = (control >>> 24) & 31;
      if (mask === 1 || mask === 2) continue; // reserved: behaves as disabled
      if (mask !== 0) {
        // A MASK overrides BAS (CONSTRAINED UNPREDICTABLE; QEMU's choice).
        length = 2 ** mask;
        start &= ~BigInt(length - 1);
      } else {
        let bas = (control >>> 5) & 0xff;
        if ((start & 4n) !== 0n) bas &= 0xf;
        if (bas === 0) continue;
        // Non-contiguous BAS is CONSTRAINED UNPREDICTABLE: the run from its lowest byte counts.
        const first = 31 - Math.clz32(bas & -bas);
        length = 0;
        for (let b = bas >>> first; (b & 1) !== 0; b >>>= 1) length++;
        start += BigInt(first);
      }
      const w = this.watches[n++];
      w.slot = slot;
      w.control = control;
      w.start = start;
      w.length = length;
      w.pageOffset = Number(start & 0xfffn);
    }
    this.watchCount = n;
    if (!this.on) {
      this.instrumented.clear();
      this.watchArmed = false;
      return;
    }
    if (this.instrumented.size + this.breakpointCount > MAX_STICKY) this.instrumented.clear();
    for (let i = 0; i < this.breakpointCount; i++) this.instrumented.add(this.breakpoints[i]);
    if (this.watchCount > 0) this.watchArmed = true;
  }

  /** Whether debug exceptions other than BRK can be generated now, with PSTATE `pstate`. */
  #enabled(pstate: number): boolean {
    if (!this.on) return false;
    const el = (pstate >>> 2) & 3;
    if (el === 0) return true;
    return el === 1 && (this.#mdscr & MDSCR_KDE) !== 0n && (pstate & PSTATE_D) === 0;
  }

  /** The EL filter of a breakpoint or watchpoint control register (PAC/PMC, HMC, SSC) and its link. */
  #applies(control: number, accessEl: number): boolean {
    // Security state control: 0b10 is Secure only, and this guest is Non-secure.
    if (((control >>> 14) & 3) === 2) return false;
    if (accessEl === 1 ? (control & 2) === 0 : accessEl === 0 ? (control & 4) === 0 : true) {
      return false;
    }
    return (control & (1 << 20)) === 0 || this.#linkedContextMatches((control >>> 16) & 15);
  }

  /** A link to a context-ID breakpoint (type 0b0011) matches CONTEXTIDR_EL1. */
  #linkedContextMatches(slot: number): boolean {
    if (slot < this.#firstContextSlot || slot >= this.#breakpointSlots) return false;
    const control = this.#regs.read(slotKey(slot, 5));
    if ((control & 1n) === 0n || ((control >> 20n) & 15n) !== 3n) return false;
    const context = this.#engine.readSys(CONTEXTIDR_EL1) & 0xffff_ffffn;
    return context === (this.#regs.read(slotKey(slot, 4)) & 0xffff_ffffn);
  }

  /**
   * The syndrome (ESR) of the breakpoint exception an instruction at
   * `address` raises, with PSTATE `pstate`, or 0 when none does.
   */
  breakpointSyndrome(address: bigint, pstate: number): number {
    if (this.breakpointCount === 0 || !this.#enabled(pstate)) return 0;
    const el = (pstate >>> 2) & 3;
    for (let i = 0; i < this.breakpointCount; i++) {
      if (this.breakpoints[i] !== address) continue;
      const slot = this.#slotBreakpoint[i];
      const control = Number(this.#regs.read(slotKey(slot, 5)) & 0xffff_ffffn);
      if (!this.#applies(control, el)) continue;
      return (((EC_BREAKPOINT_LOWER | (el === 0 ? 0 : 1)) << 26) | ESR_IL | FSC_DEBUG) >>> 0;
    }
    return 0;
  }

  /**
   * The syndrome of the watchpoint exception an access of `size` bytes at
   * virtual address `va` raises (`write`: a store; `unprivileged`: LDTR or
   * STTR, which count as EL0's), with PSTATE `pstate`, or 0.
   */
  watchpointSyndrome(
    va: bigint,
    size: number,
    write: boolean,
    unprivileged: boolean,
    pstate: number,
  ): number {
    if (this.watchCount === 0 || !this.#enabled(pstate)) return 0;
    const el = (pstate >>> 2) & 3;
    const accessEl = unprivileged ? 0 : el;
    const end = va + BigInt(size);
    for (let i = 0; i < this.watchCount; i++) {
      const w = this.watches[i];
      if (((w.control >>> 3) & (write ? 2 : 1)) === 0) continue;
      if (end <= w.start || va >= w.start + BigInt(w.length)) continue;
      if (!this.#applies(w.control, accessEl)) continue;
      const ec = EC_WATCHPOINT_LOWER | (el === 0 ? 0 : 1);
      return ((ec << 26) | ESR_IL | (write ? ISS_WNR : 0) | FSC_DEBUG) >>> 0;
    }
    return 0;
  }
}

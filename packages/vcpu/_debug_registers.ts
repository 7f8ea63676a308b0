/**
 * The self-hosted debug registers, kept here instead of in the engine.
 *
 * Why: a guest that programs a hardware breakpoint through the engine's own
 * registers (OSLAR_EL1 = 0, DBGBVR/DBGBCR, MDSCR_EL1.KDE|MDE, PSTATE.D
 * clear) crashes the whole host process inside the engine; so does Linux
 * serving `perf_event_open` for a breakpoint. The vCPU therefore traps every
 * debug-register access to EL2 (MDCR_EL2.TDA, TDOSA, TDRA) and answers it
 * from this register file: the engine never acts on them. What they make
 * the guest take (breakpoints, watchpoints, software step) is
 * `_guest_debug.ts`'s, which listens to every write.
 *
 * @module
 */

/** MDCR_EL2.TDA: trap the general debug registers to EL2. */
export const MDCR_EL2_TDA = 1n << 9n;
/** MDCR_EL2.TDOSA: trap the OS lock and power-down registers to EL2. */
export const MDCR_EL2_TDOSA = 1n << 10n;
/** MDCR_EL2.TDRA: trap the debug ROM address register to EL2. */
export const MDCR_EL2_TDRA = 1n << 11n;

/** A debug register's encoding (op0 is always 2): `op1 << 11 | CRn << 7 | CRm << 3 | op2`. */
export function debugRegisterKey(op1: number, crn: number, crm: number, op2: number): number {
  return (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** DBGBVR<n>_EL1 (`op2` 4), DBGBCR<n> (5), DBGWVR<n> (6) and DBGWCR<n> (7): CRm is n. */
export function slotKey(n: number, op2: 4 | 5 | 6 | 7): number {
  return debugRegisterKey(0, 0, n, op2);
}

/** MDSCR_EL1's key. */
export const MDSCR_EL1 = debugRegisterKey(0, 0, 2, 2);
const MDRAR_EL1 = debugRegisterKey(0, 1, 0, 0);
/** OSLAR_EL1's key. */
export const OSLAR_EL1 = debugRegisterKey(0, 1, 0, 4);
const OSLSR_EL1 = debugRegisterKey(0, 1, 1, 4);
/** OSDLR_EL1's key. */
export const OSDLR_EL1 = debugRegisterKey(0, 1, 3, 4);

/** MDSCR_EL1 bits a guest can write: SS, ERR, TDCC, KDE, HDE, MDE, SC2, TDA, INTdis, TXU, RXO, TFO. */
const MDSCR_WRITABLE = 0x8ce8_f041n;
/** DBGBCR<n>_EL1: BT, LBN, SSC, HMC, BAS, PMC, E. */
const BCR_WRITABLE = 0x00ff_e1e7n;
/** DBGWCR<n>_EL1: MASK, WT, LBN, SSC, HMC, BAS, LSC, PAC, E. */
const WCR_WRITABLE = 0x1f1f_ffffn;
/** Bits 1:0 of a breakpoint or watchpoint value register are RES0. */
const VR_WRITABLE = ~3n & 0xffff_ffff_ffff_ffffn;
/** OSLSR_EL1: OSLM = 0b10 (the OS lock is implemented), OSLK in bit 1. */
const OSLSR_IMPLEMENTED = 0b1000n;
const OSLK = 0b10n;

/** The debug register file of one vCPU. */
export class DebugRegisters {
  readonly #values = new Map<number, bigint>();
  #osLocked = true;
  /** Called after every guest write, with the register's key. */
  onWrite: ((key: number) => void) | undefined;

  /** Power-on state: everything zero, the OS lock set. */
  reset(): void {
    this.#values.clear();
    this.#osLocked = true;
  }

  /** Whether the OS lock is set (debug exceptions other than BRK are then off). */
  get osLocked(): boolean {
    return this.#osLocked;
  }

  /** The value a guest read of the register `key` returns. */
  read(key: number): bigint {
    if (key === OSLSR_EL1) return OSLSR_IMPLEMENTED | (this.#osLocked ? OSLK : 0n);
    if (key === MDRAR_EL1 || key === OSLAR_EL1) return 0n;
    return this.#values.get(key) ?? 0n;
  }

  /** A guest write of `value` to the register `key`. */
  write(key: number, value: bigint): void {
    if (key === OSLAR_EL1) {
      this.#osLocked = (value & 1n) !== 0n;
    } else if (key !== OSLSR_EL1 && key !== MDRAR_EL1) {
      this.#values.set(key, value & writableBits(key));
    }
    this.onWrite?.(key);
  }

  /** Whether the OS double lock is set (OSDLR_EL1.DLK): debug exceptions other than BRK are off. */
  get osDoubleLocked(): boolean {
    return ((this.#values.get(OSDLR_EL1) ?? 0n) & 1n) !== 0n;
  }

  /** MDSCR_EL1 as the guest last wrote it. */
  get mdscr(): bigint {
    return this.read(MDSCR_EL1);
  }
}

function writableBits(key: number): bigint {
  if (key === MDSCR_EL1) return MDSCR_WRITABLE;
  if (key === OSDLR_EL1) return 1n;
  // DBG{B,W}{V,C}R<n>_EL1: op1 0, CRn 0, CRm n, op2 4 to 7.
  if ((key & ~0x7f) === 0 && (key & 0x4) !== 0) {
    switch (key & 0x7) {
      case 4:
      case 6:
        return VR_WRITABLE;
      case 5:
        return BCR_WRITABLE;
      case 7:
        return WCR_WRITABLE;
    }
  }
  return 0xffff_ffff_ffff_ffffn;
}

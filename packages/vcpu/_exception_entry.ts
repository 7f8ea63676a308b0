/**
 * Synchronous exceptions, from the engine's report to the guest's vector:
 * reading the syndrome and fault address the engine computed but does not
 * expose, and entering the guest's EL1 vector with them.
 *
 * @module
 */

import { EXCP, REG } from "./constants.ts";
import type { EngineLayout } from "./calibration.ts";
import { type Engine, HCR_EL2_VI } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { UnicornSymbols } from "./symbols.ts";
import { SYSREGS } from "./sysregs.ts";

const PSTATE_I = 0x80n;
const PSTATE_SP = 1n;
/** SPSR.M[4]: the exception came from AArch32. */
const SPSR_NRW = 0x10n;
/** SPSR.M[3:2]: the exception level it came from (AArch64). */
const SPSR_EL = 0xcn;
const EC_IABT_LOWER = 0x20;
const EC_DABT_LOWER = 0x24;
/** ESR bit 26, the low bit of EC: for aborts, taken from the same EL. */
const ESR_SAME_EL = 1n << 26n;
/** How many times in a row the guest may fault on the very vector it was sent to. */
const MAX_VECTOR_FAULTS = 3;

/**
 * The syndrome (ESR) and fault address (FAR) of the exception being
 * reported, read from a saved copy of the CPU state at the offsets the
 * start-up calibration found for this build.
 */
export class ExceptionState {
  readonly #uc: UnicornSymbols;
  readonly #engine: Engine;
  readonly #layout: EngineLayout;
  readonly #context: Deno.PointerObject;
  readonly #view: Deno.UnsafePointerView;

  constructor(uc: UnicornSymbols, engine: Engine, layout: EngineLayout) {
    const out = new BigUint64Array(1);
    if (uc.uc_context_alloc(engine.handle, out) !== 0 || out[0] === 0n) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_alloc failed");
    }
    this.#uc = uc;
    this.#engine = engine;
    this.#layout = layout;
    this.#context = Deno.UnsafePointer.create(out[0])!;
    this.#view = new Deno.UnsafePointerView(this.#context);
  }

  /** Copies the CPU state; call once per exception before reading. */
  capture(): void {
    if (this.#uc.uc_context_save(this.#engine.handle, this.#context) !== 0) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_save failed in the exception hook");
    }
  }

  /** ESR of the captured exception. */
  get syndrome(): number {
    return this.#view.getUint32(this.#layout.syndromeOffset);
  }

  /** FAR of the captured exception (meaningful for aborts). */
  get faultAddress(): bigint {
    return this.#view.getBigUint64(this.#layout.faultAddressOffset);
  }

  /**
   * The exception level the captured exception targets: QEMU keeps it right
   * after the fault address (`{ syndrome, fsr, vaddress, target_el }`, which
   * the calibrated offsets confirm: the address follows the syndrome by 8).
   */
  get targetEl(): number {
    const { syndromeOffset, faultAddressOffset } = this.#layout;
    if (faultAddressOffset !== syndromeOffset + 8) return -1;
    return this.#view.getUint32(faultAddressOffset + 8);
  }

  /** Frees the saved copy. */
  close(): void {
    this.#uc.uc_context_free(this.#context);
  }
}

/**
 * The offset from VBAR_EL1 of the synchronous vector for an exception taken
 * to EL1 from where `spsr` (as saved on entry) says it came from.
 */
function syncVector(spsr: bigint): bigint {
  if ((spsr & SPSR_NRW) !== 0n) return 0x600n; // lower EL, AArch32
  if ((spsr & SPSR_EL) === 0n) return 0x400n; // lower EL, AArch64
  return (spsr & PSTATE_SP) !== 0n ? 0x200n : 0n; // current EL, SPx or SP0
}

/** What {@link ExceptionEntry.deliver} did. */
export type DeliveryOutcome = "delivered" | "unhandled" | "loop";

/**
 * Enters the guest's EL1 synchronous vector. Writing PSTATE through the API
 * does not refresh QEMU's cached per-EL state, so the entry is left to QEMU
 * itself: with VBAR_EL1 lowered by 0x80 and a virtual IRQ pending, QEMU's own
 * IRQ entry lands exactly on the synchronous vector for the current or lower
 * EL, AArch64 or AArch32, with SPSR, ELR, PSTATE and the stack switch done
 * right. After the engine stops, {@link finish} restores VBAR_EL1 and the I
 * bit saved in SPSR_EL1.
 *
 * Where the exception came from is read from the SPSR QEMU saved, not
 * beforehand: the engine's PSTATE is meaningless while the guest runs
 * AArch32 code at EL0 (it keeps the last AArch64 value).
 */
export class ExceptionEntry {
  readonly #engine: Engine;
  #vbar = 0n;
  #iBit = 0n;
  #lastLanding = -1n;
  #vectorFaults = 0;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /**
   * Starts the entry of exception `intno` with `syndrome` (and `faultAddress`
   * for aborts); the engine must then stop so that QEMU takes the entry.
   * `hcr` is HCR_EL2 without VI.
   */
  deliver(intno: number, syndrome: number, faultAddress: bigint, hcr: bigint): DeliveryOutcome {
    const e = this.#engine;
    const pc = e.readPc();
    const pstate = e.readReg(REG.PSTATE);
    const el = Number((pstate >> 2n) & 3n);
    if (el > 1) return "unhandled";
    // Faulting on the vector just entered means there is no usable handler;
    // real hardware would spin here forever.
    if (pc === this.#lastLanding) {
      if (++this.#vectorFaults >= MAX_VECTOR_FAULTS) return "loop";
    } else {
      this.#vectorFaults = 0;
    }
    e.writeSys(SYSREGS.ESR_EL1, BigInt(syndrome));
    if (intno === EXCP.DATA_ABORT || intno === EXCP.PREFETCH_ABORT) {
      e.writeSys(SYSREGS.FAR_EL1, faultAddress);
    }
    const vbar = e.readSys(SYSREGS.VBAR_EL1);
    this.#vbar = vbar;
    // The I bit lives in the same place (env->daif) in AArch64 and AArch32.
    this.#iBit = pstate & PSTATE_I;
    e.writeSys(SYSREGS.VBAR_EL1, BigInt.asUintN(64, vbar - 0x80n));
    e.writeReg(REG.PSTATE, pstate & ~PSTATE_I);
    e.writeSys(SYSREGS.HCR_EL2, hcr | HCR_EL2_VI);
    return "delivered";
  }

  /**
   * Completes an entry once the engine stopped: restores VBAR_EL1, HCR_EL2
   * (`hcr`, with VI as the IRQ line wants it) and the saved I bit, and, for
   * an abort, makes the syndrome say whether it came from the same EL.
   *
   * @throws {VcpuError} `EXCEPTION_DELIVERY_FAILED` if QEMU landed elsewhere
   *   than the synchronous vector for where the exception came from.
   */
  finish(hcr: bigint): void {
    const e = this.#engine;
    const landed = e.readPc();
    e.writeSys(SYSREGS.VBAR_EL1, this.#vbar);
    e.writeSys(SYSREGS.HCR_EL2, hcr);
    const spsr = e.readSys(SYSREGS.SPSR_EL1);
    const fromEl0 = (spsr & SPSR_NRW) !== 0n || (spsr & SPSR_EL) === 0n;
    const target = BigInt.asUintN(64, this.#vbar + syncVector(spsr));
    if (landed !== target) {
      throw new VcpuError(
        "EXCEPTION_DELIVERY_FAILED",
        `a synchronous exception meant for the guest vector at 0x${
          target.toString(16)
        } landed at 0x${landed.toString(16)}`,
      );
    }
    e.writeSys(SYSREGS.SPSR_EL1, this.#iBit === 0n ? spsr & ~PSTATE_I : spsr | PSTATE_I);
    // Syndromes the vCPU makes itself (`_unbacked.ts`) are written before
    // the origin is known; an abort's EC says it in bit 0.
    const esr = e.readSys(SYSREGS.ESR_EL1);
    const ec = Number(esr >> 26n) & 0x3e;
    if (ec === EC_IABT_LOWER || ec === EC_DABT_LOWER) {
      const same = fromEl0 ? 0n : ESR_SAME_EL;
      if ((esr & ESR_SAME_EL) !== same) e.writeSys(SYSREGS.ESR_EL1, (esr & ~ESR_SAME_EL) | same);
    }
    this.#lastLanding = landed;
  }

  /** Forgets the last landing (after a reset). */
  reset(): void {
    this.#lastLanding = -1n;
    this.#vectorFaults = 0;
  }
}

/**
 * The register block of the `g`/`G` packets and the values of `p`/`P`: every register of the
 * target description, in its order, little-endian, at its size on the wire.
 *
 * @module
 */

import { AARCH64_REGNUM, type Aarch64Registers } from "./registers.ts";

/** The size in bytes of register `regno` on the wire, or 0 for no such register. */
export function registerSize(regno: number): number {
  if (!Number.isInteger(regno) || regno < 0 || regno >= AARCH64_REGNUM.COUNT) return 0;
  if (regno < AARCH64_REGNUM.CPSR) return 8;
  if (regno === AARCH64_REGNUM.CPSR) return 4;
  if (regno < AARCH64_REGNUM.FPSR) return 16;
  return 4;
}

/** The offset of register `regno` in the `g` packet's bytes. */
export function registerOffset(regno: number): number {
  if (regno <= AARCH64_REGNUM.CPSR) return regno * 8;
  if (regno < AARCH64_REGNUM.FPSR) return 33 * 8 + 4 + (regno - AARCH64_REGNUM.V0) * 16;
  return 33 * 8 + 4 + 32 * 16 + (regno - AARCH64_REGNUM.FPSR) * 4;
}

/** The size of the `g` packet's register block in bytes (788). */
export const REGISTER_BLOCK_SIZE: number = registerOffset(AARCH64_REGNUM.COUNT);

const MASK_32 = 0xffff_ffffn;

/** Writes register `regno` of `regs` little-endian into `view` at its `g` offset. */
export function storeRegister(regs: Aarch64Registers, regno: number, view: DataView): void {
  const at = registerOffset(regno);
  if (regno < 31) view.setBigUint64(at, regs.x[regno], true);
  else if (regno === AARCH64_REGNUM.SP) view.setBigUint64(at, regs.sp, true);
  else if (regno === AARCH64_REGNUM.PC) view.setBigUint64(at, regs.pc, true);
  else if (regno === AARCH64_REGNUM.CPSR) view.setUint32(at, Number(regs.pstate & MASK_32), true);
  else if (regno < AARCH64_REGNUM.FPSR) {
    const n = regno - AARCH64_REGNUM.V0;
    new Uint8Array(view.buffer, view.byteOffset + at, 16).set(regs.vreg(n));
  } else if (regno === AARCH64_REGNUM.FPSR) view.setUint32(at, regs.fpsr >>> 0, true);
  else view.setUint32(at, regs.fpcr >>> 0, true);
}

/** Reads register `regno` from `view` at its `g` offset into `regs` (the inverse of storeRegister). */
export function loadRegister(regs: Aarch64Registers, regno: number, view: DataView): void {
  const at = registerOffset(regno);
  if (regno < 31) regs.x[regno] = view.getBigUint64(at, true);
  else if (regno === AARCH64_REGNUM.SP) regs.sp = view.getBigUint64(at, true);
  else if (regno === AARCH64_REGNUM.PC) regs.pc = view.getBigUint64(at, true);
  else if (regno === AARCH64_REGNUM.CPSR) {
    regs.pstate = (regs.pstate & ~MASK_32) | BigInt(view.getUint32(at, true));
  } else if (regno < AARCH64_REGNUM.FPSR) {
    const n = regno - AARCH64_REGNUM.V0;
    regs.vreg(n).set(new Uint8Array(view.buffer, view.byteOffset + at, 16));
  } else if (regno === AARCH64_REGNUM.FPSR) regs.fpsr = view.getUint32(at, true);
  else regs.fpcr = view.getUint32(at, true);
}

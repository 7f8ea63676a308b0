/**
 * The AArch64 registers a debugger sees, as one plain record per thread, and gdb's numbering
 * of them (the order of the target description, which is also the order of the `g` packet).
 *
 * @module
 */

/**
 * gdb's register numbers for AArch64 (those of its `aarch64` architecture, and of the target
 * description this stub sends): X0–X30 are 0–30, then SP, PC, CPSR, V0–V31, FPSR, FPCR.
 *
 * @example
 * ```ts
 * import { AARCH64_REGNUM } from "@vmkit/gdb";
 *
 * console.log(AARCH64_REGNUM.PC, AARCH64_REGNUM.V0 + 31, AARCH64_REGNUM.FPCR); // 32 65 67
 * ```
 */
export const AARCH64_REGNUM = {
  X0: 0,
  /** The link register, X30. */
  LR: 30,
  SP: 31,
  PC: 32,
  CPSR: 33,
  V0: 34,
  FPSR: 66,
  FPCR: 67,
  /** One past the last register: the number of registers. */
  COUNT: 68,
} as const;

/**
 * The state of one thread's registers, filled in by a target's `readRegisters` and read by its
 * `writeRegisters`. The 64-bit registers are bigints; V0–V31 are 16 bytes each in `v`,
 * little-endian (byte 0 holds bits 7:0), so a Unicorn-style engine can read them straight into
 * `vreg(n)`.
 *
 * PSTATE is 64 bits here; gdb's `cpsr` shows and sets its low 32 bits (the standard AArch64
 * target description has a 32-bit `cpsr`), and a write from gdb keeps the high half.
 *
 * @example
 * ```ts
 * import { Aarch64Registers } from "@vmkit/gdb";
 *
 * const regs = new Aarch64Registers();
 * regs.x[0] = 0x1234n;
 * regs.pc = 0x4000_0000n;
 * regs.vreg(1)[0] = 0xff;
 * console.log(regs.x.length, regs.v.length, regs.pc.toString(16)); // 31 512 40000000
 * ```
 */
export class Aarch64Registers {
  /** X0–X30. */
  readonly x: BigUint64Array = new BigUint64Array(31);
  /** The stack pointer of the current exception level (SP_ELx or SP_EL0, as PSTATE.SP says). */
  sp = 0n;
  /** The program counter. */
  pc = 0n;
  /** PSTATE as an SPSR lays it out (NZCV, DAIF, EL, SP, …). */
  pstate = 0n;
  /** V0–V31, 16 bytes each, little-endian. */
  readonly v: Uint8Array = new Uint8Array(32 * 16);
  /** FPSR (32 bits). */
  fpsr = 0;
  /** FPCR (32 bits). */
  fpcr = 0;

  /** The 16 bytes of Vn (a view into {@link v}). */
  vreg(n: number): Uint8Array {
    return this.v.subarray(n * 16, n * 16 + 16);
  }

  /** Copies every register from `other`. */
  copyFrom(other: Aarch64Registers): void {
    this.x.set(other.x);
    this.sp = other.sp;
    this.pc = other.pc;
    this.pstate = other.pstate;
    this.v.set(other.v);
    this.fpsr = other.fpsr;
    this.fpcr = other.fpcr;
  }
}

/**
 * The handful of A64 instructions the fake machine executes, with encoders for writing its
 * programs: MOVZ, ADD (immediate), STR/LDR (unsigned offset, 32 and 64 bits), B and NOP.
 * Encodings from the Arm ARM; gdb's disassembler reads them back in the tests.
 */

/** `movz Xd, #imm16, lsl #(16 * hw)` */
export function movz(rd: number, imm16: number, hw = 0): number {
  return (0xd2800000 | (hw << 21) | (imm16 << 5) | rd) >>> 0;
}

/** `add Xd, Xn, #imm12{, lsl #12}` (register 31 is SP) */
export function addImm(rd: number, rn: number, imm12: number, shift12 = false): number {
  return (0x91000000 | (shift12 ? 1 << 22 : 0) | (imm12 << 10) | (rn << 5) | rd) >>> 0;
}

/** `str Wt, [Xn, #offset]` (`offset` a multiple of 4) or `str Xt` with `wide` */
export function str(rt: number, rn: number, offset = 0, wide = false): number {
  const scale = wide ? 8 : 4;
  return ((wide ? 0xf9000000 : 0xb9000000) | ((offset / scale) << 10) | (rn << 5) | rt) >>> 0;
}

/** `ldr Wt, [Xn, #offset]` or `ldr Xt` with `wide` */
export function ldr(rt: number, rn: number, offset = 0, wide = false): number {
  const scale = wide ? 8 : 4;
  return ((wide ? 0xf9400000 : 0xb9400000) | ((offset / scale) << 10) | (rn << 5) | rt) >>> 0;
}

/** `b` to `target` from `from` */
export function b(from: number, target: number): number {
  return (0x14000000 | (((target - from) / 4) & 0x3ffffff)) >>> 0;
}

/** `nop` */
export const NOP = 0xd503201f;

/** One decoded instruction of the subset. */
export type Instruction =
  | { op: "movz"; rd: number; value: bigint }
  | { op: "add"; rd: number; rn: number; value: bigint }
  | { op: "str" | "ldr"; rt: number; rn: number; offset: bigint; size: 4 | 8 }
  | { op: "b"; offset: bigint }
  | { op: "nop" }
  | { op: "undefined" };

/** Decodes one instruction word. */
export function decode(word: number): Instruction {
  if (word === NOP) return { op: "nop" };
  if ((word & 0xff800000) >>> 0 === 0xd2800000) {
    const hw = (word >>> 21) & 3;
    return { op: "movz", rd: word & 31, value: BigInt((word >>> 5) & 0xffff) << BigInt(16 * hw) };
  }
  if ((word & 0xff800000) >>> 0 === 0x91000000) {
    const imm = BigInt((word >>> 10) & 0xfff) << ((word >>> 22) & 1 ? 12n : 0n);
    return { op: "add", rd: word & 31, rn: (word >>> 5) & 31, value: imm };
  }
  const memory = (word & 0xbfc00000) >>> 0;
  if (memory === 0xb9000000 || memory === 0xb9400000) {
    const size = (word >>> 30) & 1 ? 8 : 4;
    return {
      op: memory === 0xb9000000 ? "str" : "ldr",
      rt: word & 31,
      rn: (word >>> 5) & 31,
      offset: BigInt(((word >>> 10) & 0xfff) * size),
      size,
    };
  }
  if ((word & 0xfc000000) >>> 0 === 0x14000000) {
    const imm26 = word & 0x3ffffff;
    const signed = imm26 & 0x2000000 ? imm26 - 0x4000000 : imm26;
    return { op: "b", offset: BigInt(signed * 4) };
  }
  return { op: "undefined" };
}

/**
 * Tiny bare-metal guests for the VM's tests, assembled in TypeScript: an
 * arm64 Image header followed by code, so the VM loads them like Linux.
 *
 * @module
 */

import { Asm } from "../../vcpu/testdata/a64.ts";
import { SYSREGS } from "../../vcpu/sysregs.ts";

export { Asm, SYSREGS };
export { COND } from "../../vcpu/testdata/a64.ts";

/** Where the tests' guests are loaded (the default RAM base, text_offset 0). */
export const LOAD = 0x4000_0000;
export const UART = 0x0900_0000;
export const GICD = 0x0800_0000;
export const GICC = 0x0801_0000;

/** Starts a guest program: the 64-byte Image header, then code at LOAD + 64. */
export function guest(): Asm {
  const a = new Asm(LOAD);
  a.word(0x14000010); // b LOAD + 64
  a.word(0);
  a.word(0).word(0); // text_offset
  a.word(0x10_0000).word(0); // image_size: 1 MiB
  a.word(0xa).word(0); // flags: little-endian, 4K pages, anywhere
  for (let i = 0; i < 6; i++) a.word(0);
  a.word(0x644d5241); // "ARM\x64"
  a.word(0);
  return a;
}

/** Prints `text` on the PL011 (x1 = UART base, clobbers x2). */
export function print(a: Asm, text: string): Asm {
  a.mov(1, UART);
  for (const c of new TextEncoder().encode(text)) a.mov(2, c).strb(2, 1, 0);
  return a;
}

/** A PSCI call over HVC with x0 = fid, x1.. = args; the result lands in x0. */
export function psci(a: Asm, fid: number, ...args: (number | bigint)[]): Asm {
  a.mov(0, fid);
  args.forEach((v, i) => a.mov(i + 1, v));
  return a.hvc(0);
}

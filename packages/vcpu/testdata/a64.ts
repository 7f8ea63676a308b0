/**
 * A tiny A64 assembler for the vCPU's unit tests: just the instructions they
 * use, with labels. The bare-metal proof programs under `guests/` are built
 * with a real cross compiler instead.
 *
 * @module
 */

import type { SysReg } from "../sysregs.ts";

type Fixup = { at: number; label: string; kind: "b" | "bcond" | "cbz" | "adr" };

/** Condition codes for `bcond`. */
export const COND = { eq: 0, ne: 1, hs: 2, lo: 3, mi: 4, pl: 5, hi: 8, ls: 9, ge: 10, lt: 11 };

/** Builds a little-endian A64 program placed at `base`. */
export class Asm {
  readonly base: number;
  readonly #words: number[] = [];
  readonly #labels = new Map<string, number>();
  readonly #fixups: Fixup[] = [];

  constructor(base: number) {
    this.base = base;
  }

  /** Address of the next instruction. */
  get here(): number {
    return this.base + this.#words.length * 4;
  }

  /** Appends a raw instruction word. */
  word(w: number): this {
    this.#words.push(w >>> 0);
    return this;
  }

  /** Defines a label at the current position. */
  label(name: string): this {
    this.#labels.set(name, this.here);
    return this;
  }

  /** Pads with NOPs up to `address`. */
  org(address: number): this {
    while (this.here < address) this.nop();
    if (this.here !== address) throw new Error(`org 0x${address.toString(16)} is behind`);
    return this;
  }

  /** Loads a 64-bit constant with MOVZ/MOVK. */
  mov(rd: number, value: bigint | number): this {
    const v = BigInt.asUintN(64, BigInt(value));
    this.word(0xd2800000 | (Number(v & 0xffffn) << 5) | rd);
    for (let hw = 1; hw < 4; hw++) {
      const part = Number((v >> BigInt(16 * hw)) & 0xffffn);
      if (part !== 0) this.word(0xf2800000 | (hw << 21) | (part << 5) | rd);
    }
    return this;
  }

  /** ADD Xd, Xn, #imm12. */
  addi(rd: number, rn: number, imm: number): this {
    return this.word(0x91000000 | (imm << 10) | (rn << 5) | rd);
  }

  /** SUBS Xd, Xn, #imm12. */
  subsi(rd: number, rn: number, imm: number): this {
    return this.word(0xf1000000 | (imm << 10) | (rn << 5) | rd);
  }

  /** ADD Xd, Xn, Xm. */
  add(rd: number, rn: number, rm: number): this {
    return this.word(0x8b000000 | (rm << 16) | (rn << 5) | rd);
  }

  /** LDR Xt, [Xn, #imm] (imm multiple of 8). */
  ldr(rt: number, rn: number, imm = 0): this {
    return this.word(0xf9400000 | ((imm / 8) << 10) | (rn << 5) | rt);
  }

  /** STR Xt, [Xn, #imm] (imm multiple of 8). */
  str(rt: number, rn: number, imm = 0): this {
    return this.word(0xf9000000 | ((imm / 8) << 10) | (rn << 5) | rt);
  }

  /** LDR Wt, [Xn, #imm] (imm multiple of 4). */
  ldrw(rt: number, rn: number, imm = 0): this {
    return this.word(0xb9400000 | ((imm / 4) << 10) | (rn << 5) | rt);
  }

  /** STR Wt, [Xn, #imm] (imm multiple of 4). */
  strw(rt: number, rn: number, imm = 0): this {
    return this.word(0xb9000000 | ((imm / 4) << 10) | (rn << 5) | rt);
  }

  /** LDRB Wt, [Xn, #imm]. */
  ldrb(rt: number, rn: number, imm = 0): this {
    return this.word(0x39400000 | (imm << 10) | (rn << 5) | rt);
  }

  /** STRB Wt, [Xn, #imm]. */
  strb(rt: number, rn: number, imm = 0): this {
    return this.word(0x39000000 | (imm << 10) | (rn << 5) | rt);
  }

  /** B label. */
  b(label: string): this {
    this.#fixups.push({ at: this.#words.length, label, kind: "b" });
    return this.word(0x14000000);
  }

  /** B.cond label. */
  bcond(cond: number, label: string): this {
    this.#fixups.push({ at: this.#words.length, label, kind: "bcond" });
    return this.word(0x54000000 | cond);
  }

  /** CBZ Xt, label. */
  cbz(rt: number, label: string): this {
    this.#fixups.push({ at: this.#words.length, label, kind: "cbz" });
    return this.word(0xb4000000 | rt);
  }

  /** ADR Xd, label. */
  adr(rd: number, label: string): this {
    this.#fixups.push({ at: this.#words.length, label, kind: "adr" });
    return this.word(0x10000000 | rd);
  }

  /** MSR sysreg, Xt. */
  msr(reg: SysReg, rt: number): this {
    return this.word(
      0xd5100000 | ((reg.op0 - 2) << 19) | (reg.op1 << 16) | (reg.crn << 12) | (reg.crm << 8) |
        (reg.op2 << 5) | rt,
    );
  }

  /** MRS Xt, sysreg. */
  mrs(rt: number, reg: SysReg): this {
    return this.word(
      0xd5300000 | ((reg.op0 - 2) << 19) | (reg.op1 << 16) | (reg.crn << 12) | (reg.crm << 8) |
        (reg.op2 << 5) | rt,
    );
  }

  /** MSR DAIFClr, #imm (2 unmasks IRQ). */
  daifclr(imm: number): this {
    return this.word(0xd50340ff | (imm << 8));
  }

  /** MSR DAIFSet, #imm. */
  daifset(imm: number): this {
    return this.word(0xd50340df | (imm << 8));
  }

  /** HVC #imm. */
  hvc(imm = 0): this {
    return this.word(0xd4000002 | (imm << 5));
  }

  /** SMC #imm. */
  smc(imm = 0): this {
    return this.word(0xd4000003 | (imm << 5));
  }

  /** SVC #imm. */
  svc(imm = 0): this {
    return this.word(0xd4000001 | (imm << 5));
  }

  /** WFI. */
  wfi(): this {
    return this.word(0xd503207f);
  }

  /** NOP. */
  nop(): this {
    return this.word(0xd503201f);
  }

  /** ISB. */
  isb(): this {
    return this.word(0xd5033fdf);
  }

  /** ERET. */
  eret(): this {
    return this.word(0xd69f03e0);
  }

  /** UDF #0 (permanently undefined). */
  udf(): this {
    return this.word(0);
  }

  /** Resolves labels and returns the machine code. */
  assemble(): Uint8Array<ArrayBuffer> {
    const words = [...this.#words];
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label ${f.label}`);
      const delta = target - (this.base + f.at * 4);
      switch (f.kind) {
        case "b":
          words[f.at] |= (delta / 4) & 0x3ffffff;
          break;
        case "bcond":
        case "cbz":
          words[f.at] |= ((delta / 4) & 0x7ffff) << 5;
          break;
        case "adr":
          words[f.at] |= ((delta & 3) << 29) | (((delta >> 2) & 0x7ffff) << 5);
          break;
      }
      words[f.at] >>>= 0;
    }
    return new Uint8Array(new Uint32Array(words).buffer);
  }
}

/**
 * Guest virtual addresses as the vCPU's own stage-1 MMU translates them,
 * for a debugger and for watchpoints, without side effects on the guest.
 *
 * Why AT: the engine only reads and writes guest-physical memory, and a
 * table walk of our own would have to follow every format the guest may
 * use. The engine's AT instructions walk the guest's tables exactly as its
 * loads and stores do, and this version of QEMU's walker sets neither access
 * flags nor dirty bits and fills no TLB entry; the one thing AT changes,
 * PAR_EL1, is put back.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";

const at = (name: string, op2: number): SysReg => ({ name, op0: 1, op1: 0, crn: 7, crm: 8, op2 });
const AT_S1E1R = at("AT_S1E1R", 0);
const AT_S1E1W = at("AT_S1E1W", 1);
const AT_S1E0R = at("AT_S1E0R", 2);
const AT_S1E0W = at("AT_S1E0W", 3);

const PAR_F = 1n;
const PAR_PA = 0x0000_ffff_ffff_f000n;
const PAGE_OFFSET = 0xfffn;
const PSTATE_EL = 0xcn;

/** What {@link translate} returns for an address the regime does not map. */
export const NO_TRANSLATION = -1n;

/**
 * The guest-physical address of `va` in the translation regime the vCPU in
 * `engine` is in, checked as a read (or a write) at EL1 (or, with `el0`, at
 * EL0), or {@link NO_TRANSLATION}. With the MMU off the address is its own.
 */
export function translate(engine: Engine, va: bigint, el0 = false, write = false): bigint {
  const op = el0 ? (write ? AT_S1E0W : AT_S1E0R) : write ? AT_S1E1W : AT_S1E1R;
  const saved = engine.readSys(SYSREGS.PAR_EL1);
  engine.writeSys(op, va);
  const par = engine.readSys(SYSREGS.PAR_EL1);
  engine.writeSys(SYSREGS.PAR_EL1, saved);
  if ((par & PAR_F) !== 0n) return NO_TRANSLATION;
  return (par & PAR_PA) | (va & PAGE_OFFSET);
}

/** The exception level the vCPU in `engine` is at, from PSTATE (its low 32 bits are defined). */
export function currentEl(engine: Engine): number {
  return Number((engine.readReg(REG.PSTATE) & PSTATE_EL) >> 2n);
}

/**
 * Faults on the last page of the address space, on engines that end the run
 * instead (2.0.1).
 *
 * Why: 2.0.1 checks a virtual address against its physical map before it
 * translates it, which the vCPU answers by covering every range with a
 * catch-all region (`address_space.ts`) — but the engine cannot map a range
 * ending at 2^64, so the last page, 0xffff_ffff_ffff_f000, stays out, and an
 * access there ended the whole VM with UC_ERR_READ_UNMAPPED instead of
 * faulting in the guest. One user-mode load could do it. 2.1 translates
 * first and faults into the guest by itself.
 *
 * The vCPU hooks unmapped accesses to that page only, lets the run end, and
 * works out the fault the guest's MMU would have raised with AT: the
 * translation fault it reports, or, for a page the guest maps, a
 * synchronous external abort (the access itself cannot be carried out).
 *
 * @module
 */

import { EXCP, REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";

/** The page that cannot be covered. */
export const LAST_PAGE = 0xffff_ffff_ffff_f000n;
/** `UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED`. */
export const UC_HOOK_MEM_UNMAPPED = (1 << 4) | (1 << 5) | (1 << 6);
const UC_MEM_WRITE_UNMAPPED = 20;
const UC_MEM_FETCH_UNMAPPED = 21;

const at = (name: string, op2: number): SysReg => ({ name, op0: 1, op1: 0, crn: 7, crm: 8, op2 });
const AT_S1E1R = at("AT_S1E1R", 0);
const AT_S1E1W = at("AT_S1E1W", 1);
const AT_S1E0R = at("AT_S1E0R", 2);
const AT_S1E0W = at("AT_S1E0W", 3);

const EC_IABT_LOWER = 0x20;
const EC_IABT_CURRENT = 0x21;
const EC_DABT_LOWER = 0x24;
const EC_DABT_CURRENT = 0x25;
const ESR_IL = 1 << 25;
const ISS_WNR = 1 << 6;
const FSC_EXTERNAL = 0x10;

/** An access to the last page the engine refused, and the fault to raise for it. */
export class LastPageAccess {
  #pending = false;
  #address = 0n;
  #type = 0;

  /** The hook's part: remember the access; the engine then ends the run. */
  record(type: number, address: bigint): void {
    this.#pending = true;
    this.#type = type;
    this.#address = address;
  }

  /** Whether a refused access awaits its fault. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * The fault for the recorded access, as the guest's MMU decides it:
   * `{ intno, syndrome, address }` for the exception entry. Clears it.
   */
  take(engine: Engine): { intno: number; syndrome: number; address: bigint } {
    this.#pending = false;
    const fetch = this.#type === UC_MEM_FETCH_UNMAPPED;
    const write = this.#type === UC_MEM_WRITE_UNMAPPED;
    const el0 = (engine.readReg(REG.PSTATE) & 0xcn) === 0n;
    const op = el0 ? (write ? AT_S1E0W : AT_S1E0R) : write ? AT_S1E1W : AT_S1E1R;
    const par = engine.readSys(SYSREGS.PAR_EL1);
    engine.writeSys(op, this.#address);
    const result = engine.readSys(SYSREGS.PAR_EL1);
    engine.writeSys(SYSREGS.PAR_EL1, par);
    const fsc = (result & 1n) !== 0n ? Number((result >> 1n) & 0x3fn) : FSC_EXTERNAL;
    const ec = fetch
      ? (el0 ? EC_IABT_LOWER : EC_IABT_CURRENT)
      : (el0 ? EC_DABT_LOWER : EC_DABT_CURRENT);
    return {
      intno: fetch ? EXCP.PREFETCH_ABORT : EXCP.DATA_ABORT,
      syndrome: ((ec << 26) | ESR_IL | (write ? ISS_WNR : 0) | fsc) >>> 0,
      address: this.#address,
    };
  }
}

/**
 * PMU register accesses trapped to EL2 (MDCR_EL2.TPM, TPMCR) and carried out
 * on the vCPU's {@link Pmu}.
 *
 * EL0 reaches the PMU as PMUSERENR_EL0 allows, and that check comes before
 * the trap to EL2. The engine makes it against its own PMUSERENR_EL0, so the
 * engine's copy holds EN whenever the guest's allows EL0 anything: an EL0
 * access then always traps here, where the guest's finer bits (SW, CR, ER)
 * are applied, and what they refuse goes to the guest's EL1 as the same
 * trap. The engine's SW, CR and ER stay clear, because with them set it
 * would carry out EL0 accesses itself, on its own PMU.
 *
 * @module
 */

import { REG } from "./constants.ts";
import type { Engine } from "./engine.ts";
import type { Pmu, PmuRegister } from "./pmu.ts";
import type { SysReg } from "./sysregs.ts";

/** MDCR_EL2.TPM: trap PMU register accesses from EL0 and EL1 to EL2. */
export const MDCR_EL2_TPM = 1n << 6n;
/** MDCR_EL2.TPMCR: trap PMCR_EL0 accesses to EL2. */
export const MDCR_EL2_TPMCR = 1n << 5n;

const PMUSERENR_EL0: SysReg = Object.freeze({
  name: "PMUSERENR_EL0",
  op0: 3,
  op1: 3,
  crn: 9,
  crm: 14,
  op2: 0,
});
const USER_EN = 1n;
const USER_SW = 2n;
const USER_CR = 4n;
const USER_ER = 8n;

/** PMU registers with op0 3, op1 3, CRn 9, by CRm 12..14 and op2. */
const EL0_REGISTERS: Record<number, readonly (PmuRegister | undefined)[]> = {
  12: [
    "PMCR_EL0",
    "PMCNTENSET_EL0",
    "PMCNTENCLR_EL0",
    "PMOVSCLR_EL0",
    "PMSWINC_EL0",
    "PMSELR_EL0",
    "PMCEID0_EL0",
    "PMCEID1_EL0",
  ],
  13: ["PMCCNTR_EL0", "PMXEVTYPER_EL0", "PMXEVCNTR_EL0"],
  14: ["PMUSERENR_EL0", undefined, undefined, "PMOVSSET_EL0"],
};

/**
 * Carries out the PMU access that ISS encoding `op` (op0, op2, op1, CRn, CRm
 * fields in place, as `_system_traps.ts` masks them) names, reading or
 * writing X`rt`, and steps over it. Returns false for an encoding that is
 * not a PMU register, or an EL0 access the guest's PMUSERENR_EL0 refuses.
 */
export function handlePmuAccess(
  pmu: Pmu,
  engine: Engine,
  op: number,
  rt: number,
  read: boolean,
): boolean {
  if (op >>> 20 !== 3) return false;
  const op2 = (op >>> 17) & 7;
  const op1 = (op >>> 14) & 7;
  const crn = (op >>> 10) & 15;
  const crm = (op >>> 1) & 15;
  let name: PmuRegister | undefined;
  let counter = -1;
  if (op1 === 3 && crn === 9) name = EL0_REGISTERS[crm]?.[op2];
  else if (op1 === 0 && crn === 9 && crm === 14) {
    name = op2 === 1 ? "PMINTENSET_EL1" : op2 === 2 ? "PMINTENCLR_EL1" : undefined;
  } else if (op1 === 3 && crn === 14 && crm >= 8) {
    counter = ((crm & 3) << 3) | op2;
    if (crm >= 12 && counter === 31) name = "PMCCFILTR_EL0";
  }
  if (name === undefined && counter < 0) return false;
  const type = crm >= 12;
  const el = Number((engine.readReg(REG.PSTATE) >> 2n) & 3n);
  if (el === 0 && !allowedAtEl0(pmu.userEnable, name, counter >= 0 && !type, read)) return false;
  if (read) {
    const value = name !== undefined ? pmu.read(name, el) : pmu.readCounter(counter, type, el);
    if (rt !== 31) engine.writeX(rt, value);
  } else {
    const value = rt === 31 ? 0n : engine.readX(rt);
    if (name !== undefined) pmu.write(name, value, el);
    else pmu.writeCounter(counter, type, value, el);
    if (name === "PMUSERENR_EL0") {
      engine.writeSys(PMUSERENR_EL0, pmu.userEnable !== 0n ? USER_EN : 0n);
    }
  }
  engine.writeReg(REG.PC, engine.readPc() + 4n);
  return true;
}

function allowedAtEl0(
  user: bigint,
  name: PmuRegister | undefined,
  eventCounter: boolean,
  read: boolean,
): boolean {
  if ((user & USER_EN) !== 0n) return true;
  if (name === "PMSWINC_EL0") return !read && (user & USER_SW) !== 0n;
  if (name === "PMCCNTR_EL0") return read && (user & USER_CR) !== 0n;
  if (name === "PMSELR_EL0") return (user & USER_ER) !== 0n;
  if (name === "PMXEVCNTR_EL0" || eventCounter) return read && (user & USER_ER) !== 0n;
  return false;
}

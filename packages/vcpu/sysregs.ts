/**
 * AArch64 system registers by their (op0, op1, CRn, CRm, op2) encoding, the
 * form Unicorn's `UC_ARM64_REG_CP_REG` access and its MSR hook use.
 *
 * @module
 */

/**
 * A system register encoding. {@link SYSREGS} has the ones VMKit uses; any
 * other register the engine implements can be named the same way.
 *
 * @example
 * ```ts
 * import { type SysReg, SYSREGS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * // ID_AA64PFR0_EL1 is S3_0_C0_C4_0.
 * const ID_AA64PFR0_EL1: SysReg = { name: "ID_AA64PFR0_EL1", op0: 3, op1: 0, crn: 0, crm: 4, op2: 0 };
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * assert.equal(vcpu.readSysReg(ID_AA64PFR0_EL1) & 0xfn, 2n); // EL0: AArch64 and AArch32
 * assert.equal(SYSREGS.CNTFRQ_EL0.crn, 14);
 * ```
 */
export interface SysReg {
  /** Architectural name, for messages. */
  readonly name: string;
  /** op0 field (2 or 3 for registers). */
  readonly op0: number;
  /** op1 field. */
  readonly op1: number;
  /** CRn field. */
  readonly crn: number;
  /** CRm field. */
  readonly crm: number;
  /** op2 field. */
  readonly op2: number;
}

function sr(name: string, op0: number, op1: number, crn: number, crm: number, op2: number): SysReg {
  return Object.freeze({ name, op0, op1, crn, crm, op2 });
}

/**
 * Names of the system registers in {@link SYSREGS}.
 *
 * @example
 * ```ts
 * import { SYSREGS, type SysRegName, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const name: SysRegName = "VBAR_EL1";
 * vcpu.writeSysReg(SYSREGS[name], 0x4000_0800n); // where the guest's vectors would be
 * assert.equal(vcpu.readSysReg(SYSREGS[name]), 0x4000_0800n);
 * ```
 */
export type SysRegName =
  | "SCR_EL3"
  | "HCR_EL2"
  | "VMPIDR_EL2"
  | "CNTHCTL_EL2"
  | "CNTKCTL_EL1"
  | "CNTVOFF_EL2"
  | "CNTFRQ_EL0"
  | "CNTPCT_EL0"
  | "CNTVCT_EL0"
  | "CNTV_TVAL_EL0"
  | "CNTP_TVAL_EL0"
  | "CNTP_CTL_EL0"
  | "CNTP_CVAL_EL0"
  | "CNTV_CTL_EL0"
  | "CNTV_CVAL_EL0"
  | "MIDR_EL1"
  | "MPIDR_EL1"
  | "SCTLR_EL1"
  | "TTBR0_EL1"
  | "TTBR1_EL1"
  | "TCR_EL1"
  | "SPSR_EL1"
  | "ELR_EL1"
  | "SP_EL0"
  | "ESR_EL1"
  | "FAR_EL1"
  | "MAIR_EL1"
  | "VBAR_EL1"
  | "MDCR_EL2"
  | "PAR_EL1"
  | "CTR_EL0"
  | "CCSIDR_EL1"
  | "CLIDR_EL1"
  | "CSSELR_EL1"
  | "AT_S1E1R"
  | "TLBI_VAAE1";

/**
 * The system registers VMKit reads or writes, by name.
 *
 * @example
 * ```ts
 * import { SYSREGS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library, id: 3 });
 * // The vCPU's id is its MPIDR_EL1 affinity 0 (bit 31 is RES1).
 * assert.equal(vcpu.readSysReg(SYSREGS.MPIDR_EL1), 0x8000_0003n);
 * ```
 */
export const SYSREGS: Readonly<Record<SysRegName, SysReg>> = {
  SCR_EL3: sr("SCR_EL3", 3, 6, 1, 1, 0),
  HCR_EL2: sr("HCR_EL2", 3, 4, 1, 1, 0),
  VMPIDR_EL2: sr("VMPIDR_EL2", 3, 4, 0, 0, 5),
  CNTHCTL_EL2: sr("CNTHCTL_EL2", 3, 4, 14, 1, 0),
  CNTKCTL_EL1: sr("CNTKCTL_EL1", 3, 0, 14, 1, 0),
  CNTVOFF_EL2: sr("CNTVOFF_EL2", 3, 4, 14, 0, 3),
  CNTFRQ_EL0: sr("CNTFRQ_EL0", 3, 3, 14, 0, 0),
  CNTPCT_EL0: sr("CNTPCT_EL0", 3, 3, 14, 0, 1),
  CNTVCT_EL0: sr("CNTVCT_EL0", 3, 3, 14, 0, 2),
  CNTP_TVAL_EL0: sr("CNTP_TVAL_EL0", 3, 3, 14, 2, 0),
  CNTP_CTL_EL0: sr("CNTP_CTL_EL0", 3, 3, 14, 2, 1),
  CNTP_CVAL_EL0: sr("CNTP_CVAL_EL0", 3, 3, 14, 2, 2),
  CNTV_TVAL_EL0: sr("CNTV_TVAL_EL0", 3, 3, 14, 3, 0),
  CNTV_CTL_EL0: sr("CNTV_CTL_EL0", 3, 3, 14, 3, 1),
  CNTV_CVAL_EL0: sr("CNTV_CVAL_EL0", 3, 3, 14, 3, 2),
  MIDR_EL1: sr("MIDR_EL1", 3, 0, 0, 0, 0),
  MPIDR_EL1: sr("MPIDR_EL1", 3, 0, 0, 0, 5),
  SCTLR_EL1: sr("SCTLR_EL1", 3, 0, 1, 0, 0),
  TTBR0_EL1: sr("TTBR0_EL1", 3, 0, 2, 0, 0),
  TTBR1_EL1: sr("TTBR1_EL1", 3, 0, 2, 0, 1),
  TCR_EL1: sr("TCR_EL1", 3, 0, 2, 0, 2),
  SPSR_EL1: sr("SPSR_EL1", 3, 0, 4, 0, 0),
  ELR_EL1: sr("ELR_EL1", 3, 0, 4, 0, 1),
  SP_EL0: sr("SP_EL0", 3, 0, 4, 1, 0),
  ESR_EL1: sr("ESR_EL1", 3, 0, 5, 2, 0),
  FAR_EL1: sr("FAR_EL1", 3, 0, 6, 0, 0),
  MAIR_EL1: sr("MAIR_EL1", 3, 0, 10, 2, 0),
  VBAR_EL1: sr("VBAR_EL1", 3, 0, 12, 0, 0),
  MDCR_EL2: sr("MDCR_EL2", 3, 4, 1, 1, 1),
  PAR_EL1: sr("PAR_EL1", 3, 0, 7, 4, 0),
  CTR_EL0: sr("CTR_EL0", 3, 3, 0, 0, 1),
  CCSIDR_EL1: sr("CCSIDR_EL1", 3, 1, 0, 0, 0),
  CLIDR_EL1: sr("CLIDR_EL1", 3, 1, 0, 0, 1),
  CSSELR_EL1: sr("CSSELR_EL1", 3, 2, 0, 0, 0),
  // Operations, not registers: writing them through CP_REG performs them.
  AT_S1E1R: sr("AT_S1E1R", 1, 0, 7, 8, 0),
  TLBI_VAAE1: sr("TLBI_VAAE1", 1, 0, 8, 7, 3),
};

/** Byte size of Unicorn's `uc_arm64_cp_reg` (five u32 fields, padding, u64 value). */
export const CP_REG_SIZE = 32;

/**
 * A reusable `uc_arm64_cp_reg` buffer for one register, so reading or writing
 * it through FFI allocates nothing.
 */
export class CpRegBuffer {
  /** The raw struct, passed to `uc_reg_read`/`uc_reg_write`. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly #value: BigUint64Array;

  /** @param reg the register this buffer addresses */
  constructor(reg: SysReg) {
    this.bytes = new Uint8Array(CP_REG_SIZE);
    const u32 = new Uint32Array(this.bytes.buffer);
    // Field order in the C struct is crn, crm, op0, op1, op2.
    u32[0] = reg.crn;
    u32[1] = reg.crm;
    u32[2] = reg.op0;
    u32[3] = reg.op1;
    u32[4] = reg.op2;
    this.#value = new BigUint64Array(this.bytes.buffer, 24, 1);
  }

  /** The value field. */
  get value(): bigint {
    return this.#value[0];
  }

  set value(v: bigint) {
    this.#value[0] = v;
  }
}

/** Whether an encoding read from Unicorn's MSR hook names `reg`. */
export function isSysReg(
  reg: SysReg,
  op0: number,
  op1: number,
  crn: number,
  crm: number,
  op2: number,
): boolean {
  return reg.op0 === op0 && reg.op1 === op1 && reg.crn === crn && reg.crm === crm &&
    reg.op2 === op2;
}

/**
 * Numbers from Unicorn's public headers (2.0.x) that the binding needs:
 * architecture, register ids, hook types, control codes, error names, and the
 * exception numbers its interrupt hook reports for AArch64.
 *
 * @module
 */

/** `UC_ARCH_ARM64`. */
export const UC_ARCH_ARM64 = 2;
/** `UC_MODE_ARM` (little-endian). */
export const UC_MODE_ARM = 0;

/** `UC_PROT_ALL`: read, write, execute. */
export const UC_PROT_ALL = 7;

/** Hook types (`uc_hook_type`). */
export const UC_HOOK_INTR = 1;
/** Instruction hook (`UC_HOOK_INSN`). */
export const UC_HOOK_INSN = 2;
/** Start of every translated block (`UC_HOOK_BLOCK`). */
export const UC_HOOK_BLOCK = 8;
/** Before each instruction in the hook's range (`UC_HOOK_CODE`). */
export const UC_HOOK_CODE = 4;
/** Before each data read (`UC_HOOK_MEM_READ`). */
export const UC_HOOK_MEM_READ = 1 << 10;
/** Before each data write (`UC_HOOK_MEM_WRITE`). */
export const UC_HOOK_MEM_WRITE = 1 << 11;

/** Instruction ids for `UC_HOOK_INSN` on AArch64 (`uc_arm64_insn`). */
export const UC_ARM64_INS_MSR = 2;
/** `UC_ARM64_INS_MRS`. */
export const UC_ARM64_INS_MRS = 1;

/** AArch64 register ids (`uc_arm64_reg`). */
export const REG = {
  X29: 1,
  X30: 2,
  NZCV: 3,
  SP: 4,
  Q0: 104,
  X0: 199,
  PC: 260,
  PSTATE: 265,
  CP_REG: 290,
  FPCR: 291,
  FPSR: 292,
} as const;

/** The Unicorn register id of general-purpose register `Xn` (0–30). */
export function xReg(n: number): number {
  return n < 29 ? REG.X0 + n : n === 29 ? REG.X29 : REG.X30;
}

/** `uc_cpu_arm64` CPU models. */
export const CPU_MODEL_IDS = {
  "cortex-a57": 0,
  "cortex-a53": 1,
  "cortex-a72": 2,
  "max": 3,
} as const;

/** `UC_CTL(type, nr, rw)`: the control code passed to `uc_ctl`. */
export function ucCtl(type: number, args: number, write: boolean): number {
  return type | (args << 26) | ((write ? 1 : 2) << 30);
}

/** `uc_control_type` values used. */
export const UC_CTL_UC_USE_EXITS = 4;
/** `UC_CTL_CPU_MODEL`. */
export const UC_CTL_CPU_MODEL = 7;
/** `UC_CTL_TB_REMOVE_CACHE`. */
export const UC_CTL_TB_REMOVE_CACHE = 9;
/** `UC_CTL_TB_FLUSH`. */
export const UC_CTL_TB_FLUSH = 10;
/** `UC_CTL_TCG_BUFFER_SIZE` (2.1 and later): bytes of translated code, set before first use. */
export const UC_CTL_TCG_BUFFER_SIZE = 13;

/** QEMU's AArch64 exception numbers, as Unicorn's interrupt hook reports them. */
export const EXCP = {
  UDEF: 1,
  SWI: 2,
  PREFETCH_ABORT: 3,
  DATA_ABORT: 4,
  IRQ: 5,
  FIQ: 6,
  BKPT: 7,
  HVC: 11,
  HYP_TRAP: 12,
  SMC: 13,
  VIRQ: 14,
  VFIQ: 15,
} as const;

/** `UC_ERR_READ_UNMAPPED`: the run ended on a read of an unmapped address. */
export const UC_ERR_READ_UNMAPPED = 6;
/** `UC_ERR_FETCH_UNMAPPED`: ... on a fetch; `UC_ERR_WRITE_UNMAPPED` (7) lies between. */
export const UC_ERR_FETCH_UNMAPPED = 8;

const UC_ERR_NAMES = [
  "UC_ERR_OK",
  "UC_ERR_NOMEM",
  "UC_ERR_ARCH",
  "UC_ERR_HANDLE",
  "UC_ERR_MODE",
  "UC_ERR_VERSION",
  "UC_ERR_READ_UNMAPPED",
  "UC_ERR_WRITE_UNMAPPED",
  "UC_ERR_FETCH_UNMAPPED",
  "UC_ERR_HOOK",
  "UC_ERR_INSN_INVALID",
  "UC_ERR_MAP",
  "UC_ERR_WRITE_PROT",
  "UC_ERR_READ_PROT",
  "UC_ERR_FETCH_PROT",
  "UC_ERR_ARG",
  "UC_ERR_READ_UNALIGNED",
  "UC_ERR_WRITE_UNALIGNED",
  "UC_ERR_FETCH_UNALIGNED",
  "UC_ERR_HOOK_EXIST",
  "UC_ERR_RESOURCE",
  "UC_ERR_EXCEPTION",
] as const;

/** The symbolic name of a `uc_err` value. */
export function ucErrName(code: number): string {
  return UC_ERR_NAMES[code] ?? `UC_ERR_${code}`;
}

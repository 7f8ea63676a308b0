/**
 * PSCI 1.1 over SMCCC, as the firmware of the virtual machine: decoding a
 * call from x0–x3 and answering it through a small platform interface.
 *
 * @module
 */

/**
 * PSCI function ids (SMC32 form, and the SMC64 forms of CPU_SUSPEND, CPU_ON and AFFINITY_INFO).
 *
 * @example
 * ```ts
 * import { isPsciCall, PSCI_FN } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.values(PSCI_FN).every(isPsciCall));
 * ```
 */
export const PSCI_FN = {
  VERSION: 0x8400_0000,
  CPU_SUSPEND: 0x8400_0001,
  CPU_OFF: 0x8400_0002,
  CPU_ON: 0x8400_0003,
  AFFINITY_INFO: 0x8400_0004,
  MIGRATE: 0x8400_0005,
  MIGRATE_INFO_TYPE: 0x8400_0006,
  MIGRATE_INFO_UP_CPU: 0x8400_0007,
  SYSTEM_OFF: 0x8400_0008,
  SYSTEM_RESET: 0x8400_0009,
  FEATURES: 0x8400_000a,
  CPU_SUSPEND_64: 0xc400_0001,
  CPU_ON_64: 0xc400_0003,
  AFFINITY_INFO_64: 0xc400_0004,
} as const;

/**
 * PSCI return codes.
 *
 * @example
 * ```ts
 * import { handlePsci, PSCI_FN, PSCI_RET, type PsciPlatform } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const platform = { cpuCount: 1, affinity: () => 0 } as unknown as PsciPlatform;
 * const result = handlePsci([BigInt(PSCI_FN.MIGRATE), 0n, 0n, 0n], 0, platform);
 * assert.deepEqual(result, {
 *   returns: true,
 *   x0: BigInt.asUintN(64, BigInt(PSCI_RET.NOT_SUPPORTED)),
 * });
 * ```
 */
export const PSCI_RET = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  DENIED: -3,
  ALREADY_ON: -4,
  ON_PENDING: -5,
  INTERNAL_FAILURE: -6,
  NOT_PRESENT: -7,
  DISABLED: -8,
  INVALID_ADDRESS: -9,
} as const;

/**
 * The version reported: 1.1.
 *
 * @example
 * ```ts
 * import { handlePsci, PSCI_FN, PSCI_VERSION_1_1, type PsciPlatform } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const result = handlePsci(
 *   [BigInt(PSCI_FN.VERSION), 0n, 0n, 0n],
 *   0,
 *   { cpuCount: 1 } as PsciPlatform,
 * );
 * assert.deepEqual(result, { returns: true, x0: BigInt(PSCI_VERSION_1_1) });
 * ```
 */
export const PSCI_VERSION_1_1 = 0x0001_0001;

/**
 * What the VM provides to the PSCI implementation.
 *
 * @example
 * ```ts
 * import { handlePsci, PSCI_FN, PSCI_RET, type PsciPlatform } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const on = new Set([0]);
 * const platform: PsciPlatform = {
 *   cpuCount: 2,
 *   affinity: (i) => (on.has(i) ? 0 : 1),
 *   cpuOn: (i, entry) => {
 *     if (on.has(i)) return PSCI_RET.ALREADY_ON;
 *     on.add(i);
 *     log.push(`cpu ${i} on at 0x${entry.toString(16)}`);
 *     return PSCI_RET.SUCCESS;
 *   },
 *   cpuOff: (i) => (on.delete(i), PSCI_RET.SUCCESS),
 *   cpuStandby: () => {},
 *   systemOff: () => log.push("off"),
 *   systemReset: () => log.push("reset"),
 * };
 * handlePsci([BigInt(PSCI_FN.CPU_ON_64), 1n, 0x4008_0000n, 0n], 0, platform);
 * handlePsci([BigInt(PSCI_FN.SYSTEM_OFF), 0n, 0n, 0n], 1, platform);
 * assert.deepEqual(log, ["cpu 1 on at 0x40080000", "off"]);
 * ```
 */
export interface PsciPlatform {
  /** Number of vCPUs; MPIDR affinity 0 is the vCPU index. */
  readonly cpuCount: number;
  /** vCPU `index`'s state as AFFINITY_INFO reports it: 0 on, 1 off, 2 on pending. */
  affinity(index: number): 0 | 1 | 2;
  /** Powers on vCPU `index` at `entry` with x0 = `context`; returns a PSCI code. */
  cpuOn(index: number, entry: bigint, context: bigint): number;
  /** Powers off the calling vCPU; returns a PSCI code only on failure. */
  cpuOff(index: number): number;
  /**
   * Puts the calling vCPU in standby: it idles as after WFI until an
   * interrupt would wake it, then the call returns SUCCESS.
   */
  cpuStandby(index: number): void;
  /** Powers the whole system off. */
  systemOff(): void;
  /**
   * Whether the platform can carry out `fid` (one of the functions this
   * module implements): PSCI_FEATURES must not advertise what would fail.
   * Default: all of them.
   */
  supports?(fid: number): boolean;
  /** Resets the whole system. */
  systemReset(): void;
}

/**
 * The outcome of a call: the value for x0, or that the call does not return
 * to the caller (SYSTEM_OFF, SYSTEM_RESET, a successful CPU_OFF).
 *
 * @example
 * ```ts
 * import { handlePsci, PSCI_FN, PSCI_RET, type PsciPlatform, type PsciResult } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const on = new Set([0]);
 * const platform: PsciPlatform = {
 *   cpuCount: 2,
 *   affinity: (i) => (on.has(i) ? 0 : 1),
 *   cpuOn: (i, entry) => {
 *     if (on.has(i)) return PSCI_RET.ALREADY_ON;
 *     on.add(i);
 *     log.push(`cpu ${i} on at 0x${entry.toString(16)}`);
 *     return PSCI_RET.SUCCESS;
 *   },
 *   cpuOff: (i) => (on.delete(i), PSCI_RET.SUCCESS),
 *   cpuStandby: () => {},
 *   systemOff: () => log.push("off"),
 *   systemReset: () => log.push("reset"),
 * };
 * const off: PsciResult = handlePsci([BigInt(PSCI_FN.SYSTEM_OFF), 0n, 0n, 0n], 0, platform);
 * assert.deepEqual(off, { returns: false }); // the caller is not resumed
 * const info: PsciResult = handlePsci([BigInt(PSCI_FN.AFFINITY_INFO), 1n, 0n, 0n], 0, platform);
 * assert.deepEqual(info, { returns: true, x0: 1n }); // CPU 1 is off
 * ```
 */
export type PsciResult = { returns: true; x0: bigint } | { returns: false };

const IMPLEMENTED = new Set<number>([
  PSCI_FN.VERSION,
  PSCI_FN.CPU_SUSPEND,
  PSCI_FN.CPU_SUSPEND_64,
  PSCI_FN.CPU_OFF,
  PSCI_FN.CPU_ON,
  PSCI_FN.CPU_ON_64,
  PSCI_FN.AFFINITY_INFO,
  PSCI_FN.AFFINITY_INFO_64,
  PSCI_FN.MIGRATE_INFO_TYPE,
  PSCI_FN.SYSTEM_OFF,
  PSCI_FN.SYSTEM_RESET,
  PSCI_FN.FEATURES,
]);

function ret(code: number): PsciResult {
  return { returns: true, x0: BigInt.asUintN(64, BigInt(code)) };
}

/**
 * Whether `fid` is in the PSCI range (standard secure service, function < 0x20).
 *
 * @example
 * ```ts
 * import { isPsciCall } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isPsciCall(0x8400_0000), true); // PSCI_VERSION
 * assert.equal(isPsciCall(0x8000_0000), false); // SMCCC_VERSION: an Arm architecture call
 * assert.equal(isPsciCall(0xc600_0000), false); // a vendor's hypervisor service
 * ```
 */
export function isPsciCall(fid: number): boolean {
  return (fid & 0x8000_0000) !== 0 && ((fid >>> 24) & 0x3f) === 4 && (fid & 0xffff) < 0x20 &&
    (fid & 0x00ff_0000) === 0;
}

/**
 * A PSCI target (MPIDR affinity Aff3.Aff2.Aff1.Aff0) to a vCPU index, or -1.
 * Bits outside the affinity fields must be zero (PSCI's `target_cpu`, as
 * KVM and QEMU check it): a raw MPIDR_EL1 value with bit 31 set, or
 * garbage above Aff3, names no CPU rather than the one its affinity bits
 * happen to match.
 *
 * @example
 * ```ts
 * import { mpidrToIndex } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(mpidrToIndex(3n, 4), 3);
 * assert.equal(mpidrToIndex(4n, 4), -1); // no such CPU
 * assert.equal(mpidrToIndex(0x8000_0000n, 4), -1); // MPIDR_EL1's RES1 bit is not an affinity
 * ```
 */
export function mpidrToIndex(mpidr: bigint, cpuCount: number): number {
  if ((mpidr & ~0xff_00ff_ffffn) !== 0n || mpidr >= BigInt(cpuCount)) return -1;
  return Number(mpidr);
}

/**
 * Answers one call made by vCPU `caller` with x0–x3 = `args` (function id in
 * x0). Unknown and unimplemented functions get NOT_SUPPORTED, as SMCCC asks.
 *
 * @example
 * ```ts
 * import { handlePsci, PSCI_FN, PSCI_RET, type PsciPlatform } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const on = new Set([0]);
 * const platform: PsciPlatform = {
 *   cpuCount: 2,
 *   affinity: (i) => (on.has(i) ? 0 : 1),
 *   cpuOn: (i, entry) => {
 *     if (on.has(i)) return PSCI_RET.ALREADY_ON;
 *     on.add(i);
 *     log.push(`cpu ${i} on at 0x${entry.toString(16)}`);
 *     return PSCI_RET.SUCCESS;
 *   },
 *   cpuOff: (i) => (on.delete(i), PSCI_RET.SUCCESS),
 *   cpuStandby: () => {},
 *   systemOff: () => log.push("off"),
 *   systemReset: () => log.push("reset"),
 * };
 * const again = handlePsci([BigInt(PSCI_FN.CPU_ON), 0n, 0x4000_0000n, 0n], 1, platform);
 * assert.deepEqual(again, { returns: true, x0: BigInt.asUintN(64, BigInt(PSCI_RET.ALREADY_ON)) });
 * ```
 */
export function handlePsci(
  args: ArrayLike<bigint>,
  caller: number,
  platform: PsciPlatform,
): PsciResult {
  const fid = Number(args[0] & 0xffff_ffffn);
  if (!isPsciCall(fid)) return ret(PSCI_RET.NOT_SUPPORTED);
  const is64 = (fid & 0x4000_0000) !== 0;
  // SMC32 callers pass 32-bit arguments; the upper halves are not theirs.
  const arg = (i: number) => is64 ? args[i] : args[i] & 0xffff_ffffn;
  switch (fid) {
    case PSCI_FN.VERSION:
      return ret(PSCI_VERSION_1_1);
    case PSCI_FN.FEATURES: {
      // For CPU_SUSPEND, 0 also says: the original power_state format, and
      // platform-coordinated mode only.
      const queried = Number(args[1] & 0xffff_ffffn);
      const offered = IMPLEMENTED.has(queried) && (platform.supports?.(queried) ?? true);
      return ret(offered ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
    }
    case PSCI_FN.CPU_SUSPEND:
    case PSCI_FN.CPU_SUSPEND_64: {
      // power_state, original format: StateID [15:0], StateType [16] (0
      // standby, 1 power down), PowerLevel [25:24], the rest reserved. Only
      // standby states are offered: power-down ones are invalid here.
      const state = Number(args[1] & 0xffff_ffffn);
      if ((state & 0xfcfe_0000) !== 0 || (state & 0x1_0000) !== 0) {
        return ret(PSCI_RET.INVALID_PARAMETERS);
      }
      platform.cpuStandby(caller);
      return ret(PSCI_RET.SUCCESS);
    }
    case PSCI_FN.MIGRATE_INFO_TYPE:
      return ret(2); // no trusted OS: nothing to migrate
    case PSCI_FN.CPU_ON:
    case PSCI_FN.CPU_ON_64: {
      const target = mpidrToIndex(arg(1), platform.cpuCount);
      if (target < 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      const state = platform.affinity(target);
      if (state === 0) return ret(PSCI_RET.ALREADY_ON);
      if (state === 2) return ret(PSCI_RET.ON_PENDING);
      return ret(platform.cpuOn(target, arg(2), arg(3)));
    }
    case PSCI_FN.CPU_OFF: {
      const code = platform.cpuOff(caller);
      return code === PSCI_RET.SUCCESS ? { returns: false } : ret(code);
    }
    case PSCI_FN.AFFINITY_INFO:
    case PSCI_FN.AFFINITY_INFO_64: {
      const level = Number(arg(2));
      if (level !== 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      const target = mpidrToIndex(arg(1), platform.cpuCount);
      if (target < 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      return ret(platform.affinity(target));
    }
    case PSCI_FN.SYSTEM_OFF:
      platform.systemOff();
      return { returns: false };
    case PSCI_FN.SYSTEM_RESET:
      platform.systemReset();
      return { returns: false };
    default:
      return ret(PSCI_RET.NOT_SUPPORTED);
  }
}

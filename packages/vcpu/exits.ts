/**
 * What the vCPU reports to the VMM: the reason a run stopped, and the record
 * handed to MMIO handlers. Both are plain objects reused for every exit, so
 * the run loop allocates nothing.
 *
 * @module
 */

import type { DebugStop } from "./debug_points.ts";

/**
 * Why {@link Vcpu.run} returned.
 *
 * - `preempted`: the instruction slice was used up; nothing to do but run again
 *   (after polling host events).
 * - `wfi`: the guest executed WFI with no interrupt pending; `deadline` says
 *   when a timer will fire.
 * - `hvc` / `smc`: a hypervisor or secure monitor call; `imm` and `args`
 *   (x0–x7) describe it, the PC is already past the instruction, results go in
 *   x0–x3.
 * - `stopped`: {@link Vcpu.requestStop} was called.
 * - `exception-loop`: the guest keeps taking the same synchronous exception
 *   without making progress (no usable vector table); it cannot continue.
 * - `unhandled-exception`: the engine raised an exception the vCPU cannot
 *   deliver to EL1; `exception` and `syndrome` say which.
 * - `debug`: a host breakpoint or watchpoint, or the end of `Vcpu.step()`;
 *   `debug` says which.
 */
export type VcpuExitReason =
  | "preempted"
  | "wfi"
  | "hvc"
  | "smc"
  | "stopped"
  | "exception-loop"
  | "unhandled-exception"
  | "debug";

/** The record describing the last exit. Valid until the next `run()`. */
export interface VcpuExit {
  /** Why the run stopped. */
  reason: VcpuExitReason;
  /** For `hvc`/`smc`: the 16-bit immediate of the instruction. */
  imm: number;
  /** For `hvc`/`smc`: x0–x7 at the call. */
  readonly args: BigUint64Array;
  /**
   * For `wfi`: the counter value (CNTVCT_EL0) at which the next timer (the
   * virtual or the physical one) fires, or `undefined` when neither will:
   * disabled, masked, or already firing (see `Vcpu.timerDeadline`).
   */
  deadline: bigint | undefined;
  /** For `unhandled-exception`/`exception-loop`: the engine's exception number. */
  exception: number;
  /** For `unhandled-exception`/`exception-loop`: the syndrome (ESR) the engine computed. */
  syndrome: number;
  /** Guest instructions retired during this `run()` call. */
  instructions: number;
  /** For `debug`: why (a record shared by the engine's vCPUs, valid until the next run). */
  debug: DebugStop;
}

/**
 * One guest access to an MMIO region, decoded once. For a read the handler
 * stores the result in `value`; for a write `value` holds the data.
 * Unicorn splits 8-byte accesses into two 4-byte ones, so `size` is 1, 2 or 4.
 */
export interface MmioAccess {
  /** Index of the vCPU making the access. */
  cpu: number;
  /** Guest-physical address accessed. */
  address: number;
  /** Offset from the start of the region. */
  offset: number;
  /** Access size in bytes. */
  size: number;
  /** Whether the guest is writing. */
  write: boolean;
  /** The data written, or the data to return for a read. */
  value: number;
}

/** Handles accesses to one MMIO region. Must not throw for any guest access. */
export type MmioHandler = (access: MmioAccess) => void;

/** Counters a VMM can show or log. */
export interface VcpuStats {
  /** `run()` calls. */
  runs: number;
  /** Guest instructions retired. */
  instructions: number;
  /** Synchronous exceptions delivered into the guest. */
  exceptions: number;
  /** HVC exits. */
  hvc: number;
  /** SMC exits. */
  smc: number;
  /** WFI exits. */
  wfi: number;
  /** Guest writes to system registers seen by the trap (all MSRs pass through it). */
  sysregWrites: number;
  /** MMIO reads handled. */
  mmioReads: number;
  /** MMIO writes handled. */
  mmioWrites: number;
  /**
   * Reads and instruction fetches at guest-physical addresses with nothing
   * behind them (each a synchronous external abort in the guest).
   */
  unbackedReads: number;
  /** Writes to guest-physical addresses with nothing behind them (each an abort in the guest). */
  unbackedWrites: number;
  /** The last unbacked address accessed, or -1. */
  lastUnbackedAddress: number;
  /** Instruction-cache maintenance carried out for the guest (see `VcpuOptions.trapCacheMaintenance`). */
  cacheMaintenance: number;
  /** Times the vCPU emptied the engine's translated code before the buffer filled. */
  translationFlushes: number;
}

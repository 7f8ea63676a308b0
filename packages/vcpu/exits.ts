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
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, type VcpuExitReason } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd503207f, // wfi  (no timer armed: nothing will wake it)
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * const reasons: VcpuExitReason[] = [];
 * for (let exit = vcpu.run(); ; exit = vcpu.run()) {
 *   reasons.push(exit.reason);
 *   if (exit.reason === "wfi") assert.equal(exit.deadline, undefined);
 *   if (exit.reason === "hvc") break; // a VMM would answer in x0-x3 and run on
 * }
 * assert.deepEqual(reasons, ["wfi", "hvc"]);
 * ```
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

/**
 * The record describing the last exit. Valid until the next `run()`: the
 * same object is returned every time.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, type VcpuExit } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd4000842, // hvc #0x42
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 7); // x0 = 7
 * const exit: VcpuExit = vcpu.run();
 * assert.equal(exit.reason, "hvc");
 * assert.equal(exit.imm, 0x42);
 * assert.equal(exit.args[0], 7n);
 * assert.equal(exit.instructions, 1);
 * assert.equal(vcpu.getPc(), 0x4000_0004n); // already past the call
 * assert.equal(vcpu.run(), exit); // the same record, now about hvc #0
 * assert.equal(exit.imm, 0);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import { type MmioAccess, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd2a12001, // mov x1, #0x09000000
 *   0xb9400420, // ldr w0, [x1, #4]
 *   0x79001020, // strh w0, [x1, #8]
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * const seen: string[] = [];
 * vcpu.mapMmio(0x0900_0000, 0x1000, (access: MmioAccess) => {
 *   const { offset, size, write } = access;
 *   seen.push(`${write ? "write" : "read"} ${size} at ${offset}`);
 *   if (!write) access.value = 0x1234_5678; // what the load returns
 * });
 * vcpu.setEntry(0x4000_0000, 0);
 * assert.equal(vcpu.run().reason, "hvc");
 * assert.deepEqual(seen, ["read 4 at 4", "write 2 at 8"]);
 * assert.equal(vcpu.getX(0), 0x1234_5678n);
 * ```
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

/**
 * Handles accesses to one MMIO region. Must not throw for any guest access:
 * a handler that throws ends the run with a `CALLBACK_FAILED` error.
 *
 * @example
 * ```ts
 * import { type MmioHandler, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * // A one-register device: reads return the last value written.
 * let latch = 0;
 * const handler: MmioHandler = (access) => {
 *   if (access.write) latch = access.value;
 *   else access.value = latch;
 * };
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd2a12001, // mov x1, #0x09000000
 *   0xd2800c22, // mov x2, #0x61
 *   0x39000022, // strb w2, [x1]
 *   0xb9400020, // ldr w0, [x1]
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.mapMmio(0x0900_0000, 0x1000, handler);
 * vcpu.setEntry(0x4000_0000, 0);
 * vcpu.run();
 * assert.equal(vcpu.getX(0), 0x61n);
 * ```
 */
export type MmioHandler = (access: MmioAccess) => void;

/**
 * Counters a VMM can show or log (`vcpu.stats`, updated as the guest runs).
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, type VcpuStats } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd2a12001, // mov x1, #0x09000000
 *   0x39000022, // strb w2, [x1]
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.mapMmio(0x0900_0000, 0x1000, () => {});
 * vcpu.setEntry(0x4000_0000, 0);
 * vcpu.run();
 * const stats: VcpuStats = vcpu.stats;
 * assert.equal(stats.runs, 1);
 * assert.equal(stats.hvc, 1);
 * assert.equal(stats.mmioWrites, 1);
 * assert.equal(stats.instructions, 3);
 * ```
 */
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

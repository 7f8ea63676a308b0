/**
 * A host debugger's breakpoints and watchpoints on the vCPUs of one engine,
 * and the record of why a run stopped for it. The guest never sees them:
 * guest memory is not patched, and they are independent of the guest's own
 * debug registers.
 *
 * @module
 */

import { VcpuError } from "./errors.ts";

/**
 * What a watchpoint watches: stores, loads, or both.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, type WatchKind } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd2810001, // mov x1, #0x800
 *   0xf2a80001, // movk x1, #0x4000, lsl #16
 *   0xd2800c22, // mov x2, #0x61
 *   0x39000022, // strb w2, [x1]
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * const kind: WatchKind = "write";
 * vcpu.debug.points.addWatchpoint(0x4000_0800n, 1, kind); // the MMU is off: virtual = physical
 * assert.equal(vcpu.run().reason, "debug");
 * assert.equal(vcpu.debug.lastStop.access, "write");
 * assert.equal(vcpu.getPc(), 0x4000_000cn); // the store, not yet done
 * assert.equal(ram[0x800], 0);
 * ```
 */
export type WatchKind = "write" | "read" | "access";

/**
 * Why a run ended with a `debug` exit:
 *
 * - `breakpoint`: the PC reached a host breakpoint; the instruction there has
 *   not executed.
 * - `watchpoint`: a load or store overlapped a host watchpoint; the access
 *   has not happened, the PC is the accessing instruction's.
 * - `step`: {@link Vcpu.step} executed its instruction (or took an
 *   exception, or entered its vector).
 *
 * @example
 * ```ts
 * import type { DebugStop } from "@vmkit/vcpu";
 *
 * const stop: DebugStop = { kind: "watchpoint", address: 0x4000_1000n, access: "write" };
 * console.log(stop.kind); // watchpoint
 * ```
 */
export interface DebugStop {
  /** What stopped the run. */
  kind: "breakpoint" | "watchpoint" | "step";
  /**
   * For a breakpoint or a step, the PC; for a watchpoint, the first watched
   * byte the access touches (a virtual address).
   */
  address: bigint;
  /** For a watchpoint: the kind of the watchpoint that fired. */
  access: WatchKind | undefined;
}

/**
 * One watchpoint, as {@link HostDebugPoints.watches} lists it.
 *
 * @example
 * ```ts
 * import { HostDebugPoints, type HostWatch } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const points = new HostDebugPoints();
 * points.addWatchpoint(0x4000_1ff8n, 16, "access");
 * const watch: HostWatch = points.watches[0];
 * assert.deepEqual(watch, { start: 0x4000_1ff8n, length: 16, kind: "access", pageOffset: 0xff8 });
 * ```
 */
export interface HostWatch {
  /** First virtual address watched. */
  readonly start: bigint;
  /** Bytes watched. */
  readonly length: number;
  /** What it fires on. */
  readonly kind: WatchKind;
  /** `start`'s low 12 bits. */
  readonly pageOffset: number;
}

/** Watchpoints at most, and the longest one (2 GiB, as the architecture's MASK). */
const MAX_WATCHES = 256;
const MAX_WATCH_LENGTH = 2 ** 31;
const MAX_BREAKPOINTS = 4096;
const TOP = 1n << 64n;

/**
 * The host's breakpoints and watchpoints, shared by every vCPU of one engine
 * (`vcpu.debug.points`). Breakpoints match the PC, watchpoints the virtual
 * address of each load and store, of whichever vCPU runs, at any exception
 * level. Changes take effect at each vCPU's next run.
 *
 * @example
 * ```ts
 * import { HostDebugPoints } from "@vmkit/vcpu";
 *
 * const points = new HostDebugPoints();
 * points.addBreakpoint(0x4000_0010n);
 * points.addWatchpoint(0x4000_2000n, 8, "write");
 * console.log(points.breakpoints.size, points.watches.length); // 1 1
 * ```
 */
export class HostDebugPoints {
  /** Breakpoint addresses. */
  readonly breakpoints: Set<bigint> = new Set();
  /** Watchpoints, in the order they were added. */
  readonly watches: HostWatch[] = [];
  /** Called after every change. */
  onChange: (() => void) | undefined;

  /**
   * Stops execution before the instruction at virtual address `address`.
   *
   * @throws {VcpuError} `INVALID_ARGUMENT` for an address outside 64 bits or
   *   not 4-byte aligned, or beyond 4096 breakpoints.
   */
  addBreakpoint(address: bigint): void {
    if (address < 0n || address >= TOP || (address & 3n) !== 0n) {
      throw new VcpuError(
        "INVALID_ARGUMENT",
        `breakpoint address 0x${address.toString(16)}: not a 4-byte aligned 64-bit address`,
      );
    }
    if (this.breakpoints.has(address)) return;
    if (this.breakpoints.size >= MAX_BREAKPOINTS) {
      throw new VcpuError("INVALID_ARGUMENT", `more than ${MAX_BREAKPOINTS} breakpoints`);
    }
    this.breakpoints.add(address);
    this.onChange?.();
  }

  /** Removes a breakpoint; returns whether there was one. */
  removeBreakpoint(address: bigint): boolean {
    const had = this.breakpoints.delete(address);
    if (had) this.onChange?.();
    return had;
  }

  /**
   * Stops execution before any access of `kind` that overlaps `length`
   * bytes at virtual address `address`.
   *
   * @throws {VcpuError} `INVALID_ARGUMENT` for a length outside 1 to 2^31, a
   *   range past 2^64, or beyond 256 watchpoints.
   */
  addWatchpoint(address: bigint, length: number, kind: WatchKind): void {
    if (
      !Number.isInteger(length) || length < 1 || length > MAX_WATCH_LENGTH || address < 0n ||
      address + BigInt(length) > TOP || (kind !== "write" && kind !== "read" && kind !== "access")
    ) {
      throw new VcpuError(
        "INVALID_ARGUMENT",
        `watchpoint of ${length} bytes at 0x${address.toString(16)} (${kind}): ` +
          "the length must be 1 to 2^31 bytes within the 64-bit space, the kind write, read or access",
      );
    }
    if (this.watches.length >= MAX_WATCHES) {
      throw new VcpuError("INVALID_ARGUMENT", `more than ${MAX_WATCHES} watchpoints`);
    }
    this.watches.push({ start: address, length, kind, pageOffset: Number(address & 0xfffn) });
    this.onChange?.();
  }

  /** Removes one watchpoint added with the same arguments; returns whether there was one. */
  removeWatchpoint(address: bigint, length: number, kind: WatchKind): boolean {
    const i = this.watches.findIndex((w) =>
      w.start === address && w.length === length && w.kind === kind
    );
    if (i < 0) return false;
    this.watches.splice(i, 1);
    this.onChange?.();
    return true;
  }

  /** Removes every breakpoint and watchpoint. */
  clear(): void {
    if (this.breakpoints.size === 0 && this.watches.length === 0) return;
    this.breakpoints.clear();
    this.watches.length = 0;
    this.onChange?.();
  }
}

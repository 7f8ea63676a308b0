/**
 * What the stub drives: {@link DebugTarget}, implemented by a VM over its vCPUs (or by a test's
 * fake), and the plain records that cross it. Nothing here knows the wire protocol.
 *
 * @module
 */

import type { Aarch64Registers } from "./registers.ts";

/**
 * Signal numbers as gdb numbers them (its own, not the host's), for stop records.
 *
 * @example
 * ```ts
 * import { GDB_SIGNAL } from "@vmkit/gdb";
 *
 * console.log(GDB_SIGNAL.TRAP, GDB_SIGNAL.INT, GDB_SIGNAL.SEGV); // 5 2 11
 * ```
 */
export const GDB_SIGNAL = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  FPE: 8,
  KILL: 9,
  BUS: 10,
  SEGV: 11,
  TERM: 15,
} as const;

/**
 * One thread as the debugger lists it: a vCPU.
 *
 * @example
 * ```ts
 * import type { DebugThread } from "@vmkit/gdb";
 *
 * const cpu: DebugThread = { id: 0, name: "cpu0", state: "running" };
 * console.log(cpu.name); // cpu0
 * ```
 */
export interface DebugThread {
  /**
   * The target's own id for it: a non-negative integer below 2^31 - 1, e.g. the vCPU index.
   * gdb sees it as thread `id + 1` (gdb's thread ids start at 1).
   */
  readonly id: number;
  /** What gdb shows as the thread's name (`info threads`), e.g. `cpu0`. */
  readonly name: string;
  /**
   * `running`: powered on, it executes when resumed. `stopped`: powered off or not yet
   * started (PSCI), it does not execute when resumed. (While the debugger looks, every thread
   * is paused either way.)
   */
  readonly state: "running" | "stopped";
}

/**
 * Why a memory access through a thread's view of memory failed.
 *
 * - `UNMAPPED`: the address translates (or, with the MMU off, is) a physical address with no
 *   RAM or ROM behind it.
 * - `NO_TRANSLATION`: the thread's translation regime has no valid mapping for the address.
 * - `DEVICE`: the address is a device's registers; the debugger does not touch them, because
 *   reading a device register has side effects.
 * - `READ_ONLY`: a write to memory the target does not let the debugger change (ROM).
 *
 * @example
 * ```ts
 * import type { MemoryFaultKind } from "@vmkit/gdb";
 *
 * const kind: MemoryFaultKind = "UNMAPPED";
 * console.log(kind); // UNMAPPED
 * ```
 */
export type MemoryFaultKind = "UNMAPPED" | "NO_TRANSLATION" | "DEVICE" | "READ_ONLY";

/**
 * The outcome of a debugger memory access: {@link MEMORY_OK}, or where and why it stopped.
 *
 * @example
 * ```ts
 * import { MEMORY_OK, type MemoryResult } from "@vmkit/gdb";
 *
 * const bad: MemoryResult = { ok: false, kind: "UNMAPPED", address: 0x1000n, done: 0 };
 * console.log(MEMORY_OK.ok, bad.ok); // true false
 * ```
 */
export type MemoryResult =
  | { readonly ok: true }
  | {
    readonly ok: false;
    /** Why. */
    readonly kind: MemoryFaultKind;
    /** The first virtual address that could not be accessed. */
    readonly address: bigint;
    /** How many bytes from the start were transferred before it (a read may return them). */
    readonly done: number;
  };

/**
 * The one successful {@link MemoryResult}, shared so that a target allocates nothing per access.
 *
 * @example
 * ```ts
 * import { MEMORY_OK } from "@vmkit/gdb";
 *
 * console.log(MEMORY_OK.ok); // true
 * ```
 */
export const MEMORY_OK: { readonly ok: true } = Object.freeze({ ok: true } as const);

/**
 * The kinds of breakpoint and watchpoint gdb asks for (`Z0`–`Z4`): a software breakpoint, a
 * hardware breakpoint, and watchpoints on writes, reads, or both.
 *
 * @example
 * ```ts
 * import type { PointType } from "@vmkit/gdb";
 *
 * const watch: PointType = "write";
 * console.log(watch); // write
 * ```
 */
export type PointType = "software" | "hardware" | "write" | "read" | "access";

/**
 * What a target says to an insert or remove: done, a kind it does not offer (gdb then falls
 * back: software watchpoints instead of hardware ones), or failed (out of hardware slots, a
 * bad address or length).
 *
 * @example
 * ```ts
 * import type { PointResult } from "@vmkit/gdb";
 *
 * const result: PointResult = "ok";
 * console.log(result); // ok
 * ```
 */
export type PointResult = "ok" | "unsupported" | "failed";

/**
 * What one thread does on {@link DebugTarget.resume}: one instruction, or run on.
 *
 * @example
 * ```ts
 * import type { ResumeAction } from "@vmkit/gdb";
 *
 * const plan: ResumeAction[] = [{ thread: 0, step: true }, { thread: 1, step: false }];
 * console.log(plan.length); // 2
 * ```
 */
export interface ResumeAction {
  /** The target's thread id. */
  readonly thread: number;
  /** `true`: execute one instruction then stop; `false`: run until something stops the target. */
  readonly step: boolean;
}

/**
 * Why the target stopped, as the target reports it; the stub turns it into gdb's stop reply.
 * Every variant with a `thread` names the thread the event happened on (the one gdb then
 * shows).
 *
 * - `halted`: stopped for the debugger without an event (a client attached). `T05`.
 * - `step`: a stepping thread executed its instruction. `T05`.
 * - `swbreak` / `hwbreak`: a thread reached a software / hardware breakpoint; its PC is the
 *   breakpoint's address and the instruction there has not executed. `T05` with `swbreak:`.
 * - `watchpoint`: a thread's load or store touched a watched range; `address` is the address
 *   accessed, `kind` the watchpoint's type, and the access has not happened yet (the thread's
 *   PC is the accessing instruction, as AArch64 reports watchpoints; gdb steps over it).
 *   `T05` with `watch:`/`rwatch:`/`awatch:`.
 * - `interrupt`: stopped on request ({@link DebugTarget.interrupt}). `T02`.
 * - `signal`: something the target maps to a signal, e.g. `GDB_SIGNAL.ILL` for an instruction
 *   it cannot execute. `Txx`.
 * - `exited`: the machine is gone (powered off) with an exit status. `Wxx`.
 * - `terminated`: the machine is gone because of a signal. `Xxx`.
 *
 * @example
 * ```ts
 * import type { StopRecord } from "@vmkit/gdb";
 *
 * const hit: StopRecord = { reason: "watchpoint", thread: 0, kind: "write", address: 0x4000_1000n };
 * console.log(hit.reason); // watchpoint
 * ```
 */
export type StopRecord =
  | {
    readonly reason: "halted" | "step" | "swbreak" | "hwbreak" | "interrupt";
    readonly thread: number;
  }
  | {
    readonly reason: "watchpoint";
    readonly thread: number;
    readonly kind: "write" | "read" | "access";
    readonly address: bigint;
  }
  | { readonly reason: "signal"; readonly thread: number; readonly signal: number }
  | { readonly reason: "exited"; readonly status: number }
  | { readonly reason: "terminated"; readonly signal: number };

/**
 * A machine the stub debugs, in all-stop mode: either every thread runs or none does. The stub
 * calls nothing but {@link interrupt} and {@link detach} while a {@link resume} is pending, and
 * validates every thread id against {@link threads} before passing it.
 *
 * A VM implementing it over its vCPUs must guarantee:
 *
 * 1. **All-stop.** When `halt()` or `resume()` resolves, every vCPU is paused and stays paused
 *    until the next `resume()` or `detach()`; register and memory access happen only then.
 * 2. **Exactly one stop per resume.** The promise resolves once, with the first event (ties
 *    broken any way), and only after every vCPU has been paused.
 * 3. **Steps are one instruction.** A stepping vCPU retires exactly one instruction (or takes
 *    one exception, stopping at the vector) — with interrupts neither delivered nor lost
 *    because of the step — then the machine stops with `step`, unless another event came
 *    first. A stepping vCPU executes its instruction even when a breakpoint is at its PC.
 * 4. **Breakpoints without patching.** Breakpoints are matched against each vCPU's PC (a
 *    virtual address) before the instruction executes, including the first instruction of a
 *    resume; guest memory is never modified, so reads show the guest's own bytes. They apply
 *    to every vCPU.
 * 5. **Watchpoints before the access.** A load or store overlapping a watched range stops the
 *    machine before the access takes effect, with the accessing instruction's address in PC.
 * 6. **Virtual addresses.** Memory goes through the thread's current translation regime
 *    (stage 1 at its exception level, or flat with the MMU off) without changing TLBs, access
 *    flags or dirty bits, and never touches device registers (`DEVICE`).
 * 7. **Interrupt.** `interrupt()` makes a pending resume resolve promptly with `interrupt`
 *    (or with an event that came first); it does nothing otherwise.
 * 8. **Detach.** `detach()` (the client detached or disconnected; the stub has already
 *    removed every point it inserted) lets the machine run on at full speed without the
 *    debugger; a pending resume may then stay pending forever.
 * 9. **No host exceptions for guest state.** Faults are results (`MemoryResult`,
 *    `PointResult`); an exception from a target method is treated as a target failure (the
 *    client gets `E05`), never rethrown.
 *
 * @example
 * ```ts
 * import { Aarch64Registers, type DebugTarget, MEMORY_OK } from "@vmkit/gdb";
 *
 * // A one-thread target whose PC never moves.
 * const regs = new Aarch64Registers();
 * const target: DebugTarget = {
 *   threads: () => [{ id: 0, name: "cpu0", state: "running" }],
 *   readRegisters: (_thread, into) => into.copyFrom(regs),
 *   writeRegisters: (_thread, from) => regs.copyFrom(from),
 *   readMemory: (_thread, _address, into) => (into.fill(0), MEMORY_OK),
 *   writeMemory: () => MEMORY_OK,
 *   insertPoint: () => "ok",
 *   removePoint: () => "ok",
 *   halt: () => Promise.resolve({ reason: "halted", thread: 0 }),
 *   resume: (actions) => Promise.resolve({ reason: "step", thread: actions[0].thread }),
 *   interrupt: () => {},
 *   kill: () => {},
 *   detach: () => {},
 *   monitor: (command) => `no such command: ${command}\n`,
 * };
 * console.log(target.threads().length); // 1
 * ```
 */
export interface DebugTarget {
  /** Every thread, in a stable order (the first is gdb's default). Never empty. */
  threads(): readonly DebugThread[];

  /** Fills `into` with the thread's registers. */
  readRegisters(thread: number, into: Aarch64Registers): void;

  /**
   * Sets the thread's registers from `from`. With `regno` (a number of `AARCH64_REGNUM`) only
   * that register changed and the others hold what `readRegisters` returned; without it, all
   * of them are to be written.
   */
  writeRegisters(thread: number, from: Aarch64Registers, regno?: number): void;

  /**
   * Reads `into.length` bytes at virtual address `address` as the thread sees memory. The
   * address plus the length may pass 2^64; bytes past it are unmapped.
   */
  readMemory(thread: number, address: bigint, into: Uint8Array): MemoryResult;

  /** Writes `data` at virtual address `address` as the thread sees memory. */
  writeMemory(thread: number, address: bigint, data: Uint8Array): MemoryResult;

  /**
   * Inserts a breakpoint (`length` is gdb's kind: 4 for an A64 instruction) or a watchpoint
   * (`length` is the watched range in bytes, at least 1) at a virtual address, for every
   * thread. The stub never inserts the same (type, address, length) twice without removing it.
   */
  insertPoint(type: PointType, address: bigint, length: number): PointResult;

  /** Removes what {@link insertPoint} inserted with the same arguments. */
  removePoint(type: PointType, address: bigint, length: number): PointResult;

  /**
   * Pauses every thread (a client attached) and resolves with the record `?` answers with,
   * usually `halted` on the first thread or the one that was executing. Resolves at once when
   * the machine is already paused.
   */
  halt(): Promise<StopRecord>;

  /**
   * Resumes: each listed thread steps or runs, threads not listed stay paused. Resolves once,
   * when the whole machine has stopped again, with why (see the guarantees above).
   */
  resume(actions: readonly ResumeAction[]): Promise<StopRecord>;

  /** Asks a pending {@link resume} to stop (gdb's Ctrl-C). */
  interrupt(): void;

  /** Ends the machine (gdb's `kill`). The session ends after it. */
  kill(): void;

  /** The debugger went away: run on without it (see the guarantees above). */
  detach(): void;

  /**
   * Runs a `monitor` command while the machine is paused and returns its text output
   * (a VM answers at least `help`, `info vcpus`, `info mmio` and `reset`). Unknown commands
   * return a message saying so.
   */
  monitor(command: string): string | Promise<string>;
}

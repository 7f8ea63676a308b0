/**
 * The engine's instrumentation for debugging, shared by the vCPUs of one
 * engine: breakpoints, watchpoints and single steps, for a host debugger
 * (`debug_points.ts`) and for the guest's own debug registers
 * (`_guest_debug.ts`). Nothing is installed while neither uses them, so a
 * guest that does not debug runs exactly as before.
 *
 * - **Breakpoints** are code hooks over one instruction each. A code hook
 *   runs before its instruction, and stopping the engine there is exact (the
 *   engine checks for a stop right after the hook), so a host breakpoint
 *   ends the run with the PC on it, and a guest breakpoint is delivered from
 *   the hook like any other exception. Code translated before a hook was
 *   added lacks the call, so adding one empties the translated code.
 * - **Watchpoints** need the engine's memory hooks, which run before each
 *   access but cannot stop it: the access happens and the run ends at the
 *   next instruction boundary (the engine's instruction count, which checks
 *   for a stop before every instruction, is on while watchpoints are). So the
 *   hook that sees a matching access saves the CPU state and the bytes a
 *   store will overwrite, and once the engine has stopped both are put back:
 *   the access has not happened, the PC is the accessing instruction's, as
 *   a watchpoint exception requires. Unicorn 2.0 tells the hook the virtual
 *   address; 2.1 the physical one, and then the instruction at the PC is
 *   decoded for the virtual address (`_insn_address.ts`), because
 *   watchpoints match virtual addresses. An access to device memory cannot
 *   be undone: it is reported, after its effect.
 * - **Steps** run one instruction: with the engine's count where it is on,
 *   otherwise with the slice counter stopping at the next block and a code
 *   hook on the instruction after, whichever comes first.
 *
 * Hooks are added and removed only between runs.
 *
 * @module
 */

import { EXCP, REG, UC_CTL_TB_REMOVE_CACHE, UC_HOOK_CODE, ucCtl } from "./constants.ts";
import { UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE } from "./constants.ts";
import type { BlockBudget } from "./block_budget.ts";
import type { Engine } from "./engine.ts";
import { check } from "./engine.ts";
import type { GuestDebug } from "./_guest_debug.ts";
import type { DebugStop, HostDebugPoints } from "./debug_points.ts";
import { accessAddress, isUnprivileged, NOT_AN_ACCESS } from "./_insn_address.ts";
import { NO_TRANSLATION, translate } from "./_translate.ts";
import { type SysReg, SYSREGS } from "./sysregs.ts";

/** `uc_mem_type` of a data write (a read is 16). */
const UC_MEM_WRITE = 17;
/** The engine's instruction count while watchpoints are armed: never what ends a run. */
const WATCH_COUNT = 0x7fff_ffff;
const MASK32 = 0xffff_ffffn;
const PAGE = 4096;
/**
 * Registers the vCPU writes between runs, not the guest's load or store:
 * they survive the undo of a watchpoint hit.
 */
const KEPT: readonly SysReg[] = [
  SYSREGS.CNTV_CTL_EL0,
  SYSREGS.CNTV_CVAL_EL0,
  SYSREGS.CNTP_CTL_EL0,
  SYSREGS.CNTP_CVAL_EL0,
  SYSREGS.CNTVOFF_EL2,
];

/** What the run that just ended left for the vCPU to do (see {@link DebugHooks.afterRun}). */
export const DEBUG_CONTINUE = 0;
/** The run stopped for the host debugger: report {@link DebugHooks.stop}. */
export const DEBUG_STOP = 1;
/** A guest watchpoint fired: deliver {@link DebugHooks.pendingSyndrome} now. */
export const DEBUG_DELIVER = 2;

/** What the hooks need from the vCPU in the engine. */
export interface DebugTenant {
  /** Its debug registers' meaning. */
  readonly guest: GuestDebug;
  /** Ends the run for the debug machinery (safe from a code, memory or interrupt hook). */
  stopForDebug(): void;
  /** Marks the run as ending for the debug machinery, without stopping the engine. */
  markForDebug(): void;
  /** Delivers an exception from a code hook, as the interrupt hook does. */
  deliver(intno: number, syndrome: number, faultAddress: bigint): void;
  /** A hook failed: record it and end the run. */
  fail(error: unknown): void;
}

/** How to build {@link DebugHooks}. */
export interface DebugHooksOptions {
  /** The engine. */
  readonly engine: Engine;
  /** The vCPU in the engine. */
  readonly tenant: () => DebugTenant;
  /** Whether memory hooks get virtual addresses (2.0), not physical ones (2.1); asked once. */
  readonly memoryHooksVirtual: () => boolean;
  /** Whether the engine counts every run's instructions itself (no native slice counter). */
  readonly engineCounts: boolean;
  /** Whether a guest-physical address is RAM (whose bytes can be saved and restored). */
  readonly isRam: (pa: bigint, size: number) => boolean;
  /** Saves the engine's CPU state into a scratch context, and puts it back. */
  readonly saveState: () => void;
  /** Restores what {@link saveState} saved. */
  readonly restoreState: () => void;
  /** The native slice counter, if the engine does not count. */
  readonly budget: BlockBudget | undefined;
  /** The engine's 64-bit instruction count in its own structure, where the engine counts. */
  readonly instructionCount: DataView | undefined;
  /** Callbacks freed with the engine. */
  // deno-lint-ignore no-explicit-any
  readonly callbacks: Deno.UnsafeCallback<any>[];
}

interface Undo {
  pa: bigint;
  bytes: Uint8Array<ArrayBuffer>;
}

/** One engine's debug instrumentation. */
export class DebugHooks {
  /** The host debugger's points. */
  readonly points: HostDebugPoints;
  /** Why the last run stopped for the host debugger (valid after {@link DEBUG_STOP}). */
  readonly stop: DebugStop = { kind: "step", address: 0n, access: undefined };
  /** The syndrome of the guest watchpoint exception to deliver (after {@link DEBUG_DELIVER}). */
  pendingSyndrome = 0;
  /** Its fault address (FAR). */
  pendingAddress = 0n;
  /** A change needs hooks the engine lacks: the run must end so that they are added. */
  syncNeeded = false;

  readonly #o: DebugHooksOptions;
  readonly #guests = new Set<GuestDebug>();
  readonly #code = new Map<bigint, bigint>();
  readonly #undo: Undo[] = [];
  readonly #insn = new Uint8Array(4);
  readonly #handle = new BigUint64Array(1);
  readonly #kept = new BigUint64Array(KEPT.length);
  #codeCallback: Deno.PointerObject | undefined;
  #memCallback: Deno.PointerObject | undefined;
  #memHook: bigint | undefined;
  #spacer: bigint | undefined;
  #virtual = false;
  #dirty = false;
  // 0 none, 1 host, 2 guest: a watchpoint matched in the run in progress.
  #hit = 0;
  #stopped = false;
  #stepping = false;
  #stepFrom = -1n;
  #stepTo = -1n;
  #stepHook: bigint | undefined;
  #haltHook: bigint | undefined;
  #countBefore = -1;
  // A code hook was removed (or the engine's count will be): it lingers in
  // the engine through the next run.
  #lingering = false;
  #hooked = false;

  constructor(points: HostDebugPoints, options: DebugHooksOptions) {
    this.points = points;
    this.#o = options;
    points.onChange = () => this.#changed();
  }

  /** Takes the debug state of one more vCPU of the engine into account. */
  register(guest: GuestDebug): void {
    this.#guests.add(guest);
    guest.onChange = () => this.#changed();
  }

  /** Forgets a vCPU (it closed). */
  unregister(guest: GuestDebug): void {
    this.#guests.delete(guest);
    this.#changed();
  }

  /** Whether the engine has the memory hook watchpoints need (every load and store calls it). */
  get watchHooked(): boolean {
    return this.#memHook !== undefined;
  }

  /** How many instruction addresses carry a breakpoint code hook. */
  get codeHookCount(): number {
    return this.#code.size;
  }

  /** Whether a watchpoint matched during the run in progress (the rest of it is undone). */
  get watchHit(): boolean {
    return this.#hit !== 0;
  }

  /** Whether the engine must count instructions for the next run, and with what limit. */
  count(budget: number): number {
    if (this.#o.engineCounts) return this.#stepping ? 1 : budget;
    if (this.#memHook === undefined) return 0;
    return this.#stepping ? 1 : WATCH_COUNT;
  }

  /**
   * Ends the run before the next instruction, from the interrupt hook after
   * an emulated instruction moved the PC (`stopNow`: hooks a debug-register
   * write needs are then added in time), or from a device callback, where
   * `uc_emu_stop` would replay the access (an interrupt raised while code
   * hooks are installed is then taken at the next run's start).
   */
  stopSoon(stopNow: boolean): void {
    const tenant = this.#o.tenant();
    if (stopNow) tenant.stopForDebug();
    else tenant.markForDebug();
    // 2.0.1 forgets a stop request once a hook has moved the PC; the slice
    // counter's budget, or the engine's instruction count pushed past its
    // limit, ends the run all the same.
    const count = this.#o.instructionCount;
    if (this.#o.budget) {
      this.#o.budget.exhaust();
    } else if (count && this.#countBefore < 0) {
      this.#countBefore = count.getUint32(0, true);
      count.setBigUint64(0, 1n << 62n, true);
    }
  }

  /** The instructions the engine counted in the last run, `raw` unless {@link stopSoon} moved it. */
  counted(raw: number): number {
    const before = this.#countBefore;
    if (before < 0) return raw;
    this.#countBefore = -1;
    return before;
  }

  /**
   * Whether the engine has a code hook during the run being prepared or
   * under way (breakpoints, a step, its own count while watchpoints are
   * armed, or one removed before the run: the engine drops removed hooks
   * only at the end of the next run). The engine then does not put the PC
   * back when the run is stopped in front of a block, or when an interrupt
   * is taken there: it keeps the PC of the last instruction a hook ran for
   * (`cpu_tb_exec` in `qemu/accel/tcg/cpu-exec.c`).
   */
  get codeHooks(): boolean {
    return this.#hooked;
  }

  /** Whether a step is under way. */
  get stepping(): boolean {
    return this.#stepping;
  }

  // Hooks and points changed. Missing hooks end the run (`syncNeeded`); hooks
  // no longer wanted only cost time, and go at the next run's start.
  #changed(): void {
    this.#dirty = true;
    if (this.#missing()) this.syncNeeded = true;
  }

  #missing(): boolean {
    if (this.#memHook === undefined && this.#wantsWatch()) return true;
    for (const a of this.points.breakpoints) if (!this.#code.has(a)) return true;
    for (const g of this.#guests) {
      for (const a of g.instrumented) if (!this.#code.has(a)) return true;
    }
    return false;
  }

  #wantsWatch(): boolean {
    if (this.points.watches.length > 0) return true;
    for (const g of this.#guests) if (g.watchArmed) return true;
    return false;
  }

  /** Before a run: brings the hooks up to date (the engine is stopped). */
  prepare(): void {
    this.#stopped = false;
    this.#sync();
    this.#hooked = this.#code.size > 0 || this.#stepHook !== undefined ||
      this.#memHook !== undefined || this.#spacer !== undefined || this.#lingering;
    this.#lingering = false;
  }

  #sync(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.syncNeeded = false;
    const want = new Set(this.points.breakpoints);
    for (const g of this.#guests) for (const a of g.instrumented) want.add(a);
    let added = false;
    for (const [address, handle] of this.#code) {
      if (!want.has(address)) {
        this.#del(handle);
        this.#code.delete(address);
        this.#lingering = true;
      }
    }
    for (const address of want) {
      if (this.#code.has(address)) continue;
      this.#code.set(address, this.#add(UC_HOOK_CODE, this.#codeHook(), address, address + 3n));
      added = true;
    }
    const watch = this.#wantsWatch();
    if (watch && this.#memHook === undefined) {
      this.#virtual = this.#o.memoryHooksVirtual();
      this.#memHook = this.#add(
        UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
        this.#memHookPointer(),
        1n,
        0n,
      );
      if (this.#o.engineCounts) {
        // With one code hook the engine calls it directly from translated
        // code, and a hook added later is never called there. A second one,
        // over an address no instruction has, makes every call go through
        // the hook list, so that haltBeforeNextInstruction works without
        // retranslating.
        this.#spacer = this.#add(UC_HOOK_CODE, this.#codeHook(), 1n, 1n);
      }
      added = true;
    } else if (!watch && this.#memHook !== undefined) {
      this.#del(this.#memHook);
      this.#memHook = undefined;
      this.#lingering = true;
      if (this.#spacer !== undefined) {
        this.#del(this.#spacer);
        this.#spacer = undefined;
        this.#o.engine.flushCode();
      }
      // Otherwise the next run without the engine's count empties the translated code itself.
    }
    // Code translated before lacks the new calls.
    if (added) this.#o.engine.flushCode();
  }

  /**
   * Sets up a step of one instruction at `pc` (call {@link endStep} after
   * the run); after {@link prepare}.
   */
  beginStep(pc: bigint): void {
    this.#stepping = true;
    this.#stepFrom = pc;
    if (this.count(1) !== 0) return;
    this.#hooked = true;
    // The slice counter stops at the next block; within the block, a hook on
    // the next instruction does, in code translated after it was added.
    this.#stepTo = BigInt.asUintN(64, pc + 4n);
    this.#stepHook = this.#add(UC_HOOK_CODE, this.#codeHook(), this.#stepTo, this.#stepTo + 3n);
    this.#dropCode(pc);
  }

  /** Ends the step {@link beginStep} set up. */
  endStep(): void {
    this.#stepping = false;
    if (this.#stepHook !== undefined) {
      this.#del(this.#stepHook);
      this.#stepHook = undefined;
      this.#lingering = true;
      // No instrumentation for the step is left behind in the code at its PC.
      this.#dropCode(this.#stepFrom);
    }
    this.#stepTo = -1n;
    this.#stepFrom = -1n;
  }

  /**
   * After a run that ended for the debug machinery: undoes the access of a
   * watchpoint hit and says what the vCPU does next ({@link DEBUG_CONTINUE},
   * {@link DEBUG_STOP} or {@link DEBUG_DELIVER}).
   */
  afterRun(): number {
    const hit = this.#hit;
    if (hit !== 0) {
      this.#hit = 0;
      const e = this.#o.engine;
      for (let i = this.#undo.length - 1; i >= 0; i--) {
        const u = this.#undo[i];
        check(
          e.symbols,
          e.symbols.uc_mem_write(e.handle, u.pa, u.bytes, BigInt(u.bytes.length)),
          "uc_mem_write",
        );
      }
      this.#undo.length = 0;
      // The saved state predates what the vCPU did after the run (its timers'
      // ISTATUS, which it caches; the guest clock's offset); the undone load
      // or store cannot have written them, so they are kept as they are now.
      const kept = this.#kept;
      for (let i = 0; i < KEPT.length; i++) kept[i] = e.readSys(KEPT[i]);
      this.#o.restoreState();
      for (let i = 0; i < KEPT.length; i++) e.writeSys(KEPT[i], kept[i]);
      return hit === 1 ? DEBUG_STOP : DEBUG_DELIVER;
    }
    if (this.#stopped) return DEBUG_STOP;
    return DEBUG_CONTINUE;
  }

  /**
   * For an engine that counts instructions itself: makes the next run stop
   * before its first instruction (an exception entry then happens and
   * nothing else). Returns a function that undoes it.
   */
  haltBeforeNextInstruction(): () => void {
    const e = this.#o.engine;
    const cb = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u64", "u32", "pointer"], result: "void" } as const,
      () => void e.stop(),
    );
    this.#haltHook = this.#add(UC_HOOK_CODE, cb.pointer, 1n, 0n);
    return () => {
      if (this.#haltHook !== undefined) this.#del(this.#haltHook);
      this.#haltHook = undefined;
      this.#lingering = true;
      // Freed with the engine: a removed hook is only let go of at the end of the next run.
      this.#o.callbacks.push(cb);
    };
  }

  // ---------------------------------------------------------------------------
  // Hooks

  #codeHook(): Deno.PointerObject {
    if (this.#codeCallback) return this.#codeCallback;
    const cb = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u64", "u32", "pointer"], result: "void" } as const,
      (_uc, address) => this.#onCode(address),
    );
    this.#o.callbacks.push(cb);
    return this.#codeCallback = cb.pointer;
  }

  #memHookPointer(): Deno.PointerObject {
    if (this.#memCallback) return this.#memCallback;
    const cb = new Deno.UnsafeCallback(
      { parameters: ["pointer", "i32", "u64", "i32", "i64", "pointer"], result: "void" } as const,
      (_uc, type, address, size) => this.#onMemory(type === UC_MEM_WRITE, address, size),
    );
    this.#o.callbacks.push(cb);
    return this.#memCallback = cb.pointer;
  }

  #onCode(address: bigint): void {
    const tenant = this.#o.tenant();
    try {
      if (this.#stepping) {
        if (address === this.#stepTo) return this.#hostStop("step", address, undefined);
        if (address !== this.#stepFrom && this.points.breakpoints.has(address)) {
          return this.#hostStop("breakpoint", address, undefined);
        }
      } else if (this.points.breakpoints.has(address)) {
        return this.#hostStop("breakpoint", address, undefined);
      }
      const guest = tenant.guest;
      if (guest.breakpointCount === 0) return;
      const pstate = Number(this.#o.engine.readReg(REG.PSTATE) & MASK32);
      const syndrome = guest.breakpointSyndrome(address, pstate);
      // FAR is UNKNOWN for a breakpoint; 0, as QEMU writes.
      if (syndrome !== 0) tenant.deliver(EXCP.PREFETCH_ABORT, syndrome, 0n);
    } catch (e) {
      tenant.fail(e);
    }
  }

  #hostStop(kind: DebugStop["kind"], address: bigint, access: DebugStop["access"]): void {
    const s = this.stop;
    s.kind = kind;
    s.address = address;
    s.access = access;
    this.#stopped = true;
    this.#o.tenant().stopForDebug();
  }

  #onMemory(write: boolean, address: bigint, size: number): void {
    const tenant = this.#o.tenant();
    try {
      if (this.#hit !== 0) {
        // The rest of the instruction that hit: its stores are undone too.
        if (write) this.#saveBytes(address, size);
        return;
      }
      const guest = tenant.guest;
      if (this.points.watches.length === 0 && guest.watchCount === 0) return;
      const virtual = this.#virtual;
      if (
        !(virtual ? this.#overlaps(address, size, guest) : this.#mayMatch(address, size, guest))
      ) {
        return;
      }
      const e = this.#o.engine;
      const pc = e.readPc();
      const insn = this.#instruction(pc);
      let va = address;
      if (!virtual) {
        const first = insn < 0 ? NOT_AN_ACCESS : accessAddress(insn, pc, (n) => this.#x(n));
        if (first === NOT_AN_ACCESS) return;
        // The access lies within 4 KiB of the instruction's first byte.
        const delta = (Number(address & 0xfffn) - Number(first & 0xfffn)) & 0xfff;
        va = BigInt.asUintN(64, first + BigInt(delta));
      }
      const end = va + BigInt(size);
      for (const w of this.points.watches) {
        if (w.kind !== "access" && (w.kind === "write") !== write) continue;
        if (end <= w.start || va >= w.start + BigInt(w.length)) continue;
        this.#hitAt(1, address, size, write);
        return this.#hostStop("watchpoint", va > w.start ? va : w.start, w.kind);
      }
      if (guest.watchCount === 0) return;
      const pstate = Number(e.readReg(REG.PSTATE) & MASK32);
      const unprivileged = insn >= 0 && isUnprivileged(insn);
      const syndrome = guest.watchpointSyndrome(va, size, write, unprivileged, pstate);
      if (syndrome === 0) return;
      this.pendingSyndrome = syndrome;
      this.pendingAddress = va;
      this.#hitAt(2, address, size, write);
      tenant.stopForDebug();
    } catch (e) {
      tenant.fail(e);
    }
  }

  /** Whether `size` bytes at virtual address `va` overlap any watched range. */
  #overlaps(va: bigint, size: number, guest: GuestDebug): boolean {
    const end = va + BigInt(size);
    for (const w of this.points.watches) {
      if (end > w.start && va < w.start + BigInt(w.length)) return true;
    }
    for (let i = 0; i < guest.watchCount; i++) {
      const w = guest.watches[i];
      if (end > w.start && va < w.start + BigInt(w.length)) return true;
    }
    return false;
  }

  #hitAt(kind: number, address: bigint, size: number, write: boolean): void {
    this.#hit = kind;
    this.#o.saveState();
    if (write) this.#saveBytes(address, size);
  }

  /**
   * Whether an access of `size` bytes at physical address `pa` can touch a
   * watched range through any virtual address: one with the same page
   * offset must overlap it. Most accesses fail here, without a register read.
   */
  #mayMatch(pa: bigint, size: number, guest: GuestDebug): boolean {
    const offset = Number(pa & 0xfffn);
    const fits = (pageOffset: number, length: number) => {
      const span = length + size - 1;
      return span >= PAGE || ((offset - pageOffset + size - 1) & (PAGE - 1)) < span;
    };
    for (const w of this.points.watches) {
      if (fits(w.pageOffset, w.length)) return true;
    }
    for (let i = 0; i < guest.watchCount; i++) {
      const w = guest.watches[i];
      if (fits(w.pageOffset, w.length)) return true;
    }
    return false;
  }

  #x(n: number): bigint {
    const e = this.#o.engine;
    return n === 31 ? e.readReg(REG.SP) : e.readX(n);
  }

  /** The instruction word at virtual address `pc`, or -1. */
  #instruction(pc: bigint): number {
    const e = this.#o.engine;
    const pa = translate(e, pc);
    if (pa === NO_TRANSLATION || !this.#o.isRam(pa, 4)) return -1;
    if (e.symbols.uc_mem_read(e.handle, pa, this.#insn, 4n) !== 0) return -1;
    return new DataView(this.#insn.buffer).getUint32(0, true);
  }

  /** Remembers the bytes a store of `size` bytes at `address` is about to overwrite. */
  #saveBytes(address: bigint, size: number): void {
    const e = this.#o.engine;
    const pa = this.#virtual ? translate(e, address) : address;
    if (pa === NO_TRANSLATION || !this.#o.isRam(pa, size)) return;
    const bytes = new Uint8Array(size);
    if (e.symbols.uc_mem_read(e.handle, pa, bytes, BigInt(size)) !== 0) return;
    this.#undo.push({ pa, bytes });
  }

  // ---------------------------------------------------------------------------
  // Engine calls

  #add(type: number, callback: Deno.PointerObject, begin: bigint, end: bigint): bigint {
    const e = this.#o.engine;
    const h = this.#handle;
    check(
      e.symbols,
      e.symbols.uc_hook_add(e.handle, h, type, callback, null, begin, end),
      "uc_hook_add (debug)",
    );
    return h[0];
  }

  #del(handle: bigint): void {
    const e = this.#o.engine;
    check(e.symbols, e.symbols.uc_hook_del(e.handle, handle), "uc_hook_del (debug)");
  }

  /** Drops the code translated from the instruction at `pc` and the one after (a step's). */
  #dropCode(pc: bigint): void {
    const e = this.#o.engine;
    e.symbols.uc_ctl_2(
      e.handle,
      ucCtl(UC_CTL_TB_REMOVE_CACHE, 2, true),
      pc,
      BigInt.asUintN(64, pc + 8n),
    );
  }

  /** Removes every hook (the engine is being closed or reset). */
  close(): void {
    for (const h of this.#code.values()) this.#del(h);
    this.#code.clear();
    if (this.#memHook !== undefined) this.#del(this.#memHook);
    this.#memHook = undefined;
  }
}

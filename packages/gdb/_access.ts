/**
 * The packets that read and change the paused machine: registers (`g`, `G`, `p`, `P`), memory
 * (`m`, `M`, `X`) and breakpoints and watchpoints (`Z`, `z`). Each handler takes the packet's
 * arguments and the thread the session chose, calls the target, and returns the reply; target
 * exceptions become `E05`.
 *
 * @module
 */

import { parseMemoryArgs, parsePointArgs, REPLY } from "./_commands.ts";
import { unescapeBinary } from "./_framing.ts";
import { fromHex, latin1, parseHexInt, toHex } from "./_hex.ts";
import {
  loadRegister,
  REGISTER_BLOCK_SIZE,
  registerOffset,
  registerSize,
  storeRegister,
} from "./_register_block.ts";
import type { ProtocolFault } from "./errors.ts";
import { MAX_MEMORY_READ, MAX_POINTS } from "./limits.ts";
import { AARCH64_REGNUM, Aarch64Registers } from "./registers.ts";
import type { DebugTarget, PointType } from "./target.ts";

/** What the handlers tell the session besides their replies. */
export interface AccessHooks {
  /** A target method threw. */
  targetFailed(what: string, error: unknown): void;
  /** A client fault the reply alone does not say. */
  fault(fault: ProtocolFault): void;
}

/** Thrown inside a handler to end it with `E05` after a target exception. */
class TargetFailed {
  static readonly instance: TargetFailed = new TargetFailed();
}

/** Register, memory and breakpoint packets over one target, with their scratch buffers. */
export class TargetAccess {
  readonly #target: DebugTarget;
  readonly #hooks: AccessHooks;
  readonly #regs = new Aarch64Registers();
  readonly #block = new Uint8Array(REGISTER_BLOCK_SIZE);
  readonly #view = new DataView(this.#block.buffer);
  readonly #memory = new Uint8Array(MAX_MEMORY_READ);
  readonly #points = new Map<string, { type: PointType; address: bigint; length: number }>();

  constructor(target: DebugTarget, hooks: AccessHooks) {
    this.#target = target;
    this.#hooks = hooks;
  }

  /** How many breakpoints and watchpoints are inserted. */
  get points(): number {
    return this.#points.size;
  }

  /** `g` */
  readRegisters(thread: number): string {
    return this.#guard(() => {
      this.#load(thread);
      for (let r = 0; r < AARCH64_REGNUM.COUNT; r++) storeRegister(this.#regs, r, this.#view);
      return toHex(this.#block);
    });
  }

  /** `G` */
  writeRegisters(thread: number, hex: string): string {
    const bytes = fromHex(hex);
    if (bytes === undefined || bytes.length !== REGISTER_BLOCK_SIZE) return REPLY.MALFORMED;
    return this.#guard(() => {
      this.#load(thread);
      const view = new DataView(bytes.buffer);
      for (let r = 0; r < AARCH64_REGNUM.COUNT; r++) loadRegister(this.#regs, r, view);
      this.#call("writeRegisters", () => this.#target.writeRegisters(thread, this.#regs));
      return REPLY.OK;
    });
  }

  /** `p` */
  readRegister(thread: number, text: string): string {
    const regno = parseHexInt(text);
    if (regno === undefined || registerSize(regno) === 0) return REPLY.MALFORMED;
    return this.#guard(() => {
      this.#load(thread);
      storeRegister(this.#regs, regno, this.#view);
      const at = registerOffset(regno);
      return toHex(this.#block.subarray(at, at + registerSize(regno)));
    });
  }

  /** `P` */
  writeRegister(thread: number, text: string): string {
    const eq = text.indexOf("=");
    const regno = eq < 0 ? undefined : parseHexInt(text.slice(0, eq));
    const bytes = eq < 0 ? undefined : fromHex(text.slice(eq + 1));
    if (regno === undefined || bytes === undefined || bytes.length !== registerSize(regno)) {
      return REPLY.MALFORMED;
    }
    return this.#guard(() => {
      this.#load(thread);
      this.#block.set(bytes, registerOffset(regno));
      loadRegister(this.#regs, regno, this.#view);
      this.#call("writeRegisters", () => this.#target.writeRegisters(thread, this.#regs, regno));
      return REPLY.OK;
    });
  }

  /** Sets the PC (the address argument of `c`, `s`, `C`, `S`); `OK` or an error reply. */
  setPc(thread: number, pc: bigint): string {
    return this.#guard(() => {
      this.#load(thread);
      this.#regs.pc = pc;
      const set = () => this.#target.writeRegisters(thread, this.#regs, AARCH64_REGNUM.PC);
      this.#call("writeRegisters", set);
      return REPLY.OK;
    });
  }

  /** `m`: a short read when the target stops part-way, `E0e` when nothing could be read. */
  readMemory(thread: number, text: string): string {
    const args = parseMemoryArgs(text);
    if (args === undefined) return REPLY.MALFORMED;
    const into = this.#memory.subarray(0, Math.min(args.length, MAX_MEMORY_READ));
    if (into.length === 0) return "";
    return this.#guard(() => {
      const result = this.#call(
        "readMemory",
        () => this.#target.readMemory(thread, args.address, into),
      );
      const done = result?.ok === true
        ? into.length
        : Math.max(0, Math.min(result?.done | 0, into.length));
      return done === 0 ? REPLY.FAULT : toHex(into.subarray(0, done));
    });
  }

  /** `M` */
  writeMemory(thread: number, text: string): string {
    const colon = text.indexOf(":");
    const args = colon < 0 ? undefined : parseMemoryArgs(text.slice(0, colon));
    const data = colon < 0 ? undefined : fromHex(text.slice(colon + 1));
    if (args === undefined || data === undefined || data.length !== args.length) {
      return REPLY.MALFORMED;
    }
    return this.#store(thread, args.address, data);
  }

  /** `X` (the whole payload, binary). */
  writeBinary(thread: number, payload: Uint8Array): string {
    const colon = payload.indexOf(0x3a /* : */);
    const args = colon < 0 ? undefined : parseMemoryArgs(latin1(payload.subarray(1, colon)));
    const data = colon < 0 ? undefined : unescapeBinary(payload.subarray(colon + 1));
    if (args === undefined || data === undefined || data.length !== args.length) {
      return REPLY.MALFORMED;
    }
    return this.#store(thread, args.address, data);
  }

  #store(thread: number, address: bigint, data: Uint8Array): string {
    // gdb probes X with a zero length to learn whether binary writes work.
    if (data.length === 0) return REPLY.OK;
    return this.#guard(() => {
      const result = this.#call(
        "writeMemory",
        () => this.#target.writeMemory(thread, address, data),
      );
      return result?.ok === true ? REPLY.OK : REPLY.FAULT;
    });
  }

  /**
   * `Z` and `z`. Inserting what is inserted, or removing what is not, is answered `OK`
   * without asking the target, so that it never sees a point twice.
   */
  point(insert: boolean, text: string): string {
    const args = parsePointArgs(text);
    if (args === undefined) return REPLY.MALFORMED;
    const key = `${args.type}:${args.address}:${args.length}`;
    if (insert === this.#points.has(key)) return REPLY.OK;
    if (insert && this.#points.size >= MAX_POINTS) {
      this.#hooks.fault("TOO_MANY_POINTS");
      return REPLY.NO_SPACE;
    }
    return this.#guard(() => {
      const method = insert ? "insertPoint" : "removePoint";
      const result = this.#call(
        method,
        () => this.#target[method](args.type, args.address, args.length),
      );
      if (result === "ok") {
        if (insert) this.#points.set(key, args);
        else this.#points.delete(key);
        return REPLY.OK;
      }
      // An empty reply to Z0 would make gdb write breakpoint instructions into guest memory.
      if (result === "unsupported" && args.type !== "software") return "";
      if (!insert) this.#points.delete(key);
      return insert ? REPLY.NO_SPACE : REPLY.TARGET;
    });
  }

  /** Removes every point inserted (the client left); failures are reported, not thrown. */
  removeAllPoints(): void {
    for (const p of this.#points.values()) {
      try {
        this.#target.removePoint(p.type, p.address, p.length);
      } catch (e) {
        this.#hooks.targetFailed("removePoint", e);
      }
    }
    this.#points.clear();
  }

  #load(thread: number): void {
    this.#call("readRegisters", () => this.#target.readRegisters(thread, this.#regs));
  }

  #call<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.#hooks.targetFailed(what, e);
      throw TargetFailed.instance;
    }
  }

  #guard(fn: () => string): string {
    try {
      return fn();
    } catch (e) {
      if (e === TargetFailed.instance) return REPLY.TARGET;
      throw e;
    }
  }
}

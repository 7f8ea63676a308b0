/**
 * A small AArch64 machine in TypeScript implementing {@link DebugTarget} the way a VM must:
 * 8 KiB of RAM at 0x400000 holding real A64 code, one or two vCPUs interpreting a subset of
 * A64 (testdata/a64.ts), breakpoints matched against the PC without touching memory,
 * watchpoints checked before a load or store takes effect, all-stop resumes that run in
 * batches on the event loop (so a client's Ctrl-C gets through), and monitor commands.
 *
 * It also checks the stub's side of the contract: every call made while a resume is pending
 * (other than interrupt and detach), a second resume, or a point inserted twice or removed
 * without being inserted, is recorded in `violations`.
 */

import {
  Aarch64Registers,
  type DebugTarget,
  type DebugThread,
  GDB_SIGNAL,
  MEMORY_OK,
  type MemoryResult,
  type PointResult,
  type PointType,
  type ResumeAction,
  type StopRecord,
} from "../mod.ts";
import { addImm, b, decode, ldr, movz, NOP, str } from "./a64.ts";

export const RAM_BASE = 0x400000;
export const RAM_SIZE = 0x2000;
/** The word cpu0's loop stores to and loads from. */
export const DATA = 0x401000;
/** Where cpu1 spins. */
export const CPU1_START = 0x400100;
/** cpu0's loop: `add x0`, `nop`, `str w2`, `add x2`, `ldr w3`, `b`. */
export const LOOP = 0x400010;
export const STORE_PC = 0x400018;
export const LOAD_PC = 0x400020;

/** cpu0's program from 0x400000, then cpu1's at 0x400100. */
export function program(): Map<number, number> {
  return new Map([
    [0x400000, movz(0, 1)],
    [0x400004, movz(1, 0x40, 1)], // x1 = 0x400000
    [0x400008, addImm(1, 1, 1, true)], // x1 = 0x401000
    [0x40000c, movz(2, 42)],
    [LOOP, addImm(0, 0, 1)],
    [0x400014, NOP],
    [STORE_PC, str(2, 1)],
    [0x40001c, addImm(2, 2, 1)],
    [LOAD_PC, ldr(3, 1)],
    [0x400024, b(0x400024, LOOP)],
    [CPU1_START, addImm(5, 5, 1)],
    [CPU1_START + 4, b(CPU1_START + 4, CPU1_START)],
  ]);
}

interface Point {
  type: PointType;
  address: bigint;
  length: number;
}

export interface FakeOptions {
  /** 1 or 2 vCPUs (default 2). */
  cpus?: number;
  /** Rounds (one instruction per running vCPU) per event-loop turn (default 256). */
  batch?: number;
  /** Hardware breakpoint slots and watchpoint slots, like a Cortex-A's (default 6 and 4). */
  hwBreakpoints?: number;
  watchpoints?: number;
}

export class FakeMachine implements DebugTarget {
  readonly memory = new Uint8Array(RAM_SIZE);
  readonly regs: Aarch64Registers[] = [];
  readonly points = new Map<string, Point>();
  readonly violations: string[] = [];
  readonly calls: string[] = [];
  readonly monitorCommands: string[] = [];
  readonly #view = new DataView(this.memory.buffer);
  readonly #cpus: number;
  readonly #batch: number;
  readonly #hwBreakpoints: number;
  readonly #watchpoints: number;
  #pending: { actions: readonly ResumeAction[]; resolve: (s: StopRecord) => void } | undefined;
  #interrupt = false;
  #free = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle: (() => void)[] = [];
  killed = false;
  detached = false;
  /** Instructions executed, per vCPU. */
  readonly retired: number[];

  constructor(options: FakeOptions = {}) {
    this.#cpus = options.cpus ?? 2;
    this.#batch = options.batch ?? 256;
    this.#hwBreakpoints = options.hwBreakpoints ?? 6;
    this.#watchpoints = options.watchpoints ?? 4;
    this.retired = new Array(this.#cpus).fill(0);
    this.reset();
  }

  /** Registers and memory as at power-on. */
  reset(): void {
    this.memory.fill(0);
    for (const [address, word] of program()) this.#view.setUint32(address - RAM_BASE, word, true);
    this.regs.length = 0;
    for (let i = 0; i < this.#cpus; i++) {
      const r = new Aarch64Registers();
      r.pc = BigInt(i === 0 ? RAM_BASE : CPU1_START);
      r.sp = BigInt(RAM_BASE + RAM_SIZE - 0x100 * i);
      r.pstate = 0x3c5n; // EL1h, DAIF masked
      r.x[29] = 0x1d1d_1d1dn;
      for (let k = 0; k < 16; k++) r.vreg(0)[k] = 0x10 + k;
      r.fpsr = 0x10;
      r.fpcr = 0x0300_0000;
      this.regs.push(r);
    }
  }

  get running(): boolean {
    return this.#pending !== undefined;
  }

  /** Resolves when no batch is scheduled (after a free run ends or a stop). */
  settled(): Promise<void> {
    if (this.#timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops a free run (after detach) so that a test ends with nothing scheduled. */
  async shutdown(): Promise<void> {
    this.#free = false;
    await this.settled();
  }

  #check(what: string): void {
    this.calls.push(what);
    if (this.#pending !== undefined && what !== "interrupt" && what !== "detach") {
      this.violations.push(`${what} while a resume is pending`);
    }
  }

  threads(): readonly DebugThread[] {
    const out: DebugThread[] = [];
    for (let i = 0; i < this.#cpus; i++) out.push({ id: i, name: `cpu${i}`, state: "running" });
    return out;
  }

  readRegisters(thread: number, into: Aarch64Registers): void {
    this.#check("readRegisters");
    into.copyFrom(this.#cpu(thread));
  }

  writeRegisters(thread: number, from: Aarch64Registers, _regno?: number): void {
    this.#check("writeRegisters");
    this.#cpu(thread).copyFrom(from);
  }

  readMemory(thread: number, address: bigint, into: Uint8Array): MemoryResult {
    this.#check("readMemory");
    this.#cpu(thread);
    const offset = address - BigInt(RAM_BASE);
    const available = offset < 0n || offset >= BigInt(RAM_SIZE) ? 0 : RAM_SIZE - Number(offset);
    const done = Math.min(available, into.length);
    if (done > 0) into.set(this.memory.subarray(Number(offset), Number(offset) + done));
    if (done === into.length) return MEMORY_OK;
    return { ok: false, kind: "UNMAPPED", address: address + BigInt(done), done };
  }

  writeMemory(thread: number, address: bigint, data: Uint8Array): MemoryResult {
    this.#check("writeMemory");
    this.#cpu(thread);
    const offset = address - BigInt(RAM_BASE);
    if (offset < 0n || offset + BigInt(data.length) > BigInt(RAM_SIZE)) {
      const first = offset < 0n ? address : BigInt(RAM_BASE + RAM_SIZE);
      return { ok: false, kind: "UNMAPPED", address: first, done: 0 };
    }
    this.memory.set(data, Number(offset));
    return MEMORY_OK;
  }

  insertPoint(type: PointType, address: bigint, length: number): PointResult {
    this.#check("insertPoint");
    const key = `${type}:${address}:${length}`;
    if (this.points.has(key)) this.violations.push(`insertPoint ${key} twice`);
    const watch = type === "write" || type === "read" || type === "access";
    if (watch && (length < 1 || length > 8)) return "failed";
    const isWatch = (t: PointType) => t !== "software" && t !== "hardware";
    const used =
      [...this.points.values()].filter((p) =>
        type === "hardware" ? p.type === "hardware" : watch && isWatch(p.type)
      ).length;
    if (type === "hardware" && used >= this.#hwBreakpoints) return "failed";
    if (watch && used >= this.#watchpoints) return "failed";
    this.points.set(key, { type, address, length });
    return "ok";
  }

  removePoint(type: PointType, address: bigint, length: number): PointResult {
    this.#check("removePoint");
    const key = `${type}:${address}:${length}`;
    if (!this.points.delete(key)) this.violations.push(`removePoint ${key} never inserted`);
    return "ok";
  }

  halt(): Promise<StopRecord> {
    this.calls.push("halt");
    this.#free = false;
    this.detached = false;
    return Promise.resolve({ reason: "halted", thread: 0 });
  }

  resume(actions: readonly ResumeAction[]): Promise<StopRecord> {
    this.#check("resume");
    this.#interrupt = false;
    return new Promise((resolve) => {
      this.#pending = { actions, resolve };
      this.#schedule();
    });
  }

  interrupt(): void {
    this.#check("interrupt");
    this.#interrupt = true;
  }

  kill(): void {
    this.#check("kill");
    this.killed = true;
  }

  detach(): void {
    this.#check("detach");
    this.detached = true;
    if (this.points.size > 0) this.violations.push(`detach with ${this.points.size} points left`);
    // The guest runs on without the debugger; a pending resume stays pending.
    this.#free = true;
    this.#schedule();
  }

  monitor(command: string): string | Promise<string> {
    this.#check("monitor");
    this.monitorCommands.push(command);
    switch (command) {
      case "help":
        return "info vcpus   the vCPUs and their PCs\ninfo mmio    the device map\nreset        power-on state\n";
      case "info vcpus":
        return this.regs.map((r, i) =>
          `cpu${i}: running pc=0x${r.pc.toString(16)} EL${(r.pstate >> 2n) & 3n} retired=${
            this.retired[i]
          }\n`
        ).join("");
      case "info mmio":
        return "0x09000000-0x09000fff pl011\n0x08000000-0x0801ffff gic\n";
      case "reset":
        this.reset();
        return "machine reset\n";
      default:
        return `unknown command '${command}'; try 'help'\n`;
    }
  }

  #cpu(thread: number): Aarch64Registers {
    const r = this.regs[thread];
    if (r === undefined) throw new RangeError(`no vCPU ${thread}`);
    return r;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
      if (this.#timer === undefined) { for (const f of this.#idle.splice(0)) f(); }
    }, 0);
  }

  #tick(): void {
    const pending = this.#pending;
    if (pending === undefined) {
      if (!this.#free) return;
      for (let n = 0; n < this.#batch; n++) {
        for (let i = 0; i < this.#cpus; i++) this.#execute(i, false);
      }
      return this.#schedule();
    }
    if (this.#interrupt) {
      return this.#stop({ reason: "interrupt", thread: pending.actions[0].thread });
    }
    for (let n = 0; n < this.#batch; n++) {
      // The vCPUs run side by side: a finished step ends the machine's run only once the
      // others have executed their instruction of the same round.
      let stepped: StopRecord | undefined;
      for (const action of pending.actions) {
        const stop = this.#execute(action.thread, true, action.step);
        if (stop?.reason === "step") stepped ??= stop;
        else if (stop !== undefined) return this.#stop(stop);
      }
      if (stepped !== undefined) return this.#stop(stepped);
    }
    this.#schedule();
  }

  #stop(stop: StopRecord): void {
    const pending = this.#pending!;
    this.#pending = undefined;
    pending.resolve(stop);
  }

  /** One instruction of one vCPU; a stop record when the machine must stop instead/after. */
  #execute(cpu: number, debugged: boolean, step = false): StopRecord | undefined {
    const r = this.regs[cpu];
    const pc = Number(r.pc);
    if (debugged && !step) {
      for (const p of this.points.values()) {
        if ((p.type === "software" || p.type === "hardware") && p.address === r.pc) {
          return { reason: p.type === "software" ? "swbreak" : "hwbreak", thread: cpu };
        }
      }
    }
    if (pc < RAM_BASE || pc + 4 > RAM_BASE + RAM_SIZE) {
      return { reason: "signal", thread: cpu, signal: GDB_SIGNAL.SEGV };
    }
    const insn = decode(this.#view.getUint32(pc - RAM_BASE, true));
    const reg = (n: number) => (n === 31 ? r.sp : r.x[n]);
    let next = r.pc + 4n;
    switch (insn.op) {
      case "nop":
        break;
      case "movz":
        r.x[insn.rd] = insn.value;
        break;
      case "add": {
        const value = BigInt.asUintN(64, reg(insn.rn) + insn.value);
        if (insn.rd === 31) r.sp = value;
        else r.x[insn.rd] = value;
        break;
      }
      case "b":
        next = BigInt.asUintN(64, r.pc + insn.offset);
        break;
      case "str":
      case "ldr": {
        const address = BigInt.asUintN(64, reg(insn.rn) + insn.offset);
        const store = insn.op === "str";
        if (debugged) {
          for (const p of this.points.values()) {
            const hits = p.type === "access" || p.type === (store ? "write" : "read");
            if (
              hits && address < p.address + BigInt(p.length) &&
              p.address < address + BigInt(insn.size)
            ) {
              return {
                reason: "watchpoint",
                thread: cpu,
                kind: p.type as "write" | "read" | "access",
                address,
              };
            }
          }
        }
        const offset = Number(address) - RAM_BASE;
        if (offset < 0 || offset + insn.size > RAM_SIZE) {
          return { reason: "signal", thread: cpu, signal: GDB_SIGNAL.SEGV };
        }
        if (store && insn.size === 4) {
          this.#view.setUint32(offset, Number(r.x[insn.rt] & 0xffff_ffffn), true);
        } else if (store) this.#view.setBigUint64(offset, r.x[insn.rt], true);
        else if (insn.size === 4) r.x[insn.rt] = BigInt(this.#view.getUint32(offset, true));
        else r.x[insn.rt] = this.#view.getBigUint64(offset, true);
        break;
      }
      default:
        return { reason: "signal", thread: cpu, signal: GDB_SIGNAL.ILL };
    }
    r.pc = next;
    this.retired[cpu]++;
    return step ? { reason: "step", thread: cpu } : undefined;
  }
}

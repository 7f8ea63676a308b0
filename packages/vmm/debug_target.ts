/**
 * A {@link DebugTarget} over a {@link VirtualMachine}: the GDB stub of
 * `@vmkit/gdb` debugs the VM's vCPUs (one thread each) through it.
 *
 * All-stop works with the run loop, which is the only thing that runs
 * vCPUs: the loop parks at a safe point ({@link RunLoopDebugger.pause})
 * whenever the debugger wants the machine stopped — on a breakpoint,
 * watchpoint or step exit, or, for a halt or Ctrl-C, at its next yield to
 * the event loop or idle wake-up (no vCPU is ever executing while the
 * debugger's socket is served, because vCPUs run synchronously). While
 * parked, registers and memory are read through `vcpu.debug`; resuming
 * releases the loop, optionally to step one vCPU by one instruction.
 *
 * @module
 */

import {
  AARCH64_REGNUM,
  Aarch64Registers,
  type DebugTarget,
  type DebugThread,
  GDB_SIGNAL,
  GdbServer,
  type MemoryResult,
  type PointResult,
  type PointType,
  type ResumeAction,
  type StopRecord,
} from "@vmkit/gdb";
import type { Vcpu, VcpuExit } from "@vmkit/vcpu";
import { VmmError } from "./errors.ts";
import type { RunOutcome } from "./run_loop.ts";
import type { VirtualMachine } from "./virtual_machine.ts";
import { GICC_BASE, GICC_REGISTERS_SIZE, GICD_BASE, GICD_REGISTERS_SIZE } from "./platform.ts";

/**
 * The `gdb` option of a VM: serve the GDB remote protocol on a TCP port.
 *
 * @example
 * ```ts
 * import type { VmGdbOptions } from "@vmkit/vmm";
 *
 * const gdb: VmGdbOptions = { port: 1234, wait: true };
 * console.log(gdb.host ?? "127.0.0.1"); // 127.0.0.1
 * ```
 */
export interface VmGdbOptions {
  /** The address to listen on. Default `127.0.0.1` (the protocol has no authentication). */
  readonly host?: string;
  /** The TCP port, 0–65535; 0 picks a free one (read it from `vm.gdb.addr`). */
  readonly port: number;
  /**
   * Hold the guest before its first instruction until a debugger attaches
   * (and tells it to continue). Default `false`: the guest runs, and stops
   * when a debugger attaches.
   */
  readonly wait?: boolean;
}

/**
 * What the run loop asks of an attached debugger. Absent without one, so a
 * VM without a debugger does nothing extra per exit.
 *
 * @example
 * ```ts
 * import type { RunLoopDebugger } from "./debug_target.ts";
 *
 * const none: RunLoopDebugger = {
 *   begin: () => false,
 *   pausing: false,
 *   pause: () => Promise.resolve(-1),
 * };
 * console.log(none.begin()); // false
 * ```
 */
export interface RunLoopDebugger {
  /** A run starts; returns whether the loop must park before its first instruction. */
  begin(): boolean;
  /** Whether the debugger wants the machine stopped (checked when the loop yields or wakes). */
  readonly pausing: boolean;
  /**
   * Parks the loop until the debugger resumes. `cpu` is the vCPU the stop
   * happened on (-1: none in particular), `exit` its `debug` exit if that is
   * why. Resolves with the vCPU to step by one instruction, or -1 to run.
   */
  pause(cpu: number, exit: VcpuExit | undefined): Promise<number>;
}

/** What the VM hands its debug target besides its public surface. */
export interface VmDebugHooks {
  /** Ends an idle wait of the run loop. */
  wake(): void;
  /** Reboots at once (the loop is parked): RAM, images, vCPUs, devices. */
  reboot(): void;
}

const HELP = `monitor commands:
  info vcpus   each vCPU: power state, PC, exception level
  info mmio    the device map: name, guest-physical window, interrupts
  reset        reboot the guest now (images reloaded); it stays stopped
  help         this text
`;

/**
 * The debug target of one VM (see the module docs for how it pauses the run
 * loop). The VM creates it, and the server that serves it, for its `gdb`
 * option.
 *
 * Stops map as follows: host breakpoints → `swbreak`/`hwbreak` (whichever
 * kind gdb inserted), host watchpoints → `watchpoint` with the accessed
 * address, a step → `step`, Ctrl-C → `interrupt`, the end of the run →
 * `exited` (power-off, with the guest's status; a reset with
 * `onReset: "exit"` is status 0) or `terminated` (`SEGV` for a crash,
 * `KILL` for a stop, a timeout or `kill`).
 *
 * @example
 * ```ts
 * import { VirtualMachine } from "@vmkit/vmm";
 *
 * // The VM builds its target and serves it when given the `gdb` option.
 * using vm = new VirtualMachine({ memorySize: 32 * 1024 * 1024, gdb: { port: 0 } });
 * console.log(vm.gdb?.addr.hostname); // 127.0.0.1: `target remote 127.0.0.1:PORT` in gdb
 * await vm.gdb?.close();
 * ```
 */
export class VmDebugTarget implements DebugTarget, RunLoopDebugger {
  readonly #vm: VirtualMachine;
  readonly #hooks: VmDebugHooks;
  readonly #wait: boolean;
  readonly #regs = new Aarch64Registers();
  // Breakpoints by address: how many software and hardware ones gdb inserted there.
  readonly #breaks = new Map<bigint, { software: number; hardware: number }>();
  #pausing: boolean;
  #attached = false;
  #interrupted = false;
  // The loop is parked here; resolving it releases the loop.
  #release: ((step: number) => void) | undefined;
  // The halt or resume waiting for the loop to park.
  #waiting: ((stop: StopRecord) => void) | undefined;
  #last: StopRecord = { reason: "halted", thread: 0 };
  // How the last run ended, until the next one begins.
  #ended: StopRecord | undefined;
  #stepping = -1;

  /**
   * @param vm the machine
   * @param hooks what the VM lets its debugger do beyond its public API
   * @param wait park before the first instruction until a debugger resumes
   */
  constructor(vm: VirtualMachine, hooks: VmDebugHooks, wait = false) {
    this.#vm = vm;
    this.#hooks = hooks;
    this.#wait = wait;
    this.#pausing = wait;
  }

  /** A run starts (the run loop calls it); returns whether to park before the first instruction. */
  begin(): boolean {
    this.#ended = undefined;
    // A client that attached before the run began has halted it already.
    if (this.#wait && !this.#attached) this.#pausing = true;
    return this.#pausing;
  }

  /** Whether the debugger wants the machine stopped (the run loop checks it when it yields). */
  get pausing(): boolean {
    return this.#pausing;
  }

  /**
   * Parks the run loop until the debugger resumes it (see {@link RunLoopDebugger.pause}).
   */
  pause(cpu: number, exit: VcpuExit | undefined): Promise<number> {
    return this.#pause(cpu, exit);
  }

  /** Whether the run loop is parked for the debugger. */
  get paused(): boolean {
    return this.#release !== undefined;
  }

  /** The run ended (the VM calls it); a waiting halt or resume learns how. */
  ended(outcome: RunOutcome | undefined): void {
    const stop: StopRecord = outcome === undefined
      ? { reason: "terminated", signal: GDB_SIGNAL.ABRT }
      : outcome.reason === "poweroff"
      ? { reason: "exited", status: outcome.status & 0xff }
      : outcome.reason === "reset"
      ? { reason: "exited", status: 0 }
      : {
        reason: "terminated",
        signal: outcome.reason === "crash" ? GDB_SIGNAL.SEGV : GDB_SIGNAL.KILL,
      };
    this.#ended = stop;
    this.#release = undefined;
    this.#pausing = false;
    this.#settle(stop);
  }

  #pause(cpu: number, exit: VcpuExit | undefined): Promise<number> {
    const thread = cpu >= 0 ? cpu : this.#firstOn();
    let stop: StopRecord;
    if (exit?.reason === "debug" && exit.debug.kind !== "step") {
      const d = exit.debug;
      if (d.kind === "watchpoint") {
        stop = { reason: "watchpoint", thread, kind: d.access ?? "write", address: d.address };
      } else {
        const b = this.#breaks.get(d.address);
        stop = { reason: b !== undefined && b.software === 0 ? "hwbreak" : "swbreak", thread };
      }
    } else if (this.#stepping >= 0) {
      stop = { reason: "step", thread: this.#stepping };
    } else {
      stop = { reason: this.#interrupted ? "interrupt" : "halted", thread };
    }
    this.#stepping = -1;
    this.#interrupted = false;
    this.#pausing = false;
    this.#last = stop;
    const stoppedAt = this.#physicalCounter();
    const parked = new Promise<number>((resolve) => {
      this.#release = (step) => {
        this.#hideStop(stoppedAt);
        resolve(step);
      };
    });
    this.#settle(stop);
    return parked;
  }

  // The engine's counter, which runs on while the guest is stopped (host clock only).
  #physicalCounter(): bigint {
    if (this.#vm.clock !== "host" || this.#vm.state === "closed") return -1n;
    const v = this.#vm.vcpus[0];
    return v.counter() + v.counterOffset;
  }

  // Under the host clock the guest's virtual counter (the one Linux and the demo keep time
  // and set timers by) skips the time it spent stopped, as if the debugger took none: every
  // vCPU's CNTVOFF grows by it. The virtual clock stands still by itself.
  #hideStop(stoppedAt: bigint): void {
    if (stoppedAt < 0n || this.#vm.state === "closed") return;
    const stopped = this.#physicalCounter() - stoppedAt;
    if (stopped <= 0n) return;
    for (const v of this.#vm.vcpus) v.counterOffset = v.counterOffset + stopped;
  }

  #settle(stop: StopRecord): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(stop);
  }

  #firstOn(): number {
    const states = this.#vm.cpuStates;
    for (let i = 0; i < states.count; i++) if (states.power(i) !== "off") return i;
    return 0;
  }

  #vcpu(thread: number): Vcpu {
    const vcpu = this.#vm.vcpus[thread];
    if (vcpu === undefined) throw new VmmError("INVALID_STATE", `no vCPU ${thread}`);
    return vcpu;
  }

  /** One thread per vCPU; powered-off ones are `stopped`. */
  threads(): readonly DebugThread[] {
    const states = this.#vm.cpuStates;
    return this.#vm.vcpus.map((v, i) => ({
      id: i,
      name: `cpu${v.id}`,
      state: states.power(i) === "off" ? "stopped" : "running",
    }));
  }

  /** Reads a vCPU's registers (only while paused). */
  readRegisters(thread: number, into: Aarch64Registers): void {
    const v = this.#vcpu(thread);
    for (let n = 0; n < 31; n++) into.x[n] = v.getX(n);
    into.sp = v.getSp();
    into.pc = v.getPc();
    into.pstate = v.getPstate();
    for (let n = 0; n < 32; n++) v.debug.readVector(n, into.vreg(n));
    into.fpsr = v.debug.fpsr;
    into.fpcr = v.debug.fpcr;
  }

  /** Writes a vCPU's registers (all, or `regno` alone). */
  writeRegisters(thread: number, from: Aarch64Registers, regno?: number): void {
    const v = this.#vcpu(thread);
    const all = regno === undefined;
    const R = AARCH64_REGNUM;
    for (let n = 0; n < 31; n++) if (all || regno === n) v.setX(n, from.x[n]);
    if (all || regno === R.SP) v.debug.setSp(from.sp);
    if (all || regno === R.PC) v.setPc(from.pc);
    if (all || regno === R.CPSR) v.debug.setFlags(from.pstate);
    for (let n = 0; n < 32; n++) {
      if (all || regno === R.V0 + n) v.debug.writeVector(n, from.vreg(n));
    }
    if (all || regno === R.FPSR) v.debug.fpsr = from.fpsr;
    if (all || regno === R.FPCR) v.debug.fpcr = from.fpcr;
  }

  /** Reads guest memory by virtual address, through the vCPU's translation regime. */
  readMemory(thread: number, address: bigint, into: Uint8Array): MemoryResult {
    return this.#vcpu(thread).debug.readMemory(address, into);
  }

  /** Writes guest RAM by virtual address (never device registers). */
  writeMemory(thread: number, address: bigint, data: Uint8Array): MemoryResult {
    return this.#vcpu(thread).debug.writeMemory(address, data);
  }

  /** Breakpoints match each vCPU's PC; watchpoints each load and store (no memory is patched). */
  insertPoint(type: PointType, address: bigint, length: number): PointResult {
    const points = this.#vcpu(0).debug.points;
    try {
      if (type === "software" || type === "hardware") {
        points.addBreakpoint(address);
        const b = this.#breaks.get(address) ?? { software: 0, hardware: 0 };
        b[type]++;
        this.#breaks.set(address, b);
      } else {
        points.addWatchpoint(address, length, type);
      }
      return "ok";
    } catch {
      // An unaligned breakpoint, a watchpoint out of range, or too many of them.
      return "failed";
    }
  }

  /** Removes what {@link insertPoint} inserted. */
  removePoint(type: PointType, address: bigint, length: number): PointResult {
    const points = this.#vcpu(0).debug.points;
    if (type === "software" || type === "hardware") {
      const b = this.#breaks.get(address);
      if (b === undefined || b[type] === 0) return "failed";
      b[type]--;
      if (b.software + b.hardware === 0) {
        this.#breaks.delete(address);
        points.removeBreakpoint(address);
      }
      return "ok";
    }
    return points.removeWatchpoint(address, length, type) ? "ok" : "failed";
  }

  /**
   * The host asked the run loop for something (a stop, a close, a reboot, a
   * power-off through a device): a loop parked for the debugger goes to
   * carry it out, then parks again at its next yield, so a signal or
   * `vm.close()` is not held up by a debugger that keeps the guest stopped.
   */
  hostRequest(): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    this.#pausing = true;
    release(-1);
  }

  /** Stops the machine for a client that attached. */
  halt(): Promise<StopRecord> {
    this.#attached = true;
    if (this.#ended !== undefined) return Promise.resolve(this.#ended);
    if (this.#release !== undefined) return Promise.resolve(this.#last);
    this.#pausing = true;
    this.#hooks.wake();
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** Steps the first stepping thread listed (alone), or lets every vCPU run. */
  resume(actions: readonly ResumeAction[]): Promise<StopRecord> {
    if (this.#ended !== undefined) return Promise.resolve(this.#ended);
    const release = this.#release;
    if (release === undefined) {
      // The loop left to carry out a host request and parks again shortly: resume from there.
      if (this.#pausing && this.#waiting === undefined) {
        return new Promise((resolve) => {
          this.#waiting = (stop) =>
            resolve(this.#ended !== undefined ? stop : this.resume(actions));
        });
      }
      return Promise.resolve(this.#last);
    }
    const step = actions.find((a) => a.step)?.thread ?? -1;
    if (step >= 0) {
      const states = this.#vm.cpuStates;
      // A vCPU that is off executes nothing: the step ends where it began.
      if (states.power(step) === "off") {
        this.#last = { reason: "step", thread: step };
        return Promise.resolve(this.#last);
      }
      // A step out of WFI is the instruction after it.
      if (states.waiting(step)) states.wake(step);
    }
    this.#stepping = step;
    this.#release = undefined;
    const stopped = new Promise<StopRecord>((resolve) => (this.#waiting = resolve));
    release(step);
    return stopped;
  }

  /** Ctrl-C: the loop parks at its next yield or wake-up. */
  interrupt(): void {
    if (this.#waiting === undefined || this.#release !== undefined) return;
    this.#interrupted = true;
    this.#pausing = true;
    this.#hooks.wake();
  }

  /** Ends the run (`stopped`, "killed by the debugger"). */
  kill(): void {
    this.#attached = false;
    this.#vm.stop("killed by the debugger");
    this.#run();
  }

  /** The client went away: the guest runs on at full speed. */
  detach(): void {
    this.#attached = false;
    this.#breaks.clear();
    if (this.#vm.state !== "closed") this.#vcpu(0).debug.points.clear();
    this.#run();
  }

  #run(): void {
    this.#pausing = false;
    this.#interrupted = false;
    this.#stepping = -1;
    this.#waiting = undefined;
    const release = this.#release;
    this.#release = undefined;
    release?.(-1);
  }

  /** `info vcpus`, `info mmio`, `reset`, `help`. */
  monitor(command: string): string {
    const words = command.trim().split(/\s+/).join(" ");
    switch (words) {
      case "info vcpus":
        return this.#infoVcpus();
      case "info mmio":
        return this.#infoMmio();
      case "reset":
        if (this.#release === undefined) return "reset: the machine is not stopped\n";
        try {
          this.#hooks.reboot();
        } catch (e) {
          return `reset failed: ${(e as Error).message}\n`;
        }
        this.#last = { reason: "halted", thread: this.#firstOn() };
        return `reset: the guest reboots at pc 0x${
          this.#vcpu(this.#firstOn()).getPc().toString(16)
        }\n`;
      case "":
      case "help":
        return HELP;
      default:
        return `unknown monitor command ${JSON.stringify(command)}\n${HELP}`;
    }
  }

  #infoVcpus(): string {
    const states = this.#vm.cpuStates;
    let out = "";
    for (let i = 0; i < this.#vm.vcpus.length; i++) {
      const v = this.#vm.vcpus[i];
      const power = states.power(i);
      let line = `cpu${v.id}: ${power}${states.waiting(i) ? " (waiting for an interrupt)" : ""}`;
      if (power !== "off") {
        const el = Number((v.getPstate() >> 2n) & 3n);
        line += ` pc=0x${v.getPc().toString(16)} EL${el}`;
      }
      out += line + "\n";
    }
    return out;
  }

  #infoMmio(): string {
    const rows: { base: number; size: number; name: string; irqs: string }[] = [
      { base: GICD_BASE, size: GICD_REGISTERS_SIZE, name: "gic-distributor", irqs: "" },
      { base: GICC_BASE, size: GICC_REGISTERS_SIZE, name: "gic-cpu-interface", irqs: "" },
    ];
    for (const slot of this.#vm.devices.slots) {
      rows.push({
        base: slot.placement.base,
        size: slot.placement.size,
        name: slot.name,
        irqs: slot.spis.map((spi) => ` spi ${spi} (intid ${32 + spi})`).join(","),
      });
    }
    rows.sort((a, b) => a.base - b.base);
    const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
    return rows.map((r) => `${hex(r.base)}-${hex(r.base + r.size - 1)} ${r.name}${r.irqs}\n`)
      .join("");
  }
}

/**
 * Starts a VM's GDB stub: a {@link VmDebugTarget} served by a
 * {@link GdbServer}, logging through `log`.
 *
 * @throws {VmmError} `BAD_CONFIG` for a bad port or host, or when the port
 *   cannot be listened on (taken, say).
 *
 * @example
 * ```ts
 * import { VirtualMachine } from "@vmkit/vmm";
 *
 * // What the VM does for its `gdb` option; a port that is taken is a BAD_CONFIG error.
 * using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * try {
 *   new VirtualMachine({ memorySize: 32 * 1024 * 1024, gdb: { port: taken.addr.port } });
 * } catch (e) {
 *   console.log((e as { code: string }).code); // BAD_CONFIG
 * }
 * ```
 */
export function startGdbStub(
  vm: VirtualMachine,
  hooks: VmDebugHooks,
  options: VmGdbOptions,
  log: (message: string) => void,
): { target: VmDebugTarget; server: GdbServer } {
  const target = new VmDebugTarget(vm, hooks, options.wait === true);
  try {
    const server = GdbServer.listen(target, {
      hostname: options.host ?? "127.0.0.1",
      port: options.port,
      log,
    });
    return { target, server };
  } catch (e) {
    throw new VmmError("BAD_CONFIG", `gdb: ${(e as Error).message}`, { cause: e });
  }
}

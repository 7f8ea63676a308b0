/**
 * The run loop: schedules the vCPUs round-robin, one slice at a time,
 * answers their exits, carries out the pending lifecycle request at each
 * safe point, sleeps while every vCPU waits for an interrupt, and yields to
 * the host's event loop every few milliseconds.
 *
 * @module
 */

import type { Pmu, Vcpu, VcpuExit } from "@vmkit/vcpu";
import { COUNTER_FREQUENCY_HZ } from "@vmkit/vcpu";
import type { VmExitReason } from "./config.ts";
import type { CpuStates } from "./cpu_states.ts";
import type { EventLoopYield } from "./event_loop.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { RunLoopDebugger } from "./debug_target.ts";
import { accountPmu } from "./performance_monitors.ts";

/** How a run ended, before the VM adds its counters. */
export interface RunOutcome {
  /** Why. */
  readonly reason: VmExitReason;
  /** The guest's exit status (see `VmExit.status`). */
  readonly status: number;
  /** One line for humans. */
  readonly message: string;
}

/** What the loop needs from its VM. */
export interface RunLoopHost {
  /** The vCPUs, by id. */
  readonly vcpus: readonly Vcpu[];
  /** Their power and wait states. */
  readonly cpus: CpuStates;
  /** The VM's lifecycle, whose pending request the loop carries out. */
  readonly life: Lifecycle;
  /** Yielding and sleeping. */
  readonly events: EventLoopYield;
  /** The guest's clock. */
  readonly time: GuestTime;
  /** The vCPUs' performance monitors, by id (`performance_monitors.ts`). */
  readonly pmus?: readonly Pmu[];
  /** Answers an HVC or SMC exit of `vcpu`. */
  guestCall(vcpu: Vcpu, exit: VcpuExit): void;
  /** Reboots (a guest reset or a host restart). */
  reboot(clear?: { offset: number; length: number }): void;
  /** Goes on at a new entry with a fresh register context. */
  boot(entry: number, x0: number): void;
  /** What a guest reset does. */
  onReset(): "restart" | "exit";
  /** Hands buffered console output to the sink. */
  flushConsole(): void;
  /** A rate-limited diagnostic line of `kind`. */
  log(kind: string, message: () => string): void;
  /** An attached debugger (`debug_target.ts`); absent, the loop does nothing for one. */
  readonly debugger?: RunLoopDebugger;
}

const YIELD_EVERY_MS = 10;
const MAX_CALLS_PER_TURN = 16;
const TICKS_PER_MS = COUNTER_FREQUENCY_HZ / 1000;
/** Guest time under the virtual clock: one counter tick per this many instructions. */
const INSTRUCTIONS_PER_TICK = 4;

/**
 * The guest's time. `host`: the counter follows the host's clock and idle
 * periods are slept through. `virtual`: it moves only with the instructions
 * the vCPUs retire (one tick per four) and jumps over idle periods, so runs
 * of the same guest read the same times and are interrupted at the same
 * points; the vCPUs' timers are evaluated and their counter reads answered
 * from it.
 *
 * @example
 * ```ts
 * import { GuestTime } from "@vmkit/vmm";
 *
 * const time = new GuestTime("virtual");
 * time.retired(400);
 * console.log(time.ticks, time.now(8)); // 100n 102n
 * ```
 */
export class GuestTime {
  /** The policy. */
  readonly mode: "host" | "virtual";
  #ticks = 0n;
  // Instructions retired towards the next tick.
  #partial = 0;

  /** A clock of the given policy, at 0. */
  constructor(mode: "host" | "virtual") {
    this.mode = mode;
  }

  /** Virtual guest time in counter ticks, between runs (meaningful under the virtual clock). */
  get ticks(): bigint {
    return this.#ticks;
  }

  /**
   * The time a vCPU sees that has retired `retiredInRun` instructions of the
   * run in progress: never less than any earlier reading, and what
   * {@link retired} makes of the run's end.
   */
  now(retiredInRun: number): bigint {
    return this.#ticks + BigInt(Math.floor((this.#partial + retiredInRun) / INSTRUCTIONS_PER_TICK));
  }

  /** `count` more instructions retired (a run ended). */
  retired(count: number): void {
    const total = this.#partial + count;
    const ticks = Math.floor(total / INSTRUCTIONS_PER_TICK);
    this.#partial = total - ticks * INSTRUCTIONS_PER_TICK;
    this.#ticks += BigInt(ticks);
  }

  /** Skips idle guest time up to `ticks`. */
  skipTo(ticks: bigint): void {
    if (ticks > this.#ticks) {
      this.#ticks = ticks;
      this.#partial = 0;
    }
  }
}

/**
 * Runs until the guest or the host ends the run, or `deadline`
 * (`performance.now()` milliseconds; `Infinity` for none) passes.
 */
export async function runLoop(host: RunLoopHost, deadline: number): Promise<RunOutcome> {
  const { life, events, vcpus, cpus, time } = host;
  let yieldAt = performance.now() + YIELD_EVERY_MS;
  let next = 0;
  // Guest calls in a row the current vCPU made without giving up its turn,
  // and whether its turn goes on.
  let calls = 0;
  let goesOn = false;
  // The debugger parks the loop only where it awaits anyway, and on its own exits.
  const debug = host.debugger;
  // The vCPU the debugger steps next, and the one it has just stepped (-1: none).
  let stepping = debug?.begin() ? await debug.pause(-1, undefined) : -1;
  let stepped = -1;
  for (;;) {
    const ended = serviceRequest(host);
    if (ended) return ended;
    if (stepped >= 0) {
      stepping = await debug!.pause(stepped, undefined);
      stepped = -1;
    }
    const i = stepping >= 0 ? stepping : pickRunnable(host, next);
    if (i < 0) {
      host.flushConsole();
      await idle(host, deadline);
      yieldAt = performance.now() + YIELD_EVERY_MS;
      if (debug?.pausing) stepping = await debug.pause(-1, undefined);
    } else {
      if (!goesOn) calls = 0;
      goesOn = false;
      next = (i + 1) % vcpus.length;
      const vcpu = vcpus[i];
      cpus.started(i);
      life.executing = true;
      let exit: VcpuExit;
      try {
        exit = i === stepping ? vcpu.step() : vcpu.run();
      } finally {
        life.executing = false;
      }
      if (i === stepping) {
        stepping = -1;
        stepped = i;
      }
      time.retired(exit.instructions);
      accountPmu(host.pmus?.[i], vcpu);
      switch (exit.reason) {
        case "preempted":
        case "stopped":
          break;
        case "hvc":
        case "smc":
          // PSCI may start, stop or suspend vCPUs (CPU_SUSPEND marks it waiting).
          host.guestCall(vcpu, exit);
          // A call is not the end of a turn: the caller goes on (a few times
          // in a row at most, so callers in a loop still share the engine).
          if (cpus.power(i) === "on" && !cpus.waiting(i) && ++calls < MAX_CALLS_PER_TURN) {
            next = i;
            goesOn = true;
            continue;
          }
          break;
        case "wfi":
          cpus.wait(i);
          break;
        case "debug":
          stepped = -1;
          if (debug) stepping = await debug.pause(i, exit);
          break;
        case "exception-loop":
          return crash(
            `the guest crashed: CPU ${i} keeps faulting on its exception vector at pc 0x${
              vcpu.getPc().toString(16)
            } (exception ${exit.exception}, ESR 0x${exit.syndrome.toString(16)})`,
          );
        case "unhandled-exception":
          return crash(
            `the guest crashed: exception ${exit.exception} (ESR 0x${
              exit.syndrome.toString(16)
            }) on CPU ${i} at pc 0x${vcpu.getPc().toString(16)} cannot be delivered`,
          );
      }
    }
    const now = performance.now();
    if (now >= deadline) {
      // A run that was ending anyway ends the way it was asked to.
      const kind = life.pending?.kind;
      if (kind !== "stop" && kind !== "close" && kind !== "poweroff") {
        return { reason: "timeout", status: 0, message: "the run timed out" };
      }
      continue;
    }
    if (now >= yieldAt) {
      host.flushConsole();
      await events.yield();
      yieldAt = performance.now() + YIELD_EVERY_MS;
      if (debug?.pausing) stepping = await debug.pause(-1, undefined);
    }
  }
}

/**
 * The next vCPU to run, round-robin from `from`: on, and not waiting — a
 * waiting one whose interrupt line rose (or whose timer fired) stops waiting.
 * -1 when none can run.
 */
function pickRunnable(host: RunLoopHost, from: number): number {
  const { vcpus, cpus } = host;
  const n = vcpus.length;
  for (let k = 0; k < n; k++) {
    const j = (from + k) % n;
    if (cpus.power(j) === "off") continue;
    if (cpus.waiting(j)) {
      const v = vcpus[j];
      v.updateTimer();
      host.pmus?.[j].update();
      if (!v.irqLine) continue;
      cpus.wake(j);
    }
    return j;
  }
  return -1;
}

/** Carries out the pending request; returns how the run ends, if it does. */
function serviceRequest(host: RunLoopHost): RunOutcome | undefined {
  const request = host.life.take();
  if (request === undefined) return undefined;
  switch (request.kind) {
    case "stop":
      return { reason: "stopped", status: 0, message: request.message };
    case "close":
      return { reason: "stopped", status: 0, message: "the VM was closed" };
    case "poweroff":
      return {
        reason: "poweroff",
        status: request.status,
        message: request.status === 0
          ? "the guest powered off"
          : `the guest powered off with exit status ${request.status}`,
      };
    case "reset":
      if (host.onReset() === "exit") {
        return { reason: "reset", status: 0, message: "the guest rebooted" };
      }
      host.log("reboot", () => "the guest rebooted; reloading its images");
      host.flushConsole();
      host.reboot();
      return undefined;
    case "restart":
      host.flushConsole();
      host.reboot(request.clear);
      return undefined;
    case "boot":
      host.boot(request.entry, request.x0);
      return undefined;
  }
}

function crash(message: string): RunOutcome {
  return { reason: "crash", status: 0, message };
}

/** Every vCPU waits (or is off): sleep until the next timer or a host event. */
async function idle(host: RunLoopHost, deadline: number): Promise<void> {
  const { vcpus, cpus, life, time } = host;
  if (life.pending !== undefined) return;
  // A timer whose output is already high and still left the IRQ line low is
  // one the GIC does not deliver (disabled, masked, or its priority too
  // low): it cannot end this wait, and waking for it would spin, so only
  // timers yet to fire count.
  let due: bigint | undefined;
  for (let i = 0; i < vcpus.length; i++) {
    if (cpus.power(i) === "off") continue;
    const v = vcpus[i];
    v.updateTimer();
    host.pmus?.[i].update();
    if (v.irqLine) return;
    for (const d of [v.timerDeadline(), host.pmus?.[i].deadline()]) {
      if (d !== undefined && (due === undefined || d < due)) due = d;
    }
  }
  const now = vcpus[0].counter();
  if (due !== undefined && due <= now) return;
  if (time.mode === "virtual" && due !== undefined) {
    time.skipTo(due);
    if (cpus.anyOn()) return;
  }
  if (time.mode === "host" || due === undefined) {
    const timerMs = due === undefined ? Infinity : Number(due - now) / TICKS_PER_MS;
    // The sleep is at most a few weeks long: the loop comes back and sleeps again.
    await host.events.sleep(Math.min(timerMs, deadline - performance.now()));
  }
}

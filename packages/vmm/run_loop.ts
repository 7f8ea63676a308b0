/**
 * The run loop: runs the vCPU slice after slice, answers its exits, carries
 * out the pending lifecycle request at each safe point, sleeps while the
 * guest idles, and yields to the host's event loop every few milliseconds.
 *
 * @module
 */

import type { Vcpu, VcpuExit } from "@vmkit/vcpu";
import { COUNTER_FREQUENCY_HZ } from "@vmkit/vcpu";
import type { VmExitReason } from "./config.ts";
import type { EventLoopYield } from "./event_loop.ts";
import type { Lifecycle } from "./lifecycle.ts";

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
  /** The vCPU to run. */
  vcpu(): Vcpu;
  /** The VM's lifecycle, whose pending request the loop carries out. */
  readonly life: Lifecycle;
  /** Yielding and sleeping. */
  readonly events: EventLoopYield;
  /** The clock policy. */
  clock(): "host" | "virtual";
  /** Whether the guest entered PSCI standby (clears it). */
  takeStandby(): boolean;
  /** Answers an HVC or SMC exit. */
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
}

const YIELD_EVERY_MS = 10;
const TICKS_PER_MS = COUNTER_FREQUENCY_HZ / 1000;

/**
 * Runs until the guest or the host ends the run, or `deadline`
 * (`performance.now()` milliseconds; `Infinity` for none) passes.
 */
export async function runLoop(host: RunLoopHost, deadline: number): Promise<RunOutcome> {
  const { life, events } = host;
  let yieldAt = performance.now() + YIELD_EVERY_MS;
  for (;;) {
    const vcpu = host.vcpu();
    const ended = serviceRequest(host);
    if (ended) return ended;
    life.executing = true;
    let exit: VcpuExit;
    try {
      exit = vcpu.run();
    } finally {
      life.executing = false;
    }
    switch (exit.reason) {
      case "preempted":
      case "stopped":
        break;
      case "hvc":
      case "smc":
        host.guestCall(vcpu, exit);
        // PSCI standby: idle as after WFI, then go on.
        if (host.takeStandby()) {
          host.flushConsole();
          await idle(host, vcpu, deadline);
          yieldAt = performance.now() + YIELD_EVERY_MS;
        }
        break;
      case "wfi":
        host.flushConsole();
        await idle(host, vcpu, deadline);
        yieldAt = performance.now() + YIELD_EVERY_MS;
        break;
      case "exception-loop":
        return crash(
          `the guest crashed: it keeps faulting on its exception vector at pc 0x${
            vcpu.getPc().toString(16)
          } (exception ${exit.exception}, ESR 0x${exit.syndrome.toString(16)})`,
        );
      case "unhandled-exception":
        return crash(
          `the guest crashed: exception ${exit.exception} (ESR 0x${
            exit.syndrome.toString(16)
          }) at pc 0x${vcpu.getPc().toString(16)} cannot be delivered`,
        );
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
    }
  }
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

async function idle(host: RunLoopHost, vcpu: Vcpu, deadline: number): Promise<void> {
  // The timer may have fired since the run ended.
  vcpu.updateTimer();
  // An interrupt that arrived after the engine halted wakes it right away.
  if (vcpu.irqLine || host.life.pending !== undefined) return;
  // A timer whose output is already high and still left the IRQ line low is
  // one the GIC does not deliver (disabled, masked, or its priority too
  // low): it cannot end this wait, and waking for it would spin, so only
  // timers yet to fire count.
  const due = vcpu.timerDeadline();
  const now = vcpu.counter();
  if (due !== undefined && due <= now) return;
  if (host.clock() === "virtual" && due !== undefined) {
    vcpu.counterOffset -= due - now;
    return;
  }
  const timerMs = due === undefined ? Infinity : Number(due - now) / TICKS_PER_MS;
  // The sleep is at most a few weeks long: the loop comes back and sleeps again.
  await host.events.sleep(Math.min(timerMs, deadline - performance.now()));
}

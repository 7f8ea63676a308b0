/**
 * The VM's lifecycle as one explicit state machine, instead of overlapping
 * flags.
 *
 * ```
 *            loadLinux / setEntry / setImageLoader
 *  created ─────────────────────────────────────────► ready ◄──────────┐
 *     │                                                 │ run()        │ the run ends
 *     │                                                 ▼              │ (poweroff, reset with
 *     │                                              running ──────────┘  onReset "exit", stop,
 *     │ close()                  close() (deferred       │               crash, timeout)
 *     ▼                          to the end of the run)  ▼
 *  closed ◄─────────────────────────────────────────────────
 * ```
 *
 * While `running`, the guest is either executing (a device or interrupt
 * callback is on the stack, inside the engine) or between slices. Anything
 * asked of a running VM becomes a pending {@link VmRequest} the run loop
 * carries out at its next safe point, between slices, so every call means
 * the same from a callback as from anywhere else, and none frees or rewrites
 * the engine under itself. There are two slots:
 *
 * - what ends the run: `close`, then the guest's `poweroff`, then a host
 *   `stop` (a request never replaces one before it in that list);
 * - what the machine does and goes on running: the guest's `reset`, a host
 *   `restart` or `boot` (the later one wins). A host `restart` or `boot`
 *   also withdraws a pending `stop` or `poweroff`: it means "start again".
 *
 * An ending request is carried out first; an action still pending then waits
 * for the next run, so a guest that reset just before the host stopped it
 * reboots when it runs again instead of resuming past its reset call.
 *
 * @module
 */

import { VmmError } from "./errors.ts";

/**
 * The VM's states (see the module docs for the transitions).
 *
 * @example
 * ```ts
 * import type { VmState } from "@vmkit/vmm";
 *
 * const canRun = (state: VmState) => state === "ready";
 * console.log(canRun("created")); // false
 * ```
 */
export type VmState = "created" | "ready" | "running" | "closed";

/**
 * A request the run loop carries out at its next safe point:
 * - `stop`: end the run (`stopped`), from the host;
 * - `poweroff`: end the run (`poweroff`) with the guest's exit status;
 * - `reset`: the guest asked to reboot — reboot, or end the run with `onReset: "exit"`;
 * - `restart`: the host asked to reboot (always goes on running), clearing `clear` of RAM
 *   (all of it when absent);
 * - `boot`: go on at a new entry point with a fresh register context (RAM untouched);
 * - `close`: end the run and free the VM.
 *
 * @example
 * ```ts
 * import type { VmRequest } from "@vmkit/vmm";
 *
 * const request: VmRequest = { kind: "restart", clear: { offset: 0, length: 4096 } };
 * console.log(request.kind); // "restart"
 * ```
 */
export type VmRequest =
  | { readonly kind: "stop"; readonly message: string }
  | { readonly kind: "poweroff"; readonly status: number }
  | { readonly kind: "reset" }
  | {
    readonly kind: "restart";
    readonly clear?: { readonly offset: number; readonly length: number };
  }
  | { readonly kind: "boot"; readonly entry: number; readonly x0: number }
  | { readonly kind: "close" };

/**
 * The state, whether the guest is executing, and the pending request.
 *
 * @example
 * ```ts
 * import { Lifecycle } from "@vmkit/vmm";
 *
 * const life = new Lifecycle();
 * life.to("ready");
 * life.to("running");
 * life.request({ kind: "stop", message: "enough" });
 * life.request({ kind: "restart" }); // "start again": the stop is withdrawn
 * console.log(life.take()?.kind); // "restart"
 * ```
 */
export class Lifecycle {
  #state: VmState = "created";
  #executing = false;
  #end: VmRequest | undefined;
  #action: VmRequest | undefined;

  /** The current state. */
  get state(): VmState {
    return this.#state;
  }

  /** Whether the guest is executing: callbacks on the stack run inside the engine. */
  get executing(): boolean {
    return this.#executing;
  }

  set executing(value: boolean) {
    this.#executing = value;
  }

  /** The request the run loop carries out next, if any. */
  get pending(): VmRequest | undefined {
    return this.#end ?? this.#action;
  }

  /**
   * Moves to `next`.
   *
   * @throws {VmmError} `INVALID_STATE` for a transition the machine does not have.
   */
  to(next: VmState): void {
    const from = this.#state;
    const allowed = from === "closed" ? next === "closed" : next === "closed" ||
      (from === "created" && next === "ready") ||
      (from === "ready" && (next === "running" || next === "ready")) ||
      (from === "running" && next === "ready");
    if (!allowed) {
      throw new VmmError("INVALID_STATE", `the VM cannot go from ${from} to ${next}`);
    }
    this.#state = next;
    if (next !== "running") this.#executing = false;
  }

  /** Records `request` for the run loop (see the module docs for which wins). */
  request(request: VmRequest): void {
    const end = this.#end?.kind;
    switch (request.kind) {
      case "close":
        this.#end = request;
        return;
      case "poweroff":
        if (end !== "close") this.#end = request;
        return;
      case "stop":
        if (end === undefined || end === "stop") this.#end = request;
        return;
      case "reset":
        this.#action = request;
        return;
      case "restart":
      case "boot":
        this.#action = request;
        if (end === "stop" || end === "poweroff") this.#end = undefined;
        return;
    }
  }

  /** Withdraws a pending `stop` (a `guest_start` right after a `guest_stop`). */
  cancelStop(): void {
    if (this.#end?.kind === "stop") this.#end = undefined;
  }

  /** The request to carry out now, which is then no longer pending. */
  take(): VmRequest | undefined {
    const r = this.#end ?? this.#action;
    if (r === this.#end) this.#end = undefined;
    else this.#action = undefined;
    return r;
  }

  /** Forgets a pending ending request (the run that it would end is over). */
  clearEnd(): void {
    this.#end = undefined;
  }

  /**
   * Throws unless the state is one of `states`, saying what could not be done.
   *
   * @throws {VmmError} `INVALID_STATE`.
   */
  require(what: string, ...states: VmState[]): void {
    if (states.includes(this.#state)) return;
    const why = this.#state === "closed"
      ? "the VM is closed"
      : this.#state === "running"
      ? "the VM is running (stop it first)"
      : this.#state === "created"
      ? "nothing is loaded yet"
      : `the VM is ${this.#state}`;
    throw new VmmError("INVALID_STATE", `cannot ${what}: ${why}`);
  }
}

/**
 * Drives a {@link VirtualMachine} in this process the way a person at its
 * console would (wait for text, type, wait again), for tests that need the
 * VM itself: its restart, its devices' counters. `CliProcess` does the same
 * for the `vmkit` command.
 *
 * @module
 */

import { VirtualMachine, type VmConfig, type VmExit } from "@vmkit/vmm";

/** A VM whose console output is collected as text. */
export class VmConsole {
  readonly vm: VirtualMachine;
  #output = "";
  #exit: VmExit | undefined;
  #failure: unknown;
  #run: Promise<VmExit> | undefined;

  /** A VM built from `config`; its console sink is this object's. */
  constructor(config: Omit<VmConfig, "console">) {
    const decoder = new TextDecoder();
    this.vm = new VirtualMachine({
      ...config,
      console: { write: (b) => this.#output += decoder.decode(b, { stream: true }) },
    });
  }

  /** Everything the guest printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Starts the run (images loaded); see {@link exited}. */
  start(timeoutMs: number): void {
    this.#run = this.vm.run({ timeoutMs });
    this.#run.then((e) => this.#exit = e, (e) => this.#failure = e ?? new Error("run failed"));
  }

  /** How the run ended. */
  async exited(): Promise<VmExit> {
    if (!this.#run) throw new Error("the VM was not started");
    return await this.#run;
  }

  /** Types text into the guest console. */
  type(text: string): void {
    this.vm.sendInput(new TextEncoder().encode(text));
  }

  /**
   * Waits until the output after `from` matches `pattern`; returns the match
   * and where the output ended.
   */
  async expect(
    pattern: RegExp,
    timeoutMs: number,
    from = 0,
  ): Promise<{ match: RegExpExecArray; end: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.#output.slice(from));
      if (m) return { match: m, end: from + m.index + m[0].length };
      if (this.#exit || this.#failure) {
        throw new Error(
          `the VM ended (${this.#exit?.message ?? this.#failure}) before ${pattern} appeared; ` +
            `console tail:\n${this.#output.slice(-3000)}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(
          `timed out waiting for ${pattern}; console tail:\n${this.#output.slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Busybox's shell prompt at the end of the output so far: `/ # `, which its
 * line editor follows with a cursor-position query (ESC [6n).
 */
export const SHELL_PROMPT: RegExp = new RegExp(`/ # (?:${"\\x1b"}\\[6n)?$`, "m");

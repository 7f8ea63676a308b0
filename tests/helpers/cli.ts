/**
 * Drives the `vmkit` command as a separate process, the way a person at a
 * terminal would: wait for text on the console, type, wait again.
 *
 * @module
 */

import { type Requirement, toolRequirement } from "../../testing/requirements.ts";
import { ROOT } from "./assets.ts";

/** How to start `vmkit`. */
export interface CliOptions {
  /**
   * Run it on a pseudo-terminal (through util-linux `script`), as a person
   * at a terminal would: raw mode and the escape keys apply. Its stdout and
   * stderr then arrive together as {@link CliProcess.stdout}.
   */
  terminal?: boolean;
  /** Run it through another command, e.g. `["ip", "netns", "exec", NAME]`. */
  wrap?: readonly string[];
}

const VMKIT_ARGS = [
  "run",
  "--allow-read",
  // Writable disk images (--disk) are opened for writing.
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  // --gdb listens on a TCP port.
  "--allow-net",
  `${ROOT}apps/cli/main.ts`,
];

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A running `vmkit` process. */
export class CliProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stdout = "";
  #stderr = "";
  readonly #done: Promise<void>;
  #status: Deno.CommandStatus | undefined;

  constructor(args: string[], options: CliOptions = {}) {
    const command = [...(options.wrap ?? []), Deno.execPath(), ...VMKIT_ARGS, ...args];
    try {
      this.#child = new Deno.Command(options.terminal ? "script" : command[0], {
        // -e: script's exit status is vmkit's; -f: output as it comes.
        args: options.terminal
          ? ["-qef", "-c", command.map(shellQuote).join(" "), "/dev/null"]
          : command.slice(1),
        cwd: ROOT,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (options.terminal && e instanceof Deno.errors.NotFound) {
        throw new Error("running vmkit on a terminal needs util-linux script (Debian: bsdutils)");
      }
      throw e;
    }
    this.#writer = this.#child.stdin.getWriter();
    const decoder = new TextDecoder();
    const drain = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
    };
    this.#done = Promise.all([
      drain(this.#child.stdout, (t) => this.#stdout += t),
      drain(this.#child.stderr, (t) => this.#stderr += t),
      this.#child.status.then((s) => {
        this.#status = s;
      }),
    ]).then(() => {});
  }

  /** Everything the guest console printed so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Everything VMKit printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The process id (of `script` when on a terminal). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status once the process has ended. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Ends the input: the process reads end of file. */
  async closeInput(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
  }

  /** Types text into the guest console. */
  async type(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /**
   * Waits until the console output after `from` matches `pattern`; returns
   * the match and where the output ended.
   */
  async expect(
    pattern: RegExp,
    timeoutMs: number,
    from = 0,
  ): Promise<{ match: RegExpExecArray; end: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.#stdout.slice(from));
      if (m) return { match: m, end: from + m.index + m[0].length };
      if (this.#status) {
        throw new Error(
          `vmkit exited (${this.#status.code}) before ${pattern} appeared.\nstderr: ${this.#stderr}\nconsole tail: ${
            this.#stdout.slice(-2000)
          }`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(
          `timed out waiting for ${pattern}; console tail:\n${this.#stdout.slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` to the process (SIGKILL: as if the host crashed under it). */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits for the process to end; returns its exit code. */
  async exit(timeoutMs = 60_000): Promise<number> {
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    try {
      await this.#done;
    } finally {
      clearTimeout(timer);
    }
    return this.#status!.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
    if (!this.#status) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.#done;
  }
}

/** What {@link CliProcess}'s `terminal` option runs on (Debian and Ubuntu: bsdutils, always installed). */
export function terminalRequirement(): Requirement {
  return toolRequirement("script", "apt-get install bsdutils", ["-V"]);
}

/** Runs `vmkit args...` to completion with no input. */
export async function runVmkit(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  await using p = new CliProcess(args);
  const code = await p.exit(timeoutMs);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

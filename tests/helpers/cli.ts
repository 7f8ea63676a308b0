/**
 * Drives the `vmkit` command as a separate process, the way a person at a
 * terminal would: wait for text on the console, type, wait again.
 *
 * @module
 */

import { ROOT } from "./assets.ts";

/** A running `vmkit` process. */
export class CliProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stdout = "";
  #stderr = "";
  readonly #done: Promise<void>;
  #status: Deno.CommandStatus | undefined;

  /** `wrap` runs it through another command, e.g. `["ip", "netns", "exec", NAME]`. */
  constructor(args: string[], wrap: readonly string[] = []) {
    this.#child = new Deno.Command(wrap[0] ?? Deno.execPath(), {
      args: [
        ...(wrap.length > 0 ? [...wrap.slice(1), Deno.execPath()] : []),
        "run",
        "--allow-read",
        // Writable disk images (--disk) are opened for writing.
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        `${ROOT}apps/cli/main.ts`,
        ...args,
      ],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
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

/** Runs `vmkit args...` to completion with no input. */
export async function runVmkit(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  await using p = new CliProcess(args);
  const code = await p.exit(timeoutMs);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/**
 * `vmkit` with `--gdb` as a separate process, and the real gdb client (`gdb-multiarch`, batch
 * mode) or a raw TCP client against its stub.
 *
 * @module
 */

import { toolRequirement } from "../../testing/requirements.ts";
import { CliProcess } from "./cli.ts";

/** gdb-multiarch, or the command that installs it. */
export const gdbClient = toolRequirement("gdb-multiarch", "sudo apt-get install -y gdb-multiarch");

/** A vmkit process whose stub listens on a port the system picked. */
export interface GdbVm {
  readonly vm: CliProcess;
  readonly port: number;
}

/** Starts `vmkit ARGS --gdb 127.0.0.1:0` and waits for the line that says where it listens. */
export async function startWithGdb(args: string[], timeoutMs = 60_000): Promise<GdbVm> {
  const vm = new CliProcess([...args, "--gdb", "127.0.0.1:0"]);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const m = /gdb stub on 127\.0\.0\.1:(\d+) /.exec(vm.stderr);
    if (m) return { vm, port: Number(m[1]) };
    if (vm.status || performance.now() > deadline) {
      await vm[Symbol.asyncDispose]();
      throw new Error(`vmkit did not start its gdb stub; stderr:\n${vm.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The gdb arguments: load `file` (symbols) when given, connect, then one `-ex` per command. */
function gdbArgs(port: number, commands: readonly string[], file?: string): string[] {
  const all = [
    "set pagination off",
    "set confirm off",
    ...(file ? [`file ${file}`] : ["set architecture aarch64"]),
    `target remote 127.0.0.1:${port}`,
    ...commands,
  ];
  return ["-batch", "-nx", ...all.flatMap((c) => ["-ex", c])];
}

/** Runs gdb in batch mode to its end and returns everything it printed. */
export async function runGdbBatch(
  port: number,
  commands: readonly string[],
  options: { file?: string; timeoutMs?: number } = {},
): Promise<{ out: string; code: number }> {
  const output = await new Deno.Command("gdb-multiarch", {
    args: gdbArgs(port, commands, options.file),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
  }).output();
  const decoder = new TextDecoder();
  return { out: decoder.decode(output.stdout) + decoder.decode(output.stderr), code: output.code };
}

/** Starts gdb in batch mode and leaves it running; what it prints is collected as it comes. */
export function spawnGdbBatch(port: number, commands: readonly string[]): {
  child: Deno.ChildProcess;
  output: () => string;
  done: Promise<Deno.CommandStatus>;
} {
  const child = new Deno.Command("gdb-multiarch", {
    args: gdbArgs(port, commands),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]).then(() => child.status);
  return { child, output: () => text, done };
}

/** A raw client of the remote protocol: sends bytes, collects what the stub answers. */
export class RawGdbClient implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  #received = "";
  #closed = false;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = (async () => {
      const buffer = new Uint8Array(65536);
      const decoder = new TextDecoder("latin1");
      for (;;) {
        let n: number | null;
        try {
          n = await conn.read(buffer);
        } catch {
          n = null;
        }
        if (n === null) break;
        this.#received += decoder.decode(buffer.subarray(0, n));
      }
      this.#closed = true;
    })();
  }

  /** Connects to the stub. */
  static async connect(port: number): Promise<RawGdbClient> {
    return new RawGdbClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Everything received so far. */
  get received(): string {
    return this.#received;
  }

  /** Whether the stub closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends raw bytes (a string of code points below 256). */
  async sendRaw(text: string): Promise<void> {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }

  /** Sends `$payload#checksum`. */
  send(payload: string): Promise<void> {
    return this.sendRaw(`$${payload}#${checksum(payload)}`);
  }

  /** Waits until what was received after `from` matches `pattern`; returns the match and its end. */
  async expect(
    pattern: RegExp,
    from = 0,
    timeoutMs = 30_000,
  ): Promise<{ match: RegExpExecArray; end: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.#received.slice(from));
      if (m) return { match: m, end: from + m.index + m[0].length };
      if (this.#closed || performance.now() > deadline) {
        throw new Error(
          `${this.#closed ? "the stub closed the connection" : "timed out"} before ${pattern}; ` +
            `received after ${from}: ${JSON.stringify(this.#received.slice(from, from + 400))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Closes the connection (as a client that dies would). */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
    await this.#reading;
  }
}

/** The protocol's checksum of a payload, two hex digits. */
export function checksum(payload: string): string {
  let sum = 0;
  for (const c of payload) sum = (sum + c.charCodeAt(0)) & 0xff;
  return sum.toString(16).padStart(2, "0");
}

/**
 * Running the real gdb client against a stub in the same process: `gdb-multiarch` in batch
 * mode, told `set architecture aarch64` and `target remote`, then the test's commands.
 */

import { toolRequirement } from "../../../testing/requirements.ts";

export const GDB = "gdb-multiarch";

/** gdb-multiarch, or the command that installs it. */
export const gdbRequirement = toolRequirement(GDB, "sudo apt-get install -y gdb-multiarch");

/**
 * The gdb arguments that connect to `port` and then run `commands`, one `-ex` each; in batch
 * mode gdb exits after them, otherwise it goes on to read commands from its standard input.
 */
export function gdbArgs(port: number, commands: readonly string[], batch = true): string[] {
  const all = ["set architecture aarch64", `target remote 127.0.0.1:${port}`, ...commands];
  return [batch ? "-batch" : "-q", "-nx", ...all.flatMap((c) => ["-ex", c])];
}

/** Runs gdb to the end (killed after `timeoutMs`) and returns what it printed. */
export async function runGdb(
  port: number,
  commands: readonly string[],
  timeoutMs = 60_000,
): Promise<{ out: string; code: number }> {
  const output = await new Deno.Command(GDB, {
    args: gdbArgs(port, commands),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const decoder = new TextDecoder();
  return { out: decoder.decode(output.stdout) + decoder.decode(output.stderr), code: output.code };
}

/**
 * Starts gdb and leaves it running; its output is collected as it comes. With `wait`, gdb
 * stays after the commands, waiting for more on its standard input (left open) until killed.
 */
export function spawnGdb(port: number, commands: readonly string[], wait = false): {
  child: Deno.ChildProcess;
  output: () => string;
  done: Promise<Deno.CommandStatus>;
} {
  const child = new Deno.Command(GDB, {
    args: gdbArgs(port, commands, !wait),
    stdin: wait ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]).then(async () => {
    if (wait) await child.stdin.close().catch(() => {});
    return child.status;
  });
  return { child, output: () => text, done };
}

/** Polls `condition` on the event loop until it holds, failing after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

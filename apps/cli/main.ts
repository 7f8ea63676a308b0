/**
 * The `vmkit` executable: `deno run --allow-read --allow-env --allow-ffi main.ts COMMAND ...`.
 *
 * @module
 */

import { type CliHost, runCli } from "./cli.ts";

/** The host of a real terminal process. */
export function denoHost(): CliHost {
  const encoder = new TextEncoder();
  return {
    interactive: Deno.stdin.isTerminal(),
    setRaw: (raw) => Deno.stdin.setRaw(raw),
    read: (buffer) => Deno.stdin.read(buffer),
    message: (text) => writeAll(Deno.stderr, encoder.encode(text)),
    stdout: (bytes) => writeAll(Deno.stdout, bytes),
    stderr: (line) => writeAll(Deno.stderr, encoder.encode(line + "\n")),
    readFile: (path) => Deno.readFile(path),
    onSignal: (handler) => {
      const signals = [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const;
      const listeners = signals.map(([name, number]) => {
        const listener = () => handler(name, number);
        Deno.addSignalListener(name, listener);
        return [name, listener] as const;
      });
      return () => {
        for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
      };
    },
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += stream.writeSync(bytes.subarray(done));
}

if (import.meta.main) {
  const status = await runCli(denoHost(), Deno.args);
  Deno.exit(status);
}

/**
 * The `--gdb [HOST:]PORT` and `--gdb-wait` flags of `vmkit run` and `vmkit demo`.
 *
 * @module
 */

import type { VmGdbOptions } from "@vmkit/vmm";
import { CliError } from "./errors.ts";

/**
 * Where the stub listens unless a host is given: only this machine can attach.
 *
 * @example
 * ```ts
 * import { DEFAULT_GDB_HOST } from "@vmkit/cli";
 *
 * console.log(DEFAULT_GDB_HOST); // 127.0.0.1
 * ```
 */
export const DEFAULT_GDB_HOST = "127.0.0.1";

/**
 * Parses `--gdb`'s value, `PORT` or `HOST:PORT` (`[ADDR]:PORT` for an IPv6
 * address), and `--gdb-wait`, into the VM's `gdb` option. PORT is 0 to
 * 65535 (0: the system picks one, and vmkit prints it).
 *
 * @throws {CliError} `USAGE` for a bad value, or `--gdb-wait` without `--gdb`.
 *
 * @example
 * ```ts
 * import { parseGdbFlag } from "@vmkit/cli";
 *
 * console.log(parseGdbFlag("1234", false)); // { host: "127.0.0.1", port: 1234, wait: false }
 * console.log(parseGdbFlag("0.0.0.0:1234", true)?.host); // 0.0.0.0
 * console.log(parseGdbFlag(undefined, false)); // undefined
 * ```
 */
export function parseGdbFlag(
  value: string | undefined,
  wait: boolean,
): VmGdbOptions | undefined {
  if (value === undefined) {
    if (wait) throw new CliError("USAGE", "--gdb-wait needs --gdb [HOST:]PORT");
    return undefined;
  }
  const bad = (why: string) =>
    new CliError("USAGE", `--gdb: expected [HOST:]PORT, got ${JSON.stringify(value)}: ${why}`);
  let host = DEFAULT_GDB_HOST;
  let port = value;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(value);
  if (bracketed) {
    [host, port] = [bracketed[1], bracketed[2]];
  } else if (value.includes(":")) {
    const colon = value.lastIndexOf(":");
    if (value.indexOf(":") !== colon) throw bad("write an IPv6 address as [ADDR]:PORT");
    host = value.slice(0, colon) || DEFAULT_GDB_HOST;
    port = value.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw bad("the port must be 0 to 65535");
  if (/[\s/]/.test(host)) throw bad("not a host name or address");
  return { host, port: Number(port), wait };
}

/**
 * The status line saying where the stub listens.
 *
 * @example
 * ```ts
 * import { gdbListening } from "@vmkit/cli";
 *
 * console.log(gdbListening({ transport: "tcp", hostname: "127.0.0.1", port: 1234 }, false));
 * // vmkit: gdb stub on 127.0.0.1:1234 (target remote 127.0.0.1:1234)
 * ```
 */
export function gdbListening(addr: Deno.NetAddr, wait: boolean): string {
  const at = addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
  return `vmkit: gdb stub on ${at} (target remote ${at})` +
    (wait ? "; the guest waits for the debugger" : "");
}

/**
 * `vmkit up FILE.json`: boots every VM the file describes in this one process, joins their
 * network cards through in-process switches (by name) or TAP devices, prints each console line
 * with the VM's name in front, and ends when every VM has powered off — or, as soon as one
 * ends any other way, stops the rest and names it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EthernetSwitch, NetError, TapBackend } from "@vmkit/net";
import type { NetBackend } from "@vmkit/virtio";
import { type DiskConfig, VirtualMachine, type VmExit, VmmError } from "@vmkit/vmm";
import type { CliHost } from "./cli.ts";
import { PrefixedLines } from "./console_lines.ts";
import { closeDisks, openDisks } from "./disks.ts";
import { CliError } from "./errors.ts";
import { parseUpFile, type UpFile } from "./up_config.ts";

/**
 * `vmkit up --help`.
 *
 * @example
 * ```ts
 * import { type CliHost, runCli, UP_HELP } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const errors: string[] = [];
 * const host: CliHost = {
 *   interactive: false, // no terminal: no raw mode, no escape keys
 *   setRaw: () => {},
 *   read: () => Promise.resolve(null), // no input
 *   message: () => {},
 *   stdout: (bytes) => void (out += new TextDecoder().decode(bytes)),
 *   stderr: (line) => void errors.push(line),
 *   readFile: (path) => Deno.readFile(path),
 * };
 * assert.equal(await runCli(host, ["up", "--help"]), 0);
 * assert.equal(out, UP_HELP);
 * ```
 */
export const UP_HELP = `Usage: vmkit up FILE.json [options]

Boots every VM in FILE.json in this process and joins their network cards:
cards naming the same "switch" are on one in-process Ethernet switch, a
"tap" card is on that Linux TAP device (which needs CAP_NET_ADMIN). Each
console line is printed with the VM's name in front: [name] ...
The consoles take no input; Ctrl-C stops every VM.

FILE.json (paths relative to its folder; the schema is up.schema.json in
the @vmkit/cli package):
  { "vms": [ { "name": "a", "kernel": "Image", "initrd": "a.cpio",
               "cmdline": "console=ttyAMA0", "mem": "256M", "smp": 1,
               "disks": [ { "path": "a.img", "readonly": false } ],
               "nets": [ { "switch": "lan" }, { "tap": "tap0", "mac": "52:54:00:12:34:56" } ] } ] }
  name and kernel are required; mem is a size such as 256M or a number of
  MiB (default 256M); a card without "mac" gets one made from the VM's
  name and the card's position, the same every run.

Options:
      --timeout SECONDS  stop every VM after this much wall time (exit status 1)
  -q, --quiet            no VMKit status lines, only the consoles
  -h, --help             show this help

Exit status: 0 once every VM has powered off; 1 as soon as one VM crashes,
times out, or powers off with a non-zero status (the others are stopped,
and one line names it and why); 2 on a bad file (one line naming the key
and what was expected there) or files, disks or TAP devices that cannot be
opened; 128 + N when signal N (SIGINT, SIGTERM, SIGHUP) ends the run.
`;

const FLAGS = {
  timeout: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** One VM of the run and what it holds open. */
interface Guest {
  readonly name: string;
  readonly vm: VirtualMachine;
  readonly lines: PrefixedLines;
}

/** What the file needs opened: disks and TAP devices, per VM; the switches, by name. */
interface Opened {
  readonly disks: DiskConfig[][];
  readonly nets: NetBackend[][];
  readonly switches: Map<string, EthernetSwitch>;
}

function formatCount(n: number): string {
  return n < 1e6 ? String(n) : `${(n / 1e6).toFixed(0)} M`;
}

async function readImage(host: CliHost, where: string, path: string): Promise<Uint8Array> {
  try {
    return await host.readFile(path);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (e as Error).message;
    throw new CliError("USAGE", `${where}: cannot read ${JSON.stringify(path)}: ${reason}`);
  }
}

/** Opens every disk and TAP device and makes the switches; on a failure closes what it opened. */
async function open(file: string, config: UpFile): Promise<Opened> {
  const opened: Opened = { disks: [], nets: [], switches: new Map() };
  try {
    for (const [i, vm] of config.vms.entries()) {
      try {
        opened.disks.push(await openDisks(vm.disks));
      } catch (e) {
        if (e instanceof CliError) {
          throw new CliError("USAGE", `${file}: vms[${i}].disks: ${e.message}`);
        }
        throw e;
      }
      const nets: NetBackend[] = [];
      opened.nets.push(nets);
      for (const [k, n] of vm.nets.entries()) {
        if (n.kind === "switch") {
          let sw = opened.switches.get(n.name);
          if (sw === undefined) {
            sw = new EthernetSwitch({ name: n.name });
            opened.switches.set(n.name, sw);
          }
          nets.push(sw.port(`${vm.name}.eth${k}`));
          continue;
        }
        try {
          nets.push(TapBackend.open(n.name));
        } catch (e) {
          if (!(e instanceof NetError)) throw e;
          throw new CliError("USAGE", `${file}: vms[${i}].nets[${k}].tap: ${e.message}`);
        }
      }
    }
    return opened;
  } catch (e) {
    release(opened);
    throw e;
  }
}

/** Closes what no VM took over. */
function release(opened: Opened): void {
  for (const disks of opened.disks) closeDisks(disks);
  for (const nets of opened.nets) for (const n of nets) void n.close?.();
  for (const sw of opened.switches.values()) sw.close();
}

/**
 * Runs `vmkit up ARGS`; returns the exit status.
 *
 * @example
 * ```ts
 * import { type CliHost, DEMO_GUEST_URL, upCommand } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const errors: string[] = [];
 * const host: CliHost = {
 *   interactive: false, // no terminal: no raw mode, no escape keys
 *   setRaw: () => {},
 *   read: () => Promise.resolve(null), // no input
 *   message: () => {},
 *   stdout: (bytes) => void (out += new TextDecoder().decode(bytes)),
 *   stderr: (line) => void errors.push(line),
 *   readFile: (path) => Deno.readFile(path),
 * };
 * // Two demo guests in one process, each console line prefixed with its VM's name.
 * const dir = await Deno.makeTempDir();
 * const vms = ["a", "b"].map((name) => ({ name, kernel: DEMO_GUEST_URL.pathname, mem: "64M" }));
 * await Deno.writeTextFile(`${dir}/up.json`, JSON.stringify({ vms }));
 * assert.equal(await upCommand(host, [`${dir}/up.json`, "--quiet"]), 0);
 * assert.match(out, /^\[a\] demo: all checks passed/m);
 * assert.match(out, /^\[b\] demo: all checks passed/m);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function upCommand(host: CliHost, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: true });
  } catch (e) {
    throw new CliError("USAGE", (e as Error).message.split("\n")[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    host.stdout(new TextEncoder().encode(UP_HELP));
    return 0;
  }
  if (positionals.length !== 1) {
    throw new CliError(
      "USAGE",
      positionals.length === 0
        ? "up: FILE.json is required (see vmkit up --help)"
        : `up: one file, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0) {
      throw new CliError(
        "USAGE",
        `--timeout: expected a positive number of seconds, got ${JSON.stringify(values.timeout)}`,
      );
    }
    timeoutMs = s * 1000;
  }
  const quiet = values.quiet === true;
  const path = positionals[0];
  const file = path.slice(path.lastIndexOf("/") + 1);
  const text = new TextDecoder().decode(await readImage(host, "up", path));
  const config = parseUpFile(text, path);
  const images = [];
  for (const [i, vm] of config.vms.entries()) {
    images.push({
      kernel: await readImage(host, `${file}: vms[${i}].kernel`, vm.kernel),
      initrd: vm.initrd === undefined
        ? undefined
        : await readImage(host, `${file}: vms[${i}].initrd`, vm.initrd),
    });
  }
  const opened = await open(file, config);
  return await run(host, config, opened, images, { timeoutMs, quiet });
}

async function run(
  host: CliHost,
  config: UpFile,
  opened: Opened,
  images: { kernel: Uint8Array; initrd?: Uint8Array }[],
  options: { timeoutMs?: number; quiet: boolean },
): Promise<number> {
  const encoder = new TextEncoder();
  const status = (line: string) => {
    if (!options.quiet) host.stderr(line);
  };
  const guests: Guest[] = [];
  let taken = 0;
  let signalled: { name: string; number: number } | undefined;
  let unlisten: (() => void) | undefined;
  try {
    for (const [i, v] of config.vms.entries()) {
      const lines = new PrefixedLines(v.name, (line) => host.stdout(encoder.encode(line)));
      let vm: VirtualMachine;
      try {
        vm = new VirtualMachine({
          memorySize: v.memorySize,
          cpus: v.cpus,
          disks: opened.disks[i],
          nets: v.nets.map((n, k) => ({ backend: opened.nets[i][k], mac: n.mac })),
          console: { write: (bytes) => lines.write(bytes) },
          onLog: (message) => status(`vmkit: [${v.name}] ${message}`),
        });
      } catch (e) {
        if (e instanceof VmmError) {
          throw new VmmError(e.code, `[${v.name}] ${e.message}`, { cause: e });
        }
        throw e;
      }
      // The VM closes its disks and network backends from here on.
      taken = i + 1;
      guests.push({ name: v.name, vm, lines });
      try {
        await vm.loadLinux({ ...images[i], cmdline: v.cmdline });
      } catch (e) {
        if (e instanceof VmmError) {
          throw new VmmError(e.code, `[${v.name}] ${e.message}`, { cause: e });
        }
        throw e;
      }
    }
    unlisten = host.onSignal?.((name, number) => {
      signalled ??= { name, number };
      for (const g of guests) g.vm.stop(`terminated by ${name}`);
    });
    let failure: { guest: Guest; exit?: VmExit; error?: unknown } | undefined;
    const stopOthers = (culprit: Guest) => {
      for (const g of guests) if (g !== culprit) g.vm.stop(`stopped because ${culprit.name} ended`);
    };
    await Promise.all(guests.map(async (g) => {
      let exit: VmExit;
      try {
        exit = await g.vm.run({ timeoutMs: options.timeoutMs });
      } catch (error) {
        failure ??= { guest: g, error };
        stopOthers(g);
        return;
      } finally {
        g.lines.flush();
      }
      const summary = `after ${exit.seconds.toFixed(1)} s, ${
        formatCount(exit.instructions)
      } guest instructions`;
      if (exit.reason === "poweroff" && exit.status === 0) {
        status(`vmkit: [${g.name}] the guest powered off ${summary}`);
        return;
      }
      if (exit.reason === "stopped" && (signalled || failure)) return;
      failure ??= { guest: g, exit };
      stopOthers(g);
    }));
    if (signalled) {
      host.stderr(`vmkit: terminated by ${signalled.name}`);
      return 128 + signalled.number;
    }
    if (failure) {
      const f = failure;
      const why = f.exit
        ? `${f.exit.message} after ${f.exit.seconds.toFixed(1)} s`
        : `the VM failed: ${(f.error as Error)?.message ?? f.error}`;
      host.stderr(`vmkit: [${f.guest.name}] ${why}`);
      return 1;
    }
    return 0;
  } finally {
    unlisten?.();
    for (const g of guests) g.vm.close();
    // Backends of VMs never made are still ours.
    release({
      disks: opened.disks.slice(taken),
      nets: opened.nets.slice(taken),
      switches: opened.switches,
    });
  }
}

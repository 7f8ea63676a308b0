/**
 * The `vmkit` command: argument parsing, the `run` and `demo` commands, and
 * turning every failure into one line and an exit status.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type CpuModel, VcpuError } from "@vmkit/vcpu";
import { parseMemorySize, VirtualMachine, type VmConfig, type VmExit, VmmError } from "@vmkit/vmm";
import { ConsoleSession } from "./terminal.ts";
import type { ConsoleIo } from "./terminal.ts";
import { DemoGuestError, loadDemoGuest } from "./demo_guest.ts";
import { versionReport } from "./version.ts";
import { CliError } from "./errors.ts";
import { closeDisks, openDisks, parseDiskSpec } from "./disks.ts";
import { UP_HELP, upCommand } from "./up.ts";
import { gdbListening, parseGdbFlag } from "./gdb_flag.ts";

export { CliError, type CliErrorCode } from "./errors.ts";

/**
 * What the command needs from its host; the real one uses Deno's stdio.
 *
 * @example
 * ```ts
 * import { type CliHost, runCli } from "@vmkit/cli";
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
 * assert.equal(await runCli(host, ["demo", "--quiet"]), 0);
 * assert.match(out, /demo: all checks passed/);
 * ```
 */
export interface CliHost extends ConsoleIo {
  /**
   * Calls `handler` with the signal's name and number when the process gets
   * SIGINT, SIGTERM or SIGHUP; returns a function that stops listening.
   * Optional: a host without signals never calls it.
   */
  onSignal?(handler: (name: string, number: number) => void): () => void;
  /** Guest console output. */
  stdout(bytes: Uint8Array): void;
  /** One line of VMKit status or error (no newline). */
  stderr(line: string): void;
  /** Reads a file named on the command line. */
  readFile(path: string): Promise<Uint8Array>;
}

/**
 * Exit statuses.
 *
 * @example
 * ```ts
 * import { type CliHost, EXIT, runCli } from "@vmkit/cli";
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
 * assert.equal(await runCli(host, ["run", "--smp", "2"]), EXIT.BAD_INPUT); // no --kernel
 * assert.equal(errors.length, 1);
 * ```
 */
export const EXIT = { OK: 0, FAILED: 1, BAD_INPUT: 2 } as const;

const MAIN_HELP = `vmkit — boot AArch64 guests on the Unicorn CPU emulator

Usage:
  vmkit run --kernel FILE [options]   boot an arm64 Linux kernel
  vmkit demo [options]                boot the built-in demo guest
  vmkit up FILE.json [options]        boot several VMs joined by networks
  vmkit version                       versions of VMKit, Deno and the Unicorn engine
  vmkit help [COMMAND]                show help

Run "vmkit COMMAND --help" for a command's options.
`;

const COMMON_OPTIONS = `  -m, --mem SIZE         RAM size, e.g. 256M or 1G (default 256M)
      --cpu MODEL        cortex-a72 (default), cortex-a53 or cortex-a57
      --smp N            vCPUs, 1-8 (default 1)
      --clock MODE       host (default): guest time is host time;
                         virtual: idle periods are skipped
      --timeout SECONDS  give up after this much wall time (exit status 1)
      --no-reboot        exit when the guest reboots instead of restarting it
      --gdb [HOST:]PORT  serve gdb's remote protocol (host 127.0.0.1 unless
                         given); in gdb: target remote HOST:PORT
      --gdb-wait         hold the guest at its first instruction until gdb
                         attaches and continues
  -q, --quiet            no VMKit status lines, only the guest console
  -h, --help             show this help
`;

const RUN_HELP = `Usage: vmkit run --kernel FILE [options]

Boots an arm64 Linux kernel with the guest console on this terminal.
Quit with Ctrl-A x (Ctrl-A h lists the escape keys).

Options:
  -k, --kernel FILE      kernel Image, uncompressed or gzip-compressed (required)
  -i, --initrd FILE      initial RAM disk (initramfs)
  -d, --dtb FILE         device tree to use instead of the generated one
  -a, --append TEXT      kernel command line (default: console=ttyAMA0 earlycon,
                         or console=hvc0 with --console virtio)
      --disk FILE[,ro]   a raw disk image on virtio-blk; repeat for more (the
                         guest sees /dev/vda, /dev/vdb, ... in this order).
                         ,ro attaches it read-only; ,serial=ID sets its serial
      --console DEVICE   pl011 (default): the console on the UART (ttyAMA0);
                         virtio: on a virtio-console (hvc0)
      --no-rng           no virtio-rng entropy device (there is one by default)
${COMMON_OPTIONS}
Exit status: 0 when the guest powers off, the guest's own status when it
powers off through the exit-status device, 1 on a guest crash or timeout,
2 on bad input (missing or invalid files, a disk image that cannot be
opened, or written without ,ro, bad options), 128 + N when signal N
(SIGINT, SIGTERM, SIGHUP) ends the run.
`;

const DEMO_HELP = `Usage: vmkit demo [options]

Boots the built-in demo guest: a small bare-metal program that prints
through the UART, takes timer interrupts through the GIC, calls PSCI and
powers off, in about a third of a second. Its source is guests/demo/ in
the VMKit repository.

Options:
${COMMON_OPTIONS}
Exit status: 0 when the guest powers off and all its checks passed, 1 when
one failed (the demo reports it through the exit-status device) or on a
crash, 128 + N when signal N ends the run.
`;

const VERSION_HELP = `Usage: vmkit version  (or vmkit --version)

Prints VMKit's version, Deno's, and the Unicorn engine's with the file it
was loaded from ($VMKIT_UNICORN_PATH when set, else the usual library
names; ./vmkit sets it to the engine it chose). Warns when the engine is
older than 2.1. Only loads the engine; runs nothing on it.

Exit status: 0, or 1 when the engine cannot be loaded.
`;

class UsageError extends CliError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

const COMMON_FLAGS = {
  mem: { type: "string", short: "m" },
  cpu: { type: "string" },
  smp: { type: "string" },
  clock: { type: "string" },
  timeout: { type: "string" },
  "no-reboot": { type: "boolean" },
  gdb: { type: "string" },
  "gdb-wait": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(args: string[], options: Flags): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    // node:util's messages name the offending flag; keep them to one line.
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

interface CommonOptions {
  config: VmConfig;
  timeoutMs?: number;
  quiet: boolean;
}

function commonOptions(values: Values): CommonOptions {
  const config: VmConfig = {};
  if (values.mem !== undefined) {
    try {
      config.memorySize = parseMemorySize(String(values.mem));
    } catch (e) {
      throw new UsageError(`--mem: ${(e as Error).message}`);
    }
  }
  if (values.cpu !== undefined) config.cpuModel = String(values.cpu) as CpuModel;
  if (values.smp !== undefined) {
    const n = Number(values.smp);
    if (!/^\d+$/.test(String(values.smp)) || n < 1 || n > 8) {
      throw new UsageError(
        `--smp: expected a number of vCPUs from 1 to 8 (the GICv2 limit), got ${
          JSON.stringify(values.smp)
        }`,
      );
    }
    config.cpus = n;
  }
  if (values.clock !== undefined) {
    if (values.clock !== "host" && values.clock !== "virtual") {
      throw new UsageError(
        `--clock: expected host or virtual, got ${JSON.stringify(values.clock)}`,
      );
    }
    config.clock = values.clock;
  }
  if (values["no-reboot"]) config.onReset = "exit";
  config.gdb = parseGdbFlag(values.gdb as string | undefined, values["gdb-wait"] === true);
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0) {
      throw new UsageError(
        `--timeout: expected a positive number of seconds, got ${JSON.stringify(values.timeout)}`,
      );
    }
    timeoutMs = s * 1000;
  }
  return { config, timeoutMs, quiet: values.quiet === true };
}

async function readNamed(host: CliHost, what: string, path: string): Promise<Uint8Array> {
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
    throw new UsageError(`cannot read the ${what} ${JSON.stringify(path)}: ${reason}`);
  }
}

// Millions for a kernel boot; a small guest like the demo would read "0 M".
function formatCount(n: number): string {
  return n < 1e6 ? String(n) : `${(n / 1e6).toFixed(0)} M`;
}

/** Boots `load` into a new VM with the console attached; returns the exit status. */
async function boot(
  host: CliHost,
  common: CommonOptions,
  load: (vm: VirtualMachine) => Promise<void>,
): Promise<number> {
  const status = (line: string) => {
    if (!common.quiet) host.stderr(line);
  };
  let vm: VirtualMachine;
  try {
    vm = new VirtualMachine({
      ...common.config,
      console: { write: (bytes) => host.stdout(bytes) },
      onLog: (message) => status(`vmkit: ${message}`),
    });
  } catch (e) {
    // The VM owns the disks only once it exists.
    closeDisks(common.config.disks ?? []);
    throw e;
  }
  if (vm.gdb) status(gdbListening(vm.gdb.addr, common.config.gdb?.wait === true));
  let session: ConsoleSession | undefined;
  let signalled: { name: string; number: number } | undefined;
  const unlisten = host.onSignal?.((name, number) => {
    signalled ??= { name, number };
    vm.stop(`terminated by ${name}`);
  });
  try {
    await load(vm);
    let quit = false;
    session = new ConsoleSession(host, {
      input: (bytes) => vm.sendInput(bytes),
      quit: () => {
        quit = true;
        vm.stop("quit from the console");
      },
    });
    session.pump().catch(() => {});
    const exit: VmExit = await vm.run({ timeoutMs: common.timeoutMs });
    session.close();
    const summary = `after ${exit.seconds.toFixed(1)} s, ${
      formatCount(exit.instructions)
    } guest instructions`;
    switch (exit.reason) {
      case "poweroff":
        if (exit.status !== 0) {
          host.stderr(`\r\nvmkit: ${exit.message} ${summary}`);
          return exit.status;
        }
        status(`\r\nvmkit: the guest powered off ${summary}`);
        return EXIT.OK;
      case "reset":
        status(`\r\nvmkit: the guest rebooted (--no-reboot) ${summary}`);
        return EXIT.OK;
      case "stopped":
        if (signalled) {
          host.stderr(`\r\nvmkit: ${exit.message} ${summary}`);
          return 128 + signalled.number;
        }
        if (quit) {
          status(`\r\nvmkit: quit ${summary}`);
          return EXIT.OK;
        }
        host.stderr(`\r\nvmkit: stopped ${summary}`);
        return EXIT.FAILED;
      case "timeout":
        host.stderr(`\r\nvmkit: timed out ${summary}`);
        return EXIT.FAILED;
      case "crash":
        host.stderr(`\r\nvmkit: ${exit.message}`);
        return EXIT.FAILED;
    }
    return EXIT.FAILED;
  } finally {
    unlisten?.();
    session?.close();
    vm.close();
  }
}

async function runCommand(host: CliHost, args: string[]): Promise<number> {
  const values = parse(args, {
    ...COMMON_FLAGS,
    kernel: { type: "string", short: "k" },
    initrd: { type: "string", short: "i" },
    dtb: { type: "string", short: "d" },
    append: { type: "string", short: "a" },
    disk: { type: "string", multiple: true },
    console: { type: "string" },
    "no-rng": { type: "boolean" },
  });
  if (values.help) {
    host.stdout(new TextEncoder().encode(RUN_HELP));
    return EXIT.OK;
  }
  if (typeof values.kernel !== "string") {
    throw new UsageError("run: --kernel FILE is required (see vmkit run --help)");
  }
  const common = commonOptions(values);
  const kernel = await readNamed(host, "kernel", values.kernel);
  const initrd = typeof values.initrd === "string"
    ? await readNamed(host, "initrd", values.initrd)
    : undefined;
  const dtb = typeof values.dtb === "string"
    ? await readNamed(host, "device tree", values.dtb)
    : undefined;
  const cmdline = typeof values.append === "string" ? values.append : undefined;
  if (values.console !== undefined && values.console !== "pl011" && values.console !== "virtio") {
    throw new UsageError(
      `--console: expected pl011 or virtio, got ${JSON.stringify(values.console)}`,
    );
  }
  common.config.consoleDevice = values.console;
  if (values["no-rng"]) common.config.rng = false;
  // Parsed before anything is opened, so a bad flag leaves no file open.
  const specs = ((values.disk ?? []) as string[]).map(parseDiskSpec);
  common.config.disks = await openDisks(specs);
  return await boot(host, common, async (vm) => {
    await vm.loadLinux({ kernel, initrd, dtb, cmdline });
  });
}

async function demoCommand(host: CliHost, args: string[]): Promise<number> {
  const values = parse(args, COMMON_FLAGS);
  if (values.help) {
    host.stdout(new TextEncoder().encode(DEMO_HELP));
    return EXIT.OK;
  }
  const common = commonOptions(values);
  const guest = await loadDemoGuest();
  return await boot(host, common, async (vm) => {
    await vm.loadLinux({ kernel: guest });
  });
}

function versionCommand(host: CliHost, args: string[]): number {
  const values = parse(args, { help: { type: "boolean", short: "h" } });
  if (values.help) {
    host.stdout(new TextEncoder().encode(VERSION_HELP));
    return EXIT.OK;
  }
  const report = versionReport();
  host.stdout(new TextEncoder().encode(report.stdout.map((l) => l + "\n").join("")));
  for (const line of report.stderr) host.stderr(`vmkit: ${line}`);
  return report.ok ? EXIT.OK : EXIT.FAILED;
}

/**
 * Runs the `vmkit` command line and returns the exit status. Nothing is
 * thrown: every failure becomes one line on stderr.
 *
 * @example
 * ```ts
 * import { type CliHost, runCli } from "@vmkit/cli";
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
 * assert.equal(await runCli(host, ["help", "run"]), 0);
 * assert.match(out, /Usage: vmkit run --kernel FILE/);
 * ```
 */
export async function runCli(host: CliHost, args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "run":
        return await runCommand(host, rest);
      case "demo":
        return await demoCommand(host, rest);
      case "up":
        return await upCommand(host, rest);
      case "version":
      case "--version":
        return versionCommand(host, rest);
      case undefined:
      case "help":
      case "--help":
      case "-h": {
        const topic = rest[0];
        const text = topic === "run"
          ? RUN_HELP
          : topic === "demo"
          ? DEMO_HELP
          : topic === "version"
          ? VERSION_HELP
          : topic === "up"
          ? UP_HELP
          : MAIN_HELP;
        host.stdout(new TextEncoder().encode(text));
        return command === undefined ? EXIT.BAD_INPUT : EXIT.OK;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (try vmkit help)`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      host.stderr(`vmkit: ${e.message}`);
      return EXIT.BAD_INPUT;
    }
    if (e instanceof VmmError) {
      host.stderr(`vmkit: ${e.message}`);
      return e.code === "LOAD_FAILED" || e.code === "BAD_CONFIG" ? EXIT.BAD_INPUT : EXIT.FAILED;
    }
    if (e instanceof DemoGuestError) {
      host.stderr(`vmkit: ${e.message}`);
      return EXIT.FAILED;
    }
    if (e instanceof VcpuError) {
      host.stderr(`vmkit: ${e.message}`);
      return EXIT.FAILED;
    }
    host.stderr(`vmkit: internal error: ${(e as Error)?.message ?? e}`);
    return EXIT.FAILED;
  }
}

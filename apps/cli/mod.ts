/**
 * The `vmkit` command line as a library: run it with your own host (for tests
 * or embedding) or use the Deno-terminal host of `main.ts`.
 *
 * ```ts ignore
 * import { runCli } from "@vmkit/cli";
 * import { denoHost } from "@vmkit/cli/main";
 * Deno.exit(await runCli(denoHost(), ["demo"]));
 * ```
 *
 * @module
 */

export { CliError, type CliErrorCode, type CliHost, EXIT, runCli } from "./cli.ts";
export { closeDisks, type DiskSpec, openDisks, parseDiskSpec } from "./disks.ts";
export {
  DEMO_GUEST_URL,
  DemoGuestError,
  type DemoGuestErrorCode,
  loadDemoGuest,
} from "./demo_guest.ts";
export { slowEngineWarning, versionReport, VMKIT_VERSION } from "./version.ts";
export {
  type ConsoleHandlers,
  type ConsoleIo,
  ConsoleSession,
  ESCAPE_HELP,
  EscapeDecoder,
} from "./terminal.ts";
export { UP_HELP, upCommand } from "./up.ts";
export { MAX_VMS, parseUpFile, type UpFile, type UpNet, type UpVm } from "./up_config.ts";
export { PrefixedLines } from "./console_lines.ts";
export { DEFAULT_GDB_HOST, gdbListening, parseGdbFlag } from "./gdb_flag.ts";

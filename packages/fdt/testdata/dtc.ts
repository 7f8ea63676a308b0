/**
 * Access to the real `dtc` for tests. Tests that need it are ignored with a message when it is
 * missing, unless VMKIT_REQUIRE_ASSETS=1, in which case they run and fail
 * (`testing/requirements.ts` at the workspace root decides).
 */
import { type Requirement, toolRequirement } from "../../../testing/requirements.ts";

/** The command that installs dtc. */
export const DTC_INSTALL = "sudo apt-get install device-tree-compiler";

/** dtc, as a requirement of the tests that run it. */
export function dtcRequirement(): Requirement {
  return toolRequirement("dtc", DTC_INSTALL);
}

/** `ignore` for the Deno.tests that need dtc; says once why they are ignored. */
export function ignoreWithoutDtc(): boolean {
  return dtcRequirement().ignore;
}

/** Runs dtc asynchronously with `args`, feeding `input`; returns stdout. */
export async function dtcAsync(args: string[], input?: Uint8Array | string): Promise<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("dtc", {
      args: ["-q", ...args],
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new Error(`dtc could not run: ${e}. Install it with: ${DTC_INSTALL}`);
  }
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(typeof input === "string" ? new TextEncoder().encode(input) : input);
    await writer.close();
  }
  const result = await child.output();
  if (!result.success) {
    throw new Error(`dtc ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
  return result.stdout;
}

/** dtc's DTS rendering of a blob. */
export async function dtbToDts(blob: Uint8Array): Promise<string> {
  return new TextDecoder().decode(await dtcAsync(["-I", "dtb", "-O", "dts", "-"], blob));
}

/** dtc's blob for DTS source. */
export function dtsToDtb(source: string, extra: string[] = []): Promise<Uint8Array> {
  return dtcAsync(["-I", "dts", "-O", "dtb", ...extra, "-"], source);
}

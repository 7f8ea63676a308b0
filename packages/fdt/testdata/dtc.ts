/**
 * Access to the real `dtc` for tests. Tests that need it are ignored with a message when it is
 * missing, unless VMKIT_REQUIRE_ASSETS=1, in which case they run and fail.
 */

/** Whether `dtc` runs on this machine. */
export function hasDtc(): boolean {
  try {
    return new Deno.Command("dtc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Whether missing assets must fail rather than be ignored. */
export function assetsRequired(): boolean {
  return Deno.env.get("VMKIT_REQUIRE_ASSETS") === "1";
}

/**
 * `ignore` for a Deno.test that needs dtc; prints once per call site why the test is ignored.
 */
export function ignoreWithoutDtc(what: string): boolean {
  if (hasDtc() || assetsRequired()) return false;
  console.warn(
    `ignoring ${what}: dtc not found. Install it with: sudo apt-get install device-tree-compiler`,
  );
  return true;
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
    throw new Error(
      `dtc is required (VMKIT_REQUIRE_ASSETS=1) but could not run: ${e}. ` +
        "Install it with: sudo apt-get install device-tree-compiler",
    );
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

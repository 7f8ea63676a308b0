/**
 * `vmkit version`: what is running — VMKit, Deno, and the Unicorn engine
 * with the file it was loaded from. Only loads the engine (its version comes
 * from its own `uc_version`); nothing runs on it, so this works even where a
 * guest would not.
 *
 * @module
 */

import { UnicornLibrary, type UnicornVersion } from "@vmkit/vcpu";
import config from "./deno.json" with { type: "json" };

/**
 * This VMKit's version: `version` in `@vmkit/cli`'s deno.json.
 *
 * @example
 * ```ts
 * import { VMKIT_VERSION } from "@vmkit/cli";
 * console.log(`vmkit ${VMKIT_VERSION}`);
 * ```
 */
export const VMKIT_VERSION: string = config.version;

/**
 * The one-line warning for an engine older than 2.1, whose guest stores all
 * take the slow path; `undefined` for 2.1 and newer.
 *
 * @example
 * ```ts
 * import { slowEngineWarning } from "@vmkit/cli";
 * console.log(slowEngineWarning({ major: 2, minor: 0, patch: 1 }) !== undefined); // true
 * console.log(slowEngineWarning({ major: 2, minor: 1, patch: 1 })); // undefined
 * ```
 */
export function slowEngineWarning(version: UnicornVersion): string | undefined {
  if (version.major > 2 || (version.major === 2 && version.minor >= 1)) return undefined;
  const v = `${version.major}.${version.minor}.${version.patch}`;
  return `warning: Unicorn ${v} is older than 2.1: every guest store takes the engine's slow ` +
    "path and Linux boots several times slower. Use 2.1 or newer: start VMKit through ./vmkit " +
    "without VMKIT_UNICORN_PATH (it fetches Debian 13's 2.1 into .cache/engines/ by itself), " +
    "install your system's 2.1 (Debian 13 and later: libunicorn2t64), or point " +
    "VMKIT_UNICORN_PATH at one.";
}

/** Where a loaded library came from, as a person can find it. */
function describePath(path: string): string {
  if (!path.includes("/")) return `${path} (found on the dynamic loader's search path)`;
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/**
 * The `version` command's output: lines for stdout, and lines for stderr
 * (a warning, or why the engine could not be loaded). `ok` is false when it
 * could not.
 *
 * @example
 * ```ts
 * import { versionReport, VMKIT_VERSION } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const report = versionReport(); // opens the engine as `vmkit version` does
 * assert.equal(report.stdout[0], `vmkit ${VMKIT_VERSION}`);
 * assert.match(report.stdout[2], /^unicorn 2\./);
 * const broken = versionReport(() => {
 *   throw new Error("libunicorn.so.2: cannot open shared object file");
 * });
 * assert.deepEqual([broken.ok, broken.stderr], [false, [
 *   "libunicorn.so.2: cannot open shared object file",
 * ]]);
 * ```
 */
export function versionReport(
  open: () => UnicornLibrary = () => UnicornLibrary.open(),
): { stdout: string[]; stderr: string[]; ok: boolean } {
  const stdout = [`vmkit ${VMKIT_VERSION}`, `deno ${Deno.version.deno}`];
  let library: UnicornLibrary;
  try {
    library = open();
  } catch (e) {
    return { stdout, stderr: [(e as Error).message], ok: false };
  }
  try {
    stdout.push(`unicorn ${library.versionString} ${describePath(library.path)}`);
    const warning = slowEngineWarning(library.version);
    return { stdout, stderr: warning ? [warning] : [], ok: true };
  } finally {
    library.close();
  }
}

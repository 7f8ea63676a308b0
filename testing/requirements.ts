/**
 * What a test does when something it needs is missing (a tool such as dtc or
 * QEMU, a downloaded kernel, a built guest): it is *ignored*, visibly, with a
 * name and a message saying what is missing and the command that provides
 * it; and with `VMKIT_REQUIRE_ASSETS=1` (what `./vmkit test` and CI set)
 * nothing is ignored: the test runs and fails saying the same.
 *
 * The one place that reads `VMKIT_REQUIRE_ASSETS`. It lives at the workspace
 * root, outside every package, because the packages' tests and the
 * cross-package tests in `tests/` all need it. It imports nothing, so a
 * package's tests still run with `deno test` inside the package; it is test
 * code only, and no published module imports it (packages exclude their
 * tests and `testdata/` from publishing).
 *
 * @module
 */

/** Whether missing assets must fail tests instead of having them ignored (`VMKIT_REQUIRE_ASSETS=1`). */
export function assetsRequired(): boolean {
  try {
    return Deno.env.get("VMKIT_REQUIRE_ASSETS") === "1";
  } catch {
    // Without --allow-env nobody asked for it.
    return false;
  }
}

/** Thrown by {@link Requirement.assert} for a missing requirement. */
export class RequirementError extends Error {
  /** Always `ASSET_MISSING`. */
  readonly code = "ASSET_MISSING" as const;

  /** @param message what is missing and how to get it */
  constructor(message: string) {
    super(message);
    this.name = "RequirementError";
  }
}

/** Something tests need, and what to do about it. */
export interface Requirement {
  /** Whether it is there. */
  readonly present: boolean;
  /** For `Deno.test`'s `ignore`: missing, and missing assets are allowed. */
  readonly ignore: boolean;
  /** To append to test names: `""` when present, else ` [needs …: …]`. */
  readonly label: string;
  /** Why it is missing and how to get it; `""` when present. */
  readonly problem: string;
  /** Throws a {@link RequirementError} when it is missing. Call it first in the test. */
  assert(): void;
}

/**
 * A requirement whose presence the caller worked out. `what` names it
 * ("dtc", "Debian's kernel at …"), `fix` is the command or step that
 * provides it. Prints one line when it is missing: a warning that tests are
 * ignored, or, under `VMKIT_REQUIRE_ASSETS=1`, an error.
 *
 * @example
 * ```ts
 * import { requirement } from "./requirements.ts";
 * const big = requirement("a 64-bit host", Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64", "a 64-bit machine");
 * Deno.test({ name: `runs on a 64-bit host${big.label}`, ignore: big.ignore, fn: () => big.assert() });
 * ```
 */
export function requirement(what: string, present: boolean, fix: string): Requirement {
  const required = assetsRequired();
  const problem = present ? "" : `${what} is missing; provide it with: ${fix}`;
  if (!present) {
    if (required) console.error(`VMKIT_REQUIRE_ASSETS=1 and ${problem}`);
    else console.warn(`ignoring the tests that need ${what}: ${problem}`);
  }
  return {
    present,
    ignore: !present && !required,
    label: present ? "" : ` [needs ${what}: ${fix}]`,
    problem,
    assert() {
      if (!present) throw new RequirementError(problem);
    },
  };
}

/** A file tests read, e.g. a downloaded kernel; `fix` says how to get it. */
export function fileRequirement(path: string, fix: string): Requirement {
  let present = false;
  try {
    present = Deno.statSync(path).isFile;
  } catch {
    // Absent or unreadable: either way the tests cannot use it.
  }
  return requirement(path, present, fix);
}

/** Whether `command args…` runs and exits 0. */
export function commandRuns(command: string, args: readonly string[] = ["--version"]): boolean {
  try {
    return new Deno.Command(command, { args: [...args], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * A program tests run, found when `command --version` (or `args`) succeeds;
 * `fix` is the command that installs it.
 */
export function toolRequirement(
  command: string,
  fix: string,
  args: readonly string[] = ["--version"],
): Requirement {
  return requirement(command, commandRuns(command, args), fix);
}

/**
 * A privilege tests need (root, to make network namespaces and TAP devices). Unlike an asset,
 * nothing can install it: without it the tests are *ignored* with `fix` in their name, also
 * under `VMKIT_REQUIRE_ASSETS=1`, and one line says so. CI runs as root, so they run there.
 */
export function privilegeRequirement(what: string, present: boolean, fix: string): Requirement {
  const problem = present ? "" : `${what} is missing; ${fix}`;
  if (!present) console.warn(`ignoring the tests that need ${what}: ${problem}`);
  return {
    present,
    ignore: !present,
    label: present ? "" : ` [needs ${what}: ${fix}]`,
    problem,
    assert() {
      if (!present) throw new RequirementError(problem);
    },
  };
}

/**
 * Asks a Unicorn library its version by calling its own `uc_version`: the
 * only answer that cannot be wrong about a file (package metadata describes
 * what was installed, not what is on disk). `scripts/ensure.sh` runs it to
 * choose the engine.
 *
 * Usage: deno run --allow-ffi --allow-read scripts/engine_probe.ts PATH...
 *
 * Tries each path in order and prints `VERSION PATH` for the first that
 * loads, with symlinks in PATH followed. Exits 1 with one line per failed
 * path on stderr when none loads.
 *
 * @module
 */

const SYMBOLS = { uc_version: { parameters: ["pointer", "pointer"], result: "u32" } } as const;

/** The file behind `name` with symlinks followed, or `name` when it is a bare soname. */
function realPath(name: string): string {
  if (!name.includes("/")) return name;
  try {
    return Deno.realPathSync(name);
  } catch {
    return name;
  }
}

const failures: string[] = [];
for (const name of Deno.args) {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(name, SYMBOLS);
  } catch (e) {
    // Deno repeats its prefix ("Could not open library: Could not open library: ...").
    const reason = (e as Error).message.split("\n")[0].replace(/^(Could not open library: )+/, "");
    failures.push(
      reason.includes("uc_version") ? `${name}: not a Unicorn library (no uc_version)` : reason,
    );
    continue;
  }
  const v = lib.symbols.uc_version(null, null);
  console.log(`${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff} ${realPath(name)}`);
  lib.close();
  Deno.exit(0);
}
for (const f of failures) console.error(f);
Deno.exit(1);

/**
 * `deno doc --lint` for one workspace package the way its published docs are read: the package's
 * `mod.ts` together with the `mod.ts` of every workspace package it imports, so a type such as
 * `@vmkit/vcpu`'s `Vcpu` that `@vmkit/vmm` names counts as public (it is, in the package that
 * defines it) instead of having to be re-exported with everything it names in turn. Fails on
 * every diagnostic located in the package itself; those located in a dependency are printed as
 * notes, since they belong to that package's own check.
 *
 *   deno run --allow-read --allow-run scripts/doc_lint.ts packages/vmm [...]
 *
 * @module
 */

/** A diagnostic of `deno doc --lint`: its first line and where it points. */
export interface DocLintDiagnostic {
  readonly message: string;
  readonly file: string;
  readonly line: number;
}

/** Directories of the workspace packages, by package name (`@vmkit/vcpu` → `packages/vcpu`). */
export function workspacePackages(root: string): Map<string, string> {
  const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  const byName = new Map<string, string>();
  for (const member of config.workspace as string[]) {
    const dir = member.replace(/^\.\//, "");
    const name = JSON.parse(Deno.readTextFileSync(`${root}/${dir}/deno.json`)).name;
    byName.set(name, dir);
  }
  return byName;
}

/** Workspace packages that `dir`'s published modules (tests excluded) import, directly or not. */
export function workspaceDependencies(dir: string, packages: Map<string, string>): string[] {
  const seen = new Set<string>();
  const pending = [dir];
  while (pending.length > 0) {
    for (const dep of directDependencies(pending.pop()!, packages)) {
      if (dep !== dir && !seen.has(dep)) {
        seen.add(dep);
        pending.push(dep);
      }
    }
  }
  return [...seen].sort();
}

function directDependencies(dir: string, packages: Map<string, string>): string[] {
  const deps = new Set<string>();
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".ts") || /_(test|bench)\.ts$/.test(entry.name)) {
      continue;
    }
    const source = Deno.readTextFileSync(`${dir}/${entry.name}`);
    // Only import and export statements: the examples in JSDoc import packages too.
    for (const m of source.matchAll(/^(?:import|export)\b[^;]*?from "(@vmkit\/[a-z-]+)"/gms)) {
      const depDir = packages.get(m[1]);
      if (depDir !== undefined && depDir !== dir) deps.add(depDir);
    }
  }
  return [...deps].sort();
}

/** Runs `deno doc --lint` over `entries` and returns its diagnostics. */
export async function docLint(entries: readonly string[]): Promise<DocLintDiagnostic[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const found: DocLintDiagnostic[] = [];
  for (const m of text.matchAll(/^(error\[[^\]]+\]: .*)\n\s*--> (.+):(\d+):\d+$/gm)) {
    found.push({ message: m[1], file: m[2], line: Number(m[3]) });
  }
  if (!out.success && found.length === 0) {
    throw new Error(`deno doc --lint ${entries.join(" ")} failed:\n${text}`);
  }
  return found;
}

if (import.meta.main) {
  const root = Deno.cwd();
  const packages = workspacePackages(root);
  let failures = 0;
  for (const dir of Deno.args) {
    const deps = workspaceDependencies(dir, packages);
    const diagnostics = await docLint([`${dir}/mod.ts`, ...deps.map((d) => `${d}/mod.ts`)]);
    for (const d of diagnostics) {
      const file = d.file.replace(`${root}/`, "");
      if (file.startsWith(`${dir}/`)) {
        failures++;
        console.log(`${dir}: ${d.message} (${file}:${d.line})`);
      } else {
        console.log(`${dir}: note, in a dependency: ${d.message} (${file}:${d.line})`);
      }
    }
  }
  if (failures > 0) {
    console.log(`${failures} documentation lint error(s)`);
    Deno.exit(1);
  }
  console.log("deno doc --lint: no errors in the packages checked");
}

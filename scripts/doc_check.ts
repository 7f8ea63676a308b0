/**
 * Checks every package's public surface is documented the way the project
 * asks: each symbol a `mod.ts` exports has JSDoc with an `@example` (which
 * `deno test --doc` then runs). Prints what is missing and exits 1 if
 * anything is.
 *
 *   deno run --allow-read --allow-run scripts/doc_check.ts [package dir ...]
 *
 * @module
 */

const DEFAULT_PACKAGES = [
  "packages/fdt",
  "packages/loader",
  "packages/vgic",
  "packages/virtio",
  "packages/net",
  "packages/vcpu",
  "packages/vmm",
  "packages/gdb",
  "apps/cli",
];

interface DocDeclaration {
  readonly location: { readonly filename: string; readonly line: number };
  readonly jsDoc?: { readonly tags?: readonly { readonly kind: string }[] };
  readonly kind: string;
}

interface DocSymbol {
  readonly name: string;
  readonly declarations: readonly DocDeclaration[];
}

/** Exported symbols of `modFile` without an `@example`, as "name (file:line)". */
export async function missingExamples(modFile: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", modFile],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno doc --json ${modFile} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  const missing: string[] = [];
  for (const [, module] of Object.entries(json.nodes) as [string, { symbols?: DocSymbol[] }][]) {
    for (const symbol of module.symbols ?? []) {
      // Overloads and a namespace merged with a type count once: any
      // declaration with an example documents the name.
      const documented = symbol.declarations.some((d) =>
        d.jsDoc?.tags?.some((t) => t.kind === "example")
      );
      if (documented) continue;
      const at = symbol.declarations[0].location;
      const file = at.filename.replace(/^file:\/\//, "").replace(`${Deno.cwd()}/`, "");
      missing.push(`${symbol.name} (${file}:${at.line})`);
    }
  }
  return missing;
}

if (import.meta.main) {
  const packages = Deno.args.length > 0 ? Deno.args : DEFAULT_PACKAGES;
  let total = 0;
  for (const dir of packages) {
    const missing = await missingExamples(`${dir}/mod.ts`);
    total += missing.length;
    for (const m of missing) console.log(`${dir}: no @example: ${m}`);
  }
  if (total > 0) {
    console.log(`${total} exported symbol(s) without an @example`);
    Deno.exit(1);
  }
  console.log("every exported symbol has an @example");
}

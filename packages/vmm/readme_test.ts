import assert from "node:assert/strict";
import { guest, print, psci } from "./testdata/guest.ts";
import { PSCI_FN } from "./psci.ts";

/** Runs the README's n-th TypeScript example with a small guest that prints and powers off. */
async function runExample(index: number): Promise<string> {
  const readme = await Deno.readTextFile(new URL("./README.md", import.meta.url));
  const code = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)][index]?.[1];
  assert.ok(code, `README example ${index}`);
  const dir = await Deno.makeTempDir();
  try {
    const a = guest();
    print(a, "hello from the README\n");
    psci(a, PSCI_FN.SYSTEM_OFF);
    await Deno.writeFile(`${dir}/Image`, a.assemble());
    const mod = new URL("./mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/example.ts`,
      code.replaceAll('"@vmkit/vmm"', JSON.stringify(mod)),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        `${dir}/example.ts`,
        `${dir}/Image`,
      ],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("README: the idiomatic example boots a guest to power-off", async () => {
  assert.equal(await runExample(0), "hello from the README\n\npoweroff\n");
});

Deno.test("README: the classic-API example boots a guest the way a C VMM does", async () => {
  assert.equal(await runExample(1), "hello from the README\n\npoweroff\n");
});

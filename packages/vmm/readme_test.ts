import assert from "node:assert/strict";
import { guest, print, psci } from "./testdata/guest.ts";
import { PSCI_FN } from "./psci.ts";

/** Runs the README's n-th TypeScript example with a small guest that prints and powers off. */
async function runExample(index: number, extraArgs: string[] = []): Promise<string> {
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
      code.replaceAll('"@vmkit/vmm"', JSON.stringify(mod)).replaceAll(
        '"@vmkit/virtio"',
        JSON.stringify(new URL("../virtio/mod.ts", import.meta.url).href),
      ),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
        // A writable disk image is opened for writing.
        "--allow-write",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        `${dir}/example.ts`,
        `${dir}/Image`,
        ...extraArgs,
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

Deno.test("README: the disks-and-virtio-console example boots a guest to power-off", async () => {
  const disk = await Deno.makeTempFile();
  try {
    await Deno.writeFile(disk, new Uint8Array(1 << 20));
    assert.equal(await runExample(1, [disk]), "hello from the README\n\npoweroff\n");
  } finally {
    await Deno.remove(disk);
  }
});

Deno.test("README: the classic-API example boots a guest the way a C VMM does", async () => {
  assert.equal(await runExample(2), "hello from the README\n\npoweroff\n");
});

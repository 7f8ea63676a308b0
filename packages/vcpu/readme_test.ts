import assert from "node:assert/strict";

Deno.test("README: the example runs and prints what its comments say", async () => {
  const readme = await Deno.readTextFile(new URL("./README.md", import.meta.url));
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, "the README has a TypeScript example");
  const mod = new URL("./mod.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code.replaceAll('"@vmkit/vcpu"', JSON.stringify(mod)));
    const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-env", "--allow-read", file],
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(status, 0, new TextDecoder().decode(stderr));
    assert.equal(out, "hvc 42n a\n62500000n\n");
  } finally {
    await Deno.remove(file);
  }
});

import assert from "node:assert/strict";

Deno.test("README: the library example runs", async () => {
  const readme = await Deno.readTextFile(new URL("./README.md", import.meta.url));
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code);
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      file,
      code.replace('"@vmkit/cli/main"', JSON.stringify(new URL("./main.ts", import.meta.url).href))
        .replace('"@vmkit/cli"', JSON.stringify(new URL("./mod.ts", import.meta.url).href)),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-ffi",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        file,
      ],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(new TextDecoder().decode(out.stdout), /Usage: vmkit run --kernel FILE/);
  } finally {
    await Deno.remove(file);
  }
});

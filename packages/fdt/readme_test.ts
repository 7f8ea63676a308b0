/**
 * Runs the README's examples as written (type-checked, against this package's mod.ts, next to
 * the golden blobs they read) and compares what they print with their `// → ` comments.
 */
import assert from "node:assert/strict";

const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const modUrl = new URL("./mod.ts", import.meta.url).href;
const testdata = new URL("./testdata/", import.meta.url);

Deno.test("the README has examples", () => {
  assert.ok(blocks.length >= 2);
});

blocks.forEach((code, i) => {
  Deno.test(`README example ${i + 1} type-checks, runs and prints what it says`, async () => {
    const source = code.replaceAll('"@vmkit/fdt"', JSON.stringify(modUrl));
    const expected = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/example_${i + 1}.ts`;
      await Deno.writeTextFile(file, source);
      const result = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--check", "--no-config", "--allow-read", file],
        cwd: testdata,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.ok(result.success, stderr);
      const lines = new TextDecoder().decode(result.stdout).trimEnd().split("\n").map((l) =>
        l.trim()
      );
      assert.deepEqual(lines, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

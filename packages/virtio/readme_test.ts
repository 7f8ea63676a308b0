/**
 * Runs the README's examples as written (against this package's mod.ts and the workspace's
 * @vmkit/fdt) and compares what they print with their `// → ` comments.
 */
import assert from "node:assert/strict";

const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const modules: Record<string, string> = {
  "@vmkit/virtio": new URL("./mod.ts", import.meta.url).href,
  "@vmkit/fdt": new URL("../fdt/mod.ts", import.meta.url).href,
};

Deno.test("the README has examples", () => {
  assert.equal(blocks.length, 2);
});

blocks.forEach((code, i) => {
  Deno.test(`README example ${i + 1} runs and prints what it says`, async () => {
    let source = code;
    for (const [name, url] of Object.entries(modules)) {
      source = source.replaceAll(JSON.stringify(name), JSON.stringify(url));
    }
    const expected = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    const printed: string[] = [];
    const log = console.log;
    try {
      await Deno.writeTextFile(file, source);
      console.log = (...args: unknown[]) => printed.push(args.join(" "));
      await import(`file://${file}`);
    } finally {
      console.log = log;
      await Deno.remove(file);
    }
    assert.deepEqual(printed, expected);
  });
});

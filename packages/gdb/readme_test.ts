/**
 * Runs the README's TypeScript example as written (against this package's mod.ts) and compares
 * what it prints with its `// → ` comments.
 */
import assert from "node:assert/strict";

const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const MOD = new URL("./mod.ts", import.meta.url).href;

Deno.test("the README has its example", () => {
  assert.equal(blocks.length, 1);
});

blocks.forEach((code, i) => {
  Deno.test(`README example ${i + 1} runs and prints what it says`, async () => {
    const source = code.replaceAll('"@vmkit/gdb"', JSON.stringify(MOD));
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

// Runs the README's example and compares what it prints with the output the README shows.
import assert from "node:assert/strict";

Deno.test("README example runs and prints what the README says", async () => {
  const readme = await Deno.readTextFile(new URL("./README.md", import.meta.url));
  const code = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
  const output = readme.match(/It prints:\n\n```text\n([\s\S]*?)```/)?.[1];
  assert.ok(code !== undefined && output !== undefined, "README has an example and its output");
  const mod = new URL("./mod.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  const printed: string[] = [];
  const log = console.log;
  try {
    await Deno.writeTextFile(file, code.replace(`from "@vmkit/vgic"`, `from "${mod}"`));
    console.log = (...args: unknown[]) => printed.push(args.join(" "));
    await import(`file://${file}`);
  } finally {
    console.log = log;
    await Deno.remove(file);
  }
  assert.deepEqual(printed, output.trimEnd().split("\n"));
});

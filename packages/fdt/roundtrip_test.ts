import assert from "node:assert/strict";
import { parseFdt, serializeFdt } from "./mod.ts";

const testdata = new URL("./testdata/", import.meta.url);

/** Every golden blob in testdata/, by file name. */
export function goldenBlobs(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const names = [...Deno.readDirSync(testdata)].map((e) => e.name).filter((n) =>
    n.endsWith(".dtb")
  );
  for (const name of names.sort()) out.set(name, Deno.readFileSync(new URL(name, testdata)));
  return out;
}

for (const [name, blob] of goldenBlobs()) {
  Deno.test(`unmodified ${name} serialises byte-identical`, () => {
    const out = serializeFdt(parseFdt(blob));
    assert.equal(out.length, blob.length);
    assert.deepEqual(out, blob);
  });
}

import assert from "node:assert/strict";
import { parseFdt, serializeFdt } from "./mod.ts";
import { goldenBlobs } from "./testdata/goldens.ts";

for (const [name, blob] of goldenBlobs()) {
  Deno.test(`unmodified ${name} serialises byte-identical`, () => {
    const fdt = parseFdt(blob);
    const out = serializeFdt(fdt);
    assert.equal(out.length, blob.length);
    assert.deepEqual(out, blob);
    // Twice in a row, and through a second parse, the bytes stay the same.
    assert.deepEqual(serializeFdt(fdt), blob);
    assert.deepEqual(serializeFdt(parseFdt(out)), blob);
  });
}

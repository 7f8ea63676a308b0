import assert from "node:assert/strict";
import { Fdt, FdtError, getBootargs, parseFdt, serializeFdt, setBootargs } from "./mod.ts";
import { be32, concat, craft, strtab, tok } from "./testdata/craft.ts";
import { goldenBlob, goldenBlobs } from "./testdata/goldens.ts";

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

const u32 = (b: Uint8Array, at: number): number =>
  new DataView(b.buffer, b.byteOffset).getUint32(at);

Deno.test("FDT_NOP tokens anywhere survive a round trip and an edit", () => {
  const struct = concat(
    tok.nop(),
    tok.begin(""),
    tok.nop(),
    tok.prop(0, [2]),
    tok.nop(),
    tok.nop(),
    tok.begin("child@1"),
    tok.prop(15, new TextEncoder().encode("hello\0")),
    tok.nop(),
    tok.end(),
    tok.nop(),
    tok.end(),
    tok.nop(),
    tok.finish(),
  );
  const blob = craft({ struct, strings: strtab("#address-cells", "label") });
  const fdt = parseFdt(blob);
  assert.deepEqual(serializeFdt(fdt), blob);
  fdt.getNode("/child@1").setString("label", "a longer value");
  const edited = parseFdt(serializeFdt(fdt));
  assert.equal(edited.getNode("/child").getString("label"), "a longer value");
  assert.equal(serializeFdt(edited).length, blob.length + 8);
  fdt.layout = undefined;
  assert.equal(serializeFdt(fdt).length, blob.length + 8 - 7 * 4);
});

Deno.test("stale padding bytes are kept until the value they follow changes", () => {
  const struct = concat(
    tok.begin(""),
    tok.begin("ab"),
    tok.prop(0, new Uint8Array([1, 2, 3, 4, 5])),
    tok.end(),
    tok.end(),
    tok.finish(),
  );
  const blob = craft({ struct, strings: strtab("v") });
  const base = 40 + 16;
  blob[base + 15] = 0xaa; // after "ab\0"
  blob[base + 33] = 0xbb; // after the 5-byte value
  const fdt = parseFdt(blob);
  assert.deepEqual(serializeFdt(fdt), blob);
  fdt.getNode("/ab").setBytes("v", [9, 9, 9, 9, 9]);
  const out = serializeFdt(fdt);
  assert.equal(out[base + 15], 0xaa);
  assert.equal(out[base + 33], 0);
});

Deno.test("unusual block order, gaps and trailing bytes are reproduced and kept on edit", () => {
  const strings = strtab("compatible", "x");
  const struct = concat(tok.begin(""), tok.prop(0, strtab("a,b")), tok.end(), tok.finish());
  const rsv = new Uint8Array(32);
  new DataView(rsv.buffer).setUint32(4, 0x1000);
  new DataView(rsv.buffer).setUint32(12, 0x100);
  // header | gap(4) | strings | pad to 4 | struct | gap(8, garbage) | rsv | tail(garbage)
  const offStrings = 44;
  const offStruct = Math.ceil((offStrings + strings.length) / 4) * 4;
  const offRsv = Math.ceil((offStruct + struct.length + 8) / 8) * 8;
  const total = offRsv + rsv.length + 5;
  const blob = new Uint8Array(total);
  blob.set(
    be32(
      0xd00dfeed,
      total,
      offStruct,
      offStrings,
      offRsv,
      17,
      16,
      3,
      strings.length,
      struct.length,
    ),
  );
  blob.set(strings, offStrings);
  blob.set(struct, offStruct);
  blob.fill(0x5a, offStruct + struct.length, offRsv);
  blob.set(rsv, offRsv);
  blob.fill(0x77, offRsv + rsv.length);
  const fdt = parseFdt(blob);
  assert.deepEqual(fdt.reservations, [{ address: 0x1000, size: 0x100 }]);
  assert.equal(fdt.bootCpuidPhys, 3);
  assert.deepEqual(fdt.layout?.order, ["strings", "struct", "memreserve"]);
  assert.deepEqual(serializeFdt(fdt), blob);

  fdt.root.setString("model", "m");
  const out = serializeFdt(fdt);
  const again = parseFdt(out);
  assert.equal(again.root.getString("model"), "m");
  assert.equal(again.bootCpuidPhys, 3);
  assert.deepEqual(again.layout?.order, ["strings", "struct", "memreserve"]);
  assert.ok(u32(out, 16) > u32(out, 8) && u32(out, 8) > u32(out, 12));
});

Deno.test("a version 16 blob stays version 16 when edited; a fresh layout is version 17", () => {
  const fdt = parseFdt(goldenBlob("memreserve-v16.dtb"));
  assert.equal(fdt.layout?.version, 16);
  assert.equal(fdt.bootCpuidPhys, 1);
  setBootargs(fdt, "quiet");
  const out = serializeFdt(fdt);
  assert.equal(u32(out, 20), 16);
  assert.equal(getBootargs(parseFdt(out)), "quiet");
  fdt.layout = undefined;
  const fresh = serializeFdt(fdt);
  assert.equal(u32(fresh, 20), 17);
  assert.equal(u32(fresh, 24), 16);
  assert.equal(u32(fresh, 28), 1);
  assert.equal(getBootargs(parseFdt(fresh)), "quiet");
});

Deno.test("free space at the end absorbs growth, and the blob grows when it runs out", () => {
  const padded = goldenBlob("phandles-padded.dtb");
  const fdt = parseFdt(padded);
  setBootargs(fdt, "console=ttyAMA0");
  const out = serializeFdt(fdt);
  assert.equal(out.length, padded.length);
  assert.equal(u32(out, 4), padded.length);
  fdt.root.setBytes("big", new Uint8Array(600));
  const grown = serializeFdt(fdt);
  assert.ok(grown.length > padded.length);
  assert.equal(parseFdt(grown).root.getBytes("big")?.length, 600);
  fdt.root.removeProperty("big");
  assert.equal(serializeFdt(fdt).length, padded.length);
});

Deno.test("an edit that only adds names appends them to the parsed string table", () => {
  const blob = goldenBlob("types.dtb");
  const strStart = u32(blob, 12);
  const strSize = u32(blob, 32);
  const fdt = parseFdt(blob);
  fdt.root.setU32("vmkit,brand-new", 1).setU32("compatible-extra", 2);
  fdt.getNode("/values").setU32("one-cell", 5);
  const out = serializeFdt(fdt);
  const table = out.subarray(u32(out, 12), u32(out, 12) + u32(out, 32));
  assert.deepEqual(table.subarray(0, strSize), blob.subarray(strStart, strStart + strSize));
  assert.deepEqual(
    new TextDecoder().decode(table.subarray(strSize)),
    "vmkit,brand-new\0compatible-extra\0",
  );
});

Deno.test("reservations and the boot CPU are written as set", () => {
  const fdt = new Fdt();
  fdt.bootCpuidPhys = 0x103;
  fdt.reservations.push({ address: 2 ** 40, size: 0x1000 }, { address: 0, size: 0x10 });
  const back = parseFdt(serializeFdt(fdt));
  assert.equal(back.bootCpuidPhys, 0x103);
  assert.deepEqual(back.reservations, fdt.reservations);
  fdt.bootCpuidPhys = -1;
  assert.throws(
    () => serializeFdt(fdt),
    (e: unknown) => e instanceof FdtError && e.code === "INVALID_ARGUMENT",
  );
});

Deno.test("string tables past the index cap still share names and stay valid", () => {
  // A parsed table of 300 KiB: new names are found in it by direct search.
  const filler = "x".repeat(300 * 1024);
  const strings = strtab(filler, "linux,phandle");
  const struct = concat(tok.begin(""), tok.prop(filler.length + 1, [7]), tok.end(), tok.finish());
  const fdt = parseFdt(craft({ struct, strings }));
  fdt.root.setU32("phandle", 7).setU32("new-name", 1);
  const out = serializeFdt(fdt);
  const strSize = u32(out, 32);
  assert.equal(strSize, strings.length + "new-name\0".length);
  const back = parseFdt(out);
  assert.equal(back.root.getU32("phandle"), 7);
  assert.equal(back.root.getU32("new-name"), 1);

  // A built table past the cap: identical names are still shared.
  const big = new Fdt();
  for (let i = 0; i < 12_000; i++) {
    big.root.addNode(`n${i}`).setU32(`property-with-a-long-name-${i}`, i).setEmpty("shared");
  }
  const blob = serializeFdt(big);
  const table = u32(blob, 32);
  assert.ok(table > 256 * 1024);
  assert.equal(parseFdt(blob).getNode("/n11999").getU32("property-with-a-long-name-11999"), 11999);
  assert.ok(table < 12_000 * 40);
});

Deno.test("a blob of a newer version compatible with 17 comes back as version 17, otherwise identical", () => {
  // Found by the fuzzer: version 0x200011 with last_comp_version 16 parses.
  const blob = craft({
    struct: concat(tok.begin(""), tok.prop(0, [2]), tok.end(), tok.finish()),
    strings: strtab("#address-cells"),
    version: 0x20_0011,
    lastComp: 16,
  });
  const out = serializeFdt(parseFdt(blob));
  assert.equal(u32(out, 20), 17);
  assert.equal(u32(out, 24), 16);
  const expected = blob.slice();
  new DataView(expected.buffer).setUint32(20, 17);
  assert.deepEqual(out, expected);
});

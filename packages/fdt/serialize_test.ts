/**
 * Serialisation checked against blobs dtc compiled from hand-written expected sources; needs no
 * dtc at test time (dtc_test.ts repeats these checks against a live dtc).
 */
import assert from "node:assert/strict";
import { parseFdt, serializeFdt, toDts } from "./mod.ts";
import { goldenBlob } from "./testdata/goldens.ts";
import { buildVirt, editPhandles, editVirt } from "./testdata/scenarios.ts";

Deno.test("a virt tree built from scratch is byte-identical to dtc's built-virt.dtb", () => {
  assert.deepEqual(serializeFdt(buildVirt()), goldenBlob("built-virt.dtb"));
});

Deno.test("edited QEMU virt equals dtc's compilation of the hand-edited source", () => {
  const fdt = parseFdt(goldenBlob("qemu-virt.dtb"));
  editVirt(fdt);
  const ours = parseFdt(serializeFdt(fdt));
  const expected = parseFdt(goldenBlob("qemu-virt-edited.dtb"));
  assert.equal(toDts(ours, { style: "dtc" }), toDts(expected, { style: "dtc" }));
  assert.deepEqual(ours.reservations, expected.reservations);
});

Deno.test("edited phandles tree equals dtc's compilation of the hand-edited source", () => {
  const fdt = parseFdt(goldenBlob("phandles.dtb"));
  editPhandles(fdt);
  const ours = serializeFdt(fdt);
  const expected = goldenBlob("phandles-edited.dtb");
  assert.equal(toDts(parseFdt(ours)), toDts(parseFdt(expected)));
  // The removed name forced a fresh string table, so the bytes match dtc's exactly.
  assert.deepEqual(ours, expected);
});

Deno.test("toDts in dtc style reproduces the committed dtc dump of QEMU's tree exactly", () => {
  const source = Deno.readTextFileSync(new URL("./testdata/qemu-virt.dts", import.meta.url));
  assert.equal(toDts(parseFdt(goldenBlob("qemu-virt.dtb")), { style: "dtc" }), source);
  assert.equal(
    toDts(parseFdt(serializeFdt(parseFdt(goldenBlob("qemu-virt.dtb")))), {
      style: "dtc",
    }),
    source,
  );
});

/**
 * Checks against the real dtc: what we serialise must read back through dtc as the expected
 * source, and our DTS dump must match dtc's.
 */
import assert from "node:assert/strict";
import { getMemoryRegions, parseFdt, serializeFdt, toDts } from "./mod.ts";
import { buildVirt, editPhandles, editVirt } from "./testdata/scenarios.ts";
import { dtbToDts, dtsToDtb, ignoreWithoutDtc } from "./testdata/dtc.ts";
import { goldenBlobs } from "./testdata/goldens.ts";

const testdata = new URL("./testdata/", import.meta.url);
const text = (name: string): string => Deno.readTextFileSync(new URL(name, testdata));
const blob = (name: string): Uint8Array => Deno.readFileSync(new URL(name, testdata));
const ignore = ignoreWithoutDtc();

Deno.test({
  name: "a virt tree built from scratch equals dtc's compilation of built-virt.dts, byte for byte",
  ignore,
  async fn() {
    const ours = serializeFdt(buildVirt());
    const theirs = await dtsToDtb(text("built-virt.dts"), ["-b", "1"]);
    assert.equal(await dtbToDts(ours), await dtbToDts(theirs));
    assert.deepEqual(ours, theirs);
  },
});

Deno.test({
  name: "an edited QEMU virt tree reads back through dtc as qemu-virt-edited.dts",
  ignore,
  async fn() {
    const fdt = parseFdt(blob("qemu-virt.dtb"));
    editVirt(fdt);
    const ours = serializeFdt(fdt);
    const expected = await dtbToDts(await dtsToDtb(text("qemu-virt-edited.dts")));
    assert.equal(await dtbToDts(ours), expected);
    // The layout (1 MiB with free space) survives the edit; only added names were appended.
    assert.equal(ours.length, 1 << 20);
    assert.equal(toDts(parseFdt(ours), { style: "dtc" }), expected);
  },
});

Deno.test({
  name: "an edited tree whose string table must be rebuilt reads back as phandles-edited.dts",
  ignore,
  async fn() {
    const fdt = parseFdt(blob("phandles.dtb"));
    editPhandles(fdt);
    const ours = serializeFdt(fdt);
    const expected = await dtbToDts(await dtsToDtb(text("phandles-edited.dts")));
    assert.equal(await dtbToDts(ours), expected);
    // A rebuilt table is laid out as dtc would lay it out for the same tree.
    fdt.layout = undefined;
    assert.deepEqual(serializeFdt(fdt), await dtsToDtb(expected));
  },
});

Deno.test({
  name: "toDts in dtc style matches dtc -O dts for every golden blob",
  ignore,
  async fn() {
    for (const [name, bytes] of goldenBlobs()) {
      assert.equal(toDts(parseFdt(bytes), { style: "dtc" }), await dtbToDts(bytes), name);
    }
  },
});

Deno.test({
  name: "readable toDts compiles back with dtc to the same tree",
  ignore,
  async fn() {
    for (const [name, bytes] of goldenBlobs()) {
      const fdt = parseFdt(bytes);
      const again = parseFdt(await dtsToDtb(toDts(fdt)));
      assert.equal(toDts(again), toDts(fdt), name);
      assert.deepEqual(getMemoryRegions(again), getMemoryRegions(fdt));
    }
  },
});

Deno.test({
  name: "dropping the layout gives dtc's compact layout for every dtc-made golden",
  ignore,
  async fn() {
    for (const [name, bytes] of goldenBlobs()) {
      if (name.startsWith("qemu")) continue; // QEMU's string table is in creation order, not tree order
      const fdt = parseFdt(bytes);
      fdt.layout = undefined;
      const fresh = serializeFdt(fdt);
      const bootCpu = String(fdt.bootCpuidPhys);
      const recompiled = await dtsToDtb(await dtbToDts(bytes), ["-b", bootCpu]);
      assert.deepEqual(fresh, recompiled, name);
    }
  },
});

Deno.test({
  name:
    "dtc -I dtb -O dts of our serialisation of QEMU's tree is qemu-virt.dts, character for character",
  ignore,
  async fn() {
    const source = text("qemu-virt.dts");
    // The committed source is dtc's own dump, so no normalisation is needed to compare with it.
    assert.equal(await dtbToDts(blob("qemu-virt.dtb")), source);
    assert.equal(await dtbToDts(serializeFdt(parseFdt(blob("qemu-virt.dtb")))), source);
    const compact = parseFdt(blob("qemu-virt.dtb"));
    compact.layout = undefined;
    assert.equal(await dtbToDts(serializeFdt(compact)), source);
  },
});

/** How testdata/make.sh builds each dtc golden: output, source, extra dtc flags. */
const DTC_GOLDENS: readonly (readonly [string, string, readonly string[]])[] = [
  ["memreserve.dtb", "memreserve.dts", []],
  ["phandles.dtb", "phandles.dts", []],
  ["types.dtb", "types.dts", []],
  ["minimal.dtb", "minimal.dts", []],
  ["memreserve-v16.dtb", "memreserve.dts", ["-b", "1", "-V", "16"]],
  ["phandles-padded.dtb", "phandles.dts", ["-p", "512"]],
  ["phandles-symbols.dtb", "phandles.dts", ["-@"]],
  ["types-aligned.dtb", "types.dts", ["-a", "64", "-b", "3"]],
  ["built-virt.dtb", "built-virt.dts", ["-b", "1"]],
  ["qemu-virt-edited.dtb", "qemu-virt-edited.dts", []],
  ["phandles-edited.dtb", "phandles-edited.dts", []],
];

Deno.test({
  name: "every committed dtc golden is what dtc compiles from its committed source",
  ignore,
  async fn() {
    const listed = new Set(DTC_GOLDENS.map(([name]) => name));
    // QEMU's blob is the one golden dtc did not make (qemu_test.ts checks it against QEMU).
    const unlisted = [...goldenBlobs().keys()].filter((n) =>
      n !== "qemu-virt.dtb" && !listed.has(n)
    );
    assert.deepEqual(unlisted, [], "add new goldens to make.sh and to this table");
    for (const [name, source, flags] of DTC_GOLDENS) {
      assert.deepEqual(
        await dtsToDtb(text(source), [...flags]),
        blob(name),
        `${name}: run make.sh`,
      );
    }
  },
});

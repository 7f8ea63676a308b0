import assert from "node:assert/strict";
import {
  Fdt,
  FdtError,
  getMemoryRegions,
  memoryNodes,
  parseFdt,
  serializeFdt,
  setMemoryRegions,
} from "./mod.ts";

function golden(name: string): Fdt {
  return parseFdt(Deno.readFileSync(new URL(`./testdata/${name}`, import.meta.url)));
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FdtError && e.code === code);
}

Deno.test("memory regions: QEMU virt, several nodes and entries, disabled skipped", () => {
  assert.deepEqual(getMemoryRegions(golden("qemu-virt.dtb")), [
    { address: 0x40000000, size: 0x8000000 },
  ]);
  // types.dts: #address-cells = #size-cells = 1, two regions in one node, a disabled node.
  assert.deepEqual(getMemoryRegions(golden("types.dtb")), [
    { address: 0x40000000, size: 0x10000000 },
    { address: 0x60000000, size: 0x8000000 },
    { address: 0x80000000, size: 0x20000000 },
  ]);
  assert.equal(memoryNodes(golden("types.dtb")).length, 3);
  assert.deepEqual(getMemoryRegions(new Fdt()), []);
});

Deno.test("memory nodes are found by device_type, not by name", () => {
  const fdt = new Fdt();
  fdt.root.addNode("ram@0").setString("device_type", "memory").setCells("reg", [0, 0, 0x1000]);
  fdt.root.addNode("memory@1").setString("device_type", "other");
  fdt.root.addNode("odd").setU32("device_type", 7);
  assert.deepEqual(getMemoryRegions(fdt), [{ address: 0, size: 0x1000 }]);
});

Deno.test("setMemoryRegions replaces memory nodes in place with root-cell encoding", () => {
  const virt = golden("qemu-virt.dtb");
  const index = virt.root.children.findIndex((c) => c.name === "memory@40000000");
  const regions = [
    { address: 0x40000000, size: 0x4000_0000 },
    { address: 0x1_0000_0000, size: 0x2_0000_0000 },
  ];
  setMemoryRegions(virt, regions);
  assert.deepEqual(getMemoryRegions(virt), regions);
  assert.equal(virt.root.children[index].name, "memory@40000000");
  assert.equal(virt.root.children[index + 1].name, "memory@100000000");
  assert.deepEqual(virt.getNode("/memory@100000000").getCells("reg"), [1, 0, 2, 0]);
  assert.deepEqual(getMemoryRegions(parseFdt(serializeFdt(virt))), regions);
  setMemoryRegions(virt, []);
  assert.deepEqual(getMemoryRegions(virt), []);
  assert.equal(virt.findNode("/memory"), undefined);
});

Deno.test("setMemoryRegions on a tree without memory appends; 1-cell roots refuse big values", () => {
  const types = golden("types.dtb");
  const before = serializeFdt(types);
  throwsCode(
    () => setMemoryRegions(types, [{ address: 0x1_0000_0000, size: 0x1000 }]),
    "VALUE_OVERFLOW",
  );
  throwsCode(
    () => setMemoryRegions(types, [{ address: 0x1000, size: 0x1_0000_0000 }]),
    "VALUE_OVERFLOW",
  );
  // A failed call leaves the tree as it was.
  assert.deepEqual(serializeFdt(types), before);
  setMemoryRegions(types, [{ address: 0x40000000, size: 0x1000 }]);
  assert.deepEqual(getMemoryRegions(types), [{ address: 0x40000000, size: 0x1000 }]);
  assert.deepEqual(types.getNode("/memory").getCells("reg"), [0x40000000, 0x1000]);

  const fdt = new Fdt();
  fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2).addNode("chosen");
  setMemoryRegions(fdt, [{ address: 0x80000000, size: 0x10000000 }]);
  assert.deepEqual(fdt.root.children.map((c) => c.name), ["chosen", "memory@80000000"]);
  assert.equal(fdt.getNode("/memory").getString("device_type"), "memory");
});

Deno.test("setMemoryRegions validates its input", () => {
  const fdt = new Fdt();
  throwsCode(() => setMemoryRegions(fdt, [{ address: -4, size: 1 }]), "INVALID_ARGUMENT");
  throwsCode(() => setMemoryRegions(fdt, [{ address: 0, size: 0 }]), "INVALID_ARGUMENT");
  throwsCode(
    () => setMemoryRegions(fdt, [{ address: Number.MAX_SAFE_INTEGER, size: 2 }]),
    "INVALID_ARGUMENT",
  );
  throwsCode(
    () => setMemoryRegions(fdt, [{ address: 0, size: 1 }, { address: 0, size: 2 }]),
    "INVALID_ARGUMENT",
  );
  fdt.root.addNode("memory@1000").setString("status", "reserved-by-someone");
  throwsCode(() => setMemoryRegions(fdt, [{ address: 0x1000, size: 1 }]), "DUPLICATE_NAME");
});

Deno.test("setMemoryRegions keeps a node that is more than a memory description", () => {
  // Found by the fuzzer: a corrupt DTB whose /chosen claimed device_type "memory" lost /chosen
  // (bootargs, the initrd range just written) when /memory was replaced.
  const fdt = new Fdt();
  fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
  fdt.root.addNode("chosen").setString("bootargs", "console=ttyAMA0")
    .setString("device_type", "memory").setCells("reg", [0, 0x4000_0000, 0, 0x1000]);
  fdt.root.addNode("ram@0").setString("device_type", "memory").setCells("reg", [0, 0, 0, 0x1000])
    .setString("status", "okay");
  setMemoryRegions(fdt, [{ address: 0x4000_0000, size: 0x1000_0000 }]);
  assert.deepEqual(fdt.root.children.map((n) => n.name), ["memory@40000000", "chosen"]);
  assert.equal(fdt.getNode("/chosen").getString("bootargs"), "console=ttyAMA0");
  assert.equal(fdt.getNode("/chosen").hasProperty("device_type"), false);
  assert.deepEqual(getMemoryRegions(fdt), [{ address: 0x4000_0000, size: 0x1000_0000 }]);
});

import assert from "node:assert/strict";
import {
  Fdt,
  FdtError,
  FdtNode,
  FdtProperty,
  followPhandleChain,
  getInterruptControllerChain,
  getInterruptParent,
  getPhandleTarget,
  parseFdt,
  translateAddress,
} from "./mod.ts";

function golden(name: string): Fdt {
  return parseFdt(Deno.readFileSync(new URL(`./testdata/${name}`, import.meta.url)));
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FdtError && e.code === code);
}

Deno.test("path lookup: root, exact, unit-address-less, aliases, misses", () => {
  const virt = golden("qemu-virt.dtb");
  assert.equal(virt.findNode("/"), virt.root);
  assert.equal(virt.getNode("/cpus/cpu@0").name, "cpu@0");
  assert.equal(virt.getNode("/memory").name, "memory@40000000");
  assert.equal(virt.getNode("/cpus/cpu").path, "/cpus/cpu@0");
  assert.equal(virt.findNode("/cpus/cpu@9"), undefined);
  assert.equal(virt.findNode("/nothing/here"), undefined);
  assert.equal(virt.findNode(""), undefined);
  assert.equal(virt.getNode("/pl011@9000000").getStringList("compatible")?.[0], "arm,pl011");

  const ph = golden("phandles.dtb");
  assert.equal(ph.getNode("serial0").path, "/soc/serial@9000000");
  assert.equal(ph.getNode("serial1").path, "/soc/serial@9001000");
  assert.equal(ph.getNode("intc").path, "/interrupt-controller@8000000");
  assert.equal(ph.findNode("nosuchalias"), undefined);
  assert.deepEqual([...ph.aliases().keys()], ["serial0", "serial1", "intc"]);
  // Two serial@ nodes under /soc: a unit-address-less lookup must not guess.
  throwsCode(() => ph.findNode("/soc/serial"), "AMBIGUOUS_PATH");
});

Deno.test("alias with a sub-path and alias values that are not absolute", () => {
  const fdt = new Fdt();
  fdt.root.addNode("aliases").setString("bus", "/soc").setString("loop", "bus");
  fdt.root.addNode("soc").addNode("dev@10");
  assert.equal(fdt.getNode("bus/dev@10").path, "/soc/dev@10");
  assert.equal(fdt.findNode("loop"), undefined);
});

Deno.test("node identity: names, unit addresses, depth, walk order", () => {
  const fdt = golden("memreserve.dtb");
  const leaf = fdt.getNode("/soc/bus@100000/leaf@200/deeper/deepest");
  assert.equal(leaf.depth, 5);
  assert.equal(leaf.path, "/soc/bus@100000/leaf@200/deeper/deepest");
  const bus = fdt.getNode("/soc/bus@100000");
  assert.equal(bus.baseName, "bus");
  assert.equal(bus.unitAddress, "100000");
  assert.equal(fdt.root.unitAddress, undefined);
  assert.equal(fdt.root.path, "/");
  const paths = [...fdt.nodes()].map((n) => n.path);
  assert.deepEqual(paths, [
    "/",
    "/cpus",
    "/cpus/cpu@0",
    "/cpus/cpu@1",
    "/soc",
    "/soc/bus@100000",
    "/soc/bus@100000/leaf@200",
    "/soc/bus@100000/leaf@200/deeper",
    "/soc/bus@100000/leaf@200/deeper/deepest",
    "/memory@40000000",
    "/chosen",
  ]);
  assert.deepEqual(fdt.reservations, [
    { address: 0, size: 0x1000 },
    { address: 0x48000000, size: 0x200000 },
    { address: 0x1_0000_0000, size: 0x10000000 },
  ]);
});

Deno.test("reg honours the parent's cells; defaults are 2 and 1", () => {
  const fdt = golden("memreserve.dtb");
  assert.deepEqual(fdt.getNode("/cpus/cpu@1").getReg(), [{ address: 1, size: 0 }]);
  assert.deepEqual(fdt.getNode("/memory").getReg(), [{ address: 0x40000000, size: 0x20000000 }]);
  assert.deepEqual(fdt.getNode("/soc/bus@100000/leaf@200").getReg(), [
    { address: 0x200, size: 0x100 },
  ]);
  assert.equal(fdt.getNode("/soc").getReg(), undefined);

  const bare = new Fdt();
  assert.equal(bare.root.addressCells, 2);
  assert.equal(bare.root.sizeCells, 1);
  const dev = bare.root.addNode("dev@1").setCells("reg", [0, 0x1000, 0x20]);
  assert.deepEqual(dev.getReg(), [{ address: 0x1000, size: 0x20 }]);
  dev.setCells("reg", [0, 0x1000]);
  throwsCode(() => dev.getReg(), "BAD_PROPERTY_VALUE");
});

Deno.test("setReg encodes with the parent's cells and refuses values that do not fit", () => {
  const fdt = new Fdt();
  fdt.root.setU32("#address-cells", 1).setU32("#size-cells", 1);
  const dev = fdt.root.addNode("dev@1000").setReg([{ address: 0x1000, size: 0x100 }]);
  assert.deepEqual(dev.getCells("reg"), [0x1000, 0x100]);
  throwsCode(() => dev.setReg([{ address: 2 ** 33, size: 1 }]), "VALUE_OVERFLOW");
  throwsCode(() => dev.setReg([{ address: -1, size: 1 }]), "INVALID_ARGUMENT");
  fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
  dev.setReg([{ address: 2 ** 40, size: 2 ** 33 }]);
  assert.deepEqual(dev.getCells("reg"), [0x100, 0, 2, 0]);
  assert.deepEqual(dev.getReg(), [{ address: 2 ** 40, size: 2 ** 33 }]);
});

Deno.test("ranges: child, parent and size cells; identity; translation", () => {
  const types = golden("types.dtb");
  const bus = types.getNode("/bus@f0000000");
  assert.deepEqual(bus.getRanges(), {
    identity: false,
    entries: [
      { childAddress: 0x1_0000_0000, parentAddress: 0xf0000000, size: 0x100000 },
      { childAddress: 0x2_0000_1000, parentAddress: 0xf8000000, size: 0x1000 },
    ],
  });
  const device = types.getNode("/bus@f0000000/device@1,100");
  assert.deepEqual(device.getReg(), [{ address: 0x1_0000_0100, size: 0x10 }]);
  assert.equal(translateAddress(device, 0x1_0000_0100), 0xf0000100);
  assert.equal(translateAddress(device, 0x3_0000_0000), undefined);

  const ph = golden("phandles.dtb");
  assert.deepEqual(ph.getNode("/soc").getRanges(), { identity: true, entries: [] });
  assert.equal(translateAddress(ph.getNode("serial0"), 0x9000000), 0x9000000);

  const mr = golden("memreserve.dtb");
  const leaf = mr.getNode("/soc/bus@100000/leaf@200");
  assert.equal(translateAddress(leaf, 0x200), 0x10100200);
  // /cpus has no ranges: its children are not memory-mapped.
  assert.equal(translateAddress(mr.getNode("/cpus/cpu@0"), 0), undefined);
});

Deno.test("typed getters decode every value shape", () => {
  const v = golden("types.dtb").getNode("/values");
  assert.equal(v.getU32("one-cell"), 0x12345678);
  assert.deepEqual(v.getCells("cells"), [1, 2, 3, 0xffffffff]);
  assert.equal(v.getU64("wide"), 0x123456789abcdef0n);
  throwsCode(() => v.getNumber("wide"), "VALUE_OVERFLOW");
  assert.equal(v.getNumber("one-cell"), 0x12345678);
  assert.deepEqual(v.getBytes("bytes"), new Uint8Array([0, 1, 2, 0xfe, 0xff]));
  assert.deepEqual(v.getCells("halfwords"), [0x1234abcd]);
  assert.equal(v.getString("single"), "just one");
  assert.deepEqual(v.getStringList("list"), ["first", "second", "", "fourth"]);
  assert.equal(v.getString("list"), "first");
  assert.equal(v.getString("escaped"), 'tab\there "quoted" back\\slash');
  assert.deepEqual(v.getBytes("empty"), new Uint8Array(0));
  assert.deepEqual(v.getStringList("empty"), []);
  assert.ok(v.hasProperty("another-empty"));
  assert.equal(v.getU32("missing"), undefined);
  assert.equal(v.getU64("missing"), undefined);
  assert.equal(v.getString("missing"), undefined);
  assert.equal(v.getCells("missing"), undefined);
  assert.equal(v.getStringList("missing"), undefined);
  assert.equal(v.getBytes("missing"), undefined);
  throwsCode(() => v.getU32("bytes"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getU64("one-cell"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getCells("bytes"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getString("one-cell"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getString("empty"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getStringList("cells"), "BAD_PROPERTY_VALUE");
  throwsCode(() => v.getNumber("bytes"), "BAD_PROPERTY_VALUE");
  // getBytes hands out a copy: the tree is not changed through it.
  v.getBytes("bytes")![0] = 9;
  assert.equal(v.getBytes("bytes")![0], 0);
});

Deno.test("setters encode, chain, keep positions and validate", () => {
  const node = new Fdt().root.addNode("n");
  const same = node
    .setU32("a", 0xffffffff)
    .setU64("b", 2n ** 64n - 1n)
    .setU64("c", Number.MAX_SAFE_INTEGER)
    .setCells("d", [1, 2])
    .setString("e", "text")
    .setStringList("f", ["x", "", "y"])
    .setBytes("g", [1, 2, 3])
    .setBytes("h", new Uint8Array([4]))
    .setEmpty("i");
  assert.equal(same, node);
  assert.deepEqual(node.properties.map((p) => p.name), [
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
  ]);
  assert.equal(node.getU32("a"), 0xffffffff);
  assert.equal(node.getU64("b"), 2n ** 64n - 1n);
  assert.equal(node.getNumber("c"), Number.MAX_SAFE_INTEGER);
  assert.deepEqual(node.getBytes("f"), new TextEncoder().encode("x\0\0y\0"));
  assert.deepEqual(node.getBytes("g"), new Uint8Array([1, 2, 3]));
  assert.equal(node.getProperty("i")?.value.length, 0);

  node.setU32("a", 7);
  assert.equal(node.properties[0].name, "a");
  assert.equal(node.getU32("a"), 7);
  assert.ok(node.removeProperty("b"));
  assert.ok(!node.removeProperty("b"));
  assert.deepEqual(node.properties.map((p) => p.name), ["a", "c", "d", "e", "f", "g", "h", "i"]);

  for (const bad of [-1, 2 ** 32, 1.5, NaN]) {
    throwsCode(() => node.setU32("x", bad), "INVALID_ARGUMENT");
  }
  throwsCode(() => node.setU64("x", -1n), "INVALID_ARGUMENT");
  throwsCode(() => node.setU64("x", 2n ** 64n), "INVALID_ARGUMENT");
  throwsCode(() => node.setU64("x", 2 ** 53), "INVALID_ARGUMENT");
  throwsCode(() => node.setString("x", "a\0b"), "INVALID_ARGUMENT");
  throwsCode(() => node.setStringList("x", ["ok", "a\0"]), "INVALID_ARGUMENT");
  throwsCode(() => node.setBytes("x", [256]), "INVALID_ARGUMENT");
  throwsCode(() => node.setEmpty("bad name"), "BAD_NAME");
  throwsCode(() => node.setEmpty(""), "BAD_NAME");
  throwsCode(() => new FdtProperty("a\u00e9"), "BAD_NAME");
  assert.ok(!node.hasProperty("x"));
});

Deno.test("children: add at index, ensure, remove, refuse bad or duplicate names", () => {
  const fdt = new Fdt();
  const root = fdt.root;
  root.addNode("b");
  root.addNode("a", 0);
  root.addNode("c@1");
  assert.deepEqual(root.children.map((c) => c.name), ["a", "b", "c@1"]);
  assert.equal(root.ensureNode("b"), root.getChild("b"));
  assert.equal(root.findChild("c")?.name, "c@1");
  assert.equal(root.findChild("c@2"), undefined);
  throwsCode(() => root.addNode("a"), "DUPLICATE_NAME");
  for (const bad of ["", "a/b", "x y", "@1", "a@b@c"]) {
    throwsCode(() => root.addNode(bad), "BAD_NAME");
  }
  throwsCode(() => root.addNode("z", 9), "INVALID_ARGUMENT");
  const b = root.getChild("b")!;
  assert.ok(b.remove());
  assert.equal(b.parent, undefined);
  assert.ok(!b.remove());
  assert.ok(!root.removeNode("b"));
  assert.ok(fdt.removeNode("/c"));
  assert.ok(!fdt.removeNode("/"));
  assert.deepEqual(root.children.map((c) => c.name), ["a"]);
  const deep = fdt.ensureNode("/x/y/z");
  assert.equal(deep.path, "/x/y/z");
  throwsCode(() => fdt.ensureNode("relative"), "INVALID_ARGUMENT");
  throwsCode(() => new Fdt(deep), "INVALID_ARGUMENT");
});

Deno.test("nesting is capped for built trees too", () => {
  let node = new Fdt().root;
  throwsCode(() => {
    for (let i = 0; i < 5000; i++) node = node.addNode("n");
  }, "LIMIT_EXCEEDED");
  assert.ok(node.depth >= 64);
});

Deno.test("phandles: lookup, allocation, assignment", () => {
  const ph = golden("phandles.dtb");
  const map = ph.phandles();
  assert.equal(map.size, 3);
  const gic = ph.getNode("/interrupt-controller@8000000");
  assert.equal(ph.findByPhandle(gic.phandle!), gic);
  assert.equal(ph.findByPhandle(0x999), undefined);
  const next = ph.allocatePhandle();
  assert.equal(next, Math.max(...map.keys()) + 1);
  const uart1 = ph.getNode("/soc/serial@9001000");
  assert.equal(ph.assignPhandle(uart1), next);
  assert.equal(ph.assignPhandle(uart1), next);
  assert.equal(uart1.getU32("phandle"), next);
  assert.equal(ph.allocatePhandle(), next + 1);

  const fresh = new Fdt();
  assert.equal(fresh.allocatePhandle(), 1);
  fresh.root.addNode("legacy").setU32("linux,phandle", 41);
  assert.equal(fresh.allocatePhandle(), 42);
  assert.equal(fresh.findByPhandle(41)?.name, "legacy");
});

Deno.test("interrupt parents and chains, clocks by phandle", () => {
  const ph = golden("phandles.dtb");
  const gic = ph.getNode("/interrupt-controller@8000000");
  const mux = ph.getNode("/soc/interrupt-controller@9100000");
  const uart0 = ph.getNode("serial0");
  const uart1 = ph.getNode("serial1");
  assert.equal(getInterruptParent(ph, uart0), gic);
  assert.equal(getInterruptParent(ph, uart1), mux);
  assert.deepEqual(getInterruptControllerChain(ph, uart1), [mux, gic]);
  assert.deepEqual(getInterruptControllerChain(ph, uart0), [gic]);
  assert.deepEqual(getInterruptControllerChain(ph, gic), [gic]);
  assert.equal(getPhandleTarget(ph, mux, "interrupt-parent"), gic);
  assert.equal(getPhandleTarget(ph, mux, "nothing"), undefined);
  assert.deepEqual(followPhandleChain(ph, mux, "interrupt-parent"), [gic]);
  const clocks = uart0.getCells("clocks")!;
  assert.equal(ph.findByPhandle(clocks[0])?.name, "apb-pclk");

  const bare = new Fdt();
  assert.equal(getInterruptParent(bare, bare.root), undefined);
  assert.deepEqual(getInterruptControllerChain(bare, bare.root), []);
});

Deno.test("cell counts out of range are reported, not used", () => {
  const fdt = new Fdt();
  fdt.root.setU32("#size-cells", 9).addNode("d@0").setCells("reg", [0, 0]);
  throwsCode(() => fdt.getNode("/d@0").getReg(), "BAD_CELLS");
  fdt.root.setU32("#size-cells", 0).setU32("#address-cells", 0);
  throwsCode(() => fdt.getNode("/d@0").getReg(), "BAD_CELLS");
  fdt.getNode("/d@0").setEmpty("reg");
  assert.deepEqual(fdt.getNode("/d@0").getReg(), []);
});

Deno.test("a detached root can seed a tree", () => {
  const root = new FdtNode();
  root.addNode("x").setU32("v", 1);
  const fdt = new Fdt(root);
  assert.equal(fdt.getNode("/x").getU32("v"), 1);
  assert.equal(fdt.root.isEnabled, true);
});

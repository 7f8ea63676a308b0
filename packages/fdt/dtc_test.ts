/**
 * Checks against the real dtc: what we serialise must read back through dtc as the expected
 * source, and our DTS dump must match dtc's.
 */
import assert from "node:assert/strict";
import {
  Fdt,
  getMemoryRegions,
  parseFdt,
  serializeFdt,
  setBootargs,
  setInitrdRange,
  setMemoryRegions,
  setStdoutPath,
  toDts,
} from "./mod.ts";
import { dtbToDts, dtsToDtb, ignoreWithoutDtc } from "./testdata/dtc.ts";
import { goldenBlobs } from "./testdata/goldens.ts";

const testdata = new URL("./testdata/", import.meta.url);
const text = (name: string): string => Deno.readTextFileSync(new URL(name, testdata));
const blob = (name: string): Uint8Array => Deno.readFileSync(new URL(name, testdata));
const ignore = ignoreWithoutDtc("tests that compare with dtc");

/** Builds a QEMU-virt-like machine description the way @vmkit/vmm will. */
export function buildVirt(): Fdt {
  const fdt = new Fdt();
  fdt.bootCpuidPhys = 1;
  fdt.reservations.push({ address: 0x48000000, size: 0x100000 });
  const gicPhandle = fdt.allocatePhandle();
  const root = fdt.root
    .setU32("interrupt-parent", gicPhandle)
    .setU32("#size-cells", 2)
    .setU32("#address-cells", 2)
    .setString("compatible", "linux,dummy-virt")
    .setString("model", "vmkit,virt");
  root.addNode("psci")
    .setStringList("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
    .setString("method", "hvc");
  setMemoryRegions(fdt, [{ address: 0x40000000, size: 0x8000000 }]);
  const cpus = root.addNode("cpus").setU32("#size-cells", 0).setU32("#address-cells", 1);
  for (let i = 0; i < 2; i++) {
    cpus.addNode(`cpu@${i}`)
      .setString("device_type", "cpu")
      .setString("compatible", "arm,cortex-a72")
      .setReg([{ address: i, size: 0 }])
      .setString("enable-method", "psci");
  }
  root.addNode("intc@8000000")
    .setU32("phandle", gicPhandle)
    .setReg([{ address: 0x8000000, size: 0x10000 }, { address: 0x8010000, size: 0x10000 }])
    .setString("compatible", "arm,cortex-a15-gic")
    .setEmpty("ranges")
    .setU32("#size-cells", 2)
    .setU32("#address-cells", 2)
    .setEmpty("interrupt-controller")
    .setU32("#interrupt-cells", 3);
  const ppi = (n: number) => [1, n, 0xf04];
  root.addNode("timer")
    .setCells("interrupts", [...ppi(13), ...ppi(14), ...ppi(11), ...ppi(10)])
    .setEmpty("always-on")
    .setStringList("compatible", ["arm,armv8-timer", "arm,armv7-timer"]);
  const clock = root.addNode("apb-pclk");
  const clockPhandle = fdt.assignPhandle(clock);
  clock
    .setString("clock-output-names", "clk24mhz")
    .setU32("clock-frequency", 24_000_000)
    .setU32("#clock-cells", 0)
    .setString("compatible", "fixed-clock");
  root.addNode("pl011@9000000")
    .setStringList("clock-names", ["uartclk", "apb_pclk"])
    .setCells("clocks", [clockPhandle, clockPhandle])
    .setCells("interrupts", [0, 1, 4])
    .setReg([{ address: 0x9000000, size: 0x1000 }])
    .setStringList("compatible", ["arm,pl011", "arm,primecell"]);
  setBootargs(fdt, "console=ttyAMA0 earlycon");
  setStdoutPath(fdt, "/pl011@9000000");
  setInitrdRange(fdt, 0x48000000, 0x48100000);
  fdt.getNode("/chosen")
    .setU64("kaslr-seed", 0x0123456789abcdefn)
    .setBytes("rng-seed", [0xde, 0xad, 0xbe, 0xef, 0x01]);
  return fdt;
}

/** The edits applied to QEMU's tree; qemu-virt-edited.dts is the same edits done by hand. */
export function editVirt(fdt: Fdt): void {
  setBootargs(fdt, "console=ttyAMA0 root=/dev/vda rw");
  setInitrdRange(fdt, 0x48000000, 0x48400000);
  setMemoryRegions(fdt, [
    { address: 0x40000000, size: 0x40000000 },
    { address: 0x1_0000_0000, size: 0x40000000 },
  ]);
  assert.ok(fdt.removeNode("/virtio_mmio@a003e00"));
  fdt.getNode("/pl011@9000000").setString("status", "okay");
  fdt.root.setString("model", "vmkit,virt");
  fdt.root.addNode("vmkit-test").setU32("value", 42).setEmpty("flag");
  fdt.reservations.push({ address: 0x48000000, size: 0x400000 });
  assert.ok(fdt.getNode("/fw-cfg").removeProperty("dma-coherent"));
}

/** The edits applied to phandles.dtb; phandles-edited.dts is the same edits done by hand. */
export function editPhandles(fdt: Fdt): void {
  // clock-output-names has no other user, so the string table must be rebuilt.
  assert.ok(fdt.getNode("/apb-pclk").removeProperty("clock-output-names"));
  assert.equal(fdt.assignPhandle(fdt.getNode("serial0")), 4);
  fdt.getNode("serial1").setString("status", "okay");
  fdt.getNode("/soc").addNode("serial@9002000")
    .setStringList("compatible", ["arm,pl011", "arm,primecell"])
    .setReg([{ address: 0x9002000, size: 0x1000 }])
    .setCells("interrupts", [0, 2, 4]);
}

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

/** The trees the serialisation tests build and edit, shared by the dtc and dtc-free tests. */
import assert from "node:assert/strict";
import { Fdt, setBootargs, setInitrdRange, setMemoryRegions, setStdoutPath } from "../mod.ts";

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

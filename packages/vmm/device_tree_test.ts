import assert from "node:assert/strict";
import { getBootargs, getInitrdRange, getMemoryRegions, getStdoutPath, parseFdt } from "@vmkit/fdt";
import { UnicornLibrary } from "@vmkit/vcpu";
import { toolRequirement } from "../../testing/requirements.ts";
import { UART_NODE } from "./device_tree.ts";
import { VirtualMachine } from "./virtual_machine.ts";

const library = UnicornLibrary.open();

const dtc = toolRequirement("dtc", "sudo apt-get install device-tree-compiler");

const options = {
  memoryBase: 0x4000_0000,
  memorySize: 256 * 1024 * 1024,
  cpus: 2,
  cpuCompatible: "arm,cortex-a72",
  psciMethod: "hvc" as const,
  bootargs: "console=ttyAMA0 quiet",
  initrd: { start: 0x4800_0000, end: 0x4810_0000 },
};

/** The tree a VM with these options generates: the fixed parts and the registry's devices. */
function blob(): Uint8Array {
  using vm = new VirtualMachine({ memorySize: options.memorySize, cpus: options.cpus, library });
  return vm.deviceTree(options.bootargs, options.initrd);
}

Deno.test("device tree: describes memory, CPUs, PSCI, GIC, timer, PMU, UART and /chosen", () => {
  const fdt = parseFdt(blob());
  assert.deepEqual(getMemoryRegions(fdt), [{ address: 0x4000_0000, size: 0x1000_0000 }]);
  assert.equal(getBootargs(fdt), "console=ttyAMA0 quiet");
  assert.deepEqual(getInitrdRange(fdt), { start: 0x4800_0000, end: 0x4810_0000 });
  assert.equal(getStdoutPath(fdt), UART_NODE);

  const cpus = fdt.getNode("/cpus");
  assert.deepEqual(cpus.children.map((c) => c.name), ["cpu@0", "cpu@1"]);
  assert.deepEqual(fdt.getNode("/cpus/cpu@1").getCells("reg"), [1]);
  assert.equal(fdt.getNode("/cpus/cpu@0").getString("enable-method"), "psci");

  assert.equal(fdt.getNode("/psci").getString("method"), "hvc");
  assert.deepEqual(fdt.getNode("/psci").getStringList("compatible"), [
    "arm,psci-1.0",
    "arm,psci-0.2",
    "arm,psci",
  ]);

  const gic = fdt.getNode("/intc@8000000");
  assert.equal(gic.getString("compatible"), "arm,cortex-a15-gic");
  assert.ok(gic.hasProperty("interrupt-controller"));
  assert.deepEqual(gic.getReg(), [
    { address: 0x0800_0000, size: 0x1_0000 },
    { address: 0x0801_0000, size: 0x1_0000 },
  ]);
  assert.equal(fdt.root.getU32("interrupt-parent"), gic.phandle);

  // PPIs 13, 14, 11, 10, level high, reaching both CPUs (mask 0b11 in bits 15:8).
  assert.deepEqual(fdt.getNode("/timer").getCells("interrupts"), [
    1,
    13,
    0x304,
    1,
    14,
    0x304,
    1,
    11,
    0x304,
    1,
    10,
    0x304,
  ]);

  // The PMU's overflow interrupt: PPI 7 (INTID 23), level high, both CPUs; as QEMU's virt.
  const pmu = fdt.getNode("/pmu");
  assert.equal(pmu.getString("compatible"), "arm,armv8-pmuv3");
  assert.deepEqual(pmu.getCells("interrupts"), [1, 7, 0x304]);

  const uart = fdt.getNode(UART_NODE);
  assert.deepEqual(uart.getStringList("compatible"), ["arm,pl011", "arm,primecell"]);
  assert.deepEqual(uart.getReg(), [{ address: 0x0900_0000, size: 0x1000 }]);
  assert.deepEqual(uart.getCells("interrupts"), [0, 1, 4]);
  const clk = fdt.getNode("/apb-pclk");
  assert.deepEqual(uart.getCells("clocks"), [clk.phandle, clk.phandle]);
});

Deno.test({
  name: `device tree: dtc reads the generated blob back without complaint${dtc.label}`,
  ignore: dtc.ignore,
}, async () => {
  dtc.assert();
  const bytes = blob();
  const child = new Deno.Command("dtc", {
    args: ["-I", "dtb", "-O", "dts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const warnings = new TextDecoder().decode(stderr);
  assert.equal(code, 0, warnings);
  assert.equal(warnings, "", "no dtc warnings");
  const dts = new TextDecoder().decode(stdout);
  assert.match(dts, /compatible = "arm,pl011\\0arm,primecell";/);
  assert.match(dts, /linux,initrd-start = <0x00 0x48000000>;/);
});

/**
 * Device-tree generation: the machine's fixed parts (memory, CPUs, PSCI, the
 * architected timer, the PMU, `/chosen`) the way QEMU's `virt` board describes them,
 * plus whatever the device registry places, so an unmodified arm64 kernel
 * finds everything.
 *
 * @module
 */

import { Fdt, type FdtNode, setBootargs, setInitrdRange, setMemoryRegions } from "@vmkit/fdt";
import { PMU_PPI, TIMER_PPIS, UART_BASE } from "./platform.ts";

/**
 * What the generated tree describes.
 *
 * @example
 * ```ts
 * import { getBootargs, getInitrdRange } from "@vmkit/fdt";
 * import { buildDeviceTree, type DeviceTreeOptions } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const options: DeviceTreeOptions = {
 *   memoryBase: 0x4000_0000,
 *   memorySize: 64 << 20,
 *   cpus: 1,
 *   cpuCompatible: "arm,cortex-a53",
 *   psciMethod: "smc",
 *   bootargs: "console=ttyAMA0 quiet",
 *   initrd: { start: 0x4400_0000, end: 0x4410_0000 },
 *   devices: (fdt) => void fdt.root.addNode("rtc@9010000").setString("compatible", "arm,pl031"),
 * };
 * const fdt = buildDeviceTree(options);
 * assert.equal(getBootargs(fdt), "console=ttyAMA0 quiet");
 * assert.deepEqual(getInitrdRange(fdt), { start: 0x4400_0000, end: 0x4410_0000 });
 * assert.equal(fdt.getNode("/psci")?.getString("method"), "smc");
 * assert.ok(fdt.getNode("/rtc@9010000"));
 * ```
 */
export interface DeviceTreeOptions {
  /** Start of RAM. */
  readonly memoryBase: number;
  /** Bytes of RAM. */
  readonly memorySize: number;
  /** Number of CPUs (1–8). */
  readonly cpus: number;
  /** The CPUs' `compatible`, e.g. `arm,cortex-a72`. */
  readonly cpuCompatible: string;
  /** The PSCI conduit. */
  readonly psciMethod: "hvc" | "smc";
  /** Kernel command line for `/chosen/bootargs`. */
  readonly bootargs?: string;
  /** The initrd's placement for `/chosen`. */
  readonly initrd?: { readonly start: number; readonly end: number };
  /** `/chosen/stdout-path`. Default {@link UART_NODE}. */
  readonly stdoutPath?: string;
  /** Adds the devices' nodes (the registry's `describe`). */
  readonly devices?: (fdt: Fdt) => void;
}

/**
 * A GICv2's two register blocks.
 *
 * @example
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import { describeGicv2, type Gicv2Blocks } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const blocks: Gicv2Blocks = {
 *   distributor: { base: 0x2f00_0000, size: 0x1_0000 },
 *   cpuInterface: { base: 0x2c00_0000, size: 0x2000 },
 * };
 * const node = describeGicv2(new Fdt(), blocks);
 * assert.deepEqual(node.getReg(), [
 *   { address: 0x2f00_0000, size: 0x1_0000 },
 *   { address: 0x2c00_0000, size: 0x2000 },
 * ]);
 * ```
 */
export interface Gicv2Blocks {
  /** The distributor. */
  readonly distributor: { readonly base: number; readonly size: number };
  /** The CPU interface. */
  readonly cpuInterface: { readonly base: number; readonly size: number };
}

const GIC_PPI = 1;
const IRQ_LEVEL_HIGH = 4;

/**
 * The tree's node path of the UART (also the default `stdout-path`).
 *
 * @example
 * ```ts
 * import { getStdoutPath, parseFdt } from "@vmkit/fdt";
 * import { UART_NODE, VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * const fdt = parseFdt(vm.deviceTree("console=ttyAMA0"));
 * assert.equal(getStdoutPath(fdt), UART_NODE);
 * assert.equal(fdt.getNode(UART_NODE)?.getStringList("compatible")?.[0], "arm,pl011");
 * ```
 */
export const UART_NODE = `/pl011@${UART_BASE.toString(16)}`;

/**
 * Builds the tree; serialise it with `serializeFdt`.
 *
 * @example
 * ```ts
 * import { buildDeviceTree } from "@vmkit/vmm";
 *
 * const fdt = buildDeviceTree({
 *   memoryBase: 0x4000_0000,
 *   memorySize: 64 << 20,
 *   cpus: 2,
 *   cpuCompatible: "arm,cortex-a72",
 *   psciMethod: "hvc",
 *   bootargs: "console=ttyAMA0",
 * });
 * console.log(fdt.getNode("/cpus").children.length); // 2
 * ```
 */
export function buildDeviceTree(options: DeviceTreeOptions): Fdt {
  const fdt = new Fdt();
  fdt.root
    .setString("model", "VMKit virt")
    .setU32("#size-cells", 2)
    .setU32("#address-cells", 2)
    .setString("compatible", "linux,dummy-virt");

  fdt.root.addNode("psci")
    .setStringList("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
    .setString("method", options.psciMethod);

  setMemoryRegions(fdt, [{ address: options.memoryBase, size: options.memorySize }]);

  // The GICv2 binding puts a mask of the CPUs a PPI reaches in bits 15:8.
  const ppiFlags = (((1 << options.cpus) - 1) << 8) | IRQ_LEVEL_HIGH;
  fdt.root.addNode("timer")
    .setEmpty("always-on")
    .setCells("interrupts", TIMER_PPIS.flatMap((ppi) => [GIC_PPI, ppi, ppiFlags]))
    .setString("compatible", "arm,armv8-timer");
  fdt.root.addNode("pmu")
    .setCells("interrupts", [GIC_PPI, PMU_PPI, ppiFlags])
    .setString("compatible", "arm,armv8-pmuv3");

  const cpus = fdt.root.addNode("cpus").setU32("#size-cells", 0).setU32("#address-cells", 1);
  for (let i = 0; i < options.cpus; i++) {
    cpus.addNode(`cpu@${i}`)
      .setString("device_type", "cpu")
      .setString("compatible", options.cpuCompatible)
      .setReg([{ address: i, size: 0 }])
      .setString("enable-method", "psci");
  }

  options.devices?.(fdt);

  const chosen = fdt.ensureNode("/chosen");
  chosen.setString("stdout-path", options.stdoutPath ?? UART_NODE);
  if (options.bootargs !== undefined) setBootargs(fdt, options.bootargs);
  if (options.initrd) setInitrdRange(fdt, options.initrd.start, options.initrd.end);
  return fdt;
}

/**
 * Adds a GICv2's node and makes it the tree's interrupt parent.
 *
 * @example
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import { describeGicv2, GICC_BASE, GICC_SIZE, GICD_BASE, GICD_SIZE } from "@vmkit/vmm";
 *
 * const fdt = new Fdt();
 * const node = describeGicv2(fdt, {
 *   distributor: { base: GICD_BASE, size: GICD_SIZE },
 *   cpuInterface: { base: GICC_BASE, size: GICC_SIZE },
 * });
 * console.log(node.name, fdt.root.getU32("interrupt-parent") === node.phandle); // intc@8000000 true
 * ```
 */
export function describeGicv2(fdt: Fdt, blocks: Gicv2Blocks): FdtNode {
  const node = fdt.root.addNode(`intc@${blocks.distributor.base.toString(16)}`)
    .setReg([
      { address: blocks.distributor.base, size: blocks.distributor.size },
      { address: blocks.cpuInterface.base, size: blocks.cpuInterface.size },
    ])
    .setString("compatible", "arm,cortex-a15-gic")
    .setEmpty("interrupt-controller")
    .setU32("#interrupt-cells", 3)
    .setU32("#address-cells", 0);
  fdt.root.setU32("interrupt-parent", fdt.assignPhandle(node));
  return node;
}

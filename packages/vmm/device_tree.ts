/**
 * Device-tree generation: describes the machine (memory, CPUs, PSCI, GIC,
 * timer, UART, `/chosen`) the way QEMU's `virt` board does, so an unmodified
 * arm64 kernel finds everything.
 *
 * @module
 */

import { Fdt, setBootargs, setInitrdRange, setMemoryRegions } from "@vmkit/fdt";
import {
  GICC_BASE,
  GICC_SIZE,
  GICD_BASE,
  GICD_SIZE,
  TIMER_PPIS,
  UART_BASE,
  UART_CLOCK_HZ,
  UART_SIZE,
  UART_SPI,
} from "./platform.ts";

/** What the generated tree describes. */
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
}

const GIC_SPI = 0;
const GIC_PPI = 1;
const IRQ_LEVEL_HIGH = 4;

/** The tree's node path of the UART (also `stdout-path`). */
export const UART_NODE = `/pl011@${UART_BASE.toString(16)}`;

/** Builds the tree; serialise it with `serializeFdt`. */
export function buildDeviceTree(options: DeviceTreeOptions): Fdt {
  const fdt = new Fdt();
  const gic = fdt.allocatePhandle();
  fdt.root
    .setU32("interrupt-parent", gic)
    .setString("model", "VMKit virt")
    .setU32("#size-cells", 2)
    .setU32("#address-cells", 2)
    .setString("compatible", "linux,dummy-virt");

  fdt.root.addNode("psci")
    .setStringList("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
    .setString("method", options.psciMethod);

  setMemoryRegions(fdt, [{ address: options.memoryBase, size: options.memorySize }]);

  fdt.root.addNode(`intc@${GICD_BASE.toString(16)}`)
    .setU32("phandle", gic)
    .setReg([{ address: GICD_BASE, size: GICD_SIZE }, { address: GICC_BASE, size: GICC_SIZE }])
    .setString("compatible", "arm,cortex-a15-gic")
    .setEmpty("interrupt-controller")
    .setU32("#interrupt-cells", 3)
    .setU32("#address-cells", 0);

  const clock = fdt.root.addNode("apb-pclk")
    .setString("clock-output-names", "clk24mhz")
    .setU32("clock-frequency", UART_CLOCK_HZ)
    .setU32("#clock-cells", 0)
    .setString("compatible", "fixed-clock");
  const clk = fdt.assignPhandle(clock);

  fdt.root.addNode(UART_NODE.slice(1))
    .setStringList("clock-names", ["uartclk", "apb_pclk"])
    .setCells("clocks", [clk, clk])
    .setCells("interrupts", [GIC_SPI, UART_SPI, IRQ_LEVEL_HIGH])
    .setReg([{ address: UART_BASE, size: UART_SIZE }])
    .setStringList("compatible", ["arm,pl011", "arm,primecell"]);

  // The GICv2 binding puts a mask of the CPUs a PPI reaches in bits 15:8.
  const ppiFlags = (((1 << options.cpus) - 1) << 8) | IRQ_LEVEL_HIGH;
  fdt.root.addNode("timer")
    .setEmpty("always-on")
    .setCells("interrupts", TIMER_PPIS.flatMap((ppi) => [GIC_PPI, ppi, ppiFlags]))
    .setString("compatible", "arm,armv8-timer");

  const cpus = fdt.root.addNode("cpus").setU32("#size-cells", 0).setU32("#address-cells", 1);
  for (let i = 0; i < options.cpus; i++) {
    cpus.addNode(`cpu@${i}`)
      .setString("device_type", "cpu")
      .setString("compatible", options.cpuCompatible)
      .setReg([{ address: i, size: 0 }])
      .setString("enable-method", "psci");
  }

  const chosen = fdt.ensureNode("/chosen");
  chosen.setString("stdout-path", UART_NODE);
  if (options.bootargs !== undefined) setBootargs(fdt, options.bootargs);
  if (options.initrd) setInitrdRange(fdt, options.initrd.start, options.initrd.end);
  return fdt;
}

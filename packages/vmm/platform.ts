/**
 * The machine VMKit presents: QEMU `virt`'s map, which Linux and most arm64
 * software already know how to boot on.
 *
 * @module
 */

/**
 * GICv2 distributor base.
 *
 * @example
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import { describeGicv2, GICC_BASE, GICC_SIZE, GICD_BASE, GICD_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const gic = describeGicv2(new Fdt(), {
 *   distributor: { base: GICD_BASE, size: GICD_SIZE },
 *   cpuInterface: { base: GICC_BASE, size: GICC_SIZE },
 * });
 * assert.equal(gic.name, "intc@8000000");
 * ```
 */
export const GICD_BASE = 0x0800_0000;
/**
 * GICv2 distributor window, as the device tree gives it.
 *
 * @example
 * ```ts
 * import { GICC_BASE, GICD_BASE, GICD_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(GICD_BASE + GICD_SIZE, GICC_BASE); // the CPU interface follows, as on QEMU's virt
 * ```
 */
export const GICD_SIZE = 0x1_0000;
/**
 * The part of the distributor window with registers behind it: the rest
 * has nothing, and an access there is a synchronous external abort, as on
 * QEMU's virt.
 *
 * @example
 * ```ts
 * import { GICD_CIDR0 } from "@vmkit/vgic";
 * import { GICD_REGISTERS_SIZE, GICD_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // The last distributor registers (the ID block) end the first 4 KiB of the 64 KiB window.
 * assert.equal(GICD_CIDR0 + 16, GICD_REGISTERS_SIZE);
 * assert.ok(GICD_REGISTERS_SIZE < GICD_SIZE);
 * ```
 */
export const GICD_REGISTERS_SIZE = 0x1000;
/**
 * GICv2 CPU interface base.
 *
 * @example
 * ```ts
 * import { GICC_BASE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(GICC_BASE.toString(16), "8010000");
 * ```
 */
export const GICC_BASE = 0x0801_0000;
/**
 * GICv2 CPU interface window, as the device tree gives it.
 *
 * @example
 * ```ts
 * import { GICC_REGISTERS_SIZE, GICC_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.ok(GICC_REGISTERS_SIZE <= GICC_SIZE);
 * ```
 */
export const GICC_SIZE = 0x1_0000;
/**
 * The part of the CPU interface window with registers behind it (DIR is at 0x1000).
 *
 * @example
 * ```ts
 * import { Gicv2, GICC_DIR } from "@vmkit/vgic";
 * import { GICC_REGISTERS_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2().cpuInterface.size, GICC_REGISTERS_SIZE);
 * assert.ok(GICC_DIR < GICC_REGISTERS_SIZE); // the last register is inside
 * ```
 */
export const GICC_REGISTERS_SIZE = 0x2000;
/**
 * PL011 UART base.
 *
 * @example
 * ```ts
 * import { UART_BASE, UART_NODE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UART_NODE, `/pl011@${UART_BASE.toString(16)}`); // where Linux's earlycon writes
 * ```
 */
export const UART_BASE = 0x0900_0000;
/**
 * PL011 UART window.
 *
 * @example
 * ```ts
 * import { Pl011, UART_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // The PrimeCell ID registers sit at the end of the window.
 * assert.equal(new Pl011().read(UART_SIZE - 4, 4), 0xb1);
 * ```
 */
export const UART_SIZE = 0x1000;
/**
 * The UART's shared peripheral interrupt number (INTID 33).
 *
 * @example
 * ```ts
 * import { UART_SPI } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(32 + UART_SPI, 33); // the INTID the guest acknowledges
 * ```
 */
export const UART_SPI = 1;
/**
 * Default start of RAM.
 *
 * @example
 * ```ts
 * import { normalizeConfig, RAM_BASE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeConfig({}).memoryBase, RAM_BASE);
 * ```
 */
export const RAM_BASE = 0x4000_0000;
/**
 * Default RAM size: 256 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_RAM_SIZE, normalizeConfig } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeConfig({}).memorySize, DEFAULT_RAM_SIZE);
 * ```
 */
export const DEFAULT_RAM_SIZE = 256 * 1024 * 1024;

/**
 * INTID of the EL1 virtual timer (PPI 11).
 *
 * @example
 * ```ts
 * import { TIMER_PPIS, VIRTUAL_TIMER_INTID } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VIRTUAL_TIMER_INTID, 16 + TIMER_PPIS[2]); // PPIs start at INTID 16
 * ```
 */
export const VIRTUAL_TIMER_INTID = 27;
/**
 * The EL1 physical timer's interrupt: PPI 14 (INTID 30), level-triggered.
 *
 * @example
 * ```ts
 * import { PHYSICAL_TIMER_INTID, TIMER_PPIS } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PHYSICAL_TIMER_INTID, 16 + TIMER_PPIS[1]); // the non-secure physical timer
 * ```
 */
export const PHYSICAL_TIMER_INTID = 30;
/**
 * Architected timer PPIs as the device tree lists them: secure, non-secure, virtual, hypervisor.
 *
 * @example
 * ```ts
 * import { buildDeviceTree, TIMER_PPIS } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const fdt = buildDeviceTree({
 *   memoryBase: 0x4000_0000,
 *   memorySize: 16 << 20,
 *   cpus: 1,
 *   cpuCompatible: "arm,cortex-a72",
 *   psciMethod: "hvc",
 * });
 * const cells = fdt.getNode("/timer")!.getCells("interrupts")!;
 * assert.deepEqual(cells.filter((_, i) => i % 3 === 1), [...TIMER_PPIS]);
 * ```
 */
export const TIMER_PPIS = [13, 14, 11, 10] as const;
/**
 * The PMU's overflow interrupt: PPI 7 (INTID 23), level-triggered, as on QEMU's virt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDeviceTree, PMU_PPI } from "@vmkit/vmm";
 *
 * const fdt = buildDeviceTree({
 *   memoryBase: 0x4000_0000,
 *   memorySize: 16 << 20,
 *   cpus: 1,
 *   cpuCompatible: "arm,cortex-a72",
 *   psciMethod: "hvc",
 * });
 * assert.equal(fdt.getNode("/pmu")!.getCells("interrupts")![1], PMU_PPI);
 * ```
 */
export const PMU_PPI: number = 7;
/**
 * INTID of the PMU's overflow interrupt: what the guest reads from GICC_IAR for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PMU_INTID } from "@vmkit/vmm";
 *
 * assert.equal(PMU_INTID, 23);
 * ```
 */
export const PMU_INTID: number = 16 + PMU_PPI;

/**
 * Frequency of the fixed clock the PL011 is told it runs from.
 *
 * @example
 * ```ts
 * import { UART_CLOCK_HZ } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // The divisor a driver programs for 115200 baud: 24 MHz / (16 × 115200) = 13.02.
 * assert.equal(Math.floor(UART_CLOCK_HZ / (16 * 115200)), 13);
 * ```
 */
export const UART_CLOCK_HZ = 24_000_000;

/**
 * The kernel command line used when none is given: the console on the PL011,
 * and `earlycon` so the kernel prints from its first instruction instead of
 * holding everything back until the UART driver registers.
 *
 * @example
 * ```ts
 * import { DEFAULT_CMDLINE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.ok(DEFAULT_CMDLINE.split(" ").includes("console=ttyAMA0"));
 * ```
 */
export const DEFAULT_CMDLINE = "console=ttyAMA0 earlycon";

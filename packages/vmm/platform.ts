/**
 * The machine VMKit presents: QEMU `virt`'s map, which Linux and most arm64
 * software already know how to boot on.
 *
 * @module
 */

/** GICv2 distributor base. */
export const GICD_BASE = 0x0800_0000;
/** GICv2 distributor window, as the device tree gives it. */
export const GICD_SIZE = 0x1_0000;
/**
 * The part of the distributor window with registers behind it: the rest
 * has nothing, and an access there is a synchronous external abort, as on
 * QEMU's virt.
 */
export const GICD_REGISTERS_SIZE = 0x1000;
/** GICv2 CPU interface base. */
export const GICC_BASE = 0x0801_0000;
/** GICv2 CPU interface window, as the device tree gives it. */
export const GICC_SIZE = 0x1_0000;
/** The part of the CPU interface window with registers behind it (DIR is at 0x1000). */
export const GICC_REGISTERS_SIZE = 0x2000;
/** PL011 UART base. */
export const UART_BASE = 0x0900_0000;
/** PL011 UART window. */
export const UART_SIZE = 0x1000;
/** The UART's shared peripheral interrupt number (INTID 33). */
export const UART_SPI = 1;
/** Default start of RAM. */
export const RAM_BASE = 0x4000_0000;
/** Default RAM size: 256 MiB. */
export const DEFAULT_RAM_SIZE = 256 * 1024 * 1024;

/** INTID of the EL1 virtual timer (PPI 11). */
export const VIRTUAL_TIMER_INTID = 27;
/** The EL1 physical timer's interrupt: PPI 14 (INTID 30), level-triggered. */
export const PHYSICAL_TIMER_INTID = 30;
/** Architected timer PPIs as the device tree lists them: secure, non-secure, virtual, hypervisor. */
export const TIMER_PPIS = [13, 14, 11, 10] as const;
/** The PMU's overflow interrupt: PPI 7 (INTID 23), level-triggered, as on QEMU's virt. */
export const PMU_PPI = 7;
/** INTID of the PMU's overflow interrupt. */
export const PMU_INTID = 16 + PMU_PPI;

/** Frequency of the fixed clock the PL011 is told it runs from. */
export const UART_CLOCK_HZ = 24_000_000;

/**
 * The kernel command line used when none is given: the console on the PL011,
 * and `earlycon` so the kernel prints from its first instruction instead of
 * holding everything back until the UART driver registers.
 */
export const DEFAULT_CMDLINE = "console=ttyAMA0 earlycon";

/**
 * VMKit's facade: a whole AArch64 virtual machine — RAM, a vCPU on the
 * Unicorn engine, a GICv2, a PL011 UART, the virtual timer, PSCI firmware and
 * a generated device tree — that boots Linux, behind an idiomatic API and the
 * classic microkernel-VMM library API (`linux_setup_images`, `virq_*`,
 * `guest_start`, `guest_stop`, `guest_restart`).
 *
 * ```ts ignore
 * import { VirtualMachine } from "@vmkit/vmm";
 *
 * using vm = new VirtualMachine({
 *   memorySize: 256 * 1024 * 1024,
 *   console: { write: (bytes) => Deno.stdout.writeSync(bytes) },
 * });
 * await vm.loadLinux({ kernel: await Deno.readFile("Image"), cmdline: "console=ttyAMA0" });
 * const exit = await vm.run();
 * console.log(exit.reason); // "poweroff"
 * ```
 *
 * @module
 */

export {
  type ConsoleSink,
  type GuestCall,
  type ImageLoader,
  type LinuxImages,
  VirtualMachine,
  type VmConfig,
  type VmExit,
  type VmExitReason,
  type VmRunOptions,
} from "./virtual_machine.ts";
export {
  guest_restart,
  guest_start,
  guest_stop,
  linux_setup_images,
  type RamStart,
  type ReferenceApi,
  referenceApi,
  useVm,
  virq_controller_init,
  virq_handle_passthrough,
  virq_inject,
  virq_register,
  virq_register_passthrough,
} from "./reference_api.ts";
export { MmioBus, type MmioDevice, type MmioMapping } from "./mmio_bus.ts";
export { PL011, Pl011, PL011_INT, type Pl011Options, type Pl011Stats } from "./pl011.ts";
export {
  handlePsci,
  isPsciCall,
  mpidrToIndex,
  PSCI_FN,
  PSCI_RET,
  PSCI_VERSION_1_1,
  type PsciPlatform,
  type PsciResult,
} from "./psci.ts";
export { buildDeviceTree, type DeviceTreeOptions, UART_NODE } from "./device_tree.ts";
export * from "./platform.ts";
export { parseMemorySize } from "./memory_size.ts";
export { VmmError, type VmmErrorCode } from "./errors.ts";

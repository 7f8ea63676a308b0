/**
 * VMKit's facade: a whole AArch64 virtual machine — RAM, a vCPU on the
 * Unicorn engine, a GICv2, a device registry with a PL011 UART and an
 * exit-status device (and any virtio device you add), the timers, PSCI
 * firmware and a generated device tree — that boots Linux, behind an idiomatic API and the
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

export { VirtualMachine } from "./virtual_machine.ts";
export {
  type ConsoleSink,
  type DiskConfig,
  type GuestCall,
  type ImageLoader,
  type LinuxImages,
  normalizeConfig,
  type NormalizedConfig,
  type VmConfig,
  type VmExit,
  type VmExitReason,
  type VmRunOptions,
} from "./config.ts";
export { Lifecycle, type VmRequest, type VmState } from "./lifecycle.ts";
export { type CpuPower, CpuStates } from "./cpu_states.ts";
export { GuestTime } from "./run_loop.ts";
export { cpuInterfaceLanes, distributorLanes } from "./gic_access.ts";
export { ConsoleBuffer } from "./console_buffer.ts";
export { GuestCalls, type GuestCallsOptions } from "./guest_calls.ts";
export {
  VIRTIO_CONSOLE_CMDLINE,
  VirtioDevices,
  type VirtioDevicesOptions,
  type VirtioDisk,
  type VirtioNic,
} from "./virtio_devices.ts";
export { checkNets, type NetConfig } from "./net_config.ts";
export type { Device, DevicePlacement, InterruptLine, MmioDevice } from "./device.ts";
export {
  DeviceRegistry,
  type DeviceRequest,
  type DeviceSlot,
  type DeviceWiring,
  type IrqTrigger,
  type MmioTarget,
  type RegistryStats,
  VIRTIO_MMIO_BASE,
  VIRTIO_MMIO_SIZE,
  VIRTIO_MMIO_SLOTS,
  VIRTIO_MMIO_SPI,
  type WindowRequest,
} from "./device_registry.ts";
export {
  EXIT_DEVICE_BASE,
  EXIT_DEVICE_SIZE,
  EXIT_FAIL,
  EXIT_PASS,
  EXIT_RESET,
  type ExitRequest,
  ExitStatusDevice,
} from "./exit_device.ts";
export { RateLimitedLog, type RateLimitOptions } from "./rate_limited_log.ts";
export { type RamStart, type ReferenceApi, referenceApi } from "./reference_api.ts";
export {
  guest_restart,
  guest_start,
  guest_stop,
  linux_setup_images,
  virq_controller_init,
  virq_handle_passthrough,
  virq_inject,
  virq_register,
  virq_register_passthrough,
  withVm,
} from "./reference_api_functions.ts";
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
export {
  buildDeviceTree,
  describeGicv2,
  type DeviceTreeOptions,
  type Gicv2Blocks,
  UART_NODE,
} from "./device_tree.ts";
export * from "./platform.ts";
export { parseMemorySize } from "./memory_size.ts";
export { VmmError, type VmmErrorCode } from "./errors.ts";
export type { VmGdbOptions } from "./debug_target.ts";

/**
 * Virtio devices for VMMs that emulate their CPUs: the virtio-mmio transport (version 2), split
 * virtqueues, and the block, console, entropy and network device types, as engine-free state
 * machines over an abstract guest memory and an injected interrupt line.
 *
 * @module
 */

export {
  VIRTIO_F,
  VIRTIO_ID,
  VIRTIO_INT,
  VIRTIO_MMIO,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_STATUS,
  VIRTQ,
} from "./constants.ts";
export type {
  DescriptorChain,
  DevicePlacement,
  InterruptLine,
  MmioDeviceModel,
  VirtioDevice,
  VirtioHost,
  Virtqueue,
} from "./device.ts";
// The device-tree types describe() works on, from @vmkit/fdt, so that this package's
// documentation can name them.
export type { FdtNode, FdtProperty, FdtRange, FdtRanges, FdtRegion } from "@vmkit/fdt";
export { VirtioError, type VirtioErrorCode, type VirtioFault } from "./errors.ts";
export { type GuestMemory, RamGuestMemory } from "./guest_memory.ts";
export { RNG_MAX_FILL, VirtioRng, type VirtioRngOptions, type VirtioRngStats } from "./rng.ts";
export { VirtioMmio, type VirtioMmioOptions, type VirtioMmioStats } from "./transport.ts";
export {
  BLK_MAX_REQUEST_BYTES,
  VIRTIO_BLK,
  VirtioBlk,
  type VirtioBlkOptions,
  type VirtioBlkStats,
} from "./blk.ts";
export {
  type BlockBackend,
  MemoryBlockBackend,
  type MemoryBlockBackendOptions,
} from "./blk_backend.ts";
export { FileBlockBackend, type FileBlockBackendOptions } from "./blk_file.ts";
export { VirtioConsole, type VirtioConsoleOptions, type VirtioConsoleStats } from "./console.ts";
export { VIRTIO_NET, VirtioNet, type VirtioNetOptions, type VirtioNetStats } from "./net.ts";
export type { FrameReceiver, NetBackend } from "./net_backend.ts";
export { formatMac, macBytes, parseMac, randomMac } from "./mac.ts";

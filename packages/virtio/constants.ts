/**
 * Numbers from the virtio 1.2 specification that drivers, devices and tests share.
 *
 * @module
 */

/**
 * Device status bits (virtio 1.2 §2.1).
 *
 * @example
 * ```ts
 * import { VIRTIO_STATUS } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER); // 3
 * ```
 */
export const VIRTIO_STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/**
 * Feature bits that belong to the transport and ring layout, not to a device type (§6).
 *
 * @example
 * ```ts
 * import { VIRTIO_F } from "@vmkit/virtio";
 *
 * console.log(1n << VIRTIO_F.VERSION_1); // 4294967296n
 * ```
 */
export const VIRTIO_F = {
  INDIRECT_DESC: 28n,
  EVENT_IDX: 29n,
  VERSION_1: 32n,
} as const;

/**
 * Virtio device IDs (§5) of the devices in this package, and of the network device.
 *
 * @example
 * ```ts
 * import { VIRTIO_ID } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_ID.BLOCK); // 2
 * ```
 */
export const VIRTIO_ID = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
} as const;

/**
 * virtio-mmio register offsets (§4.2.2); the device configuration space starts at `CONFIG`.
 *
 * @example
 * ```ts
 * import { VIRTIO_MMIO } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_MMIO.QUEUE_NOTIFY.toString(16)); // 50
 * ```
 */
export const VIRTIO_MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/**
 * The value of the MagicValue register: "virt" in little-endian ASCII.
 *
 * @example
 * ```ts
 * import { VIRTIO_MMIO_MAGIC } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_MMIO_MAGIC.toString(16)); // 74726976
 * ```
 */
export const VIRTIO_MMIO_MAGIC = 0x74726976;

/**
 * InterruptStatus bits: a used buffer was returned, or the configuration changed.
 *
 * @example
 * ```ts
 * import { VIRTIO_INT } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_INT.USED_BUFFER, VIRTIO_INT.CONFIG_CHANGE); // 1 2
 * ```
 */
export const VIRTIO_INT = {
  USED_BUFFER: 1,
  CONFIG_CHANGE: 2,
} as const;

/**
 * Split-virtqueue descriptor flags and ring flags (§2.7).
 *
 * @example
 * ```ts
 * import { VIRTQ } from "@vmkit/virtio";
 *
 * console.log(VIRTQ.DESC_F_NEXT | VIRTQ.DESC_F_WRITE); // 3
 * ```
 */
export const VIRTQ = {
  DESC_F_NEXT: 1,
  DESC_F_WRITE: 2,
  DESC_F_INDIRECT: 4,
  AVAIL_F_NO_INTERRUPT: 1,
  USED_F_NO_NOTIFY: 1,
} as const;

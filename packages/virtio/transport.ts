/**
 * The virtio-mmio transport, version 2 (virtio 1.2 §4.2): registers, the device status state
 * machine, feature negotiation, queue configuration, notifications and the interrupt.
 *
 * The interrupt line follows InterruptStatus: it is high while any status bit is set, driven
 * with `set()` on every change, so both an edge-rising GIC configuration (what QEMU's `virt`
 * device tree, and so ours, declares) and a level one work.
 *
 * ## Guest mistakes and the reactions to them
 *
 * Nothing a guest does makes this class throw. Register accesses that are not 32-bit and
 * aligned (configuration space: 8/16/32-bit, aligned, inside it), reads of write-only and
 * writes of read-only registers, queue registers for a queue that does not exist, and queue
 * configuration writes while the queue is ready read as zero / are ignored and are counted in
 * `stats.badAccesses`. Other mistakes are recorded in `stats.lastFault` (see
 * {@link VirtioFault}):
 *
 * - Refused, the write has no other effect: QueueReady=1 with a bad size (`QUEUE_SIZE`; the
 *   size must be a power of two from 1 to QueueNumMax), misaligned rings (`RING_ALIGNMENT`) or
 *   rings outside RAM (`RING_OUTSIDE_RAM`) — QueueReady reads back 0 and notifications to the
 *   queue are ignored; FEATURES_OK without VIRTIO_F_VERSION_1 or with features never offered
 *   (`FEATURES_REFUSED`, the bit reads back clear); DRIVER_OK before FEATURES_OK
 *   (`DRIVER_OK_REFUSED`). Clearing status bits other than by writing 0, and setting
 *   DEVICE_NEEDS_RESET, are ignored. Feature writes after FEATURES_OK count as bad accesses.
 * - Ignored (`NOTIFY_IGNORED`): a notification before DRIVER_OK, after DEVICE_NEEDS_RESET, or
 *   for a queue that does not exist or is not ready. Buffers made available before DRIVER_OK
 *   are picked up when DRIVER_OK is set.
 * - Device error: anything wrong inside the rings (see {@link VirtioFault}) sets
 *   DEVICE_NEEDS_RESET, raises the configuration-change interrupt (once DRIVER_OK was set),
 *   stops every queue and cuts off every request in flight; only a reset (status 0) restarts.
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";
import { SplitQueue } from "./_queue.ts";
import {
  VIRTIO_F,
  VIRTIO_INT,
  VIRTIO_MMIO as R,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_STATUS as S,
} from "./constants.ts";
import type {
  DevicePlacement,
  InterruptLine,
  MmioDeviceModel,
  VirtioDevice,
  VirtioHost,
  Virtqueue,
} from "./device.ts";
import { VirtioError, type VirtioFault } from "./errors.ts";
import type { GuestMemory } from "./guest_memory.ts";

/**
 * Options for a {@link VirtioMmio}.
 *
 * @example
 * ```ts
 * import { RamGuestMemory, type VirtioMmioOptions, VirtioRng } from "@vmkit/virtio";
 *
 * const options: VirtioMmioOptions = {
 *   device: new VirtioRng(),
 *   memory: new RamGuestMemory(0, new Uint8Array(4096)),
 *   interrupt: { set() {}, pulse() {} },
 * };
 * console.log(options.device.deviceId); // 4
 * ```
 */
export interface VirtioMmioOptions {
  /** The device type carried. */
  readonly device: VirtioDevice;
  /** Guest RAM, where the rings and buffers live. */
  readonly memory: GuestMemory;
  /** The interrupt output. */
  readonly interrupt: InterruptLine;
  /** The VendorID register; default "VMKT" in little-endian ASCII. */
  readonly vendorId?: number;
}

/**
 * Diagnostics of a {@link VirtioMmio}.
 *
 * @example
 * ```ts
 * import { RamGuestMemory, VirtioMmio, VirtioRng } from "@vmkit/virtio";
 *
 * const mmio = new VirtioMmio({
 *   device: new VirtioRng(),
 *   memory: new RamGuestMemory(0, new Uint8Array(4096)),
 *   interrupt: { set() {}, pulse() {} },
 * });
 * mmio.read(0x3, 4); // misaligned
 * console.log(mmio.stats.badAccesses); // 1
 * ```
 */
export interface VirtioMmioStats {
  /** Register accesses read as zero or ignored (bad size, offset, direction or moment). */
  badAccesses: number;
  /** Queue notifications passed to the device. */
  notifications: number;
  /** Register writes refused or notifications ignored (see the module docs). */
  refusals: number;
  /** Times the device entered DEVICE_NEEDS_RESET. */
  deviceErrors: number;
  /** Rising edges of the interrupt line. */
  interrupts: number;
  /** The last guest mistake, if any. */
  lastFault: VirtioFault | null;
}

/** Default VendorID: "VMKT". */
const VENDOR_VMKT = 0x544b4d56;
/** The register window the spec defines; the configuration space ends inside it. */
const WINDOW = 0x1000;
const MAX_QUEUE_SIZE = 32768;
const TRANSPORT_FEATURES = (1n << VIRTIO_F.VERSION_1) | (1n << VIRTIO_F.INDIRECT_DESC) |
  (1n << VIRTIO_F.EVENT_IDX);
const DRIVER_BITS = S.ACKNOWLEDGE | S.DRIVER | S.DRIVER_OK | S.FEATURES_OK | S.FAILED;

/**
 * A virtio-mmio (version 2) device: the transport with the device type it carries.
 *
 * @example
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import { RamGuestMemory, VIRTIO_MMIO, VirtioMmio, VirtioRng } from "@vmkit/virtio";
 *
 * const mmio = new VirtioMmio({
 *   device: new VirtioRng(),
 *   memory: new RamGuestMemory(0x4000_0000, new Uint8Array(0x10000)),
 *   interrupt: { set: (level) => console.log("irq", level), pulse() {} },
 * });
 * console.log(mmio.read(VIRTIO_MMIO.DEVICE_ID, 4)); // 4
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * const node = mmio.describe(fdt.root, { base: 0x0a00_0000, size: 0x200, interrupts: [0, 16, 1] });
 * console.log(node.name); // virtio_mmio@a000000
 * ```
 */
export class VirtioMmio implements MmioDeviceModel {
  /** Counters and the last guest mistake. */
  readonly stats: VirtioMmioStats = {
    badAccesses: 0,
    notifications: 0,
    refusals: 0,
    deviceErrors: 0,
    interrupts: 0,
    lastFault: null,
  };
  readonly #device: VirtioDevice;
  readonly #line: InterruptLine;
  readonly #vendorId: number;
  readonly #queues: SplitQueue[];
  readonly #offered: bigint;
  #status = 0;
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  readonly #driverFeatures = new Uint32Array(2);
  #unknownFeatures = false;
  #negotiated = 0n;
  #queueSel = 0;
  #shmSel = 0;
  #interruptStatus = 0;
  #level = false;
  #configGeneration = 0;

  /**
   * Creates the transport and attaches `options.device` to it.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a device whose queue sizes or configuration
   *   size are out of range, or options without memory or interrupt line
   * @throws {VirtioError} `INVALID_STATE` when the device is already attached elsewhere
   */
  constructor(options: VirtioMmioOptions) {
    const { device, memory, interrupt } = options;
    if (
      typeof memory?.translate !== "function" || !(memory.bytes instanceof Uint8Array) ||
      !(memory.view instanceof DataView)
    ) {
      throw new VirtioError("INVALID_ARGUMENT", "memory must be a GuestMemory");
    }
    if (typeof interrupt?.set !== "function") {
      throw new VirtioError("INVALID_ARGUMENT", "interrupt must be an InterruptLine");
    }
    if (!Number.isInteger(device?.deviceId) || device.deviceId < 1 || device.deviceId > 0xffff) {
      throw new VirtioError("INVALID_ARGUMENT", `device ID ${device?.deviceId} is out of range`);
    }
    const sizes = device.queueSizes;
    sizes.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 1 || n > MAX_QUEUE_SIZE || (n & (n - 1)) !== 0) {
        throw new VirtioError("INVALID_ARGUMENT", `queue ${i} size ${n} is not a power of two`);
      }
    });
    const configSize = device.configSize;
    if (!Number.isInteger(configSize) || configSize < 0 || configSize > WINDOW - R.CONFIG) {
      throw new VirtioError("INVALID_ARGUMENT", `configuration size ${configSize} is out of range`);
    }
    const vendorId = options.vendorId ?? VENDOR_VMKT;
    if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffff_ffff) {
      throw new VirtioError("INVALID_ARGUMENT", `vendor ID ${vendorId} is not a 32-bit value`);
    }
    this.#device = device;
    this.#line = interrupt;
    this.#vendorId = vendorId;
    this.#offered = (device.features & 0xff_ffffn) | TRANSPORT_FEATURES;
    const events = {
      used: () => this.#raise(VIRTIO_INT.USED_BUFFER),
      fault: (fault: VirtioFault) => this.#fail(fault),
    };
    this.#queues = sizes.map((n, i) => new SplitQueue(i, n, memory, events));
    const queues: readonly Virtqueue[] = this.#queues;
    const negotiated = () => this.#negotiated;
    const host: VirtioHost = {
      memory,
      queues,
      get driverFeatures() {
        return negotiated();
      },
      configChanged: () => this.#configChanged(),
      fail: (fault) => this.#fail(fault),
    };
    device.attach(host);
  }

  /** The device status register. */
  get status(): number {
    return this.#status;
  }

  /** The interrupt line's level. */
  get interruptLevel(): boolean {
    return this.#level;
  }

  /** The device type carried. */
  get device(): VirtioDevice {
    return this.#device;
  }

  /** A guest read. Never throws; bad accesses read as zero and are counted. */
  read(offset: number, size: number): number {
    if (offset >= R.CONFIG) return this.#readConfig(offset - R.CONFIG, size);
    if (size !== 4 || !(offset >= 0) || offset % 4 !== 0) return this.#bad();
    const q = this.#queues[this.#queueSel];
    switch (offset) {
      case R.MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case R.VERSION:
        return 2;
      case R.DEVICE_ID:
        return this.#device.deviceId;
      case R.VENDOR_ID:
        return this.#vendorId;
      case R.DEVICE_FEATURES:
        return this.#deviceFeaturesSel < 2 ? this.#featureWord(this.#deviceFeaturesSel) : 0;
      case R.DEVICE_FEATURES_SEL:
        return this.#deviceFeaturesSel;
      case R.DRIVER_FEATURES:
        return this.#driverFeaturesSel < 2 ? this.#driverFeatures[this.#driverFeaturesSel] : 0;
      case R.DRIVER_FEATURES_SEL:
        return this.#driverFeaturesSel;
      case R.QUEUE_SEL:
        return this.#queueSel;
      case R.QUEUE_NUM_MAX:
        return q?.maxSize ?? 0;
      case R.QUEUE_NUM:
        return q?.size ?? 0;
      case R.QUEUE_READY:
        return q?.ready ? 1 : 0;
      case R.INTERRUPT_STATUS:
        return this.#interruptStatus;
      case R.STATUS:
        return this.#status;
      case R.QUEUE_DESC_LOW:
        return q?.descLow ?? 0;
      case R.QUEUE_DESC_HIGH:
        return q?.descHigh ?? 0;
      case R.QUEUE_DRIVER_LOW:
        return q?.driverLow ?? 0;
      case R.QUEUE_DRIVER_HIGH:
        return q?.driverHigh ?? 0;
      case R.QUEUE_DEVICE_LOW:
        return q?.deviceLow ?? 0;
      case R.QUEUE_DEVICE_HIGH:
        return q?.deviceHigh ?? 0;
      case R.SHM_SEL:
        return this.#shmSel;
      case R.SHM_LEN_LOW:
      case R.SHM_LEN_HIGH:
      case R.SHM_BASE_LOW:
      case R.SHM_BASE_HIGH:
        // All ones: there is no shared memory region with this ID.
        return 0xffff_ffff;
      case R.CONFIG_GENERATION:
        return this.#configGeneration;
      default:
        return this.#bad();
    }
  }

  #featureWord(sel: number): number {
    return Number((this.#offered >> BigInt(32 * sel)) & 0xffff_ffffn);
  }

  #readConfig(offset: number, size: number): number {
    if (!this.#configAccessOk(offset, size)) return this.#bad();
    return this.#device.readConfig(offset, size) >>> 0;
  }

  #configAccessOk(offset: number, size: number): boolean {
    return (size === 1 || size === 2 || size === 4) && offset % size === 0 &&
      offset + size <= this.#device.configSize;
  }

  #bad(): 0 {
    this.stats.badAccesses++;
    return 0;
  }

  /** A guest write. Never throws or awaits; bad accesses are ignored and counted. */
  write(offset: number, size: number, value: number): void {
    if (offset >= R.CONFIG) {
      if (!this.#configAccessOk(offset - R.CONFIG, size)) this.#bad();
      else this.#device.writeConfig(offset - R.CONFIG, size, value >>> 0);
      return;
    }
    if (size !== 4 || !(offset >= 0) || offset % 4 !== 0) {
      this.#bad();
      return;
    }
    value = value >>> 0;
    switch (offset) {
      case R.DEVICE_FEATURES_SEL:
        this.#deviceFeaturesSel = value;
        return;
      case R.DRIVER_FEATURES:
        if ((this.#status & S.FEATURES_OK) !== 0) this.#bad();
        else if (this.#driverFeaturesSel < 2) this.#driverFeatures[this.#driverFeaturesSel] = value;
        else if (value !== 0) this.#unknownFeatures = true;
        return;
      case R.DRIVER_FEATURES_SEL:
        this.#driverFeaturesSel = value;
        return;
      case R.QUEUE_SEL:
        this.#queueSel = value;
        return;
      case R.QUEUE_NUM:
      case R.QUEUE_DESC_LOW:
      case R.QUEUE_DESC_HIGH:
      case R.QUEUE_DRIVER_LOW:
      case R.QUEUE_DRIVER_HIGH:
      case R.QUEUE_DEVICE_LOW:
      case R.QUEUE_DEVICE_HIGH:
        this.#writeQueueConfig(offset, value);
        return;
      case R.QUEUE_READY:
        this.#writeQueueReady(value);
        return;
      case R.QUEUE_NOTIFY:
        this.#notify(value);
        return;
      case R.INTERRUPT_ACK:
        this.#interruptStatus &= ~value;
        this.#update();
        return;
      case R.STATUS:
        this.#writeStatus(value);
        return;
      case R.SHM_SEL:
        this.#shmSel = value;
        return;
      default:
        this.#bad();
    }
  }

  #writeQueueConfig(offset: number, value: number): void {
    const q = this.#queues[this.#queueSel];
    // A ready queue's placement was checked once and must not move under the device.
    if (q === undefined || q.ready) {
      this.#bad();
      return;
    }
    switch (offset) {
      case R.QUEUE_NUM:
        q.size = value;
        return;
      case R.QUEUE_DESC_LOW:
        q.descLow = value;
        return;
      case R.QUEUE_DESC_HIGH:
        q.descHigh = value;
        return;
      case R.QUEUE_DRIVER_LOW:
        q.driverLow = value;
        return;
      case R.QUEUE_DRIVER_HIGH:
        q.driverHigh = value;
        return;
      case R.QUEUE_DEVICE_LOW:
        q.deviceLow = value;
        return;
      default:
        q.deviceHigh = value;
    }
  }

  #writeQueueReady(value: number): void {
    const q = this.#queues[this.#queueSel];
    if (q === undefined) {
      this.#bad();
      return;
    }
    if ((value & 1) === 0) {
      if (q.ready) q.disable(false);
      return;
    }
    if (q.ready) return;
    const refusal = q.enable();
    if (refusal !== null) {
      this.#refuse(refusal);
      return;
    }
    if ((this.#status & (S.DRIVER_OK | S.DEVICE_NEEDS_RESET)) === S.DRIVER_OK) {
      this.#startQueue(q);
      this.#device.notify(q.index);
    }
  }

  #startQueue(q: SplitQueue): void {
    q.start(
      (this.#negotiated & (1n << VIRTIO_F.INDIRECT_DESC)) !== 0n,
      (this.#negotiated & (1n << VIRTIO_F.EVENT_IDX)) !== 0n,
    );
  }

  #notify(index: number): void {
    const q = this.#queues[index];
    if (
      (this.#status & (S.DRIVER_OK | S.DEVICE_NEEDS_RESET)) !== S.DRIVER_OK || q === undefined ||
      !q.ready
    ) {
      this.#refuse("NOTIFY_IGNORED");
      return;
    }
    this.stats.notifications++;
    this.#device.notify(index);
  }

  #writeStatus(value: number): void {
    if ((value & 0xff) === 0) {
      this.#resetDevice();
      return;
    }
    const old = this.#status;
    // Status bits are only cleared by a reset, and DEVICE_NEEDS_RESET is the device's to set.
    let next = old | (value & DRIVER_BITS);
    const added = next & ~old;
    if ((added & S.FEATURES_OK) !== 0 && !this.#acceptFeatures()) {
      next &= ~S.FEATURES_OK;
      this.#refuse("FEATURES_REFUSED");
    }
    if ((added & S.DRIVER_OK) !== 0 && (next & S.FEATURES_OK) === 0) {
      next &= ~S.DRIVER_OK;
      this.#refuse("DRIVER_OK_REFUSED");
    }
    this.#status = next;
    if ((next & ~old & S.DRIVER_OK) !== 0 && (next & S.DEVICE_NEEDS_RESET) === 0) {
      for (const q of this.#queues) if (q.ready) this.#startQueue(q);
      for (const q of this.#queues) {
        // A device error raised while handling one queue stops the rest.
        if (q.running) this.#device.notify(q.index);
      }
    }
  }

  #acceptFeatures(): boolean {
    const wanted = (BigInt(this.#driverFeatures[1]) << 32n) | BigInt(this.#driverFeatures[0]);
    if (
      this.#unknownFeatures || (wanted & ~this.#offered) !== 0n ||
      (wanted & (1n << VIRTIO_F.VERSION_1)) === 0n
    ) {
      return false;
    }
    this.#negotiated = wanted;
    return true;
  }

  #refuse(fault: VirtioFault): void {
    this.stats.refusals++;
    this.stats.lastFault = fault;
  }

  #fail(fault: VirtioFault): void {
    this.stats.lastFault = fault;
    if ((this.#status & S.DEVICE_NEEDS_RESET) !== 0) return;
    this.stats.deviceErrors++;
    this.#status |= S.DEVICE_NEEDS_RESET;
    for (const q of this.#queues) q.halt();
    if ((this.#status & S.DRIVER_OK) !== 0) this.#raise(VIRTIO_INT.CONFIG_CHANGE);
  }

  #configChanged(): void {
    this.#configGeneration = (this.#configGeneration + 1) >>> 0;
    if ((this.#status & S.DRIVER_OK) !== 0) this.#raise(VIRTIO_INT.CONFIG_CHANGE);
  }

  #raise(bits: number): void {
    this.#interruptStatus |= bits;
    this.#update();
  }

  #update(): void {
    const level = this.#interruptStatus !== 0;
    if (level === this.#level) return;
    this.#level = level;
    if (level) this.stats.interrupts++;
    this.#line.set(level);
  }

  #resetDevice(): void {
    for (const q of this.#queues) q.disable(true);
    this.#status = 0;
    this.#deviceFeaturesSel = 0;
    this.#driverFeaturesSel = 0;
    this.#driverFeatures.fill(0);
    this.#unknownFeatures = false;
    this.#negotiated = 0n;
    this.#queueSel = 0;
    this.#shmSel = 0;
    this.#interruptStatus = 0;
    this.#update();
    this.#device.reset();
  }

  /**
   * Back to the power-on state: as if the driver wrote 0 to the status register. Requests in
   * flight are cut off; the statistics are kept.
   */
  reset(): void {
    this.#resetDevice();
  }

  /**
   * Adds `virtio_mmio@<base>` under `parent` the way QEMU's `virt` board does (compatible
   * "virtio,mmio", reg, interrupts, dma-coherent) and returns it.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a placement without a base, a size, or
   *   interrupts in whole 3-cell specifiers
   */
  describe(parent: FdtNode, placement: DevicePlacement): FdtNode {
    const { base, size, interrupts } = placement;
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
      throw new VirtioError("INVALID_ARGUMENT", `placement ${base}+${size} is not a region`);
    }
    if (
      interrupts.length === 0 || interrupts.length % 3 !== 0 ||
      !interrupts.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xffff_ffff)
    ) {
      throw new VirtioError(
        "INVALID_ARGUMENT",
        `interrupts [${interrupts.join(", ")}] are not 3-cell GIC specifiers`,
      );
    }
    return parent.addNode(`virtio_mmio@${base.toString(16)}`)
      .setEmpty("dma-coherent")
      .setCells("interrupts", interrupts)
      .setReg([{ address: base, size }])
      .setString("compatible", "virtio,mmio");
  }
}

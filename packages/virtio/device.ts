/**
 * The contracts between the pieces: what a VMM hands a transport (guest memory, an interrupt
 * line, a placement), and what a transport hands a virtio device type (queues of descriptor
 * chains, negotiated features, ways to report a configuration change or a device error).
 *
 * ## Asynchronous completion
 *
 * Guest register accesses never block or await. A queue notification starts the work; a device
 * whose backend answers later (a Promise: a file read, a flush) writes the used ring and raises
 * its interrupt from the event loop when the answer arrives. So an {@link InterruptLine} may be
 * driven outside any guest access, and the VMM must wire it so that a sleeping vCPU wakes. A
 * device whose answer is at hand may also complete the work inside the notification (virtio-blk
 * does with a backend that has `readSync`/`writeSync`).
 *
 * Every chain remembers the queue generation it was taken in. A device reset (a VMM reset, or
 * the driver writing 0 to the status register), disabling the queue, or the device entering
 * DEVICE_NEEDS_RESET starts a new generation: from then on a late completion of an older chain
 * writes nothing into guest memory (neither data nor the used ring) and raises no interrupt.
 * {@link DescriptorChain.write} and {@link Virtqueue.push} enforce this, so a device cannot
 * forget it.
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";
import type { VirtioFault } from "./errors.ts";
import type { GuestMemory } from "./guest_memory.ts";

/**
 * An interrupt input a device drives (the GIC's `IrqLine` satisfies it).
 *
 * @example
 * ```ts
 * import type { InterruptLine } from "@vmkit/virtio";
 *
 * const levels: boolean[] = [];
 * const line: InterruptLine = { set: (level) => levels.push(level), pulse: () => {} };
 * line.set(true);
 * console.log(levels); // [ true ]
 * ```
 */
export interface InterruptLine {
  /** Drive the line's level. */
  set(level: boolean): void;
  /** Signal one edge. */
  pulse(): void;
}

/**
 * Where a VMM placed an MMIO device: its register window and its interrupts as GIC specifier
 * cells, three per interrupt (`[0, 16, 1]` is SPI 16, edge rising).
 *
 * @example
 * ```ts
 * import type { DevicePlacement } from "@vmkit/virtio";
 *
 * const placement: DevicePlacement = { base: 0x0a00_0000, size: 0x200, interrupts: [0, 16, 1] };
 * console.log(placement.base.toString(16)); // a000000
 * ```
 */
export interface DevicePlacement {
  /** Guest-physical base address of the register window. */
  readonly base: number;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** GIC interrupt specifier cells, three per interrupt. */
  readonly interrupts: readonly number[];
}

/**
 * An engine-free MMIO device model: a state machine addressed by offset.
 *
 * @example
 * ```ts
 * import { type MmioDeviceModel, RamGuestMemory, VirtioMmio, VirtioRng } from "@vmkit/virtio";
 *
 * const device: MmioDeviceModel = new VirtioMmio({
 *   device: new VirtioRng(),
 *   memory: new RamGuestMemory(0x4000_0000, new Uint8Array(0x1000)),
 *   interrupt: { set() {}, pulse() {} },
 * });
 * console.log(device.read(0, 4).toString(16)); // 74726976
 * ```
 */
export interface MmioDeviceModel {
  /**
   * A guest read of `size` bytes (1, 2 or 4) at `offset`. Never throws: a bad access reads as
   * zero and is counted.
   */
  read(offset: number, size: number): number;
  /**
   * A guest write of `size` bytes (1, 2 or 4) at `offset`. Never throws and never awaits: a bad
   * access is ignored and counted.
   */
  write(offset: number, size: number, value: number): void;
  /** Back to the power-on state (also on a guest reboot). */
  reset(): void;
  /** Adds the device's own node under `parent` and returns it. */
  describe(parent: FdtNode, placement: DevicePlacement): FdtNode;
}

/**
 * One request as the driver built it: a descriptor chain, flattened into its device-readable
 * bytes followed by its device-writable bytes. Offsets below count within each part, across
 * buffer boundaries (a device must not assume any particular split into buffers).
 *
 * @example
 * ```ts
 * import type { DescriptorChain } from "@vmkit/virtio";
 *
 * function echo(chain: DescriptorChain, scratch: Uint8Array): number {
 *   const n = chain.read(0, scratch);
 *   return chain.write(0, scratch.subarray(0, n));
 * }
 * console.log(typeof echo); // function
 * ```
 */
export interface DescriptorChain {
  /** The head descriptor index (what the used ring reports). */
  readonly head: number;
  /** False once the queue started a new generation: the chain may no longer touch the guest. */
  readonly live: boolean;
  /** Total bytes of the device-readable buffers. */
  readonly readableLength: number;
  /** Total bytes of the device-writable buffers. */
  readonly writableLength: number;
  /**
   * Copies device-readable bytes, from `offset` within them, into `target[start, end)`;
   * returns the number of bytes copied (fewer when the readable part ends first).
   */
  read(offset: number, target: Uint8Array, start?: number, end?: number): number;
  /**
   * Copies `source[start, end)` into the device-writable bytes from `offset` within them;
   * returns the number of bytes written (fewer when the writable part ends first, 0 when the
   * chain is no longer live).
   */
  write(offset: number, source: Uint8Array, start?: number, end?: number): number;
}

/**
 * A split virtqueue as a device type uses it.
 *
 * @example
 * ```ts
 * import type { Virtqueue } from "@vmkit/virtio";
 *
 * // Complete everything available with nothing written, as a sink does.
 * function drain(queue: Virtqueue): number {
 *   let n = 0;
 *   for (let chain = queue.pop(); chain !== null; chain = queue.pop()) {
 *     queue.push(chain, 0);
 *     n++;
 *   }
 *   return n;
 * }
 * console.log(typeof drain); // function
 * ```
 */
export interface Virtqueue {
  /** The queue's index on its device. */
  readonly index: number;
  /** The queue size the driver chose (meaningful while ready). */
  readonly size: number;
  /** True while buffers may be taken: the queue is ready, DRIVER_OK is set, no error. */
  readonly running: boolean;
  /**
   * The next available chain, or null when there is none or the queue is not running. A
   * malformed chain never comes out: it puts the device into DEVICE_NEEDS_RESET and yields
   * null.
   */
  pop(): DescriptorChain | null;
  /**
   * Returns a chain to the driver through the used ring with `written` bytes written (clamped
   * to the writable length) and raises the used-buffer interrupt unless the driver suppressed
   * it. A chain from an older generation is only released: returns false and touches nothing.
   *
   * @throws {VirtioError} `INVALID_STATE` when the chain was already pushed, or
   *   `INVALID_ARGUMENT` when it came from another queue.
   */
  push(chain: DescriptorChain, written: number): boolean;
}

/**
 * What a transport gives a device type when it attaches.
 *
 * @example
 * ```ts
 * import type { VirtioHost } from "@vmkit/virtio";
 *
 * function describeHost(host: VirtioHost): string {
 *   return `${host.queues.length} queues, features 0x${host.driverFeatures.toString(16)}`;
 * }
 * console.log(typeof describeHost); // function
 * ```
 */
export interface VirtioHost {
  /** Guest RAM. */
  readonly memory: GuestMemory;
  /** The device's queues, one per entry of {@link VirtioDevice.queueSizes}. */
  readonly queues: readonly Virtqueue[];
  /** The features the driver accepted (valid once FEATURES_OK is set; 0 before). */
  readonly driverFeatures: bigint;
  /**
   * The configuration space changed: bumps ConfigGeneration and, once DRIVER_OK is set, raises
   * the configuration-change interrupt.
   */
  configChanged(): void;
  /**
   * The driver broke the device protocol in a way that cannot be reported per request: sets
   * DEVICE_NEEDS_RESET, stops all queues and records `fault`.
   */
  fail(fault: VirtioFault): void;
}

/**
 * A virtio device type (block, console, entropy, ...) that a transport carries.
 *
 * The transport owns registers, feature negotiation, queues and interrupts; the device type
 * owns its configuration space and what its queues mean.
 *
 * @example
 * ```ts
 * import type { VirtioDevice, VirtioHost } from "@vmkit/virtio";
 *
 * // A device with one queue that completes every chain untouched.
 * class Null implements VirtioDevice {
 *   readonly deviceId = 0x20;
 *   readonly features = 0n;
 *   readonly queueSizes = [8];
 *   readonly configSize = 0;
 *   #host?: VirtioHost;
 *   attach(host: VirtioHost): void {
 *     this.#host = host;
 *   }
 *   readConfig(): number {
 *     return 0;
 *   }
 *   writeConfig(): void {}
 *   notify(queue: number): void {
 *     const q = this.#host!.queues[queue];
 *     for (let c = q.pop(); c !== null; c = q.pop()) q.push(c, 0);
 *   }
 *   reset(): void {}
 * }
 * console.log(new Null().queueSizes); // [ 8 ]
 * ```
 */
export interface VirtioDevice {
  /** The virtio device ID (§5). */
  readonly deviceId: number;
  /** Device-type feature bits offered (bits 0–23; the transport adds its own). */
  readonly features: bigint;
  /** QueueNumMax of each queue (powers of two, 1–32768). */
  readonly queueSizes: readonly number[];
  /** Bytes of device configuration space. */
  readonly configSize: number;
  /** Called once by the transport that carries the device. */
  attach(host: VirtioHost): void;
  /**
   * A read of the configuration space; the transport has checked that `[offset, offset+size)`
   * lies inside {@link VirtioDevice.configSize} and is aligned.
   */
  readConfig(offset: number, size: number): number;
  /** A write of the configuration space, checked like {@link VirtioDevice.readConfig}. */
  writeConfig(offset: number, size: number, value: number): void;
  /**
   * The driver notified queue `queue`, or DRIVER_OK was just set (then every ready queue is
   * notified once, so buffers made available early are seen). Must not throw or await.
   */
  notify(queue: number): void;
  /** The device was reset: drop pending work (chains from before are no longer live). */
  reset(): void;
}

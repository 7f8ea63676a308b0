/**
 * The device registry: the one place that decides where each device lives.
 * It gives a device its MMIO window and its interrupt lines, maps the window
 * into every vCPU, writes the device's device-tree node and resets it on
 * reboot — the job of Firecracker's device manager.
 *
 * Windows may be smaller than a page (a virtio-mmio transport is 0x200
 * bytes); the engine maps whole 4 KiB pages, so each page that holds any
 * window is mapped once and dispatches by offset to the window inside it.
 *
 * @module
 */

import type { Fdt } from "@vmkit/fdt";
import type { Gicv2, IrqLine } from "@vmkit/vgic";
import { AddressSpace, type MmioAccess, type MmioHandler, VcpuError } from "@vmkit/vcpu";
import type { Device, DevicePlacement, MmioDevice } from "./device.ts";
import { VmmError } from "./errors.ts";

/**
 * How a device's interrupts are triggered, as the device tree says.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type IrqTrigger } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const trigger: IrqTrigger = "edge";
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * const slot = registry.add({
 *   name: "doorbell",
 *   size: 0x200,
 *   trigger,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * assert.deepEqual(slot.placement.interrupts, [0, 16, 1]); // SPI 16, rising edge
 * ```
 */
export type IrqTrigger = "level" | "edge";

/**
 * What the registry decided for a device, handed to its factory.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type DeviceWiring } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const registry = new DeviceRegistry(gic);
 * let wiring: DeviceWiring | undefined;
 * registry.add({
 *   name: "button",
 *   size: 0x200,
 *   device: (w) => {
 *     wiring = w; // the device keeps its line to raise it later
 *     return { read: () => 0, write: () => {}, reset: () => {} };
 *   },
 * });
 * assert.equal(wiring?.lines[0].intid, 32 + 16);
 * assert.equal(wiring?.placement.base, 0x0a00_0000);
 * ```
 */
export interface DeviceWiring {
  /** Its window and interrupt specifiers. */
  readonly placement: DevicePlacement;
  /** Its interrupt lines, one per SPI. */
  readonly lines: readonly IrqLine[];
}

/**
 * What to place.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type DeviceRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const request: DeviceRequest = {
 *   name: "rtc",
 *   base: 0x0901_0000,
 *   size: 0x1000,
 *   spis: [2],
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * };
 * const slot = new DeviceRegistry(new Gicv2({ cpus: 1 })).add(request);
 * assert.deepEqual(slot.spis, [2]);
 * ```
 */
export interface DeviceRequest {
  /** A name for messages and listings, e.g. `virtio-blk`. */
  readonly name: string;
  /**
   * The device model, or a factory that builds it once its window and
   * interrupt lines are known (a device that needs its line to exist).
   */
  readonly device: Device | ((wiring: DeviceWiring) => Device);
  /** Bytes of the register window (a multiple of 4). */
  readonly size: number;
  /** A fixed base address; without one the window comes from `pool`. */
  readonly base?: number;
  /** Where a window without a fixed base comes from. Default `virtio`. */
  readonly pool?: "virtio";
  /** Fixed SPI numbers; without them `interrupts` SPIs come with the pool slot. */
  readonly spis?: readonly number[];
  /** How many interrupts the device needs when they come from the pool. Default 1. */
  readonly interrupts?: number;
  /** The trigger the device tree gives the interrupts. Default `level`. */
  readonly trigger?: IrqTrigger;
}

/**
 * A placed device.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type DeviceSlot } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const registry = new DeviceRegistry(gic);
 * registry.add({
 *   name: "a",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * const slot: DeviceSlot | undefined = registry.find(0x0a00_0004);
 * assert.equal(slot?.name, "a");
 * slot?.lines[0].set(true); // the device raises its interrupt
 * assert.equal(gic.interruptState(32 + slot!.spis[0]).pending, true);
 * ```
 */
export interface DeviceSlot {
  /** The request's name. */
  readonly name: string;
  /** The model. */
  readonly device: Device;
  /** Where it lives, as the device tree describes it. */
  readonly placement: DevicePlacement;
  /** Its SPI numbers (INTID = 32 + SPI). */
  readonly spis: readonly number[];
  /** Its interrupt lines, one per SPI: what the device raises. */
  readonly lines: readonly IrqLine[];
}

/**
 * A register window that is not a whole device (the GIC's two blocks).
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type WindowRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let writes = 0;
 * const window: WindowRequest = {
 *   name: "mailbox",
 *   base: 0x0902_0000,
 *   size: 0x100,
 *   device: { read: () => 0, write: () => {} },
 *   after: (access) => {
 *     if (access.write) writes++;
 *   },
 * };
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * registry.addWindow(window);
 * assert.throws(() => registry.addWindow({ ...window, name: "again" }), { code: "BAD_REGION" });
 * assert.equal(writes, 0);
 * ```
 */
export interface WindowRequest {
  /** For messages. */
  readonly name: string;
  /** Guest-physical base. */
  readonly base: number;
  /** Bytes (a multiple of 4). */
  readonly size: number;
  /** The registers. */
  readonly device: MmioDevice;
  /** Called after each access (to notice what a register access changed). */
  readonly after?: (access: MmioAccess) => void;
}

/**
 * Something the registry maps into vCPUs.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type MmioTarget } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const mapped: string[] = [];
 * const target: MmioTarget = {
 *   mapMmio: (base, size) => mapped.push(`${base.toString(16)}+${size.toString(16)}`),
 * };
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * registry.add({
 *   name: "a",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * registry.attach(target); // a vCPU, in a VM
 * assert.deepEqual(mapped, ["a000000+1000"]); // whole pages
 * ```
 */
export interface MmioTarget {
  /** Maps a page-aligned range whose accesses call `handler`. */
  mapMmio(base: number, size: number, handler: MmioHandler): void;
}

/**
 * Counters.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, type RegistryStats } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * const stats: RegistryStats = registry.stats;
 * assert.deepEqual(stats, { strayAccesses: 0, lastStrayAddress: -1 });
 * ```
 */
export interface RegistryStats {
  /** Accesses to mapped pages outside every window (RAZ/WI). */
  strayAccesses: number;
  /** The address of the last one, or -1. */
  lastStrayAddress: number;
}

/**
 * QEMU virt's virtio-mmio transports: 32 windows of 0x200 bytes from 0x0a00_0000, SPIs 16 up.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * registry.add({
 *   name: "first",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * const second = registry.add({
 *   name: "second",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * assert.equal(second.placement.base, VIRTIO_MMIO_BASE + VIRTIO_MMIO_SIZE);
 * ```
 */
export const VIRTIO_MMIO_BASE = 0x0a00_0000;
/**
 * Bytes per virtio-mmio window.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, VIRTIO_MMIO_SIZE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * assert.throws(
 *   () =>
 *     registry.add({
 *       name: "big",
 *       size: 2 * VIRTIO_MMIO_SIZE,
 *       device: { read: () => 0, write: () => {}, reset: () => {} },
 *     }),
 *   { code: "BAD_CONFIG" },
 * );
 * ```
 */
export const VIRTIO_MMIO_SIZE = 0x200;
/**
 * The first virtio-mmio SPI.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, VIRTIO_MMIO_SPI } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * const slot = registry.add({
 *   name: "first",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * assert.deepEqual(slot.spis, [VIRTIO_MMIO_SPI]);
 * ```
 */
export const VIRTIO_MMIO_SPI = 16;
/**
 * Transport slots.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry, VIRTIO_MMIO_SLOTS } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * for (let i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
 *   registry.add({
 *     name: `dev${i}`,
 *     size: 0x200,
 *     device: { read: () => 0, write: () => {}, reset: () => {} },
 *   });
 * }
 * assert.throws(
 *   () =>
 *     registry.add({
 *       name: "one too many",
 *       size: 0x200,
 *       device: { read: () => 0, write: () => {}, reset: () => {} },
 *     }),
 *   { code: "BAD_CONFIG" },
 * );
 * ```
 */
export const VIRTIO_MMIO_SLOTS = 32;

const PAGE = 0x1000;
const GIC_SPI = 0;
const IRQ_EDGE_RISING = 1;
const IRQ_LEVEL_HIGH = 4;

interface Window extends WindowRequest {
  readonly end: number;
}

/** One engine page and the windows in it. */
class Page {
  readonly windows: Window[] = [];
  readonly handler: MmioHandler;

  constructor(readonly base: number, stats: RegistryStats) {
    const windows = this.windows;
    this.handler = (a) => {
      const address = a.address;
      // Few windows share a page; a scan is cheapest.
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        if (address < w.base || address >= w.end) continue;
        if (a.write) w.device.write(address - w.base, a.size, a.value, a.cpu);
        else a.value = w.device.read(address - w.base, a.size, a.cpu);
        w.after?.(a);
        return;
      }
      stats.strayAccesses++;
      stats.lastStrayAddress = address;
      if (!a.write) a.value = 0;
    };
  }
}

/**
 * Places devices: windows, interrupts, mappings, device-tree nodes, resets.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { DeviceRegistry } from "@vmkit/vmm";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const registry = new DeviceRegistry(gic);
 * const slot = registry.add({
 *   name: "scratch",
 *   size: 0x200,
 *   device: { read: () => 0, write: () => {}, reset: () => {} },
 * });
 * console.log(slot.placement.base.toString(16), slot.spis); // a000000 [ 16 ]
 * ```
 */
export class DeviceRegistry {
  /** Counters. */
  readonly stats: RegistryStats = { strayAccesses: 0, lastStrayAddress: -1 };
  readonly #gic: Gicv2;
  readonly #space = new AddressSpace({ granule: 4 });
  readonly #slots: DeviceSlot[] = [];
  readonly #pages = new Map<number, Page>();
  readonly #targets: MmioTarget[] = [];
  readonly #resets: (() => void)[] = [];
  readonly #describers: ((fdt: Fdt) => void)[] = [];
  readonly #usedSpis = new Set<number>();
  #virtioNext = 0;

  /** A registry whose devices interrupt through `gic`. */
  constructor(gic: Gicv2) {
    this.#gic = gic;
  }

  /** The placed devices, in the order they were added. */
  get slots(): readonly DeviceSlot[] {
    return this.#slots;
  }

  /**
   * Places `request.device`: a window (fixed or from the pool), SPIs, the
   * mapping into every vCPU attached so far and later, its device-tree node
   * and its reset.
   *
   * @throws {VmmError} `BAD_REGION` for a window that overlaps another,
   *   is misaligned or runs past the address space; `BAD_CONFIG` when the
   *   pool or the interrupts run out, or an SPI is taken.
   */
  add(request: DeviceRequest): DeviceSlot {
    const { name, size } = request;
    let base = request.base;
    let spis = request.spis ?? [];
    if (base === undefined) {
      // A pool slot comes with its own SPI, as on QEMU virt.
      const wanted = request.interrupts ?? 1;
      if (wanted > 1 || request.spis) {
        throw new VmmError("BAD_CONFIG", `${name}: a virtio-mmio slot has exactly one interrupt`);
      }
      const slot = this.#virtioSlot(name, size);
      base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE;
      spis = wanted === 1 ? [VIRTIO_MMIO_SPI + slot] : [];
    }
    const claimed: number[] = [];
    try {
      for (const spi of spis) {
        this.#claimSpi(name, spi);
        claimed.push(spi);
      }
    } catch (e) {
      for (const spi of claimed) this.#usedSpis.delete(spi);
      throw e;
    }
    const flags = request.trigger === "edge" ? IRQ_EDGE_RISING : IRQ_LEVEL_HIGH;
    const placement: DevicePlacement = {
      base,
      size,
      interrupts: spis.flatMap((spi) => [GIC_SPI, spi, flags]),
    };
    const lines = spis.map((spi) => this.#gic.line(32 + spi));
    let device: Device;
    try {
      device = typeof request.device === "function"
        ? request.device({ placement, lines })
        : request.device;
      this.addWindow({ name, base, size, device });
    } catch (e) {
      for (const spi of spis) this.#usedSpis.delete(spi);
      if (request.base === undefined) this.#virtioNext--;
      throw e;
    }
    const slot: DeviceSlot = { name, device, placement, spis, lines };
    this.#slots.push(slot);
    this.#resets.push(() => device.reset());
    if (device.describe) {
      const describe = device.describe.bind(device);
      this.#describers.push((fdt) => describe(fdt.root, placement));
    }
    return slot;
  }

  /**
   * Maps a bare register window (no reset, no node of its own): the
   * building block {@link add} uses, and what a device with several windows
   * (the GIC) is made of.
   *
   * @throws {VmmError} `BAD_REGION` as for {@link add}.
   */
  addWindow(request: WindowRequest): void {
    try {
      this.#space.add({ base: request.base, size: request.size, kind: "mmio" }, request.name);
    } catch (e) {
      if (e instanceof VcpuError) throw new VmmError("BAD_REGION", e.message, { cause: e });
      throw e;
    }
    const window: Window = { ...request, end: request.base + request.size };
    const first = Math.floor(request.base / PAGE) * PAGE;
    for (let page = first; page < window.end; page += PAGE) {
      let p = this.#pages.get(page);
      if (!p) {
        p = new Page(page, this.stats);
        this.#pages.set(page, p);
        for (const t of this.#targets) t.mapMmio(page, PAGE, p.handler);
      }
      p.windows.push(window);
    }
  }

  /** Adds what a reset does for a device registered through {@link addWindow}. */
  onReset(reset: () => void): void {
    this.#resets.push(reset);
  }

  /** Adds a device-tree writer for a device registered through {@link addWindow}. */
  onDescribe(describe: (fdt: Fdt) => void): void {
    this.#describers.push(describe);
  }

  /**
   * Maps every page holding a window into `target` (a vCPU), now and for
   * every window added later. Attach a vCPU before it runs.
   */
  attach(target: MmioTarget): void {
    this.#targets.push(target);
    for (const p of this.#pages.values()) target.mapMmio(p.base, PAGE, p.handler);
  }

  /** Writes every device's node into `fdt`. */
  describe(fdt: Fdt): void {
    for (const d of this.#describers) d(fdt);
  }

  /** Resets every device, in the order they were added. */
  reset(): void {
    for (const r of this.#resets) r();
  }

  /** The slot whose window holds `address`, if any. */
  find(address: number): DeviceSlot | undefined {
    return this.#slots.find((s) =>
      address >= s.placement.base && address < s.placement.base + s.placement.size
    );
  }

  #virtioSlot(name: string, size: number): number {
    if (size > VIRTIO_MMIO_SIZE) {
      throw new VmmError(
        "BAD_CONFIG",
        `${name}: a virtio-mmio window is 0x${VIRTIO_MMIO_SIZE.toString(16)} bytes, ` +
          `0x${size.toString(16)} asked`,
      );
    }
    if (this.#virtioNext >= VIRTIO_MMIO_SLOTS) {
      throw new VmmError(
        "BAD_CONFIG",
        `${name}: all ${VIRTIO_MMIO_SLOTS} virtio-mmio slots are taken`,
      );
    }
    return this.#virtioNext++;
  }

  #claimSpi(name: string, spi: number): void {
    if (!Number.isInteger(spi) || spi < 0 || 32 + spi >= this.#gic.irqs) {
      throw new VmmError(
        "BAD_CONFIG",
        `${name}: SPI ${spi} does not exist (the GIC has SPIs 0 to ${this.#gic.irqs - 33})`,
      );
    }
    if (this.#usedSpis.has(spi)) {
      throw new VmmError("BAD_CONFIG", `${name}: SPI ${spi} is taken by another device`);
    }
    this.#usedSpis.add(spi);
  }
}

/**
 * The virtio devices of a VM, as its configuration asks for them: a
 * virtio-blk transport per disk, a virtio-net per network card, a
 * virtio-console when the guest's console is on virtio, and a virtio-rng. Each is a `VirtioMmio` from
 * `@vmkit/virtio` that the device registry places in the next
 * virtio-mmio slot (0x0a00_0000 + 0x200·n, SPI 16 + n, as on QEMU `virt`),
 * maps, describes and resets on every reboot.
 *
 * The disks come first, in their configured order, so their nodes lead the
 * device tree in that order and Linux names them /dev/vda, /dev/vdb, ...;
 * then the network cards (eth0, eth1, ...), the console, the entropy device.
 *
 * @module
 */

import {
  type BlockBackend,
  type GuestMemory,
  type NetBackend,
  VirtioBlk,
  VirtioConsole,
  VirtioError,
  VirtioMmio,
  VirtioNet,
  VirtioRng,
} from "@vmkit/virtio";
import type { DiskConfig } from "./config.ts";
import type { NetConfig } from "./net_config.ts";
import type { DeviceRegistry, DeviceSlot } from "./device_registry.ts";
import { VmmError } from "./errors.ts";
import { DEFAULT_CMDLINE } from "./platform.ts";

/**
 * The kernel command line used when none is given and the console is on virtio.
 *
 * @example
 * ```ts
 * import { VIRTIO_CONSOLE_CMDLINE, VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20, consoleDevice: "virtio" });
 * assert.equal(vm.virtio.defaultCmdline, VIRTIO_CONSOLE_CMDLINE);
 * ```
 */
export const VIRTIO_CONSOLE_CMDLINE = "console=hvc0";

/** Bytes of a virtio-mmio register window. */
const WINDOW = 0x200;

/**
 * What {@link VirtioDevices} builds from.
 *
 * @example
 * ```ts
 * import type { VirtioDevicesOptions } from "@vmkit/vmm";
 * import { RamGuestMemory } from "@vmkit/virtio";
 *
 * const options: VirtioDevicesOptions = {
 *   consoleDevice: "virtio",
 *   disks: [],
 *   rng: true,
 *   memory: new RamGuestMemory(0x4000_0000, new Uint8Array(1 << 20)),
 *   console: (bytes) => console.log(bytes.length),
 * };
 * console.log(options.rng); // true
 * ```
 */
export interface VirtioDevicesOptions {
  /** `virtio` adds a virtio-console. */
  readonly consoleDevice: "pl011" | "virtio";
  /** One virtio-blk per entry, in order. */
  readonly disks: readonly DiskConfig[];
  /** One virtio-net per entry, in order. Default none. */
  readonly nets?: readonly NetConfig[];
  /** Whether to add a virtio-rng. */
  readonly rng: boolean;
  /** Guest RAM, where the queues and buffers live. */
  readonly memory: GuestMemory;
  /** Where the virtio-console's output goes. */
  readonly console: (bytes: Uint8Array) => void;
}

/**
 * One disk: the device, its transport and where the registry put it.
 *
 * @example
 * ```ts
 * import type { VirtioDisk } from "@vmkit/vmm";
 *
 * const describe = (d: VirtioDisk) => `${d.slot.name} at 0x${d.slot.placement.base.toString(16)}`;
 * console.log(typeof describe); // "function"
 * ```
 */
export interface VirtioDisk {
  /** The block device (its `stats`, `capacity`, `readOnly`). */
  readonly blk: VirtioBlk;
  /** Its virtio-mmio transport (its `stats`, `status`). */
  readonly transport: VirtioMmio;
  /** Its window and interrupt. */
  readonly slot: DeviceSlot;
  /** The backend the VM closes when it closes. */
  readonly backend: BlockBackend;
}

/**
 * One network card: the device, its transport and where the registry put it.
 *
 * @example
 * ```ts
 * import type { VirtioNic } from "@vmkit/vmm";
 *
 * const describe = (n: VirtioNic) => `${n.slot.name} ${n.net.macAddress}`;
 * console.log(typeof describe); // "function"
 * ```
 */
export interface VirtioNic {
  /** The network device (its `stats`, `macAddress`, `setLink()`). */
  readonly net: VirtioNet;
  /** Its virtio-mmio transport (its `stats`, `status`). */
  readonly transport: VirtioMmio;
  /** Its window and interrupt. */
  readonly slot: DeviceSlot;
  /** The backend the VM closes when it closes. */
  readonly backend: NetBackend;
}

/**
 * The virtio devices of one VM; `VirtualMachine.virtio`.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { MemoryBlockBackend, RamGuestMemory } from "@vmkit/virtio";
 * import { DeviceRegistry, VirtioDevices } from "@vmkit/vmm";
 *
 * const registry = new DeviceRegistry(new Gicv2({ cpus: 1 }));
 * const virtio = new VirtioDevices(registry, {
 *   consoleDevice: "pl011",
 *   disks: [{ backend: new MemoryBlockBackend(1 << 20) }],
 *   rng: true,
 *   memory: new RamGuestMemory(0x4000_0000, new Uint8Array(1 << 20)),
 *   console: () => {},
 * });
 * console.log(registry.slots.map((s) => `${s.name}@${s.placement.base.toString(16)}`));
 * // [ "virtio-blk0@a000000", "virtio-rng@a000200" ]
 * virtio.close();
 * ```
 */
export class VirtioDevices implements Disposable {
  /** The disks, in the order the guest enumerates them. */
  readonly disks: readonly VirtioDisk[];
  /** The network cards, in the order the guest enumerates them. */
  readonly nets: readonly VirtioNic[];
  /** The console device, when the console is on virtio. */
  readonly console: VirtioConsole | undefined;
  /** The console's transport, when there is one. */
  readonly consoleTransport: VirtioMmio | undefined;
  /** The entropy device, unless turned off. */
  readonly rng: VirtioRng | undefined;
  /** The entropy device's transport, when there is one. */
  readonly rngTransport: VirtioMmio | undefined;
  /** What closing the backends threw, if anything (closing goes on past a failure). */
  readonly closeErrors: unknown[] = [];
  #closed = false;

  /**
   * Creates the devices and places them through `registry`.
   *
   * @throws {VmmError} `BAD_CONFIG` for a disk the block device refuses
   *   (a serial over 20 bytes, a writable disk on a read-only backend), a
   *   network card the net device refuses (its MAC address, its MTU), or
   *   when the registry has no virtio-mmio slot left.
   */
  constructor(registry: DeviceRegistry, options: VirtioDevicesOptions) {
    const { memory } = options;
    const place = <T extends VirtioBlk | VirtioNet | VirtioConsole | VirtioRng>(
      name: string,
      device: T,
    ) => {
      let transport: VirtioMmio | undefined;
      const slot = registry.add({
        name,
        size: WINDOW,
        trigger: "edge",
        device: ({ lines }) => {
          transport = new VirtioMmio({ device, memory, interrupt: lines[0] });
          return transport;
        },
      });
      return { slot, transport: transport! };
    };
    this.disks = options.disks.map((disk, i) => {
      let blk: VirtioBlk;
      try {
        blk = new VirtioBlk({
          backend: disk.backend,
          readOnly: disk.readOnly,
          serial: disk.serial,
        });
      } catch (e) {
        if (!(e instanceof VirtioError)) throw e;
        throw new VmmError("BAD_CONFIG", `disk ${i}: ${e.message}`, { cause: e });
      }
      return { blk, backend: disk.backend, ...place(`virtio-blk${i}`, blk) };
    });
    this.nets = (options.nets ?? []).map((nic, i) => {
      let net: VirtioNet;
      try {
        // Plugged in below, once the card has its slot: a slot error leaves the backend alone.
        net = new VirtioNet({ mac: nic.mac, mtu: nic.mtu });
      } catch (e) {
        if (!(e instanceof VirtioError)) throw e;
        throw new VmmError("BAD_CONFIG", `net ${i}: ${e.message}`, { cause: e });
      }
      return { net, backend: nic.backend, ...place(`virtio-net${i}`, net) };
    });
    for (const { net, backend } of this.nets) net.plug(backend);
    if (options.consoleDevice === "virtio") {
      const write = options.console;
      this.console = new VirtioConsole({ onTransmit: (bytes) => write(bytes) });
      this.consoleTransport = place("virtio-console", this.console).transport;
    }
    if (options.rng) {
      this.rng = new VirtioRng();
      this.rngTransport = place("virtio-rng", this.rng).transport;
    }
  }

  /** The command line a VM boots Linux with when none is given. */
  get defaultCmdline(): string {
    return this.console ? VIRTIO_CONSOLE_CMDLINE : DEFAULT_CMDLINE;
  }

  /**
   * Hands console input to the virtio-console, when there is one; returns
   * false when there is none (the input is for the UART then). Input beyond
   * the console's buffer is dropped and counted in its `stats.dropped`.
   */
  receive(bytes: Uint8Array): boolean {
    if (!this.console) return false;
    this.console.receive(bytes);
    return true;
  }

  /**
   * Closes every disk's and network card's backend, once. The devices stay
   * placed, answering the guest.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { backend } of [...this.disks, ...this.nets]) {
      try {
        closeBackend(backend);
      } catch (e) {
        this.closeErrors.push(e);
      }
    }
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A backend is closed through whichever of `close()` or `[Symbol.dispose]()` it has. */
function closeBackend(backend: BlockBackend | NetBackend): void {
  const b = backend as Partial<Disposable> & { close?: () => unknown };
  if (typeof b.close === "function") {
    // A backend that closes asynchronously (a TAP device's reader) finishes on its own.
    const done = b.close() as Promise<unknown> | undefined;
    if (typeof done?.catch === "function") done.catch(() => {});
  } else if (typeof b[Symbol.dispose] === "function") b[Symbol.dispose]!();
}

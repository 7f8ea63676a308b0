/**
 * The MMIO bus: which device answers which guest-physical range, with every
 * registration checked for overlap and overflow, and the adapter from the
 * vCPU's decoded access record to a device's `read`/`write`.
 *
 * @module
 */

import type { MmioAccess, MmioHandler } from "@vmkit/vcpu";
import { VmmError } from "./errors.ts";

/**
 * A device model as the bus sees it: a state machine addressed by offset.
 * `cpu` is the index of the vCPU making the access (banked registers need it;
 * most devices ignore it). Neither method may throw for any guest access.
 */
export interface MmioDevice {
  /** A guest read of `size` bytes (1, 2 or 4) at `offset`. */
  read(offset: number, size: number, cpu: number): number;
  /** A guest write of `size` bytes (1, 2 or 4) at `offset`. */
  write(offset: number, size: number, value: number, cpu: number): void;
}

/** A device placed on the bus. */
export interface MmioMapping {
  /** A name for messages and listings. */
  readonly name: string;
  /** Guest-physical base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** The device model. */
  readonly device: MmioDevice;
}

/** Guest-physical addresses are 48-bit. */
const ADDRESS_LIMIT = 2 ** 48;

/** Devices by guest-physical range. */
export class MmioBus {
  readonly #mappings: MmioMapping[] = [];

  /** The mappings, sorted by base address. */
  get mappings(): readonly MmioMapping[] {
    return this.#mappings;
  }

  /**
   * Places a device.
   *
   * @throws {VmmError} `BAD_MMIO_REGION` for an empty, misaligned (4 KiB),
   *   overflowing or overlapping range.
   */
  register(name: string, base: number, size: number, device: MmioDevice): MmioMapping {
    const where = `${name} at 0x${base.toString(16)} (size 0x${size.toString(16)})`;
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0) {
      throw new VmmError("BAD_MMIO_REGION", `${where}: base and size must be positive integers`);
    }
    if (base % 0x1000 !== 0 || size % 0x1000 !== 0) {
      throw new VmmError("BAD_MMIO_REGION", `${where}: base and size must be 4 KiB aligned`);
    }
    if (base + size > ADDRESS_LIMIT) {
      throw new VmmError("BAD_MMIO_REGION", `${where}: runs past the 48-bit address space`);
    }
    for (const m of this.#mappings) {
      if (base < m.base + m.size && m.base < base + size) {
        throw new VmmError(
          "BAD_MMIO_REGION",
          `${where} overlaps ${m.name} at 0x${m.base.toString(16)} (size 0x${m.size.toString(16)})`,
        );
      }
    }
    const mapping = { name, base, size, device };
    this.#mappings.push(mapping);
    this.#mappings.sort((a, b) => a.base - b.base);
    return mapping;
  }

  /** The mapping containing `address`, if any. */
  find(address: number): MmioMapping | undefined {
    for (const m of this.#mappings) if (address >= m.base && address < m.base + m.size) return m;
    return undefined;
  }

  /**
   * The handler the vCPU calls for one mapping: it hands the decoded access
   * to the device and allocates nothing.
   */
  static handler(device: MmioDevice, after?: (access: MmioAccess) => void): MmioHandler {
    if (after) {
      return (a) => {
        if (a.write) device.write(a.offset, a.size, a.value, a.cpu);
        else a.value = device.read(a.offset, a.size, a.cpu);
        after(a);
      };
    }
    return (a) => {
      if (a.write) device.write(a.offset, a.size, a.value, a.cpu);
      else a.value = device.read(a.offset, a.size, a.cpu);
    };
  }
}

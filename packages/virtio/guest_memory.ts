/**
 * How devices reach guest RAM: one backing byte array plus a checked translation from a
 * guest-physical range to an index into it. Queue processing translates once per buffer and
 * then works on the typed array directly, so it allocates nothing per request, and every index
 * it uses has been checked against RAM: a device can never touch host memory outside it.
 *
 * @module
 */

import { VirtioError } from "./errors.ts";

/**
 * Guest RAM as devices see it.
 *
 * The layout must not change while a device is live (queues keep translated ring indices). An
 * implementation with several RAM regions lays them out in `bytes` and translates each region
 * to its own part; a range that spans two regions is refused like one outside RAM.
 *
 * @example
 * ```ts
 * import type { GuestMemory } from "@vmkit/virtio";
 *
 * // RAM at 0x4000_0000, with 16 guard bytes on either side that no translation reaches.
 * const bytes = new Uint8Array(16 + 4096 + 16);
 * const guarded: GuestMemory = {
 *   bytes,
 *   view: new DataView(bytes.buffer),
 *   translate(address, length) {
 *     const offset = address - 0x4000_0000;
 *     return offset >= 0 && length >= 0 && offset + length <= 4096 ? 16 + offset : -1;
 *   },
 * };
 * console.log(guarded.translate(0x4000_0ff0, 32)); // -1
 * ```
 */
export interface GuestMemory {
  /** The backing bytes; {@link GuestMemory.translate} returns indices into them. */
  readonly bytes: Uint8Array;
  /** A view of exactly the same bytes: byte offset `i` of `view` is `bytes[i]`. */
  readonly view: DataView;
  /**
   * The index in {@link GuestMemory.bytes} of guest-physical `address`, when every byte of
   * `[address, address + length)` is RAM; otherwise -1 (also for negative, fractional or
   * non-finite inputs, and for ranges whose end overflows). An empty range is RAM when its
   * address is inside RAM or just past its end.
   */
  translate(address: number, length: number): number;
}

/**
 * A single contiguous bank of guest RAM: `bytes[i]` is guest-physical `base + i`.
 *
 * @example
 * ```ts
 * import { RamGuestMemory } from "@vmkit/virtio";
 *
 * const ram = new RamGuestMemory(0x4000_0000, new Uint8Array(0x1000));
 * console.log(ram.translate(0x4000_0010, 4)); // 16
 * console.log(ram.translate(0x4000_0ffe, 4)); // -1
 * console.log(ram.translate(0x3fff_ffff, 1)); // -1
 * ```
 */
export class RamGuestMemory implements GuestMemory {
  /** Guest-physical address of `bytes[0]`. */
  readonly base: number;
  /** The RAM. */
  readonly bytes: Uint8Array;
  /** A view of the RAM. */
  readonly view: DataView;
  readonly #size: number;

  /**
   * Wraps a bank of RAM.
   *
   * @param base guest-physical address of the first byte
   * @param bytes the RAM itself (typically a view of the buffer the CPU engine maps)
   * @throws {VirtioError} `INVALID_ARGUMENT` when `bytes` is not a Uint8Array or the bank does
   *   not lie below 2^53
   */
  constructor(base: number, bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) {
      throw new VirtioError("INVALID_ARGUMENT", "guest RAM must be a Uint8Array");
    }
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(base + bytes.length)) {
      throw new VirtioError(
        "INVALID_ARGUMENT",
        `guest RAM at ${base} of ${bytes.length} bytes is not inside the 2^53 address space`,
      );
    }
    this.base = base;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#size = bytes.length;
  }

  /** See {@link GuestMemory.translate}. */
  translate(address: number, length: number): number {
    const offset = address - this.base;
    // Written so that NaN fails every comparison; float arithmetic never wraps, so a range
    // whose 64-bit end would overflow lands far beyond the bank and fails too.
    if (!(offset >= 0 && length >= 0 && length <= this.#size - offset)) return -1;
    if (Math.floor(offset) !== offset || Math.floor(length) !== length) return -1;
    return offset;
  }
}

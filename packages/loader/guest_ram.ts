/**
 * The loader's view of guest RAM: one contiguous bank at a guest-physical address.
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";

/**
 * A bank of guest RAM: `bytes[i]` is the byte at guest-physical address `base + i`. `bytes` is
 * normally a view of the ArrayBuffer the VMM shares with the CPU engine.
 *
 * @example Usage
 * ```ts
 * import { type GuestRam, guestBytes } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // 16 MiB at 0x40000000; a VMM passes the view of the memory it shares with the CPU engine.
 * const ram: GuestRam = { base: 0x4000_0000, bytes: new Uint8Array(16 * 1024 * 1024) };
 * ram.bytes[0x10] = 0xaa;
 * assert.equal(guestBytes(ram, 0x4000_0010, 1)[0], 0xaa);
 * ```
 */
export interface GuestRam {
  /** Guest-physical address of `bytes[0]`. */
  readonly base: number;
  /** The RAM's backing bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Throws `BAD_RAM` unless `ram` describes a bank below 2^53 at a non-negative integer base.
 *
 * @example Usage
 * ```ts
 * import { checkGuestRam } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * checkGuestRam({ base: 0x4000_0000, bytes: new Uint8Array(4096) });
 * const bytes = new Uint8Array(4096);
 * assert.throws(() => checkGuestRam({ base: -1, bytes }), { code: "BAD_RAM" });
 * ```
 */
export function checkGuestRam(ram: GuestRam): void {
  if (!Number.isSafeInteger(ram.base) || ram.base < 0) {
    throw new LoaderError("BAD_RAM", `guest RAM base ${ram.base} is not a guest-physical address`);
  }
  if (!(ram.bytes instanceof Uint8Array)) {
    throw new LoaderError("BAD_RAM", "guest RAM bytes is not a Uint8Array");
  }
  if (!Number.isSafeInteger(ram.base + ram.bytes.length)) {
    throw new LoaderError(
      "BAD_RAM",
      `guest RAM at ${hex(ram.base)} of ${ram.bytes.length} bytes ends beyond 2^53`,
      { address: ram.base },
    );
  }
}

/**
 * Guest-physical address of the first byte after `ram`.
 *
 * @example Usage
 * ```ts
 * import { guestRamEnd } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x10_0000) };
 * assert.equal(guestRamEnd(ram), 0x4010_0000); // one past the last byte
 * ```
 */
export function guestRamEnd(ram: GuestRam): number {
  return ram.base + ram.bytes.length;
}

/**
 * True when `[address, address + length)` lies inside `ram` (an empty range at its end counts).
 *
 * @example Usage
 * ```ts
 * import { inGuestRam } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x10_0000) };
 * assert.equal(inGuestRam(ram, 0x4000_0000, 0x10_0000), true); // all of it
 * assert.equal(inGuestRam(ram, 0x400f_f000, 0x2000), false); // runs past the end
 * assert.equal(inGuestRam(ram, 0x3fff_f000, 16), false); // below the bank
 * ```
 */
export function inGuestRam(ram: GuestRam, address: number, length: number): boolean {
  return Number.isSafeInteger(address) && Number.isSafeInteger(length) && length >= 0 &&
    address >= ram.base && address + length <= guestRamEnd(ram);
}

/**
 * Returns a view of `length` bytes of guest RAM from guest-physical `address`, or throws
 * `INVALID_ARGUMENT` naming the range when it is not inside `ram`.
 *
 * @example Reading a guest structure in place
 * ```ts
 * import { guestBytes, writeGuest } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x10_0000) };
 * writeGuest(ram, 0x4000_1000, new Uint8Array([1, 0, 0, 0]));
 * const word = guestBytes(ram, 0x4000_1000, 4); // a view: no copy
 * assert.equal(new DataView(word.buffer, word.byteOffset).getUint32(0, true), 1);
 * assert.throws(() => guestBytes(ram, 0x5000_0000, 4), { code: "INVALID_ARGUMENT" });
 * ```
 */
export function guestBytes(ram: GuestRam, address: number, length: number): Uint8Array {
  if (!inGuestRam(ram, address, length)) {
    throw new LoaderError(
      "INVALID_ARGUMENT",
      `guest range ${hex(address)}..${hex(address + length)} is outside RAM ${hex(ram.base)}..${
        hex(guestRamEnd(ram))
      }`,
      { address },
    );
  }
  const start = address - ram.base;
  return ram.bytes.subarray(start, start + length);
}

/**
 * Copies `data` into guest RAM at guest-physical `address`; throws `INVALID_ARGUMENT` if it does
 * not fit.
 *
 * @example Usage
 * ```ts
 * import { writeGuest } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x10_0000) };
 * writeGuest(ram, 0x4000_0100, new TextEncoder().encode("hi"));
 * assert.deepEqual([...ram.bytes.subarray(0x100, 0x102)], [0x68, 0x69]);
 * // The last byte of RAM is 0x400fffff: two bytes there do not fit.
 * assert.throws(() => writeGuest(ram, 0x400f_ffff, new Uint8Array(2)), {
 *   code: "INVALID_ARGUMENT",
 * });
 * ```
 */
export function writeGuest(ram: GuestRam, address: number, data: Uint8Array): void {
  guestBytes(ram, address, data.length).set(data);
}

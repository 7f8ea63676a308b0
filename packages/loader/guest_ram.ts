/**
 * The loader's view of guest RAM: one contiguous bank at a guest-physical address.
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";

/**
 * A bank of guest RAM: `bytes[i]` is the byte at guest-physical address `base + i`. `bytes` is
 * normally a view of the ArrayBuffer the VMM shares with the CPU engine.
 */
export interface GuestRam {
  /** Guest-physical address of `bytes[0]`. */
  readonly base: number;
  /** The RAM's backing bytes. */
  readonly bytes: Uint8Array;
}

/** Throws `BAD_RAM` unless `ram` describes a bank below 2^53 at a non-negative integer base. */
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

/** Guest-physical address of the first byte after `ram`. */
export function guestRamEnd(ram: GuestRam): number {
  return ram.base + ram.bytes.length;
}

/** True when `[address, address + length)` lies inside `ram` (an empty range at its end counts). */
export function inGuestRam(ram: GuestRam, address: number, length: number): boolean {
  return Number.isSafeInteger(address) && Number.isSafeInteger(length) && length >= 0 &&
    address >= ram.base && address + length <= guestRamEnd(ram);
}

/**
 * Returns a view of `length` bytes of guest RAM from guest-physical `address`, or throws
 * `INVALID_ARGUMENT` naming the range when it is not inside `ram`.
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

/** Copies `data` into guest RAM at guest-physical `address`; throws `INVALID_ARGUMENT` if it does not fit. */
export function writeGuest(ram: GuestRam, address: number, data: Uint8Array): void {
  guestBytes(ram, address, data.length).set(data);
}

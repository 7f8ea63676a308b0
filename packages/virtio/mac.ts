/**
 * Ethernet MAC addresses as people write them (`52:54:00:12:34:56`) and as devices hold them
 * (6 bytes).
 *
 * @module
 */

import { VirtioError } from "./errors.ts";

/**
 * Parses `aa:bb:cc:dd:ee:ff` (or with `-` between the bytes) into 6 bytes.
 *
 * @throws {VirtioError} `INVALID_ARGUMENT` naming the text when it is not a MAC address
 *
 * @example
 * ```ts
 * import { parseMac } from "@vmkit/virtio";
 *
 * console.log(parseMac("52:54:00:12:34:56")); // Uint8Array(6) [ 82, 84, 0, 18, 52, 86 ]
 * ```
 */
export function parseMac(text: string): Uint8Array {
  const m = typeof text === "string"
    ? /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i
      .exec(text)
    : null;
  if (m === null) {
    throw new VirtioError(
      "INVALID_ARGUMENT",
      `${JSON.stringify(text)} is not a MAC address (six hex bytes: 52:54:00:12:34:56)`,
    );
  }
  return Uint8Array.from([m[1], m[3], m[4], m[5], m[6], m[7]], (b) => parseInt(b, 16));
}

/**
 * Writes 6 bytes as `aa:bb:cc:dd:ee:ff`.
 *
 * @throws {VirtioError} `INVALID_ARGUMENT` unless `mac` is 6 bytes
 *
 * @example
 * ```ts
 * import { formatMac } from "@vmkit/virtio";
 *
 * console.log(formatMac(new Uint8Array([2, 0, 0, 0, 0, 1]))); // 02:00:00:00:00:01
 * ```
 */
export function formatMac(mac: Uint8Array): string {
  if (!(mac instanceof Uint8Array) || mac.length !== 6) {
    throw new VirtioError("INVALID_ARGUMENT", "a MAC address is 6 bytes");
  }
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * A random unicast MAC address with the locally-administered bit set, as VMMs give NICs nobody
 * named an address for.
 *
 * @example
 * ```ts
 * import { randomMac } from "@vmkit/virtio";
 *
 * const mac = randomMac();
 * console.log(mac.length, mac[0] & 3); // 6 2
 * ```
 */
export function randomMac(): Uint8Array {
  const mac = crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0] & 0xfc) | 0x02;
  return mac;
}

/**
 * The 6 bytes of `mac`, whichever way it was given; copies, so the caller's array may change.
 *
 * @throws {VirtioError} `INVALID_ARGUMENT` for text that is not a MAC address, bytes that are
 *   not 6, or a multicast address (bit 0 of the first byte set), which no NIC may own
 *
 * @example
 * ```ts
 * import { macBytes } from "@vmkit/virtio";
 *
 * console.log(macBytes("02:00:00:00:00:07")[5]); // 7
 * ```
 */
export function macBytes(mac: string | Uint8Array): Uint8Array {
  const bytes = typeof mac === "string" ? parseMac(mac) : mac;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 6) {
    throw new VirtioError("INVALID_ARGUMENT", "a MAC address is 6 bytes");
  }
  if ((bytes[0] & 1) !== 0) {
    throw new VirtioError(
      "INVALID_ARGUMENT",
      `${formatMac(bytes)} is a multicast address; a network card needs a unicast one`,
    );
  }
  return bytes.slice();
}

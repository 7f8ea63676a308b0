/**
 * The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words, what
 * a NIC with checksum offload computes for the driver.
 *
 * @module
 */

/**
 * The 32-bit running sum of `bytes[start, end)` added to `sum`, with an odd last byte padded
 * with zero. Fold it with {@link foldChecksum}.
 */
export function checksumAdd(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  // Four 16-bit words per round keep the sum well inside 2^53 for any length a frame has.
  for (; i + 8 <= end; i += 8) {
    sum += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]) +
      ((bytes[i + 4] << 8) | bytes[i + 5]) + ((bytes[i + 6] << 8) | bytes[i + 7]);
  }
  for (; i + 2 <= end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value a checksum field holds. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

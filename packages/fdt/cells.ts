import { FdtError } from "./errors.ts";

const TWO_POW_32 = 0x1_0000_0000;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Reads a big-endian u32 at `offset`; the caller has checked the bounds. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

/** Writes a big-endian u32 at `offset`. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

/** Reads a big-endian u64 at `offset` as a bigint. */
export function readU64Big(bytes: Uint8Array, offset: number): bigint {
  return (BigInt(readU32(bytes, offset)) << 32n) | BigInt(readU32(bytes, offset + 4));
}

/** Writes a big-endian u64 at `offset`. */
export function writeU64Big(bytes: Uint8Array, offset: number, value: bigint): void {
  writeU32(bytes, offset, Number(value >> 32n));
  writeU32(bytes, offset + 4, Number(value & 0xffff_ffffn));
}

/**
 * Folds `count` big-endian cells starting at `offset` into one `number`. Leading cells must be zero
 * and the result at most 2^53 - 1; otherwise `VALUE_OVERFLOW`, because a rounded address would be a
 * silent wrong result.
 */
export function readCellsAsNumber(
  bytes: Uint8Array,
  offset: number,
  count: number,
  what: string,
  path?: string,
): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const cell = readU32(bytes, offset + i * 4);
    if (value > 0x1f_ffff) {
      throw new FdtError("VALUE_OVERFLOW", `${what} does not fit in 53 bits`, { path });
    }
    value = value * TWO_POW_32 + cell;
  }
  if (!Number.isSafeInteger(value)) {
    throw new FdtError("VALUE_OVERFLOW", `${what} does not fit in 53 bits`, { path });
  }
  return value;
}

/**
 * Splits a non-negative safe integer into `count` big-endian cells at `offset`, or raises
 * `VALUE_OVERFLOW` if it needs more cells than that.
 */
export function writeNumberAsCells(
  bytes: Uint8Array,
  offset: number,
  count: number,
  value: number,
  what: string,
  path?: string,
): void {
  let rest = value;
  for (let i = count - 1; i >= 0; i--) {
    writeU32(bytes, offset + i * 4, rest % TWO_POW_32);
    rest = Math.floor(rest / TWO_POW_32);
  }
  if (rest !== 0) {
    throw new FdtError(
      "VALUE_OVERFLOW",
      `${what} 0x${value.toString(16)} does not fit in ${count} cell(s)`,
      { path },
    );
  }
}

/** Checks a caller-supplied address or size: a non-negative safe integer. */
export function assertAddress(value: number, what: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new FdtError(
      "INVALID_ARGUMENT",
      `${what} must be a non-negative integer below 2^53, got ${String(value)}`,
    );
  }
}

/** Checks a caller-supplied 32-bit cell. */
export function assertU32(value: number, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
    throw new FdtError(
      "INVALID_ARGUMENT",
      `${what} must be an integer in [0, 2^32), got ${String(value)}`,
    );
  }
}

/** Encodes cells into a new big-endian byte array. */
export function encodeCells(cells: readonly number[], what = "cell"): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  for (let i = 0; i < cells.length; i++) {
    assertU32(cells[i], what);
    writeU32(out, i * 4, cells[i]);
  }
  return out;
}

/** Encodes a u64 (a safe integer or any bigint in [0, 2^64)) as 8 big-endian bytes. */
export function encodeU64(value: number | bigint, what = "value"): Uint8Array {
  let big: bigint;
  if (typeof value === "bigint") {
    big = value;
  } else {
    assertAddress(value, what);
    big = BigInt(value);
  }
  if (big < 0n || big > 0xffff_ffff_ffff_ffffn) {
    throw new FdtError("INVALID_ARGUMENT", `${what} must be in [0, 2^64), got ${big}`);
  }
  const out = new Uint8Array(8);
  writeU64Big(out, 0, big);
  return out;
}

/** Encodes one string with its terminating NUL; NULs inside are refused. */
export function encodeString(value: string, what = "string"): Uint8Array {
  if (typeof value !== "string") {
    throw new FdtError("INVALID_ARGUMENT", `${what} must be a string`);
  }
  if (value.includes("\0")) {
    throw new FdtError("INVALID_ARGUMENT", `${what} must not contain NUL characters`);
  }
  const body = encoder.encode(value);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

/** Encodes a string list: each string followed by its NUL, back to back. */
export function encodeStringList(values: readonly string[], what = "string list"): Uint8Array {
  const parts = values.map((v) => encodeString(v, what));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD rather than failing. */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Rounds up to the next multiple of 4. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Rounds up to a multiple of a power of two `to`. */
export function alignTo(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

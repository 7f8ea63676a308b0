/**
 * Hexadecimal the way the remote protocol spells it: lowercase out, either case in, and every
 * parser returning `undefined` for anything malformed instead of throwing.
 *
 * @module
 */

const DIGITS = "0123456789abcdef";

/** The value of one hex digit's character code, or -1. */
export function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/** Two lowercase hex digits for a byte. */
export function hexByte(value: number): string {
  return DIGITS[(value >> 4) & 15] + DIGITS[value & 15];
}

/** Bytes as lowercase hex, two digits each. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += DIGITS[bytes[i] >> 4] + DIGITS[bytes[i] & 15];
  return out;
}

/** Hex text (an even number of digits) as bytes; `undefined` when it is not. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(text.charCodeAt(2 * i));
    const lo = hexDigit(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Text as the hex of its UTF-8 bytes (monitor output, thread extra info). */
export function textToHex(text: string): string {
  return toHex(new TextEncoder().encode(text));
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * A hex number of at most 64 bits (leading zeros allowed, at most 32 digits), or `undefined`
 * for an empty string, a non-hex character or a value that does not fit.
 */
export function parseHexU64(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 32) return undefined;
  let value = 0n;
  for (let i = 0; i < text.length; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) return undefined;
    value = (value << 4n) | BigInt(d);
  }
  return value > MAX_U64 ? undefined : value;
}

/**
 * A hex number no larger than `max` (at most 2^31 - 1 by default), or `undefined`. Used for
 * lengths, register numbers and kinds, where anything larger is malformed.
 */
export function parseHexInt(text: string, max = 0x7fff_ffff): number | undefined {
  if (text.length === 0 || text.length > 16) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) return undefined;
    value = value * 16 + d;
    if (value > max) return undefined;
  }
  return value;
}

/**
 * A thread id as the protocol writes it without the multiprocess extension: `-1` (all), `0`
 * (any) or a positive hex number. `undefined` when malformed.
 */
export function parseThreadId(text: string): number | undefined {
  if (text === "-1") return -1;
  return parseHexInt(text);
}

/** A 64-bit value as minimal lowercase hex (the form stop replies use for addresses). */
export function hexU64(value: bigint): string {
  return value.toString(16);
}

/** Bytes as a string of the same char codes (packets are 8-bit; binary data stays intact). */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x2000) {
    out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x2000)));
  }
  return out;
}

/** A string of char codes below 256 as bytes (the inverse of {@link latin1}). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

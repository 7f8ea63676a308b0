/**
 * Reads a fuzz input as a stream of choices, so that register-level targets (the GIC, the UART,
 * the placement) get their operations, offsets and values from plain bytes the mutator can work
 * on, and a saved input replays the same operations. Reading past the end yields zeros.
 *
 * @module
 */

/** Numbers outside what a well-behaved caller passes, for arguments that must still be handled. */
const ODD_NUMBERS: readonly number[] = [
  -1,
  -4,
  0.5,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  2 ** 32,
  2 ** 32 + 4,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  -(2 ** 31),
];

/** A cursor over a fuzz input. */
export class ByteReader {
  readonly #data: Uint8Array;
  #at = 0;

  /** Reads `data` from its start. */
  constructor(data: Uint8Array) {
    this.#data = data;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#data.length - this.#at;
  }

  /** The next byte, or 0 past the end. */
  u8(): number {
    return this.#at < this.#data.length ? this.#data[this.#at++] : 0;
  }

  /** The next two bytes, little-endian. */
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  /** The next four bytes, little-endian, unsigned. */
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  /** An integer in `[0, n)` from one byte (n ≤ 256) or two. */
  below(n: number): number {
    return n <= 256 ? this.u8() % n : this.u16() % n;
  }

  /** True or false from one byte. */
  bool(): boolean {
    return (this.u8() & 1) === 1;
  }

  /** One of `items`, chosen by one byte. */
  pick<T>(items: readonly T[]): T {
    return items[this.u8() % items.length];
  }

  /** Up to `max` bytes, the count read first. */
  bytes(max: number): Uint8Array {
    const n = Math.min(this.below(max + 1), this.remaining);
    const out = this.#data.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /**
   * Usually `normal()`, about one time in 32 a number no well-behaved caller passes (negative,
   * fractional, NaN, infinite, beyond 2^32 or 2^53).
   */
  orOdd(normal: () => number): number {
    return this.u8() < 8 ? this.pick(ODD_NUMBERS) : normal();
  }
}

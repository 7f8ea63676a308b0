/**
 * A small seeded pseudo-random generator (sfc32), so that a fuzz run is reproducible from its seed.
 *
 * @module
 */

/** Mixes a 32-bit value (the murmur3 finaliser), to spread seeds and names over all bits. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a), to derive one seed per target from the run's seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The seed a target's worker starts from: the run's seed, the target's name and a restart count. */
export function deriveSeed(seed: number, name: string, restart = 0): number {
  return mix32((seed ^ hashString(name)) + Math.imul(restart, 0x9e3779b9));
}

/** sfc32: fast, 128 bits of state, good enough to drive a mutator. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the state from a 32-bit seed. */
  constructor(seed: number) {
    this.#a = mix32(seed ^ 0x9e3779b9);
    this.#b = mix32(seed ^ 0x243f6a88);
    this.#c = mix32(seed ^ 0xb7e15162);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A uniform integer in `[0, n)`; `n` from 1 to 2^32. */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

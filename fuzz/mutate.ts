/**
 * A byte-level mutator in the style of AFL's havoc stage: bit flips, interesting values, small
 * arithmetic, block deletion, insertion, duplication and overwrite, dictionary tokens, and
 * splicing with another input. Mutations stack (one to eight per input), so a seed moves a few
 * steps at a time and mostly stays well-formed enough to reach past the first checks.
 *
 * @module
 */

import type { Rng } from "./rng.ts";

const INTERESTING_8 = [0x80, 0xff, 0, 1, 16, 32, 64, 100, 127];
const INTERESTING_16 = [0x8000, 0xff7f, 128, 255, 256, 512, 1000, 1024, 4096, 0x7fff, 0xffff];
const INTERESTING_32 = [
  0x80000000,
  0xfa0000fa,
  0xffff7fff,
  0x8000,
  0xffff,
  0x10000,
  0x5ffff05,
  0x7fffffff,
  0xffffffff,
  0xfffffff0,
  0x100000,
  0x200000,
  0x40000000,
];

/** How to mutate one target's inputs. */
export interface MutateOptions {
  /** Inputs never grow beyond this many bytes. */
  readonly maxLength: number;
  /** Byte strings meaningful to the target (magic numbers, tokens), inserted or overwritten. */
  readonly dictionary?: readonly Uint8Array[];
}

/** An offset in `[0, length)`, half of the time 4-byte aligned (device trees are word-based). */
function offset(rng: Rng, length: number, width = 1): number {
  const at = rng.below(Math.max(1, length - width + 1));
  return rng.chance(0.5) ? at & ~3 : at;
}

function put(view: DataView, at: number, width: number, value: number, little: boolean): void {
  if (width === 1) view.setUint8(at, value & 0xff);
  else if (width === 2) view.setUint16(at, value & 0xffff, little);
  else view.setUint32(at, value >>> 0, little);
}

function get(view: DataView, at: number, width: number, little: boolean): number {
  if (width === 1) return view.getUint8(at);
  if (width === 2) return view.getUint16(at, little);
  return view.getUint32(at, little);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One mutation of `input` (never modified; the result may share nothing with it). */
function mutateOnce(
  rng: Rng,
  input: Uint8Array,
  other: Uint8Array,
  options: MutateOptions,
): Uint8Array {
  const data = input.slice();
  const view = new DataView(data.buffer);
  const len = data.length;
  const op = rng.below(16);
  if (len === 0 && op < 11) return rng.bytes(1 + rng.below(16));
  switch (op) {
    case 0: {
      const bit = rng.below(len * 8);
      data[bit >>> 3] ^= 1 << (bit & 7);
      return data;
    }
    case 1:
      data[rng.below(len)] = rng.pick(INTERESTING_8);
      return data;
    case 2:
    case 3: {
      const width = op === 2 ? 2 : 4;
      if (len < width) return data;
      put(
        view,
        offset(rng, len, width),
        width,
        rng.pick(width === 2 ? INTERESTING_16 : INTERESTING_32),
        rng.chance(0.5),
      );
      return data;
    }
    case 4:
      data[rng.below(len)] = rng.u32() & 0xff;
      return data;
    case 5:
    case 6: {
      const width = rng.pick([1, 2, 4]);
      if (len < width) return data;
      const at = offset(rng, len, width);
      const little = rng.chance(0.5);
      const delta = (1 + rng.below(35)) * (rng.chance(0.5) ? 1 : -1);
      put(view, at, width, get(view, at, width, little) + delta, little);
      return data;
    }
    case 7: {
      // Delete a block, usually a short one.
      const size = 1 + rng.below(rng.chance(0.8) ? Math.min(16, len) : len);
      const at = rng.below(len - size + 1);
      return concat(data.subarray(0, at), data.subarray(at + size));
    }
    case 8: {
      // Duplicate a block in place, or insert random bytes.
      const at = rng.below(len + 1);
      const size = 1 + rng.below(rng.chance(0.8) ? 16 : 256);
      const from = rng.below(len);
      const block = rng.chance(0.5)
        ? data.slice(from, from + size)
        : (rng.chance(0.5) ? rng.bytes(size) : new Uint8Array(size).fill(rng.u32() & 0xff));
      return concat(data.subarray(0, at), block, data.subarray(at));
    }
    case 9: {
      // Overwrite with a block copied from elsewhere in the input.
      const size = 1 + rng.below(Math.min(64, len));
      data.copyWithin(rng.below(len), rng.below(len), rng.below(len) + size);
      return data;
    }
    case 10: {
      // Truncate: shorter inputs probe every "ends too early" check.
      return data.slice(0, rng.below(len));
    }
    case 11:
    case 12: {
      const dict = options.dictionary;
      if (dict === undefined || dict.length === 0) return mutateOnce(rng, input, other, options);
      const token = rng.pick(dict);
      const at = len === 0 ? 0 : offset(rng, len);
      if (op === 11 && at + token.length <= len) {
        data.set(token, at);
        return data;
      }
      return concat(data.subarray(0, at), token, data.subarray(at));
    }
    case 13: {
      // Splice: a prefix of this input and a suffix of the other.
      const cut = rng.below(len + 1);
      const from = rng.below(other.length + 1);
      return concat(data.subarray(0, cut), other.subarray(from));
    }
    case 14: {
      // Insert a chunk of the other input.
      const from = rng.below(other.length + 1);
      const chunk = other.subarray(from, from + 1 + rng.below(512));
      const at = rng.below(len + 1);
      return concat(data.subarray(0, at), chunk, data.subarray(at));
    }
    default: {
      // Append: grows inputs past their own end (data after a structure, a longer file).
      return concat(data, rng.bytes(1 + rng.below(64)));
    }
  }
}

/** Stacks one to eight mutations on `input`; `other` is a second corpus entry to splice from. */
export function mutate(
  rng: Rng,
  input: Uint8Array,
  other: Uint8Array,
  options: MutateOptions,
): Uint8Array {
  let data = input;
  const count = 1 << rng.below(4);
  for (let i = 0; i < count; i++) data = mutateOnce(rng, data, other, options);
  return data.length > options.maxLength ? data.slice(0, options.maxLength) : data;
}

/**
 * A descriptor chain taken from a queue, stored as translated (already checked) indices into
 * guest RAM so that copies need no further checks and allocate nothing. Chains are pooled per
 * queue and reused.
 *
 * @module
 */

import type { DescriptorChain } from "./device.ts";
import type { GuestMemory } from "./guest_memory.ts";

/** What a chain needs from its queue. */
export interface ChainOwner {
  /** Bumped whenever in-flight chains must stop touching the guest. */
  readonly generation: number;
}

/** Below this many bytes a plain loop beats creating a subarray view. */
const SMALL_COPY = 32;

/** Copies `n` bytes; allocation-free for small copies. */
export function copyBytes(
  dst: Uint8Array,
  dstIndex: number,
  src: Uint8Array,
  srcIndex: number,
  n: number,
): void {
  if (n <= SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[dstIndex + i] = src[srcIndex + i];
  } else {
    dst.set(src.subarray(srcIndex, srcIndex + n), dstIndex);
  }
}

/** The queue's chain implementation. */
export class Chain implements DescriptorChain {
  head = 0;
  generation = -1;
  /** Between pop and push. */
  inFlight = false;
  readableLength = 0;
  writableLength = 0;
  readonly owner: ChainOwner;
  readonly #memory: GuestMemory;
  #index = new Float64Array(4);
  #length = new Float64Array(4);
  #count = 0;
  #firstWritable = 0;

  constructor(owner: ChainOwner, memory: GuestMemory) {
    this.owner = owner;
    this.#memory = memory;
  }

  get live(): boolean {
    return this.inFlight && this.generation === this.owner.generation;
  }

  /** Number of buffers. */
  get count(): number {
    return this.#count;
  }

  /** Starts over for a new request. */
  begin(head: number, generation: number): void {
    this.head = head;
    this.generation = generation;
    this.#count = 0;
    this.#firstWritable = 0;
    this.readableLength = 0;
    this.writableLength = 0;
  }

  /** Appends a buffer; the queue guarantees readable buffers come first. */
  add(index: number, length: number, writable: boolean): void {
    if (this.#count === this.#index.length) this.#grow();
    this.#index[this.#count] = index;
    this.#length[this.#count] = length;
    this.#count++;
    if (writable) {
      this.writableLength += length;
    } else {
      this.#firstWritable = this.#count;
      this.readableLength += length;
    }
  }

  #grow(): void {
    const index = new Float64Array(this.#index.length * 2);
    const length = new Float64Array(this.#length.length * 2);
    index.set(this.#index);
    length.set(this.#length);
    this.#index = index;
    this.#length = length;
  }

  read(offset: number, target: Uint8Array, start = 0, end: number = target.length): number {
    return this.#copy(0, this.#firstWritable, offset, target, start, end, false);
  }

  write(offset: number, source: Uint8Array, start = 0, end: number = source.length): number {
    if (!this.live) return 0;
    return this.#copy(this.#firstWritable, this.#count, offset, source, start, end, true);
  }

  #copy(
    first: number,
    last: number,
    offset: number,
    host: Uint8Array,
    start: number,
    end: number,
    toGuest: boolean,
  ): number {
    start = Math.max(0, Math.min(start, host.length));
    end = Math.max(start, Math.min(end, host.length));
    if (!(offset >= 0)) return 0;
    const guest = this.#memory.bytes;
    let done = 0;
    let want = end - start;
    let skip = offset;
    for (let i = first; i < last && want > 0; i++) {
      const length = this.#length[i];
      if (skip >= length) {
        skip -= length;
        continue;
      }
      const n = Math.min(length - skip, want);
      const at = this.#index[i] + skip;
      if (toGuest) copyBytes(guest, at, host, start + done, n);
      else copyBytes(host, start + done, guest, at, n);
      skip = 0;
      done += n;
      want -= n;
    }
    return done;
  }
}

/**
 * A bounded FIFO of frames in one preallocated byte array: frames that arrived while the guest
 * had no receive buffer posted wait here. Each frame is stored whole and contiguous (a frame that
 * does not fit before the end of the array starts again at its beginning), so it is handed on
 * with one copy and nothing is allocated per frame.
 *
 * @module
 */

/** Every frame is charged at least this many bytes, which bounds the record table. */
const MIN_CHARGE = 64;

/** The FIFO. */
export class FrameRing {
  readonly #bytes: Uint8Array;
  // Records (start, length) of the frames in order, in a circular table.
  readonly #records: Uint32Array;
  readonly #maxRecords: number;
  #first = 0;
  #count = 0;
  // Byte positions: where the oldest frame starts and where the next one would go.
  #head = 0;
  #tail = 0;
  /** Bytes held, counting every frame as at least MIN_CHARGE. */
  #charged = 0;

  constructor(capacity: number) {
    this.#bytes = new Uint8Array(capacity);
    this.#maxRecords = Math.max(1, Math.floor(capacity / MIN_CHARGE));
    this.#records = new Uint32Array(2 * this.#maxRecords);
  }

  /** The byte capacity. */
  get capacity(): number {
    return this.#bytes.length;
  }

  /** Frames waiting. */
  get count(): number {
    return this.#count;
  }

  /** Bytes waiting (short frames count as 64). */
  get bytes(): number {
    return this.#charged;
  }

  /** Appends a copy of `frame`; false when there is no room (the frame is not taken). */
  push(frame: Uint8Array): boolean {
    const n = frame.length;
    const cap = this.#bytes.length;
    if (this.#count === this.#maxRecords || n > cap) return false;
    if (this.#charged + Math.max(n, MIN_CHARGE) > cap) return false;
    let at: number;
    if (this.#count === 0) {
      at = 0;
      this.#head = 0;
    } else if (this.#tail > this.#head) {
      // Free space is [tail, cap) and [0, head).
      if (cap - this.#tail >= n) at = this.#tail;
      else if (this.#head >= n) at = 0;
      else return false;
    } else {
      // Wrapped: free space is [tail, head).
      if (this.#head - this.#tail >= n) at = this.#tail;
      else return false;
    }
    this.#bytes.set(frame, at);
    const r = ((this.#first + this.#count) % this.#maxRecords) * 2;
    this.#records[r] = at;
    this.#records[r + 1] = n;
    this.#count++;
    this.#tail = at + n;
    this.#charged += Math.max(n, MIN_CHARGE);
    return true;
  }

  /** Length of the oldest frame (-1 when empty). */
  peekLength(): number {
    return this.#count === 0 ? -1 : this.#records[this.#first * 2 + 1];
  }

  /** Where the oldest frame starts in {@link storage}. */
  peekStart(): number {
    return this.#records[this.#first * 2];
  }

  /** The backing array (read the oldest frame at peekStart() for peekLength() bytes). */
  get storage(): Uint8Array {
    return this.#bytes;
  }

  /** Forgets the oldest frame. */
  shift(): void {
    if (this.#count === 0) return;
    const n = this.#records[this.#first * 2 + 1];
    this.#first = (this.#first + 1) % this.#maxRecords;
    this.#count--;
    this.#charged -= Math.max(n, MIN_CHARGE);
    if (this.#count === 0) {
      this.#first = 0;
      this.#head = this.#tail = 0;
    } else {
      this.#head = this.#records[this.#first * 2];
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#first =
      this.#count =
      this.#head =
      this.#tail =
      this.#charged =
        0;
  }
}

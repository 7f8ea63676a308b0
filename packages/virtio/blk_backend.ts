/**
 * What a virtio-blk device stores its data on, and an in-memory implementation of it.
 *
 * @module
 */

import { VirtioError } from "./errors.ts";

/**
 * A disk image as virtio-blk uses it. Every method answers with a Promise: the device awaits
 * it from the event loop, never inside a guest register access. A rejection reaches the guest
 * as VIRTIO_BLK_S_IOERR. The device issues one request at a time, in order.
 *
 * A backend whose data is at hand (memory, a local file's page cache) may also offer
 * `readSync` and `writeSync`: the device then completes reads and writes inside the guest's
 * notification, without a trip through the event loop, which is what makes a queue-depth-one
 * guest (`dd` with direct I/O) fast. They block the thread for as long as the copy or system
 * call takes, so a backend that may wait (a network disk) leaves them out. A throw reaches
 * the guest as VIRTIO_BLK_S_IOERR. The device calls them only while none of its Promises is
 * pending.
 *
 * @example
 * ```ts
 * import type { BlockBackend } from "@vmkit/virtio";
 *
 * // A disk that reads as zeros and refuses writes.
 * const zeros: BlockBackend = {
 *   size: 1 << 20,
 *   readOnly: true,
 *   read: (_offset, target) => Promise.resolve(void target.fill(0)),
 *   write: () => Promise.reject(new Error("read-only")),
 *   flush: () => Promise.resolve(),
 *   discard: () => Promise.reject(new Error("read-only")),
 *   writeZeroes: () => Promise.reject(new Error("read-only")),
 * };
 * console.log(zeros.size); // 1048576
 * ```
 */
export interface BlockBackend {
  /** Size in bytes; the disk's capacity is the whole 512-byte sectors in it. */
  readonly size: number;
  /** True when the image must not be written. */
  readonly readOnly: boolean;
  /** Fills `target` from byte `offset`. */
  read(offset: number, target: Uint8Array): Promise<void>;
  /** Writes all of `source` at byte `offset`. */
  write(offset: number, source: Uint8Array): Promise<void>;
  /** Resolves once everything written before is durable on the host. */
  flush(): Promise<void>;
  /** The range's contents are no longer needed (it may keep them or read back zeros). */
  discard(offset: number, length: number): Promise<void>;
  /** The range reads back as zeros afterwards. */
  writeZeroes(offset: number, length: number): Promise<void>;
  /** Optional: {@link BlockBackend.read} done before returning. */
  readSync?(offset: number, target: Uint8Array): void;
  /** Optional: {@link BlockBackend.write} done before returning. */
  writeSync?(offset: number, source: Uint8Array): void;
}

/** Rejects unless `[offset, offset + length)` lies inside a disk of `size` bytes. */
export function checkRange(size: number, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
    length > size - offset
  ) {
    throw new VirtioError(
      "OUT_OF_RANGE",
      `bytes ${offset}+${length} are outside the ${size}-byte disk`,
    );
  }
}

/**
 * Options for a {@link MemoryBlockBackend}.
 *
 * @example
 * ```ts
 * import { MemoryBlockBackend, type MemoryBlockBackendOptions } from "@vmkit/virtio";
 *
 * const options: MemoryBlockBackendOptions = { readOnly: true };
 * console.log(new MemoryBlockBackend(4096, options).readOnly); // true
 * ```
 */
export interface MemoryBlockBackendOptions {
  /** Refuse writes; default false. */
  readonly readOnly?: boolean;
}

/**
 * A disk held in a `Uint8Array` (for tests and scratch disks). Discarded ranges read back as
 * zeros. Every answer is already settled, but still reaches the device through the event loop.
 *
 * @example
 * ```ts
 * import { MemoryBlockBackend } from "@vmkit/virtio";
 *
 * const disk = new MemoryBlockBackend(new Uint8Array(1024).fill(7));
 * const sector = new Uint8Array(512);
 * await disk.read(512, sector);
 * console.log(disk.size, sector[0]); // 1024 7
 * ```
 */
export class MemoryBlockBackend implements BlockBackend {
  /** The disk's bytes. */
  readonly bytes: Uint8Array;
  /** See {@link BlockBackend.readOnly}. */
  readonly readOnly: boolean;

  /**
   * Creates the disk.
   *
   * @param image the disk's bytes (used, not copied), or a size in bytes for a zeroed disk
   * @throws {VirtioError} `INVALID_ARGUMENT` for a negative or fractional size
   */
  constructor(image: Uint8Array | number, options: MemoryBlockBackendOptions = {}) {
    if (typeof image === "number") {
      if (!Number.isSafeInteger(image) || image < 0) {
        throw new VirtioError("INVALID_ARGUMENT", `disk size ${image} is not a byte count`);
      }
      image = new Uint8Array(image);
    } else if (!(image instanceof Uint8Array)) {
      throw new VirtioError("INVALID_ARGUMENT", "a memory disk is a Uint8Array or a size");
    }
    this.bytes = image;
    this.readOnly = options.readOnly ?? false;
  }

  /** See {@link BlockBackend.size}. */
  get size(): number {
    return this.bytes.length;
  }

  /** See {@link BlockBackend.read}. */
  read(offset: number, target: Uint8Array): Promise<void> {
    return this.#op(false, offset, target.length, () => this.readSync(offset, target));
  }

  /** See {@link BlockBackend.write}. */
  write(offset: number, source: Uint8Array): Promise<void> {
    return this.#op(true, offset, source.length, () => this.writeSync(offset, source));
  }

  /** See {@link BlockBackend.readSync}. */
  readSync(offset: number, target: Uint8Array): void {
    checkRange(this.bytes.length, offset, target.length);
    target.set(this.bytes.subarray(offset, offset + target.length));
  }

  /** See {@link BlockBackend.writeSync}. */
  writeSync(offset: number, source: Uint8Array): void {
    if (this.readOnly) throw new VirtioError("INVALID_STATE", "the disk is read-only");
    checkRange(this.bytes.length, offset, source.length);
    this.bytes.set(source, offset);
  }

  /** Nothing to make durable. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** See {@link BlockBackend.discard}: the range is zeroed. */
  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length);
  }

  /** See {@link BlockBackend.writeZeroes}. */
  writeZeroes(offset: number, length: number): Promise<void> {
    return this.#op(true, offset, length, () => this.bytes.fill(0, offset, offset + length));
  }

  #op(write: boolean, offset: number, length: number, run: () => void): Promise<void> {
    try {
      if (write && this.readOnly) throw new VirtioError("INVALID_STATE", "the disk is read-only");
      checkRange(this.bytes.length, offset, length);
      run();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

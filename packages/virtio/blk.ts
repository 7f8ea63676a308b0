/**
 * virtio-blk (virtio 1.2 §5.2): one request queue onto a {@link BlockBackend}.
 *
 * Requests run one at a time in the order the driver made them available, so they complete in
 * order and a flush covers every write before it. A notification runs the requests it finds as
 * far as it can without waiting: reads and writes on a backend with `readSync`/`writeSync`,
 * requests answered without the backend (GET_ID, errors) complete inside it; the first one
 * that waits for a Promise (any request on a Promise-only backend, a flush, a discard) and
 * everything after it continue from the event loop as the backend answers.
 *
 * How a request ends:
 * - no device-writable byte for the status: the device cannot answer, so it sets
 *   DEVICE_NEEDS_RESET (`MISSING_STATUS`);
 * - header shorter than 16 device-readable bytes, data in a buffer of the wrong direction
 *   (device-readable for IN or GET_ID, device-writable for OUT, DISCARD, WRITE_ZEROES), a data
 *   length that is not a whole number of sectors or above {@link BLK_MAX_REQUEST_BYTES}, a
 *   range beyond the capacity, a write to a read-only disk, or a backend failure:
 *   VIRTIO_BLK_S_IOERR, nothing written to the disk;
 * - an unknown type, DISCARD/WRITE_ZEROES with more segments or sectors than the configuration
 *   allows or with unknown flags (or DISCARD with the unmap flag): VIRTIO_BLK_S_UNSUPP.
 *
 * @module
 */

import type { BlockBackend } from "./blk_backend.ts";
import { VIRTIO_ID } from "./constants.ts";
import type { DescriptorChain, VirtioDevice, VirtioHost, Virtqueue } from "./device.ts";
import { VirtioError } from "./errors.ts";

/**
 * virtio-blk feature bits (§5.2.3) and request types and statuses (§5.2.6).
 *
 * @example
 * ```ts
 * import { VIRTIO_BLK } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_BLK.T_FLUSH, VIRTIO_BLK.S_IOERR); // 4 1
 * ```
 */
export const VIRTIO_BLK = {
  F_SIZE_MAX: 1n,
  F_SEG_MAX: 2n,
  F_RO: 5n,
  F_BLK_SIZE: 6n,
  F_FLUSH: 9n,
  F_DISCARD: 13n,
  F_WRITE_ZEROES: 14n,
  T_IN: 0,
  T_OUT: 1,
  T_FLUSH: 4,
  T_GET_ID: 8,
  T_DISCARD: 11,
  T_WRITE_ZEROES: 13,
  S_OK: 0,
  S_IOERR: 1,
  S_UNSUPP: 2,
  WRITE_ZEROES_FLAG_UNMAP: 1,
} as const;

const SECTOR = 512;
/** Largest single buffer the driver should use (SIZE_MAX). */
const SIZE_MAX = 1 << 16;
/** Largest DISCARD / WRITE_ZEROES segment, in sectors (1 GiB). */
const MAX_RANGE_SECTORS = 1 << 21;
/** Segments per DISCARD / WRITE_ZEROES request. */
const MAX_RANGE_SEGMENTS = 8;
const ID_BYTES = 20;
const CONFIG_SIZE = 60;
/**
 * Bytes a notification moves synchronously before the rest waits for the event loop, so a
 * guest that fills the queue with the largest requests cannot hold the thread for long.
 */
const SYNC_BUDGET = 32 << 20;

/**
 * The largest data transfer of one IN or OUT request, in bytes: SEG_MAX × SIZE_MAX for the
 * default queue size (254 × 64 KiB). Larger requests fail with IOERR; a disk's bounce buffer
 * grows up to this size.
 *
 * @example
 * ```ts
 * import { BLK_MAX_REQUEST_BYTES } from "@vmkit/virtio";
 *
 * console.log(BLK_MAX_REQUEST_BYTES / 1024); // 16256
 * ```
 */
export const BLK_MAX_REQUEST_BYTES = 254 * SIZE_MAX;

/**
 * Options for a {@link VirtioBlk}.
 *
 * @example
 * ```ts
 * import { MemoryBlockBackend, VirtioBlk, type VirtioBlkOptions } from "@vmkit/virtio";
 *
 * const options: VirtioBlkOptions = { backend: new MemoryBlockBackend(1 << 20), serial: "disk0" };
 * console.log(new VirtioBlk(options).capacity); // 2048
 * ```
 */
export interface VirtioBlkOptions {
  /** Where the data lives. */
  readonly backend: BlockBackend;
  /** Offer VIRTIO_BLK_F_RO and refuse writes; default the backend's `readOnly`. */
  readonly readOnly?: boolean;
  /** The GET_ID answer, at most 20 bytes of UTF-8; default empty. */
  readonly serial?: string;
  /** QueueNumMax of the request queue (a power of two, 4–32768); default 256. */
  readonly queueSize?: number;
}

/**
 * Diagnostics of a {@link VirtioBlk}.
 *
 * @example
 * ```ts
 * import { MemoryBlockBackend, VirtioBlk } from "@vmkit/virtio";
 *
 * console.log(new VirtioBlk({ backend: new MemoryBlockBackend(512) }).stats.requests); // 0
 * ```
 */
export interface VirtioBlkStats {
  /** Requests completed (any status). */
  requests: number;
  /** Bytes read from the backend for the guest. */
  bytesRead: number;
  /** Bytes written to the backend for the guest. */
  bytesWritten: number;
  /** Flushes completed. */
  flushes: number;
  /** Requests answered VIRTIO_BLK_S_IOERR. */
  ioErrors: number;
  /** Requests answered VIRTIO_BLK_S_UNSUPP. */
  unsupported: number;
  /** Backend promises that rejected (each also an IOERR). */
  backendErrors: number;
  /** The last backend rejection, for diagnostics. */
  lastBackendError: unknown;
  /** Configuration-space writes ignored (the configuration is read-only). */
  configWrites: number;
}

/**
 * The block device type; carry it on a {@link VirtioMmio}.
 *
 * @example
 * ```ts
 * import { MemoryBlockBackend, VirtioBlk } from "@vmkit/virtio";
 *
 * const blk = new VirtioBlk({ backend: new MemoryBlockBackend(1 << 20), readOnly: true });
 * console.log(blk.deviceId, blk.capacity, (blk.features >> 5n) & 1n); // 2 2048 1n
 * ```
 */
export class VirtioBlk implements VirtioDevice {
  /** The block device ID, 2. */
  readonly deviceId: number = VIRTIO_ID.BLOCK;
  /** SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, and RO or DISCARD + WRITE_ZEROES. */
  readonly features: bigint;
  /** One request queue. */
  readonly queueSizes: readonly number[];
  /** The `virtio_blk_config` fields up to `write_zeroes_may_unmap`. */
  readonly configSize: number = CONFIG_SIZE;
  /** True when writes are refused. */
  readonly readOnly: boolean;
  /** Counters. */
  readonly stats: VirtioBlkStats = {
    requests: 0,
    bytesRead: 0,
    bytesWritten: 0,
    flushes: 0,
    ioErrors: 0,
    unsupported: 0,
    backendErrors: 0,
    lastBackendError: undefined,
    configWrites: 0,
  };
  readonly #backend: BlockBackend;
  readonly #id = new Uint8Array(ID_BYTES);
  readonly #config = new Uint8Array(CONFIG_SIZE);
  readonly #configView = new DataView(this.#config.buffer);
  readonly #header = new Uint8Array(16);
  readonly #headerView = new DataView(this.#header.buffer);
  readonly #status = new Uint8Array(1);
  #capacity = 0;
  #host: VirtioHost | null = null;
  #queue: Virtqueue | null = null;
  // Requests waiting to run, oldest first, in a ring the size of the queue.
  readonly #pending: (DescriptorChain | null)[];
  #pendingHead = 0;
  #pendingCount = 0;
  #running = false;
  #bounce = new Uint8Array(0);
  readonly #rangeSectors = new Float64Array(MAX_RANGE_SEGMENTS);
  readonly #rangeCounts = new Float64Array(MAX_RANGE_SEGMENTS);
  #written = 0;
  /** Bytes the last request moved without waiting (counted against SYNC_BUDGET). */
  #movedSync = 0;

  /**
   * Creates the device on `options.backend`; attach it by passing it to a transport.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a missing backend, a bad queue size, a serial
   *   longer than 20 bytes, or a writable disk on a read-only backend
   */
  constructor(options: VirtioBlkOptions) {
    const backend = options?.backend;
    if (typeof backend?.read !== "function") {
      throw new VirtioError("INVALID_ARGUMENT", "virtio-blk needs a BlockBackend");
    }
    const size = options.queueSize ?? 256;
    if (!Number.isInteger(size) || size < 4 || size > 32768 || (size & (size - 1)) !== 0) {
      throw new VirtioError("INVALID_ARGUMENT", `queue size ${size} is not a power of two ≥ 4`);
    }
    if (backend.readOnly && options.readOnly === false) {
      throw new VirtioError("INVALID_ARGUMENT", "a read-only backend cannot make a writable disk");
    }
    const serial = new TextEncoder().encode(options.serial ?? "");
    if (serial.length > ID_BYTES) {
      throw new VirtioError("INVALID_ARGUMENT", `serial is ${serial.length} bytes, over 20`);
    }
    this.#id.set(serial);
    this.#backend = backend;
    this.readOnly = options.readOnly ?? backend.readOnly;
    this.queueSizes = [size];
    this.#pending = new Array(size).fill(null);
    const B = VIRTIO_BLK;
    const common = [B.F_SIZE_MAX, B.F_SEG_MAX, B.F_BLK_SIZE, B.F_FLUSH];
    const bits = this.readOnly ? [...common, B.F_RO] : [...common, B.F_DISCARD, B.F_WRITE_ZEROES];
    this.features = bits.reduce((f, b) => f | (1n << b), 0n);
    const c = this.#configView;
    c.setUint32(8, SIZE_MAX, true);
    c.setUint32(12, Math.min(size - 2, BLK_MAX_REQUEST_BYTES / SIZE_MAX), true);
    c.setUint32(20, SECTOR, true);
    c.setUint16(34, 1, true); // num_queues
    c.setUint32(36, MAX_RANGE_SECTORS, true);
    c.setUint32(40, MAX_RANGE_SEGMENTS, true);
    c.setUint32(44, 1, true); // discard_sector_alignment
    c.setUint32(48, MAX_RANGE_SECTORS, true);
    c.setUint32(52, MAX_RANGE_SEGMENTS, true);
    this.#setCapacity();
  }

  /** Capacity in 512-byte sectors (a trailing partial sector of the image is not used). */
  get capacity(): number {
    return this.#capacity;
  }

  #setCapacity(): boolean {
    const capacity = Math.floor(this.#backend.size / SECTOR);
    if (capacity === this.#capacity) return false;
    this.#capacity = capacity;
    this.#configView.setUint32(0, capacity % 2 ** 32, true);
    this.#configView.setUint32(4, Math.floor(capacity / 2 ** 32), true);
    return true;
  }

  /**
   * Re-reads the backend's size (after the image was resized) and, when the capacity changed,
   * tells the driver with a configuration-change interrupt. Returns whether it changed.
   */
  updateCapacity(): boolean {
    if (!this.#setCapacity()) return false;
    this.#host?.configChanged();
    return true;
  }

  /** See {@link VirtioDevice.attach}. */
  attach(host: VirtioHost): void {
    if (this.#host !== null) throw new VirtioError("INVALID_STATE", "device already attached");
    this.#host = host;
    this.#queue = host.queues[0];
  }

  /** Reads `virtio_blk_config`. */
  readConfig(offset: number, size: number): number {
    const c = this.#configView;
    return size === 1 ? c.getUint8(offset) : size === 2 ? c.getUint16(offset, true) : c.getUint32(
      offset,
      true,
    );
  }

  /** The configuration is read-only (no VIRTIO_BLK_F_CONFIG_WCE): writes are counted, ignored. */
  writeConfig(_offset: number, _size: number, _value: number): void {
    this.stats.configWrites++;
  }

  /** Queues every available request and starts running them. */
  notify(_queue: number): void {
    const q = this.#queue;
    if (q === null) return;
    for (let chain = q.pop(); chain !== null; chain = q.pop()) this.#enqueue(chain);
    if (!this.#running && this.#pendingCount > 0) void this.#run();
  }

  #enqueue(chain: DescriptorChain): void {
    const ring = this.#pending;
    if (this.#pendingCount === ring.length) this.#dropStale();
    if (this.#pendingCount === ring.length) {
      // Cannot happen while the queue bounds buffers in flight; never overwrite a request.
      this.#host!.fail("TOO_MANY_IN_FLIGHT");
      return;
    }
    ring[(this.#pendingHead + this.#pendingCount) % ring.length] = chain;
    this.#pendingCount++;
  }

  /** Makes room by forgetting requests of an earlier queue generation. */
  #dropStale(): void {
    const ring = this.#pending;
    let kept = 0;
    for (let i = 0; i < this.#pendingCount; i++) {
      const chain = ring[(this.#pendingHead + i) % ring.length];
      if (chain?.live) ring[(this.#pendingHead + kept++) % ring.length] = chain;
    }
    for (let i = kept; i < this.#pendingCount; i++) {
      ring[(this.#pendingHead + i) % ring.length] = null;
    }
    this.#pendingCount = kept;
  }

  /** Drops queued requests; one already at the backend finishes there but answers no one. */
  reset(): void {
    this.#pending.fill(null);
    this.#pendingHead = 0;
    this.#pendingCount = 0;
  }

  /**
   * Runs the queued requests in order. An async function runs synchronously up to its first
   * await, so every request that completes without waiting (see {@link #complete}) completes
   * inside the notification that queued it, up to SYNC_BUDGET bytes; then the rest goes on
   * from the event loop.
   */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      let budget = SYNC_BUDGET;
      while (this.#pendingCount > 0) {
        const ring = this.#pending;
        const chain = ring[this.#pendingHead]!;
        ring[this.#pendingHead] = null;
        this.#pendingHead = (this.#pendingHead + 1) % ring.length;
        this.#pendingCount--;
        this.#movedSync = 0;
        const waiting = this.#complete(chain);
        if (waiting !== undefined) {
          await waiting;
          budget = SYNC_BUDGET;
        } else if ((budget -= this.#movedSync) <= 0 && this.#pendingCount > 0) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          budget = SYNC_BUDGET;
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Completes `chain`: at once, or (when the backend answers later) when the promise settles. */
  #complete(chain: DescriptorChain): Promise<void> | undefined {
    const q = this.#queue!;
    // A request from before a reset must not reach the disk.
    if (!chain.live) {
      q.push(chain, 0);
      return undefined;
    }
    if (chain.writableLength === 0) {
      this.#host!.fail("MISSING_STATUS");
      q.push(chain, 0);
      return undefined;
    }
    this.#written = 0;
    let status: number | Promise<number>;
    try {
      status = this.#perform(chain);
    } catch (e) {
      status = this.#backendFailed(e);
    }
    if (typeof status === "number") {
      this.#finish(chain, status);
      return undefined;
    }
    return status.then(
      (s) => this.#finish(chain, s),
      (e) => this.#finish(chain, this.#backendFailed(e)),
    );
  }

  #backendFailed(e: unknown): number {
    this.stats.backendErrors++;
    this.stats.lastBackendError = e;
    this.#written = 0;
    return VIRTIO_BLK.S_IOERR;
  }

  #finish(chain: DescriptorChain, status: number): void {
    if (status === VIRTIO_BLK.S_IOERR) this.stats.ioErrors++;
    if (status === VIRTIO_BLK.S_UNSUPP) this.stats.unsupported++;
    this.#status[0] = status;
    chain.write(chain.writableLength - 1, this.#status);
    this.stats.requests++;
    this.#queue!.push(chain, this.#written + 1);
  }

  /**
   * Runs one request; returns its status, or a promise of it when the backend answers later,
   * and leaves the data bytes written in #written. Reads and writes on a backend with
   * `readSync`/`writeSync` complete at once; flushes, discards and write-zeroes always wait
   * for the backend's promise.
   */
  #perform(chain: DescriptorChain): number | Promise<number> {
    const B = VIRTIO_BLK;
    if (chain.read(0, this.#header) < 16) return B.S_IOERR;
    const h = this.#headerView;
    const type = h.getUint32(0, true);
    const sector = h.getUint32(12, true) * 2 ** 32 + h.getUint32(8, true);
    const dataIn = chain.writableLength - 1;
    const dataOut = chain.readableLength - 16;
    const backend = this.#backend;
    switch (type) {
      case B.T_IN: {
        if (dataOut !== 0 || !this.#transferOk(sector, dataIn)) return B.S_IOERR;
        const buffer = this.#bounceOf(dataIn);
        if (backend.readSync === undefined) return this.#readLater(chain, sector, buffer);
        backend.readSync(sector * SECTOR, buffer);
        this.#movedSync = dataIn;
        return this.#readDone(chain, buffer);
      }
      case B.T_OUT: {
        if (this.readOnly || dataIn !== 0 || !this.#transferOk(sector, dataOut)) return B.S_IOERR;
        const buffer = this.#bounceOf(dataOut);
        chain.read(16, buffer);
        if (backend.writeSync === undefined) return this.#writeLater(sector, buffer);
        backend.writeSync(sector * SECTOR, buffer);
        this.#movedSync = dataOut;
        this.stats.bytesWritten += dataOut;
        return B.S_OK;
      }
      case B.T_FLUSH:
        return this.#flushLater();
      case B.T_GET_ID:
        if (dataOut !== 0) return B.S_IOERR;
        this.#written = chain.write(0, this.#id, 0, Math.min(dataIn, ID_BYTES));
        return B.S_OK;
      case B.T_DISCARD:
      case B.T_WRITE_ZEROES:
        if (this.readOnly) return B.S_IOERR;
        return this.#ranges(chain, type === B.T_DISCARD, dataOut, dataIn);
      default:
        return B.S_UNSUPP;
    }
  }

  #readDone(chain: DescriptorChain, buffer: Uint8Array): number {
    this.#written = chain.write(0, buffer);
    this.stats.bytesRead += buffer.length;
    return VIRTIO_BLK.S_OK;
  }

  async #readLater(chain: DescriptorChain, sector: number, buffer: Uint8Array): Promise<number> {
    await this.#backend.read(sector * SECTOR, buffer);
    return this.#readDone(chain, buffer);
  }

  async #writeLater(sector: number, buffer: Uint8Array): Promise<number> {
    await this.#backend.write(sector * SECTOR, buffer);
    this.stats.bytesWritten += buffer.length;
    return VIRTIO_BLK.S_OK;
  }

  async #flushLater(): Promise<number> {
    await this.#backend.flush();
    this.stats.flushes++;
    return VIRTIO_BLK.S_OK;
  }

  #transferOk(sector: number, bytes: number): boolean {
    return bytes % SECTOR === 0 && bytes <= BLK_MAX_REQUEST_BYTES && sector <= this.#capacity &&
      bytes / SECTOR <= this.#capacity - sector;
  }

  #bounceOf(bytes: number): Uint8Array {
    if (this.#bounce.length < bytes) {
      this.#bounce = new Uint8Array(
        Math.min(BLK_MAX_REQUEST_BYTES, 2 ** Math.ceil(Math.log2(bytes))),
      );
    }
    return this.#bounce.subarray(0, bytes);
  }

  async #ranges(
    chain: DescriptorChain,
    discard: boolean,
    dataOut: number,
    dataIn: number,
  ): Promise<number> {
    const B = VIRTIO_BLK;
    if (dataIn !== 0 || dataOut === 0 || dataOut % 16 !== 0) return B.S_IOERR;
    const segments = dataOut / 16;
    if (segments > MAX_RANGE_SEGMENTS) return B.S_UNSUPP;
    const h = this.#headerView;
    // Every segment is copied out and checked before the disk is touched, so a bad one
    // leaves it unchanged and the driver cannot change a checked one afterwards.
    for (let i = 0; i < segments; i++) {
      chain.read(16 + 16 * i, this.#header);
      const sector = h.getUint32(4, true) * 2 ** 32 + h.getUint32(0, true);
      const count = h.getUint32(8, true);
      const flags = h.getUint32(12, true);
      const allowed = discard ? 0 : B.WRITE_ZEROES_FLAG_UNMAP;
      if ((flags & ~allowed) !== 0 || count > MAX_RANGE_SECTORS) return B.S_UNSUPP;
      if (sector > this.#capacity || count > this.#capacity - sector) return B.S_IOERR;
      this.#rangeSectors[i] = sector;
      this.#rangeCounts[i] = count;
    }
    for (let i = 0; i < segments && chain.live; i++) {
      const offset = this.#rangeSectors[i] * SECTOR;
      const length = this.#rangeCounts[i] * SECTOR;
      if (discard) await this.#backend.discard(offset, length);
      else await this.#backend.writeZeroes(offset, length);
    }
    return B.S_OK;
  }
}

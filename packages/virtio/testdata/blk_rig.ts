/**
 * virtio-blk test helpers: a backend whose answers the test releases one by one, and request
 * builders that lay out header, data and status the way Linux's driver does.
 *
 * @module
 */

import {
  type BlockBackend,
  MemoryBlockBackend,
  VIRTIO_BLK,
  VirtioBlk,
  type VirtioBlkOptions,
} from "../mod.ts";
import { type Buffer, Rig, type RigOptions } from "./driver.ts";

/** One backend call waiting for the test. */
export interface Call {
  readonly op: string;
  readonly offset: number;
  readonly length: number;
  release(): void;
  fail(error?: unknown): void;
}

/** A memory disk whose every call waits until the test releases (or fails) it. */
export class GatedBackend implements BlockBackend {
  readonly inner: MemoryBlockBackend;
  readonly calls: Call[] = [];
  readonly log: string[] = [];
  /** Answer at once instead of waiting. */
  open = false;

  constructor(size: number, readOnly = false) {
    this.inner = new MemoryBlockBackend(size, { readOnly });
  }
  get size(): number {
    return this.inner.size;
  }
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  #gate(op: string, offset: number, length: number, run: () => Promise<void>): Promise<void> {
    this.log.push(`${op} ${offset}+${length}`);
    if (this.open) return run();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.calls.push({
      op,
      offset,
      length,
      release: () => run().then(resolve, reject),
      fail: (error = new Error("injected")) => reject(error),
    });
    return promise;
  }
  read(offset: number, target: Uint8Array): Promise<void> {
    return this.#gate("read", offset, target.length, () => this.inner.read(offset, target));
  }
  write(offset: number, source: Uint8Array): Promise<void> {
    const copy = source.slice();
    return this.#gate("write", offset, source.length, () => this.inner.write(offset, copy));
  }
  flush(): Promise<void> {
    return this.#gate("flush", 0, 0, () => this.inner.flush());
  }
  discard(offset: number, length: number): Promise<void> {
    return this.#gate("discard", offset, length, () => this.inner.discard(offset, length));
  }
  writeZeroes(offset: number, length: number): Promise<void> {
    return this.#gate("zeroes", offset, length, () => this.inner.writeZeroes(offset, length));
  }
}

/** A request as laid out in guest memory. */
export interface Request {
  readonly head: number;
  readonly header: number;
  readonly data: number;
  readonly status: number;
}

export class BlkRig extends Rig<VirtioBlk> {
  constructor(options: VirtioBlkOptions, rig: RigOptions = {}) {
    super(new VirtioBlk(options), { ramSize: 4 << 20, ...rig });
  }

  /** A header buffer for `type` at `sector`. */
  header(type: number, sector: number): number {
    const at = this.alloc(16);
    this.mem.set32(at, type);
    this.mem.set32(at + 4, 0);
    this.mem.set64(at + 8, sector);
    return at;
  }

  /**
   * Makes a request available: header, then `dataLength` bytes of data (device-writable for
   * reads and GET_ID, device-readable otherwise, unless `dataWritable` says), then the status.
   */
  request(
    type: number,
    sector: number,
    dataLength: number,
    options: { data?: Uint8Array; dataWritable?: boolean; split?: number } = {},
  ): Request {
    const header = this.header(type, sector);
    const data = this.alloc(Math.max(dataLength, 1));
    if (options.data) this.mem.put(data, options.data);
    const status = this.alloc(1, 0xff);
    const writable = options.dataWritable ??
      (type === VIRTIO_BLK.T_IN || type === VIRTIO_BLK.T_GET_ID);
    const buffers: Buffer[] = [{ addr: header, len: 16 }];
    // Data in `split`-byte pieces, to cross buffer boundaries.
    const piece = options.split ?? dataLength;
    for (let off = 0; off < dataLength; off += piece) {
      buffers.push({ addr: data + off, len: Math.min(piece, dataLength - off), write: writable });
    }
    buffers.push({ addr: status, len: 1, write: true });
    const head = this.queues[0].add(buffers);
    return { head, header, data, status };
  }

  statusOf(r: Request): number {
    return this.mem.u8(r.status);
  }
}

/** A byte pattern that differs per sector. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return out;
}

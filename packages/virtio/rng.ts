/**
 * virtio-rng, the entropy device (virtio 1.2 §5.4): one request queue whose device-writable
 * buffers are filled with random bytes from `crypto.getRandomValues`.
 *
 * @module
 */

import { VIRTIO_ID } from "./constants.ts";
import type { VirtioDevice, VirtioHost } from "./device.ts";
import { VirtioError } from "./errors.ts";

/**
 * The most bytes one request gets (and one `getRandomValues` call fills, which is its limit);
 * a larger buffer is returned with this many bytes written, as §5.4 allows.
 *
 * @example
 * ```ts
 * import { RNG_MAX_FILL } from "@vmkit/virtio";
 *
 * console.log(RNG_MAX_FILL); // 65536
 * ```
 */
export const RNG_MAX_FILL = 65536;

/**
 * Options for a {@link VirtioRng}.
 *
 * @example
 * ```ts
 * import { VirtioRng, type VirtioRngOptions } from "@vmkit/virtio";
 *
 * const options: VirtioRngOptions = { queueSize: 16 };
 * console.log(new VirtioRng(options).queueSizes); // [ 16 ]
 * ```
 */
export interface VirtioRngOptions {
  /** QueueNumMax of the request queue (a power of two up to 32768); default 8. */
  readonly queueSize?: number;
  /**
   * Fills its argument (at most {@link RNG_MAX_FILL} bytes) with random bytes; default
   * `crypto.getRandomValues`.
   */
  readonly fill?: (target: Uint8Array) => void;
}

/**
 * Diagnostics of a {@link VirtioRng}.
 *
 * @example
 * ```ts
 * import { VirtioRng } from "@vmkit/virtio";
 *
 * console.log(new VirtioRng().stats); // { requests: 0, bytes: 0 }
 * ```
 */
export interface VirtioRngStats {
  /** Requests completed. */
  requests: number;
  /** Random bytes handed to the guest. */
  bytes: number;
}

/**
 * The entropy device type; carry it on a {@link VirtioMmio}.
 *
 * Device-readable buffers in a request are skipped; a request with no device-writable buffer is
 * returned with 0 bytes written.
 *
 * @example
 * ```ts
 * import { RamGuestMemory, VirtioMmio, VirtioRng } from "@vmkit/virtio";
 *
 * const rng = new VirtioRng();
 * new VirtioMmio({
 *   device: rng,
 *   memory: new RamGuestMemory(0x4000_0000, new Uint8Array(0x10000)),
 *   interrupt: { set() {}, pulse() {} },
 * });
 * console.log(rng.deviceId); // 4
 * ```
 */
export class VirtioRng implements VirtioDevice {
  /** The entropy device ID, 4. */
  readonly deviceId: number = VIRTIO_ID.ENTROPY;
  /** No device-type features. */
  readonly features: bigint = 0n;
  /** One request queue. */
  readonly queueSizes: readonly number[];
  /** No configuration space. */
  readonly configSize: number = 0;
  /** Counters. */
  readonly stats: VirtioRngStats = { requests: 0, bytes: 0 };
  readonly #fill: (target: Uint8Array) => void;
  #host: VirtioHost | null = null;
  #scratch: Uint8Array | null = null;

  /**
   * Creates the device; attach it by passing it to a transport.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a bad queue size or fill function
   */
  constructor(options: VirtioRngOptions = {}) {
    const size = options.queueSize ?? 8;
    if (!Number.isInteger(size) || size < 1 || size > 32768 || (size & (size - 1)) !== 0) {
      throw new VirtioError("INVALID_ARGUMENT", `queue size ${size} is not a power of two`);
    }
    if (options.fill !== undefined && typeof options.fill !== "function") {
      throw new VirtioError("INVALID_ARGUMENT", "fill must be a function");
    }
    this.queueSizes = [size];
    this.#fill = options.fill ?? ((target) => crypto.getRandomValues(target));
  }

  /** See {@link VirtioDevice.attach}. */
  attach(host: VirtioHost): void {
    if (this.#host !== null) throw new VirtioError("INVALID_STATE", "device already attached");
    this.#host = host;
  }

  /** No configuration space: never called by the transport. */
  readConfig(_offset: number, _size: number): number {
    return 0;
  }

  /** No configuration space: never called by the transport. */
  writeConfig(_offset: number, _size: number, _value: number): void {}

  /** Fills every available request. */
  notify(queue: number): void {
    const q = this.#host?.queues[queue];
    if (q === undefined) return;
    for (let chain = q.pop(); chain !== null; chain = q.pop()) {
      const n = Math.min(chain.writableLength, RNG_MAX_FILL);
      let written = 0;
      if (n > 0) {
        this.#scratch ??= new Uint8Array(RNG_MAX_FILL);
        const target = this.#scratch.subarray(0, n);
        this.#fill(target);
        written = chain.write(0, target);
      }
      q.push(chain, written);
      this.stats.requests++;
      this.stats.bytes += written;
    }
  }

  /** Nothing is pending between notifications. */
  reset(): void {}
}

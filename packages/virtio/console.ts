/**
 * virtio-console (virtio 1.2 §5.3) with a single port and no multiport support: what Linux
 * uses as `hvc0`. Queue 0 receives (host to guest), queue 1 transmits (guest to host).
 *
 * Receive: host bytes wait in a bounded buffer until the guest posts receive buffers. When the
 * buffer is full, further bytes are dropped and counted (`stats.dropped`); {@link
 * VirtioConsole.receive} returns how many it took, so a caller can apply back-pressure instead.
 *
 * Transmit: every device-readable byte goes to `onTransmit`, in order. When it returns
 * nothing, the buffer is returned to the guest inside the notification (Linux's `hvc` driver
 * busy-waits for that). When it returns a Promise, the next bytes wait for it to settle, which
 * slows the guest down to the host's pace. Work beyond 64 KiB per notification continues from
 * the event loop, so a guest cannot stall the VMM with one huge buffer.
 *
 * @module
 */

import { VIRTIO_ID } from "./constants.ts";
import type { DescriptorChain, VirtioDevice, VirtioHost } from "./device.ts";
import { VirtioError } from "./errors.ts";

/** Default bound on host bytes waiting for receive buffers. */
const RX_LIMIT = 64 * 1024;
/** Bytes transmitted per notification before yielding to the event loop. */
const TX_BUDGET = 64 * 1024;
/** Bytes handed to `onTransmit` per call at most. */
const TX_CHUNK = 4096;
const CONFIG_SIZE = 12;

/**
 * Options for a {@link VirtioConsole}.
 *
 * @example
 * ```ts
 * import { VirtioConsole, type VirtioConsoleOptions } from "@vmkit/virtio";
 *
 * const options: VirtioConsoleOptions = {
 *   onTransmit: (bytes) => void Deno.stdout.writeSync(bytes),
 *   receiveLimit: 4096,
 * };
 * console.log(new VirtioConsole(options).deviceId); // 3
 * ```
 */
export interface VirtioConsoleOptions {
  /**
   * Receives what the guest transmits. `bytes` is only valid until the call returns (or its
   * Promise settles); copy it to keep it. Exceptions and rejections are counted, not raised.
   */
  readonly onTransmit?: (bytes: Uint8Array) => void | Promise<void>;
  /** Bound on host bytes waiting for the guest's receive buffers; default 65536. */
  readonly receiveLimit?: number;
  /** QueueNumMax of both queues (a power of two up to 32768); default 128. */
  readonly queueSize?: number;
}

/**
 * Diagnostics of a {@link VirtioConsole}.
 *
 * @example
 * ```ts
 * import { VirtioConsole } from "@vmkit/virtio";
 *
 * const con = new VirtioConsole({ receiveLimit: 2 });
 * con.receive(new TextEncoder().encode("abc"));
 * console.log(con.stats.dropped); // 1
 * ```
 */
export interface VirtioConsoleStats {
  /** Bytes the guest transmitted. */
  transmitted: number;
  /** Bytes delivered into the guest's receive buffers. */
  received: number;
  /** Host bytes dropped because the receive buffer was full. */
  dropped: number;
  /** `onTransmit` calls that threw or rejected. */
  transmitErrors: number;
  /** Receive buffers without device-writable space, returned empty. */
  unusableBuffers: number;
}

/**
 * The console device type; carry it on a {@link VirtioMmio}.
 *
 * @example
 * ```ts
 * import { VirtioConsole } from "@vmkit/virtio";
 *
 * const con = new VirtioConsole({ onTransmit: (b) => console.log(new TextDecoder().decode(b)) });
 * console.log(con.receive(new TextEncoder().encode("ls\n")), con.pendingInput); // 3 3
 * ```
 */
export class VirtioConsole implements VirtioDevice {
  /** The console device ID, 3. */
  readonly deviceId: number = VIRTIO_ID.CONSOLE;
  /** No device-type features: one port, no size, no emergency write. */
  readonly features: bigint = 0n;
  /** receiveq0 and transmitq0. */
  readonly queueSizes: readonly number[];
  /** cols, rows, max_nr_ports and emerg_wr, all reading 0. */
  readonly configSize: number = CONFIG_SIZE;
  /** Counters. */
  readonly stats: VirtioConsoleStats = {
    transmitted: 0,
    received: 0,
    dropped: 0,
    transmitErrors: 0,
    unusableBuffers: 0,
  };
  readonly #onTransmit: (bytes: Uint8Array) => void | Promise<void>;
  readonly #rx: Uint8Array;
  #rxHead = 0;
  #rxCount = 0;
  readonly #tx = new Uint8Array(TX_CHUNK);
  /** The transmit buffer being sent, and how far. */
  #txChain: DescriptorChain | null = null;
  #txOffset = 0;
  /** Transmission waits for the host or the event loop. */
  #waiting = false;
  #waitToken = 0;
  #host: VirtioHost | null = null;

  /**
   * Creates the device; attach it by passing it to a transport.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a bad queue size, limit or callback
   */
  constructor(options: VirtioConsoleOptions = {}) {
    const size = options.queueSize ?? 128;
    if (!Number.isInteger(size) || size < 1 || size > 32768 || (size & (size - 1)) !== 0) {
      throw new VirtioError("INVALID_ARGUMENT", `queue size ${size} is not a power of two`);
    }
    const limit = options.receiveLimit ?? RX_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > 2 ** 30) {
      throw new VirtioError("INVALID_ARGUMENT", `receive limit ${limit} is out of range`);
    }
    if (options.onTransmit !== undefined && typeof options.onTransmit !== "function") {
      throw new VirtioError("INVALID_ARGUMENT", "onTransmit must be a function");
    }
    this.queueSizes = [size, size];
    this.#rx = new Uint8Array(limit);
    this.#onTransmit = options.onTransmit ?? (() => {});
  }

  /** Host bytes waiting for the guest's receive buffers. */
  get pendingInput(): number {
    return this.#rxCount;
  }

  /** See {@link VirtioDevice.attach}. */
  attach(host: VirtioHost): void {
    if (this.#host !== null) throw new VirtioError("INVALID_STATE", "device already attached");
    this.#host = host;
  }

  /** The configuration reads as zero (no feature makes it meaningful). */
  readConfig(_offset: number, _size: number): number {
    return 0;
  }

  /** Nothing in the configuration is writable without EMERG_WRITE. */
  writeConfig(_offset: number, _size: number, _value: number): void {}

  /**
   * Queues host input (a keyboard, a pipe) for the guest and delivers what fits into posted
   * receive buffers now. Returns the bytes accepted; the rest was dropped (see the module docs).
   */
  receive(data: Uint8Array): number {
    const ring = this.#rx;
    const accepted = Math.min(data.length, ring.length - this.#rxCount);
    for (let i = 0; i < accepted; i++) {
      ring[(this.#rxHead + this.#rxCount + i) % ring.length] = data[i];
    }
    this.#rxCount += accepted;
    this.stats.dropped += data.length - accepted;
    this.#deliver();
    return accepted;
  }

  /** Receive buffers posted: deliver; transmit buffers posted: send. */
  notify(queue: number): void {
    if (queue === 0) this.#deliver();
    else if (queue === 1) this.#transmit();
  }

  /**
   * Input not yet delivered is kept for the next driver. A transmission waiting for the host
   * is abandoned (its buffer belongs to the old driver), so a host Promise that never settles
   * cannot block the next one.
   */
  reset(): void {
    this.#waitToken++;
    this.#waiting = false;
    this.#txChain = null;
  }

  #deliver(): void {
    const q = this.#host?.queues[0];
    if (q === undefined) return;
    const ring = this.#rx;
    while (this.#rxCount > 0) {
      const chain = q.pop();
      if (chain === null) return;
      if (chain.writableLength === 0) this.stats.unusableBuffers++;
      let written = 0;
      while (this.#rxCount > 0) {
        const end = Math.min(ring.length, this.#rxHead + this.#rxCount);
        const n = chain.write(written, ring, this.#rxHead, end);
        if (n === 0) break;
        written += n;
        this.#rxHead = (this.#rxHead + n) % ring.length;
        this.#rxCount -= n;
      }
      if (this.#rxCount === 0) this.#rxHead = 0;
      this.stats.received += written;
      q.push(chain, written);
    }
  }

  /**
   * Sends transmit buffers until none is left, the host asks to wait (a Promise), or the
   * budget is spent; resumes from the event loop in the last two cases. Synchronous otherwise,
   * so a buffer is back in the used ring before the notifying register write returns.
   */
  #transmit(): void {
    const q = this.#host?.queues[1];
    if (q === undefined || this.#waiting) return;
    let budget = TX_BUDGET;
    for (;;) {
      if (this.#txChain === null) {
        this.#txChain = q.pop();
        this.#txOffset = 0;
        if (this.#txChain === null) return;
      }
      const chain = this.#txChain;
      while (this.#txOffset < chain.readableLength && chain.live) {
        if (budget <= 0) {
          this.#wait(new Promise((resolve) => setTimeout(resolve, 0)));
          return;
        }
        const n = chain.read(this.#txOffset, this.#tx);
        this.#txOffset += n;
        this.stats.transmitted += n;
        budget -= n;
        let result: unknown;
        try {
          result = this.#onTransmit(this.#tx.subarray(0, n));
        } catch {
          this.stats.transmitErrors++;
        }
        // Only a thenable means "wait"; any other return value is ignored.
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
          this.#wait(result as PromiseLike<unknown>);
          return;
        }
      }
      this.#txChain = null;
      q.push(chain, 0);
    }
  }

  #wait(promise: PromiseLike<unknown>): void {
    this.#waiting = true;
    const token = ++this.#waitToken;
    Promise.resolve(promise).catch(() => {
      this.stats.transmitErrors++;
    }).then(() => {
      // A reset in between gave up on this wait; transmission may have moved on.
      if (token !== this.#waitToken) return;
      this.#waiting = false;
      this.#transmit();
    });
  }
}

/**
 * virtio-net (virtio 1.2 §5.1): one receive queue (0) and one transmit queue (1) between the
 * guest and a {@link NetBackend}.
 *
 * Configuration space: the MAC address (VIRTIO_NET_F_MAC), the link status
 * (VIRTIO_NET_F_STATUS; {@link VirtioNet.setLink} changes it and tells the driver) and the MTU
 * (VIRTIO_NET_F_MTU). Checksum offload (VIRTIO_NET_F_CSUM) is offered: the guest may leave the
 * TCP/UDP checksum of a transmitted frame to the device, which computes it before the frame
 * leaves, so frames reach the backend complete. Received frames carry no offload flags, and
 * mergeable receive buffers, segmentation offloads and multiqueue are not offered.
 *
 * Receive. A frame from the backend goes into the next receive buffer the guest posted, behind
 * a 12-byte `virtio_net_hdr` with nothing to say. With no buffer posted it waits in a bounded
 * backlog (`receiveBacklog` bytes, default 256 KiB, preallocated) and goes out as soon as the
 * guest posts buffers; when the backlog is full too, the frame is dropped and counted
 * (`stats.rxDropped`), so a guest that stops reading costs a fixed amount of memory. Frames are
 * dropped too while the link is down or the driver is not running, and frames longer than the
 * MTU allows, or longer than the buffer they meet (`rxTooLong`; that buffer goes back empty).
 *
 * Transmit. A notification sends the available frames, at most 256 of them synchronously
 * (inside the guest's register write); the rest continue from the event loop, so a guest that
 * floods its queue cannot hold the thread. Nothing is allocated per frame beyond a view of the
 * reused transmit buffer. A frame that is shorter than an Ethernet header, longer than the MTU
 * allows, asks for segmentation, or asks for a checksum outside itself is dropped and counted
 * (`stats.txMalformed`), and its buffer goes back to the guest: a driver mistake inside one
 * frame costs that frame. Mistakes in the ring itself (descriptor loops, buffers outside RAM)
 * put the device into DEVICE_NEEDS_RESET like every device on the transport.
 *
 * @module
 */

import { checksumAdd, foldChecksum } from "./_checksum.ts";
import { FrameRing } from "./_frame_ring.ts";
import { VIRTIO_ID } from "./constants.ts";
import type { DescriptorChain, VirtioDevice, VirtioHost, Virtqueue } from "./device.ts";
import { VirtioError } from "./errors.ts";
import { macBytes, randomMac } from "./mac.ts";
import type { FrameReceiver, NetBackend } from "./net_backend.ts";

/**
 * virtio-net feature bits (§5.1.3), the link status bit, and `virtio_net_hdr` values (§5.1.6).
 *
 * @example
 * ```ts
 * import { VIRTIO_NET } from "@vmkit/virtio";
 *
 * console.log(VIRTIO_NET.F_MAC, VIRTIO_NET.HDR_SIZE); // 5n 12
 * ```
 */
export const VIRTIO_NET = {
  F_CSUM: 0n,
  F_GUEST_CSUM: 1n,
  F_MTU: 3n,
  F_MAC: 5n,
  F_GUEST_TSO4: 7n,
  F_HOST_TSO4: 11n,
  F_MRG_RXBUF: 15n,
  F_STATUS: 16n,
  S_LINK_UP: 1,
  HDR_F_NEEDS_CSUM: 1,
  HDR_F_DATA_VALID: 2,
  HDR_GSO_NONE: 0,
  /** `struct virtio_net_hdr` with `num_buffers`: the header of every frame under VERSION_1. */
  HDR_SIZE: 12,
} as const;

/** Bytes of an Ethernet header, and of a VLAN tag the MTU does not count. */
const ETH_HLEN = 14;
const VLAN_HLEN = 4;
const MIN_MTU = 68;
const MAX_MTU = 65535;
const DEFAULT_BACKLOG = 256 * 1024;
const MAX_BACKLOG = 64 << 20;
/** Frames sent per notification (or per event-loop turn) before yielding. */
const TX_BUDGET = 256;
const CONFIG_SIZE = 12;
const HDR = VIRTIO_NET.HDR_SIZE;

/**
 * Options for a {@link VirtioNet}.
 *
 * @example
 * ```ts
 * import { VirtioNet, type VirtioNetOptions } from "@vmkit/virtio";
 *
 * const options: VirtioNetOptions = { mac: "52:54:00:12:34:56", mtu: 1500 };
 * console.log(new VirtioNet(options).macAddress); // 52:54:00:12:34:56
 * ```
 */
export interface VirtioNetOptions {
  /** The card's unicast MAC address; default a random locally-administered one. */
  readonly mac?: string | Uint8Array;
  /** What the frames go to and come from. Without one the link is down until {@link VirtioNet.plug}. */
  readonly backend?: NetBackend;
  /** The MTU offered to the driver (68–65535); default 1500. */
  readonly mtu?: number;
  /** QueueNumMax of both queues (a power of two, 2–32768); default 256. */
  readonly queueSize?: number;
  /** Bytes of frames that may wait for receive buffers (0 for none, up to 64 MiB); default 256 KiB. */
  readonly receiveBacklog?: number;
}

/**
 * Diagnostics of a {@link VirtioNet}.
 *
 * @example
 * ```ts
 * import { VirtioNet } from "@vmkit/virtio";
 *
 * const net = new VirtioNet();
 * net.receive(new Uint8Array(60)); // no driver yet: dropped
 * console.log(net.stats.rxDropped); // 1
 * ```
 */
export interface VirtioNetStats {
  /** Frames delivered into the guest's receive buffers. */
  rxFrames: number;
  /** Their bytes (without the virtio header). */
  rxBytes: number;
  /**
   * Frames dropped on the way in: the link down, the driver not running, no buffer and the
   * backlog full, shorter than an Ethernet header or longer than the MTU allows.
   */
  rxDropped: number;
  /** Frames that met a receive buffer too small for them (both dropped and returned empty). */
  rxTooLong: number;
  /** Frames that had to wait in the backlog. */
  rxBacklogged: number;
  /** The most bytes the backlog ever held. */
  rxBacklogPeak: number;
  /** Frames the guest transmitted that went to the backend. */
  txFrames: number;
  /** Their bytes. */
  txBytes: number;
  /** Well-formed frames not sent: the link down, or the backend refused them. */
  txDropped: number;
  /** Frames dropped for the guest's mistakes inside them (see the module docs). */
  txMalformed: number;
  /** Transmitted checksums the device computed for the guest. */
  txChecksums: number;
  /** Configuration-space writes, ignored (nothing there is writable). */
  configWrites: number;
}

/**
 * The network device type; carry it on a {@link VirtioMmio}. It is the {@link FrameReceiver} of
 * its backend.
 *
 * @example
 * ```ts
 * import { VIRTIO_NET, VirtioNet } from "@vmkit/virtio";
 *
 * const net = new VirtioNet({ mac: "02:00:00:00:00:01", mtu: 9000 });
 * console.log(net.deviceId, net.mtu, (net.features >> VIRTIO_NET.F_MTU) & 1n); // 1 9000 1n
 * ```
 */
export class VirtioNet implements VirtioDevice, FrameReceiver {
  /** The network device ID, 1. */
  readonly deviceId: number = VIRTIO_ID.NET;
  /** MAC, STATUS, MTU and CSUM. */
  readonly features: bigint;
  /** receiveq1 and transmitq1. */
  readonly queueSizes: readonly number[];
  /** `mac`, `status`, `max_virtqueue_pairs`, `mtu`. */
  readonly configSize: number = CONFIG_SIZE;
  /** The MTU offered. */
  readonly mtu: number;
  /** Counters. */
  readonly stats: VirtioNetStats = {
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    rxTooLong: 0,
    rxBacklogged: 0,
    rxBacklogPeak: 0,
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
    txMalformed: 0,
    txChecksums: 0,
    configWrites: 0,
  };
  readonly #config = new Uint8Array(CONFIG_SIZE);
  readonly #configView = new DataView(this.#config.buffer);
  readonly #maxFrame: number;
  readonly #backlog: FrameRing | null;
  readonly #header = new Uint8Array(HDR);
  readonly #headerView = new DataView(this.#header.buffer);
  readonly #rxHeader = new Uint8Array(HDR);
  readonly #tx: Uint8Array;
  #backend: NetBackend | null = null;
  #host: VirtioHost | null = null;
  #rxq: Virtqueue | null = null;
  #txq: Virtqueue | null = null;
  #linkUp = false;
  // A transmission continues from the event loop (the token dies with a reset).
  #txScheduled = false;
  #txToken = 0;
  #transmitting = false;

  /**
   * Creates the device; attach it by passing it to a transport.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for a bad MAC address, MTU, queue size, backlog or
   *   backend
   */
  constructor(options: VirtioNetOptions = {}) {
    const size = options.queueSize ?? 256;
    if (!Number.isInteger(size) || size < 2 || size > 32768 || (size & (size - 1)) !== 0) {
      throw new VirtioError("INVALID_ARGUMENT", `queue size ${size} is not a power of two ≥ 2`);
    }
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
      throw new VirtioError("INVALID_ARGUMENT", `MTU ${mtu} is not ${MIN_MTU} to ${MAX_MTU}`);
    }
    const backlog = options.receiveBacklog ?? DEFAULT_BACKLOG;
    if (!Number.isInteger(backlog) || backlog < 0 || backlog > MAX_BACKLOG) {
      throw new VirtioError(
        "INVALID_ARGUMENT",
        `receive backlog ${backlog} is not 0 to ${MAX_BACKLOG} bytes`,
      );
    }
    const mac = options.mac === undefined ? randomMac() : macBytes(options.mac);
    this.queueSizes = [size, size];
    this.mtu = mtu;
    this.#maxFrame = mtu + ETH_HLEN + VLAN_HLEN;
    this.#backlog = backlog > 0 ? new FrameRing(backlog) : null;
    this.#tx = new Uint8Array(this.#maxFrame);
    const N = VIRTIO_NET;
    this.features = [N.F_CSUM, N.F_MTU, N.F_MAC, N.F_STATUS].reduce(
      (f: bigint, b) => f | (1n << b),
      0n,
    );
    this.#config.set(mac, 0);
    this.#configView.setUint16(8, 1, true); // max_virtqueue_pairs
    this.#configView.setUint16(10, mtu, true);
    this.#rxHeader[10] = 1; // num_buffers
    if (options.backend !== undefined) this.plug(options.backend);
  }

  /** The MAC address, as the guest reads it. */
  get mac(): Uint8Array {
    return this.#config.slice(0, 6);
  }

  /** The MAC address as text. */
  get macAddress(): string {
    return Array.from(this.#config.subarray(0, 6), (b) => b.toString(16).padStart(2, "0"))
      .join(":");
  }

  /** Whether the link is up (the guest sees carrier). */
  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** The backend, if one is plugged in. */
  get backend(): NetBackend | null {
    return this.#backend;
  }

  /** Frames waiting in the backlog for receive buffers. */
  get backlogFrames(): number {
    return this.#backlog?.count ?? 0;
  }

  /**
   * Plugs the device into `backend` (once) and brings the link up.
   *
   * @throws {VirtioError} `INVALID_ARGUMENT` for something that is not a backend,
   *   `INVALID_STATE` when a backend is already plugged in
   */
  plug(backend: NetBackend): void {
    if (typeof backend?.send !== "function" || typeof backend.attach !== "function") {
      throw new VirtioError("INVALID_ARGUMENT", "backend must be a NetBackend");
    }
    if (this.#backend !== null) {
      throw new VirtioError("INVALID_STATE", "a backend is already plugged in");
    }
    this.#backend = backend;
    backend.attach(this);
    this.setLink(true);
  }

  /**
   * Sets the link status the guest sees (carrier on or off) and tells the driver with a
   * configuration-change interrupt. While the link is down, frames are dropped both ways.
   */
  setLink(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    this.#configView.setUint16(6, up ? VIRTIO_NET.S_LINK_UP : 0, true);
    if (!up) this.#backlog?.clear();
    this.#host?.configChanged();
  }

  /** See {@link VirtioDevice.attach}. */
  attach(host: VirtioHost): void {
    if (this.#host !== null) throw new VirtioError("INVALID_STATE", "device already attached");
    this.#host = host;
    this.#rxq = host.queues[0];
    this.#txq = host.queues[1];
  }

  /** Reads `virtio_net_config`. */
  readConfig(offset: number, size: number): number {
    const c = this.#configView;
    return size === 1
      ? c.getUint8(offset)
      : size === 2
      ? c.getUint16(offset, true)
      : c.getUint32(offset, true);
  }

  /** Nothing in the configuration is writable without VIRTIO_NET_F_CTRL_MAC_ADDR: counted, ignored. */
  writeConfig(_offset: number, _size: number, _value: number): void {
    this.stats.configWrites++;
  }

  /** Receive buffers posted: the backlog goes out; transmit buffers posted: they are sent. */
  notify(queue: number): void {
    if (queue === 0) this.#drainBacklog();
    else if (queue === 1) this.#transmit();
  }

  /** The backlog belonged to the old driver; a transmission in progress is abandoned. */
  reset(): void {
    this.#backlog?.clear();
    this.#txToken++;
    this.#txScheduled = false;
  }

  /**
   * A frame for the guest (see {@link FrameReceiver.receive}): delivered into a receive buffer
   * now, or kept in the backlog, or dropped and counted. Never throws.
   */
  receive(frame: Uint8Array): boolean {
    const n = frame.length;
    const q = this.#rxq;
    if (
      !this.#linkUp || q === null || !q.running || !(n >= ETH_HLEN) || n > this.#maxFrame
    ) {
      this.stats.rxDropped++;
      return false;
    }
    const backlog = this.#backlog;
    if (backlog !== null && backlog.count > 0) {
      // Frames keep their order: behind the ones already waiting.
      if (!this.#queue(backlog, frame)) return false;
      this.#drainBacklog();
      return true;
    }
    const chain = q.pop();
    if (chain !== null) {
      this.#deliver(q, chain, frame, 0, n);
      return true;
    }
    return backlog !== null && this.#queue(backlog, frame);
  }

  #queue(backlog: FrameRing, frame: Uint8Array): boolean {
    if (!backlog.push(frame)) {
      this.stats.rxDropped++;
      return false;
    }
    this.stats.rxBacklogged++;
    if (backlog.bytes > this.stats.rxBacklogPeak) this.stats.rxBacklogPeak = backlog.bytes;
    return true;
  }

  #drainBacklog(): void {
    const backlog = this.#backlog;
    const q = this.#rxq;
    if (backlog === null || q === null) return;
    while (backlog.count > 0) {
      const chain = q.pop();
      if (chain === null) return;
      const start = backlog.peekStart();
      this.#deliver(q, chain, backlog.storage, start, start + backlog.peekLength());
      backlog.shift();
    }
  }

  /** Writes header and frame `bytes[start, end)` into `chain` and returns it to the guest. */
  #deliver(q: Virtqueue, chain: DescriptorChain, bytes: Uint8Array, start: number, end: number) {
    const n = end - start;
    if (chain.writableLength < HDR + n) {
      this.stats.rxTooLong++;
      q.push(chain, 0);
      return;
    }
    chain.write(0, this.#rxHeader);
    chain.write(HDR, bytes, start, end);
    q.push(chain, HDR + n);
    this.stats.rxFrames++;
    this.stats.rxBytes += n;
  }

  /**
   * Sends available frames until none is left or the budget is spent; then the rest goes on
   * from the event loop.
   */
  #transmit(): void {
    const q = this.#txq;
    // A backend that answers inside send() may make the guest's device notify again only
    // through the event loop, but a host callback could call in here: never nest.
    if (q === null || this.#transmitting || this.#txScheduled) return;
    this.#transmitting = true;
    try {
      for (let budget = TX_BUDGET; budget > 0; budget--) {
        const chain = q.pop();
        if (chain === null) return;
        this.#send(chain);
        q.push(chain, 0);
      }
      this.#txScheduled = true;
      const token = this.#txToken;
      setTimeout(() => {
        if (token !== this.#txToken) return;
        this.#txScheduled = false;
        this.#transmit();
      }, 0);
    } finally {
      this.#transmitting = false;
    }
  }

  #send(chain: DescriptorChain): void {
    const length = chain.readableLength - HDR;
    if (!(length >= ETH_HLEN) || length > this.#maxFrame) {
      this.stats.txMalformed++;
      return;
    }
    chain.read(0, this.#header);
    const h = this.#headerView;
    const flags = h.getUint8(0);
    if (h.getUint8(1) !== VIRTIO_NET.HDR_GSO_NONE) {
      this.stats.txMalformed++;
      return;
    }
    const frame = this.#tx;
    chain.read(HDR, frame, 0, length);
    if ((flags & VIRTIO_NET.HDR_F_NEEDS_CSUM) !== 0) {
      const start = h.getUint16(6, true);
      const field = start + h.getUint16(8, true);
      if (field + 2 > length) {
        this.stats.txMalformed++;
        return;
      }
      // The driver left the pseudo-header sum in the field; the sum from csum_start covers it.
      let sum = foldChecksum(checksumAdd(frame, start, length));
      // 0 and 0xffff are the same in ones' complement; UDP reserves 0 for "no checksum".
      if (sum === 0) sum = 0xffff;
      frame[field] = sum >> 8;
      frame[field + 1] = sum & 0xff;
      this.stats.txChecksums++;
    }
    const backend = this.#backend;
    if (!this.#linkUp || backend === null) {
      this.stats.txDropped++;
      return;
    }
    let sent = false;
    try {
      sent = backend.send(frame.subarray(0, length));
    } catch {
      // A backend that throws loses the frame, not the VM.
    }
    if (sent) {
      this.stats.txFrames++;
      this.stats.txBytes += length;
    } else {
      this.stats.txDropped++;
    }
  }
}

/**
 * What a network device is plugged into: a backend that takes the frames the guest transmits
 * and hands it the frames that arrive for it — one end of a virtual cable. An in-process switch
 * port, a TAP device and host code that answers pings are all backends.
 *
 * Frames are Ethernet frames from the destination MAC address to the end of the payload, without
 * a frame check sequence and without any virtio header. Whoever receives a frame may only read it
 * during the call: the bytes belong to the sender, which reuses its buffer for the next frame.
 *
 * @module
 */

/**
 * Takes frames: a network device's receive side, or anything else frames are delivered to.
 *
 * @example
 * ```ts
 * import type { FrameReceiver } from "@vmkit/virtio";
 *
 * let frames = 0;
 * const counter: FrameReceiver = { receive: () => (frames++, true) };
 * counter.receive(new Uint8Array(60));
 * console.log(frames); // 1
 * ```
 */
export interface FrameReceiver {
  /**
   * One frame, readable only during the call. Returns false when it was dropped (no room, link
   * down); never throws for any frame content.
   */
  receive(frame: Uint8Array): boolean;
}

/**
 * Where a network device sends the guest's frames and from where it gets the guest's incoming
 * ones.
 *
 * @example
 * ```ts
 * import type { FrameReceiver, NetBackend } from "@vmkit/virtio";
 *
 * // A loopback cable: every frame sent comes straight back.
 * class Loopback implements NetBackend {
 *   #peer: FrameReceiver | null = null;
 *   attach(receiver: FrameReceiver): void {
 *     this.#peer = receiver;
 *   }
 *   send(frame: Uint8Array): boolean {
 *     return this.#peer?.receive(frame) ?? false;
 *   }
 * }
 * const loop = new Loopback();
 * loop.attach({ receive: (f) => (console.log(`got ${f.length} bytes`), true) });
 * loop.send(new Uint8Array(64)); // got 64 bytes
 * ```
 */
export interface NetBackend {
  /**
   * Called once, by the device the backend is plugged into: from then on frames for the guest
   * go to `receiver.receive()`, at any time (from the event loop, or inside another guest's
   * transmission).
   */
  attach(receiver: FrameReceiver): void;
  /**
   * A frame the guest transmitted, readable only during the call. Returns false when it was
   * dropped.
   */
  send(frame: Uint8Array): boolean;
  /** Unplugs: no more frames either way. Called by the VM that owns the backend when it closes. */
  close?(): void;
}

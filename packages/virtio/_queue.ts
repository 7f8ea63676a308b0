/**
 * The split virtqueue (virtio 1.2 §2.7): ring placement checks when the driver enables a queue,
 * taking available chains (with indirect tables), returning used ones, and the notification
 * suppression rules with and without VIRTIO_F_EVENT_IDX.
 *
 * Every guest value is checked before it is used: ring placement once at QueueReady (the ring
 * indices stay valid because the memory layout cannot change), every buffer and indirect table
 * when its chain is taken. A chain walk visits each descriptor at most once and collects at most
 * QueueNumMax buffers, so the work per chain is bounded; the available index may run at most
 * the queue size ahead, so the work per notification is bounded too.
 *
 * @module
 */

import { Chain, type ChainOwner } from "./_chain.ts";
import { VIRTQ } from "./constants.ts";
import type { DescriptorChain, Virtqueue } from "./device.ts";
import { VirtioError, type VirtioFault } from "./errors.ts";
import type { GuestMemory } from "./guest_memory.ts";

const DESC_SIZE = 16;
const TWO_32 = 2 ** 32;

/** What a queue reports to its transport. */
export interface QueueEvents {
  /** A used buffer was published and the driver wants to hear about it. */
  used(): void;
  /** The driver corrupted the ring: the device needs a reset. */
  fault(fault: VirtioFault): void;
}

/** A split virtqueue with its register state, as the transport drives it. */
export class SplitQueue implements Virtqueue, ChainOwner {
  readonly index: number;
  readonly maxSize: number;
  /** QueueNum as written. */
  size: number;
  descLow = 0;
  descHigh = 0;
  driverLow = 0;
  driverHigh = 0;
  deviceLow = 0;
  deviceHigh = 0;
  /** QueueReady: the placement was accepted. */
  ready = false;
  #running = false;
  #generation = 0;
  #indirect = false;
  #eventIdx = false;
  readonly #memory: GuestMemory;
  readonly #view: DataView;
  readonly #events: QueueEvents;
  // Translated ring positions, valid while ready.
  #desc = 0;
  #avail = 0;
  #used = 0;
  #lastAvail = 0;
  #usedIdx = 0;
  #inFlight = 0;
  readonly #pool: Chain[] = [];
  // Loop detection: a descriptor is visited in the current walk when its stamp equals #epoch.
  readonly #stamps: Uint32Array;
  readonly #indirectStamps: Uint32Array;
  #epoch = 0;

  constructor(index: number, maxSize: number, memory: GuestMemory, events: QueueEvents) {
    this.index = index;
    this.maxSize = maxSize;
    this.size = maxSize;
    this.#memory = memory;
    this.#view = memory.view;
    this.#events = events;
    this.#stamps = new Uint32Array(maxSize);
    this.#indirectStamps = new Uint32Array(maxSize);
  }

  get generation(): number {
    return this.#generation;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Chains taken and not yet returned in this generation. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** QueueReady=1: checks the size and ring placement; returns the refusal, if any. */
  enable(): VirtioFault | null {
    const n = this.size;
    if (!(n >= 1 && n <= this.maxSize && (n & (n - 1)) === 0)) return "QUEUE_SIZE";
    const desc = this.descHigh * TWO_32 + this.descLow;
    const avail = this.driverHigh * TWO_32 + this.driverLow;
    const used = this.deviceHigh * TWO_32 + this.deviceLow;
    if (desc % 16 !== 0 || avail % 2 !== 0 || used % 4 !== 0) return "RING_ALIGNMENT";
    // The event fields are counted whether or not EVENT_IDX is negotiated, as §2.7 sizes them.
    const d = this.#memory.translate(desc, DESC_SIZE * n);
    const a = this.#memory.translate(avail, 6 + 2 * n);
    const u = this.#memory.translate(used, 6 + 8 * n);
    if (d < 0 || a < 0 || u < 0) return "RING_OUTSIDE_RAM";
    this.#desc = d;
    this.#avail = a;
    this.#used = u;
    this.#lastAvail = 0;
    this.#usedIdx = 0;
    this.ready = true;
    return null;
  }

  /** DRIVER_OK with this queue ready: buffers may flow. */
  start(indirect: boolean, eventIdx: boolean): void {
    this.#indirect = indirect;
    this.#eventIdx = eventIdx;
    this.#running = true;
  }

  /** Stops taking buffers and cuts off every chain in flight. */
  halt(): void {
    this.#running = false;
    this.#generation++;
    this.#inFlight = 0;
  }

  /** QueueReady=0 or a device reset: halted and back to the reset register state. */
  disable(clearRegisters: boolean): void {
    this.halt();
    this.ready = false;
    if (clearRegisters) {
      this.size = this.maxSize;
      this.descLow = this.descHigh = 0;
      this.driverLow = this.driverHigh = 0;
      this.deviceLow = this.deviceHigh = 0;
    }
  }

  pop(): DescriptorChain | null {
    if (!this.#running) return null;
    const view = this.#view;
    const size = this.size;
    const pending = (view.getUint16(this.#avail + 2, true) - this.#lastAvail) & 0xffff;
    if (pending === 0) {
      // Found nothing: ask to be notified of the next buffer (a receive queue waiting for
      // buffers depends on it).
      if (this.#eventIdx) view.setUint16(this.#used + 4 + 8 * size, this.#lastAvail, true);
      return null;
    }
    if (pending > size) return this.#fail("AVAIL_INDEX");
    if (this.#inFlight >= size) return this.#fail("TOO_MANY_IN_FLIGHT");
    const head = view.getUint16(this.#avail + 4 + 2 * (this.#lastAvail & (size - 1)), true);
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    // Ask to be notified of the next buffer, whatever happens to this one.
    if (this.#eventIdx) view.setUint16(this.#used + 4 + 8 * size, this.#lastAvail, true);
    const chain = this.#pool.pop() ?? new Chain(this, this.#memory);
    chain.begin(head, this.#generation);
    const fault = this.#walk(chain, head);
    if (fault !== null) {
      this.#pool.push(chain);
      return this.#fail(fault);
    }
    chain.inFlight = true;
    this.#inFlight++;
    return chain;
  }

  #fail(fault: VirtioFault): null {
    this.#events.fault(fault);
    return null;
  }

  #nextEpoch(): number {
    if (++this.#epoch === 0xffff_ffff) {
      this.#stamps.fill(0);
      this.#indirectStamps.fill(0);
      this.#epoch = 1;
    }
    return this.#epoch;
  }

  /** Follows the chain from `head`, checking every descriptor, into `chain`. */
  #walk(chain: Chain, head: number): VirtioFault | null {
    const view = this.#view;
    const memory = this.#memory;
    const size = this.size;
    let table = this.#desc;
    let entries = size;
    let stamps = this.#stamps;
    let epoch = this.#nextEpoch();
    let indirect = false;
    let sawWritable = false;
    let i = head;
    for (;;) {
      if (i >= entries) return "DESCRIPTOR_INDEX";
      if (stamps[i] === epoch) return "DESCRIPTOR_LOOP";
      stamps[i] = epoch;
      const at = table + DESC_SIZE * i;
      const address = view.getUint32(at + 4, true) * TWO_32 + view.getUint32(at, true);
      const length = view.getUint32(at + 8, true);
      const flags = view.getUint16(at + 12, true);
      if ((flags & VIRTQ.DESC_F_INDIRECT) !== 0) {
        if (indirect) return "NESTED_INDIRECT";
        if (!this.#indirect) return "INDIRECT_NOT_NEGOTIATED";
        if ((flags & VIRTQ.DESC_F_NEXT) !== 0) return "INDIRECT_WITH_NEXT";
        if (length === 0 || length % DESC_SIZE !== 0 || length / DESC_SIZE > this.maxSize) {
          return "INDIRECT_LENGTH";
        }
        const index = memory.translate(address, length);
        if (index < 0) return "ADDRESS_OUTSIDE_RAM";
        table = index;
        entries = length / DESC_SIZE;
        stamps = this.#indirectStamps;
        epoch = this.#nextEpoch();
        indirect = true;
        i = 0;
        continue;
      }
      // QueueNumMax rather than the driver's queue size: drivers size their requests from
      // limits derived from it (virtio-blk's SEG_MAX), also after shrinking the queue.
      if (chain.count >= this.maxSize) return "CHAIN_TOO_LONG";
      const index = memory.translate(address, length);
      if (index < 0) return "ADDRESS_OUTSIDE_RAM";
      const writable = (flags & VIRTQ.DESC_F_WRITE) !== 0;
      if (writable) sawWritable = true;
      else if (sawWritable) return "DESCRIPTOR_ORDER";
      chain.add(index, length, writable);
      if ((flags & VIRTQ.DESC_F_NEXT) === 0) return null;
      i = view.getUint16(at + 14, true);
    }
  }

  push(chain: DescriptorChain, written: number): boolean {
    if (!(chain instanceof Chain) || chain.owner !== this) {
      throw new VirtioError("INVALID_ARGUMENT", `chain was not taken from queue ${this.index}`);
    }
    if (!chain.inFlight) {
      throw new VirtioError("INVALID_STATE", `chain ${chain.head} was already returned`);
    }
    const live = chain.live;
    chain.inFlight = false;
    this.#pool.push(chain);
    if (!live) return false;
    this.#inFlight--;
    const view = this.#view;
    const size = this.size;
    const length = Math.max(0, Math.min(written, chain.writableLength, 0xffff_ffff)) >>> 0;
    const old = this.#usedIdx;
    const element = this.#used + 4 + 8 * (old & (size - 1));
    // The element is complete before the index that publishes it moves.
    view.setUint32(element, chain.head, true);
    view.setUint32(element + 4, length, true);
    this.#usedIdx = (old + 1) & 0xffff;
    view.setUint16(this.#used + 2, this.#usedIdx, true);
    // Only now, with the index published, read what the driver asked for.
    let notify: boolean;
    if (this.#eventIdx) {
      const usedEvent = view.getUint16(this.#avail + 4 + 2 * size, true);
      notify = ((this.#usedIdx - usedEvent - 1) & 0xffff) < ((this.#usedIdx - old) & 0xffff);
    } else {
      notify = (view.getUint16(this.#avail, true) & VIRTQ.AVAIL_F_NO_INTERRUPT) === 0;
    }
    if (notify) this.#events.used();
    return true;
  }
}

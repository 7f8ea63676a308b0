/**
 * Test rig: guest RAM fenced by guard bytes, and a minimal virtio-mmio driver that does what a
 * guest driver does (negotiate, place rings, build descriptor chains, notify, read the used
 * ring), with raw access for tests that break the rules on purpose.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type GuestMemory,
  type InterruptLine,
  VIRTIO_F,
  VIRTIO_MMIO as R,
  VIRTIO_STATUS as S,
  type VirtioDevice,
  VirtioMmio,
  VIRTQ,
} from "../mod.ts";

export const RAM_BASE = 0x4000_0000;
export const GUARD = 4096;
const GUARD_BYTE = 0xa5;

/** Guest RAM at RAM_BASE whose backing array has guard bytes before and after it. */
export class GuardedMemory implements GuestMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  /** Ranges translated, for tests that want to know what the device looked at. */
  translations = 0;

  constructor(size = 1 << 20) {
    this.size = size;
    this.bytes = new Uint8Array(GUARD + size + GUARD).fill(GUARD_BYTE);
    this.bytes.fill(0, GUARD, GUARD + size);
    this.view = new DataView(this.bytes.buffer);
  }

  translate(address: number, length: number): number {
    this.translations++;
    const offset = address - RAM_BASE;
    if (!(offset >= 0 && length >= 0 && length <= this.size - offset)) return -1;
    if (Math.floor(offset) !== offset || Math.floor(length) !== length) return -1;
    return GUARD + offset;
  }

  /** Throws unless every guard byte still holds its pattern. */
  assertGuardsIntact(): void {
    for (let i = 0; i < GUARD; i++) {
      if (this.bytes[i] !== GUARD_BYTE) assert.fail(`guard byte ${i - GUARD} below RAM written`);
      const j = GUARD + this.size + i;
      if (this.bytes[j] !== GUARD_BYTE) assert.fail(`guard byte ${i} above RAM written`);
    }
  }

  #at(address: number, length: number): number {
    const i = this.translate(address, length);
    assert.ok(i >= 0, `test bug: 0x${address.toString(16)}+${length} outside RAM`);
    return i;
  }

  u8(address: number): number {
    return this.bytes[this.#at(address, 1)];
  }
  u16(address: number): number {
    return this.view.getUint16(this.#at(address, 2), true);
  }
  u32(address: number): number {
    return this.view.getUint32(this.#at(address, 4), true);
  }
  set8(address: number, value: number): void {
    this.bytes[this.#at(address, 1)] = value;
  }
  set16(address: number, value: number): void {
    this.view.setUint16(this.#at(address, 2), value, true);
  }
  set32(address: number, value: number): void {
    this.view.setUint32(this.#at(address, 4), value, true);
  }
  set64(address: number, value: number): void {
    this.set32(address, value % 2 ** 32);
    this.set32(address + 4, Math.floor(value / 2 ** 32));
  }
  get(address: number, length: number): Uint8Array {
    const i = this.#at(address, length);
    return this.bytes.slice(i, i + length);
  }
  put(address: number, data: Uint8Array): void {
    this.bytes.set(data, this.#at(address, data.length));
  }
}

/** An interrupt line that records every level it is driven to. */
export class RecordingLine implements InterruptLine {
  readonly levels: boolean[] = [];
  level = false;
  pulses = 0;
  set(level: boolean): void {
    this.levels.push(level);
    this.level = level;
  }
  pulse(): void {
    this.pulses++;
  }
}

/** One buffer of a chain, as a test describes it. */
export interface Buffer {
  /** Guest-physical address (any number, to break rules). */
  readonly addr: number;
  readonly len: number;
  readonly write?: boolean;
  /** Extra flag bits or'ed in (e.g. INDIRECT). */
  readonly flags?: number;
}

/** The driver's side of one split virtqueue. */
export class DriverQueue {
  readonly index: number;
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  readonly mem: GuardedMemory;
  availIdx = 0;
  lastUsed = 0;
  #nextDesc = 0;

  constructor(mem: GuardedMemory, index: number, size: number, at: number) {
    this.mem = mem;
    this.index = index;
    this.size = size;
    this.desc = at;
    this.avail = at + 16 * size;
    this.used = align(this.avail + 6 + 2 * size, 4);
  }

  /** Bytes the rings take from `at`. */
  static footprint(size: number): number {
    return align(16 * size + 6 + 2 * size, 4) + 6 + 8 * size;
  }

  /** Writes descriptor `i` raw. */
  setDesc(i: number, addr: number, len: number, flags: number, next: number, table = this.desc) {
    const at = table + 16 * i;
    this.mem.set64(at, addr);
    this.mem.set32(at + 8, len);
    this.mem.set16(at + 12, flags);
    this.mem.set16(at + 14, next);
  }

  /** Puts `head` in the available ring and publishes it. */
  publish(head: number): void {
    this.mem.set16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.set16(this.avail + 2, this.availIdx);
  }

  /** Builds a chain of consecutive descriptors (wrapping) and publishes it; returns the head. */
  add(buffers: readonly Buffer[]): number {
    const head = this.#nextDesc;
    buffers.forEach((b, k) => {
      const i = (head + k) % this.size;
      const last = k === buffers.length - 1;
      const flags = (b.write ? VIRTQ.DESC_F_WRITE : 0) | (last ? 0 : VIRTQ.DESC_F_NEXT) |
        (b.flags ?? 0);
      this.setDesc(i, b.addr, b.len, flags, (i + 1) % this.size);
    });
    this.#nextDesc = (head + buffers.length) % this.size;
    this.publish(head);
    return head;
  }

  /** Builds `buffers` as an indirect table at `table` behind one descriptor; returns the head. */
  addIndirect(table: number, buffers: readonly Buffer[]): number {
    buffers.forEach((b, k) => {
      const last = k === buffers.length - 1;
      const flags = (b.write ? VIRTQ.DESC_F_WRITE : 0) | (last ? 0 : VIRTQ.DESC_F_NEXT) |
        (b.flags ?? 0);
      this.setDesc(k, b.addr, b.len, flags, k + 1, table);
    });
    return this.add([{ addr: table, len: 16 * buffers.length, flags: VIRTQ.DESC_F_INDIRECT }]);
  }

  get usedIdx(): number {
    return this.mem.u16(this.used + 2);
  }

  /** Used elements published since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const out = [];
    const idx = this.usedIdx;
    while (this.lastUsed !== idx) {
      const at = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: this.mem.u32(at), len: this.mem.u32(at + 4) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Sets used_event (EVENT_IDX). */
  set usedEvent(value: number) {
    this.mem.set16(this.avail + 4 + 2 * this.size, value);
  }

  /** Reads avail_event (EVENT_IDX). */
  get availEvent(): number {
    return this.mem.u16(this.used + 4 + 8 * this.size);
  }

  set availFlags(value: number) {
    this.mem.set16(this.avail, value);
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export interface RigOptions {
  /** Feature bits the driver accepts beyond VERSION_1 (default: everything offered). */
  readonly features?: bigint;
  /** Queue sizes to use (default: each QueueNumMax). */
  readonly queueSizes?: readonly number[];
  /** Stop before DRIVER_OK. */
  readonly noDriverOk?: boolean;
  readonly ramSize?: number;
}

/** A device on a transport over guarded memory, with a driver that brought it up. */
export class Rig<D extends VirtioDevice> {
  readonly mem: GuardedMemory;
  readonly line: RecordingLine = new RecordingLine();
  readonly mmio: VirtioMmio;
  readonly device: D;
  readonly queues: DriverQueue[] = [];
  /** Bump allocator for buffers, above the rings. */
  #heap: number;

  constructor(device: D, options: RigOptions = {}) {
    this.mem = new GuardedMemory(options.ramSize ?? 1 << 20);
    this.device = device;
    this.mmio = new VirtioMmio({ device, memory: this.mem, interrupt: this.line });
    let at = RAM_BASE;
    device.queueSizes.forEach((max, i) => {
      const size = options.queueSizes?.[i] ?? max;
      this.queues.push(new DriverQueue(this.mem, i, size, at));
      at = align(at + DriverQueue.footprint(size), 4096);
    });
    this.#heap = at;
    this.bringUp(options);
  }

  /** Runs the init sequence of §3.1.1 and, unless told otherwise, sets DRIVER_OK. */
  bringUp(options: RigOptions = {}): void {
    const m = this.mmio;
    m.write(R.STATUS, 4, 0);
    m.write(R.STATUS, 4, S.ACKNOWLEDGE);
    m.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER);
    m.write(R.DEVICE_FEATURES_SEL, 4, 0);
    const low = m.read(R.DEVICE_FEATURES, 4);
    m.write(R.DEVICE_FEATURES_SEL, 4, 1);
    const high = m.read(R.DEVICE_FEATURES, 4);
    const offered = (BigInt(high) << 32n) | BigInt(low);
    const accepted = (options.features ?? offered) & offered | (1n << VIRTIO_F.VERSION_1);
    m.write(R.DRIVER_FEATURES_SEL, 4, 0);
    m.write(R.DRIVER_FEATURES, 4, Number(accepted & 0xffff_ffffn));
    m.write(R.DRIVER_FEATURES_SEL, 4, 1);
    m.write(R.DRIVER_FEATURES, 4, Number(accepted >> 32n));
    m.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    assert.ok(m.read(R.STATUS, 4) & S.FEATURES_OK, "features accepted");
    for (const q of this.queues) {
      q.availIdx = 0;
      q.lastUsed = 0;
      this.mem.bytes.fill(
        0,
        this.mem.translate(q.desc, 0),
        this.mem.translate(q.used, 0) + 6 + 8 * q.size,
      );
      this.placeQueue(q.index, q.size, q.desc, q.avail, q.used);
      assert.equal(m.read(R.QUEUE_READY, 4), 1, `queue ${q.index} ready`);
    }
    if (!options.noDriverOk) this.driverOk();
  }

  placeQueue(index: number, size: number, desc: number, avail: number, used: number): void {
    const m = this.mmio;
    m.write(R.QUEUE_SEL, 4, index);
    m.write(R.QUEUE_NUM, 4, size);
    m.write(R.QUEUE_DESC_LOW, 4, desc % 2 ** 32);
    m.write(R.QUEUE_DESC_HIGH, 4, Math.floor(desc / 2 ** 32));
    m.write(R.QUEUE_DRIVER_LOW, 4, avail % 2 ** 32);
    m.write(R.QUEUE_DRIVER_HIGH, 4, Math.floor(avail / 2 ** 32));
    m.write(R.QUEUE_DEVICE_LOW, 4, used % 2 ** 32);
    m.write(R.QUEUE_DEVICE_HIGH, 4, Math.floor(used / 2 ** 32));
    m.write(R.QUEUE_READY, 4, 1);
  }

  driverOk(): void {
    this.mmio.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
  }

  /** `n` bytes of guest RAM for buffers (aligned to 16). */
  alloc(n: number, fill?: number): number {
    const at = this.#heap;
    this.#heap = align(at + n, 16);
    assert.ok(this.#heap <= RAM_BASE + this.mem.size, "test bug: out of rig RAM");
    if (fill !== undefined) this.mem.put(at, new Uint8Array(n).fill(fill));
    return at;
  }

  kick(queue: number): void {
    this.mmio.write(R.QUEUE_NOTIFY, 4, queue);
  }

  /** Reads and acknowledges InterruptStatus, as a driver's handler does. */
  ack(): number {
    const status = this.mmio.read(R.INTERRUPT_STATUS, 4);
    this.mmio.write(R.INTERRUPT_ACK, 4, status);
    return status;
  }

  get status(): number {
    return this.mmio.read(R.STATUS, 4);
  }

  get needsReset(): boolean {
    return (this.status & S.DEVICE_NEEDS_RESET) !== 0;
  }
}

/** Lets promise continuations and zero-delay timers run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A promise with its resolvers exposed, for backends that answer when a test says so. */
export function deferred<T = void>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

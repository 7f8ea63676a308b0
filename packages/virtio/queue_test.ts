// Split virtqueues: chains, indirect tables, notification suppression, used-ring ordering,
// late completions across resets, and one test per way a driver can corrupt a ring, each
// asserting the exact device reaction.
import assert from "node:assert/strict";
import {
  VIRTIO_F,
  VIRTIO_INT,
  VIRTIO_MMIO as R,
  VIRTIO_STATUS as S,
  VirtioError,
  type VirtioFault,
  VIRTQ,
} from "./mod.ts";
import { HoldDevice } from "./testdata/hold_device.ts";
import { RAM_BASE, Rig } from "./testdata/driver.ts";

const NEXT = VIRTQ.DESC_F_NEXT;
const WRITE = VIRTQ.DESC_F_WRITE;
const INDIRECT = VIRTQ.DESC_F_INDIRECT;
const ALL = 1n << VIRTIO_F.INDIRECT_DESC | 1n << VIRTIO_F.EVENT_IDX;

function rig(size = 8, features = ALL) {
  return new Rig(new HoldDevice([size]), { features });
}

/** The reaction to a corrupt ring: NEEDS_RESET, a config interrupt, nothing used, nothing held. */
function assertDeviceError(r: Rig<HoldDevice>, fault: VirtioFault, usedBefore = 0) {
  assert.equal(r.mmio.stats.lastFault, fault);
  assert.equal(r.status & S.DEVICE_NEEDS_RESET, S.DEVICE_NEEDS_RESET);
  assert.equal(r.mmio.read(R.INTERRUPT_STATUS, 4), VIRTIO_INT.CONFIG_CHANGE);
  assert.equal(r.line.level, true);
  assert.equal(r.queues[0].usedIdx, usedBefore);
  assert.equal(r.mmio.stats.deviceErrors, 1);
  r.mem.assertGuardsIntact();
}

Deno.test("a chain's readable and writable parts, across buffer boundaries", () => {
  const r = rig();
  const a = r.alloc(3), b = r.alloc(5), c = r.alloc(2), d = r.alloc(6);
  r.mem.put(a, new Uint8Array([1, 2, 3]));
  r.mem.put(b, new Uint8Array([4, 5, 6, 7, 8]));
  const head = r.queues[0].add([
    { addr: a, len: 3 },
    { addr: b, len: 5 },
    { addr: c, len: 2, write: true },
    { addr: d, len: 6, write: true },
  ]);
  r.kick(0);
  const chain = r.device.held[0];
  assert.equal(chain.head, head);
  assert.equal(chain.readableLength, 8);
  assert.equal(chain.writableLength, 8);
  const out = new Uint8Array(10);
  assert.equal(chain.read(2, out, 1, 5), 4);
  assert.deepEqual([...out.subarray(0, 6)], [0, 3, 4, 5, 6, 0]);
  assert.equal(chain.read(6, out), 2);
  assert.equal(chain.read(8, out), 0);
  assert.equal(chain.write(1, new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 9])), 7);
  assert.deepEqual([...r.mem.get(c, 2)], [0, 9]);
  assert.deepEqual([...r.mem.get(d, 6)], [9, 9, 9, 9, 9, 9]);
  assert.equal(r.queues[0].usedIdx, 0);
  r.queues[0].usedEvent = 0;
  assert.equal(r.device.complete(), true);
  assert.deepEqual(r.queues[0].takeUsed(), [{ id: head, len: 0 }]);
  r.mem.assertGuardsIntact();
});

Deno.test("the used length is clamped to the writable length", () => {
  const r = rig();
  const buf = r.alloc(4);
  r.queues[0].add([{ addr: buf, len: 4, write: true }]);
  r.kick(0);
  const q = r.device.host.queues[0];
  q.push(r.device.take(), 1000);
  assert.deepEqual(r.queues[0].takeUsed(), [{ id: 0, len: 4 }]);
});

Deno.test("indirect tables, alone and after direct descriptors", () => {
  const r = rig();
  const q = r.queues[0];
  const x = r.alloc(4, 7), y = r.alloc(4);
  const head1 = q.addIndirect(r.alloc(32), [{ addr: x, len: 4 }, { addr: y, len: 4, write: true }]);
  // Two direct readable descriptors, then an indirect one carrying the writable buffer.
  const table = r.alloc(16);
  q.setDesc(0, y, 4, WRITE, 0, table);
  q.setDesc(3, x, 4, NEXT, 4);
  q.setDesc(4, x, 2, NEXT, 5);
  q.setDesc(5, table, 16, INDIRECT, 0);
  q.publish(3);
  r.kick(0);
  const [c1, c2] = r.device.held;
  assert.equal(c1.head, head1);
  assert.deepEqual([c1.readableLength, c1.writableLength], [4, 4]);
  assert.equal(c2.head, 3);
  assert.deepEqual([c2.readableLength, c2.writableLength], [6, 4]);
  const out = new Uint8Array(6);
  c2.read(0, out);
  assert.deepEqual([...out], [7, 7, 7, 7, 7, 7]);
  assert.equal(r.mmio.stats.lastFault, null);
});

Deno.test("without EVENT_IDX: the driver's NO_INTERRUPT flag suppresses the interrupt", () => {
  const r = rig(8, 0n);
  const q = r.queues[0];
  q.availFlags = VIRTQ.AVAIL_F_NO_INTERRUPT;
  q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  r.kick(0);
  r.device.complete();
  assert.equal(q.usedIdx, 1);
  assert.equal(r.line.level, false);
  q.availFlags = 0;
  r.device.complete();
  assert.equal(q.usedIdx, 2);
  assert.equal(r.line.level, true);
  // avail_event is not the device's business without EVENT_IDX.
  assert.equal(q.availEvent, 0);
});

Deno.test("with EVENT_IDX: interrupt only when used idx passes used_event; avail_event kept", () => {
  const r = rig(8, ALL);
  const q = r.queues[0];
  for (let i = 0; i < 4; i++) q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  q.availFlags = VIRTQ.AVAIL_F_NO_INTERRUPT; // ignored with EVENT_IDX
  q.usedEvent = 2; // interrupt when the used idx moves past 2
  r.kick(0);
  assert.equal(q.availEvent, 4, "device asks to hear about the next buffer");
  const levels = [];
  for (let i = 0; i < 4; i++) {
    r.device.complete();
    levels.push(r.line.level);
    r.ack();
  }
  assert.deepEqual(levels, [false, false, true, false]);
});

Deno.test("used ring: element first, then the index, then the interrupt decision", () => {
  const r = rig(8, ALL);
  const q = r.queues[0];
  q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  r.kick(0);
  const seen: string[] = [];
  const view = r.mem.view;
  const usedAt = r.mem.translate(q.used, 0);
  const availAt = r.mem.translate(q.avail, 0);
  // Spy on guest-memory writes and reads of the used ring and used_event.
  const realSet32 = view.setUint32.bind(view);
  const realSet16 = view.setUint16.bind(view);
  const realGet16 = view.getUint16.bind(view);
  view.setUint32 = (o: number, v: number, le?: boolean) => {
    if (o >= usedAt + 4 && o < usedAt + 4 + 8 * 8) seen.push(`elem ${(o - usedAt - 4) % 8}`);
    realSet32(o, v, le);
  };
  view.setUint16 = (o: number, v: number, le?: boolean) => {
    if (o === usedAt + 2) seen.push(`idx ${v}`);
    realSet16(o, v, le);
  };
  view.getUint16 = (o: number, le?: boolean) => {
    if (o === availAt + 4 + 2 * 8) seen.push("used_event");
    return realGet16(o, le);
  };
  r.line.set = (level) => {
    seen.push(`irq ${level}`);
  };
  try {
    r.device.complete();
  } finally {
    // deno-lint-ignore no-explicit-any
    for (const k of ["setUint32", "setUint16", "getUint16"]) delete (view as any)[k];
  }
  assert.deepEqual(seen, ["elem 0", "elem 4", "idx 1", "used_event", "irq true"]);
});

Deno.test("late completion after a driver reset writes nothing and raises nothing", () => {
  const r = rig();
  const buf = r.alloc(8, 0xee);
  r.queues[0].add([{ addr: buf, len: 8, write: true }]);
  r.kick(0);
  const chain = r.device.held[0];
  r.mmio.write(R.STATUS, 4, 0);
  assert.equal(chain.live, false);
  r.line.levels.length = 0;
  assert.equal(r.device.complete(new Uint8Array(8).fill(1)), false);
  assert.deepEqual([...r.mem.get(buf, 8)], new Array(8).fill(0xee));
  assert.equal(r.queues[0].usedIdx, 0);
  assert.deepEqual(r.line.levels, []);
  assert.equal(r.mmio.read(R.INTERRUPT_STATUS, 4), 0);
});

Deno.test("late completion after reset() and re-initialisation does not reach the new rings", () => {
  const r = rig();
  r.queues[0].add([{ addr: r.alloc(8), len: 8, write: true }]);
  r.kick(0);
  const stale = r.device.take();
  r.mmio.reset();
  r.bringUp();
  const head = r.queues[0].add([{ addr: r.alloc(8), len: 8, write: true }]);
  r.kick(0);
  const q = r.device.host.queues[0];
  assert.equal(q.push(stale, 8), false);
  assert.equal(r.queues[0].usedIdx, 0);
  assert.equal(r.line.level, false);
  assert.equal(r.device.complete(new Uint8Array([5])), true);
  assert.deepEqual(r.queues[0].takeUsed(), [{ id: head, len: 1 }]);
});

Deno.test("late completion after QueueReady=0 is dropped too", () => {
  const r = rig();
  r.queues[0].add([{ addr: r.alloc(8), len: 8, write: true }]);
  r.kick(0);
  r.mmio.write(R.QUEUE_SEL, 4, 0);
  r.mmio.write(R.QUEUE_READY, 4, 0);
  assert.equal(r.device.complete(new Uint8Array([1])), false);
  assert.equal(r.queues[0].usedIdx, 0);
});

Deno.test("pushing a chain twice, or to another queue, is a host error", () => {
  const r = new Rig(new HoldDevice([8, 8]));
  r.queues[0].add([{ addr: r.alloc(8), len: 8, write: true }]);
  r.kick(0);
  const chain = r.device.held[0];
  const [q0, q1] = r.device.host.queues;
  assert.throws(
    () => q1.push(chain, 0),
    (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
  );
  q0.push(chain, 0);
  assert.throws(
    () => q0.push(chain, 0),
    (e) => e instanceof VirtioError && e.code === "INVALID_STATE",
  );
});

// ---- untrusted values: queue configuration (refused, QueueReady stays 0) ----

function refusedQueue(
  size: number,
  place: (r: Rig<HoldDevice>) => [number, number, number],
  fault: VirtioFault,
) {
  const r = new Rig(new HoldDevice([8]), { noDriverOk: true });
  r.mmio.write(R.QUEUE_SEL, 4, 0);
  r.mmio.write(R.QUEUE_READY, 4, 0);
  const [d, a, u] = place(r);
  r.placeQueue(0, size, d, a, u);
  assert.equal(r.mmio.read(R.QUEUE_READY, 4), 0);
  assert.equal(r.mmio.stats.lastFault, fault);
  assert.equal(r.mmio.stats.refusals, 1);
  r.driverOk();
  // The queue is unusable: notifications are ignored; the device is not broken.
  r.kick(0);
  assert.equal(r.mmio.stats.lastFault, "NOTIFY_IGNORED");
  assert.equal(r.device.notifications.length, 0);
  assert.equal(r.status & S.DEVICE_NEEDS_RESET, 0);
}

const rings = (r: Rig<HoldDevice>): [number, number, number] => {
  const q = r.queues[0];
  return [q.desc, q.avail, q.used];
};

Deno.test("untrusted: queue size 0 is refused", () => refusedQueue(0, rings, "QUEUE_SIZE"));
Deno.test("untrusted: queue size above QueueNumMax is refused", () => {
  refusedQueue(16, rings, "QUEUE_SIZE");
  refusedQueue(2 ** 32 - 1, rings, "QUEUE_SIZE");
});
Deno.test("untrusted: queue size not a power of two is refused", () => {
  refusedQueue(6, rings, "QUEUE_SIZE");
});
Deno.test("untrusted: misaligned rings are refused", () => {
  refusedQueue(
    8,
    (r) => [r.queues[0].desc + 8, r.queues[0].avail, r.queues[0].used],
    "RING_ALIGNMENT",
  );
  refusedQueue(
    8,
    (r) => [r.queues[0].desc, r.queues[0].avail + 1, r.queues[0].used],
    "RING_ALIGNMENT",
  );
  refusedQueue(
    8,
    (r) => [r.queues[0].desc, r.queues[0].avail, r.queues[0].used + 2],
    "RING_ALIGNMENT",
  );
});
Deno.test("untrusted: rings outside RAM are refused", () => {
  const end = RAM_BASE + (1 << 20);
  refusedQueue(8, (r) => [0, r.queues[0].avail, r.queues[0].used], "RING_OUTSIDE_RAM");
  refusedQueue(8, (r) => [r.queues[0].desc, end - 20, r.queues[0].used], "RING_OUTSIDE_RAM");
  refusedQueue(8, (r) => [r.queues[0].desc, r.queues[0].avail, end - 68], "RING_OUTSIDE_RAM");
  refusedQueue(8, (r) => [2 ** 64 - 64, r.queues[0].avail, r.queues[0].used], "RING_OUTSIDE_RAM");
});

Deno.test("untrusted: a notification before DRIVER_OK is ignored; the buffer waits for DRIVER_OK", () => {
  const r = new Rig(new HoldDevice([8]), { noDriverOk: true });
  r.queues[0].add([{ addr: r.alloc(4), len: 4, write: true }]);
  r.kick(0);
  assert.equal(r.mmio.stats.lastFault, "NOTIFY_IGNORED");
  assert.deepEqual(r.device.notifications, []);
  assert.equal(r.device.held.length, 0);
  assert.equal(r.status & S.DEVICE_NEEDS_RESET, 0);
  r.driverOk();
  assert.deepEqual(r.device.notifications, [0]);
  assert.equal(r.device.held.length, 1);
});

Deno.test("untrusted: notifications for missing queues are ignored", () => {
  const r = rig();
  r.kick(1);
  r.kick(0xffff_ffff);
  assert.equal(r.mmio.stats.refusals, 2);
  assert.equal(r.mmio.stats.lastFault, "NOTIFY_IGNORED");
  assert.deepEqual(r.device.notifications, [0]); // the one from DRIVER_OK
});

// ---- untrusted values: ring contents (DEVICE_NEEDS_RESET) ----

Deno.test("untrusted: a descriptor loop", () => {
  const r = rig();
  const q = r.queues[0];
  const b = r.alloc(4);
  q.setDesc(0, b, 4, NEXT, 1);
  q.setDesc(1, b, 4, NEXT, 2);
  q.setDesc(2, b, 4, NEXT, 0);
  q.publish(0);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_LOOP");
});

Deno.test("untrusted: a descriptor that links to itself", () => {
  const r = rig();
  r.queues[0].setDesc(5, r.alloc(4), 4, NEXT, 5);
  r.queues[0].publish(5);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_LOOP");
});

Deno.test("untrusted: a loop inside an indirect table", () => {
  const r = rig();
  const table = r.alloc(32);
  const b = r.alloc(4);
  r.queues[0].setDesc(0, b, 4, NEXT, 1, table);
  r.queues[0].setDesc(1, b, 4, NEXT, 0, table);
  r.queues[0].add([{ addr: table, len: 32, flags: INDIRECT }]);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_LOOP");
});

Deno.test("untrusted: a chain longer than the queue size", () => {
  const r = rig(8);
  const q = r.queues[0];
  const b = r.alloc(4);
  // Five direct buffers, then an indirect table of four: nine buffers on a queue of eight.
  const table = r.alloc(64);
  for (let i = 0; i < 4; i++) q.setDesc(i, b, 4, i < 3 ? NEXT : 0, i + 1, table);
  for (let i = 0; i < 5; i++) q.setDesc(i, b, 4, NEXT, i + 1);
  q.setDesc(5, table, 64, INDIRECT, 0);
  q.publish(0);
  r.kick(0);
  assertDeviceError(r, "CHAIN_TOO_LONG");
});

Deno.test("a queue smaller than QueueNumMax takes indirect chains up to QueueNumMax buffers", () => {
  const r = new Rig(new HoldDevice([8]), { features: ALL, queueSizes: [4] });
  const buffers = Array.from({ length: 8 }, () => ({ addr: r.alloc(4), len: 4 }));
  r.queues[0].addIndirect(r.alloc(16 * 8), buffers);
  r.kick(0);
  assert.equal(r.device.held.length, 1);
  assert.equal(r.device.held[0].readableLength, 32);
  r.queues[0].addIndirect(r.alloc(16 * 9), [...buffers, buffers[0]]);
  r.kick(0);
  assertDeviceError(r, "INDIRECT_LENGTH");
});

Deno.test("with EVENT_IDX, finding the ring empty re-arms avail_event", () => {
  const r = rig(8, ALL);
  const q = r.queues[0];
  q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  q.add([{ addr: r.alloc(4), len: 4, write: true }]);
  r.mem.set16(q.used + 4 + 8 * 8, 0);
  // The device looks at the ring without being notified (as a receive queue does on input).
  const queue = r.device.host.queues[0];
  queue.pop();
  queue.pop();
  assert.equal(q.availEvent, 2);
  r.mem.set16(q.used + 4 + 8 * 8, 0);
  assert.equal(queue.pop(), null);
  assert.equal(q.availEvent, 2, "asks to hear about the next buffer");
});

Deno.test("untrusted: a head index outside the descriptor table", () => {
  const r = rig(8);
  r.queues[0].publish(8);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_INDEX");
});

Deno.test("untrusted: a next index outside the descriptor table or the indirect table", () => {
  const r = rig(8);
  r.queues[0].setDesc(0, r.alloc(4), 4, NEXT, 0xffff);
  r.queues[0].publish(0);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_INDEX");
  const r2 = rig(8);
  const table = r2.alloc(32);
  r2.queues[0].setDesc(0, r2.alloc(4), 4, NEXT, 2, table);
  r2.queues[0].add([{ addr: table, len: 32, flags: INDIRECT }]);
  r2.kick(0);
  assertDeviceError(r2, "DESCRIPTOR_INDEX");
});

Deno.test("untrusted: an indirect table inside an indirect table", () => {
  const r = rig();
  const inner = r.alloc(16);
  r.queues[0].setDesc(0, r.alloc(4), 4, WRITE, 0, inner);
  r.queues[0].addIndirect(r.alloc(16), [{ addr: inner, len: 16, flags: INDIRECT }]);
  r.kick(0);
  assertDeviceError(r, "NESTED_INDIRECT");
});

for (
  const [what, len] of [["empty", 0], ["not a multiple of 16", 24], [
    "longer than QueueNumMax",
    16 * 9,
  ]] as const
) {
  Deno.test(`untrusted: an indirect table ${what}`, () => {
    const r = rig(8);
    r.queues[0].add([{ addr: r.alloc(16 * 9), len, flags: INDIRECT }]);
    r.kick(0);
    assertDeviceError(r, "INDIRECT_LENGTH");
  });
}

Deno.test("untrusted: an indirect descriptor without VIRTIO_F_INDIRECT_DESC", () => {
  const r = rig(8, 0n);
  r.queues[0].addIndirect(r.alloc(16), [{ addr: r.alloc(4), len: 4, write: true }]);
  r.kick(0);
  assertDeviceError(r, "INDIRECT_NOT_NEGOTIATED");
});

Deno.test("untrusted: an indirect descriptor with NEXT set", () => {
  const r = rig();
  const table = r.alloc(16);
  r.queues[0].setDesc(0, r.alloc(4), 4, WRITE, 0, table);
  r.queues[0].add([{ addr: table, len: 16, flags: INDIRECT }, { addr: r.alloc(4), len: 4 }]);
  r.kick(0);
  assertDeviceError(r, "INDIRECT_WITH_NEXT");
});

Deno.test("untrusted: a buffer outside guest RAM", () => {
  for (const addr of [0, RAM_BASE - 4, RAM_BASE + (1 << 20) - 2, 2 ** 63]) {
    const r = rig();
    r.queues[0].add([{ addr, len: 4, write: true }]);
    r.kick(0);
    assertDeviceError(r, "ADDRESS_OUTSIDE_RAM");
  }
});

Deno.test("untrusted: a buffer whose address + length overflows 64 bits", () => {
  const r = rig();
  r.queues[0].add([{ addr: 2 ** 64 - 8, len: 0x1000, write: true }]);
  r.kick(0);
  assertDeviceError(r, "ADDRESS_OUTSIDE_RAM");
  const r2 = rig();
  r2.queues[0].add([{ addr: RAM_BASE + 16, len: 0xffff_ffff }]);
  r2.kick(0);
  assertDeviceError(r2, "ADDRESS_OUTSIDE_RAM");
});

Deno.test("untrusted: an indirect table outside guest RAM", () => {
  const r = rig();
  r.queues[0].add([{ addr: RAM_BASE + (1 << 20) - 16, len: 32, flags: INDIRECT }]);
  r.kick(0);
  assertDeviceError(r, "ADDRESS_OUTSIDE_RAM");
});

Deno.test("untrusted: a device-readable buffer after a device-writable one", () => {
  const r = rig();
  r.queues[0].add([
    { addr: r.alloc(4), len: 4 },
    { addr: r.alloc(4), len: 4, write: true },
    { addr: r.alloc(4), len: 4 },
  ]);
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_ORDER");
});

Deno.test("untrusted: the available index jumps more than the queue size", () => {
  const r = rig(8);
  r.mem.set16(r.queues[0].avail + 2, 9);
  r.kick(0);
  assertDeviceError(r, "AVAIL_INDEX");
});

Deno.test("untrusted: more buffers in flight than the queue holds (heads re-posted)", () => {
  const r = rig(4);
  const q = r.queues[0];
  q.setDesc(0, r.alloc(4), 4, WRITE, 0);
  for (let i = 0; i < 4; i++) q.publish(0);
  r.kick(0);
  assert.equal(r.device.held.length, 4);
  q.publish(0);
  r.kick(0);
  assertDeviceError(r, "TOO_MANY_IN_FLIGHT");
  assert.equal(r.device.held.length, 4);
});

Deno.test("after DEVICE_NEEDS_RESET: no more buffers, in-flight ones cut off, reset recovers", () => {
  const r = rig();
  const q = r.queues[0];
  const buf = r.alloc(4, 0x11);
  q.add([{ addr: buf, len: 4, write: true }]);
  r.kick(0);
  q.publish(8); // bad head
  r.kick(0);
  assertDeviceError(r, "DESCRIPTOR_INDEX");
  assert.equal(r.device.complete(new Uint8Array([1, 2, 3, 4])), false);
  assert.deepEqual([...r.mem.get(buf, 4)], [0x11, 0x11, 0x11, 0x11]);
  q.add([{ addr: buf, len: 4, write: true }]);
  r.kick(0);
  assert.equal(r.device.held.length, 0);
  assert.equal(r.mmio.stats.lastFault, "NOTIFY_IGNORED");
  // QueueReady written again is accepted but the queue does not start.
  r.mmio.write(R.QUEUE_SEL, 4, 0);
  r.mmio.write(R.QUEUE_READY, 4, 0);
  r.placeQueue(0, 8, q.desc, q.avail, q.used);
  assert.equal(r.device.host.queues[0].running, false);
  r.bringUp();
  assert.equal(r.status & S.DEVICE_NEEDS_RESET, 0);
  assert.equal(r.line.level, false);
  r.queues[0].add([{ addr: buf, len: 4, write: true }]);
  r.kick(0);
  assert.equal(r.device.complete(new Uint8Array([1, 2, 3, 4])), true);
  assert.deepEqual([...r.mem.get(buf, 4)], [1, 2, 3, 4]);
});

Deno.test("a corrupt ring found when DRIVER_OK is set (buffers posted early) is a device error", () => {
  const r = new Rig(new HoldDevice([8]), { noDriverOk: true });
  r.queues[0].publish(9);
  r.driverOk();
  assert.equal(r.mmio.stats.lastFault, "DESCRIPTOR_INDEX");
  assert.equal(r.needsReset, true);
  // DRIVER_OK itself was accepted; the config interrupt follows the error.
  assert.equal(r.mmio.read(R.INTERRUPT_STATUS, 4), VIRTIO_INT.CONFIG_CHANGE);
});

// virtio-blk on in-memory and deliberately slow or failing backends: the request types, the
// configuration, asynchronous in-order completion, resets with requests in flight, and every
// way a request can be malformed.
import assert from "node:assert/strict";
import {
  BLK_MAX_REQUEST_BYTES,
  type BlockBackend,
  MemoryBlockBackend,
  VIRTIO_BLK as B,
  VIRTIO_INT,
  VIRTIO_MMIO as R,
  VIRTIO_STATUS as S,
  VirtioBlk,
  VirtioError,
} from "./mod.ts";
import { BlkRig, GatedBackend, pattern } from "./testdata/blk_rig.ts";
import { settle } from "./testdata/driver.ts";

const MiB = 1 << 20;

function memoryRig(size = MiB, readOnly = false) {
  const backend = new MemoryBlockBackend(size, { readOnly });
  return { rig: new BlkRig({ backend, serial: "vmkit-disk-0" }), backend };
}

/** Runs the event loop until the used index reaches `n`. */
async function usedReaches(rig: BlkRig, n: number): Promise<void> {
  for (let i = 0; i < 100 && rig.queues[0].usedIdx < n; i++) await settle();
  assert.equal(rig.queues[0].usedIdx, n, "requests completed");
}

Deno.test("configuration: capacity from the size, limits and discard fields", () => {
  const { rig } = memoryRig(MiB + 300);
  const c = (off: number) => rig.mmio.read(R.CONFIG + off, 4);
  assert.equal(c(0), 2048); // capacity low; the partial sector is not used
  assert.equal(c(4), 0);
  assert.equal(c(8), 65536); // size_max
  assert.equal(c(12), 254); // seg_max
  assert.equal(c(20), 512); // blk_size
  assert.equal(rig.mmio.read(R.CONFIG + 34, 2), 1); // num_queues
  assert.deepEqual([36, 40, 44, 48, 52].map(c), [1 << 21, 8, 1, 1 << 21, 8]);
  assert.equal(rig.mmio.read(R.CONFIG + 56, 1), 0); // write_zeroes_may_unmap
  rig.mmio.write(R.CONFIG + 0, 4, 5);
  assert.equal(c(0), 2048);
  assert.equal(rig.device.stats.configWrites, 1);
});

Deno.test("features: FLUSH etc. offered; RO disks offer RO and no DISCARD/WRITE_ZEROES", () => {
  const bits = (blk: VirtioBlk) =>
    [...Array(24).keys()].filter((b) => (blk.features >> BigInt(b)) & 1n);
  assert.deepEqual(bits(new VirtioBlk({ backend: new MemoryBlockBackend(512) })), [
    1,
    2,
    6,
    9,
    13,
    14,
  ]);
  assert.deepEqual(
    bits(new VirtioBlk({ backend: new MemoryBlockBackend(512), readOnly: true })),
    [1, 2, 5, 6, 9],
  );
  assert.deepEqual(
    bits(new VirtioBlk({ backend: new MemoryBlockBackend(512, { readOnly: true }) })),
    [1, 2, 5, 6, 9],
  );
});

Deno.test("constructor errors are INVALID_ARGUMENT", () => {
  const backend = new MemoryBlockBackend(512);
  const bad = (f: () => unknown) =>
    assert.throws(f, (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT");
  bad(() => new VirtioBlk({} as never));
  bad(() => new VirtioBlk({ backend, queueSize: 100 }));
  bad(() => new VirtioBlk({ backend, queueSize: 2 }));
  bad(() => new VirtioBlk({ backend, serial: "x".repeat(21) }));
  bad(() =>
    new VirtioBlk({ backend: new MemoryBlockBackend(512, { readOnly: true }), readOnly: false })
  );
  bad(() => new MemoryBlockBackend(-1));
  bad(() => new MemoryBlockBackend(1.5));
});

Deno.test("OUT then IN: data round-trips through the disk, split across buffers", async () => {
  const { rig, backend } = memoryRig();
  const data = pattern(4096);
  const w = rig.request(B.T_OUT, 8, 4096, { data, split: 1000 });
  rig.kick(0);
  // A backend with readSync/writeSync answers inside the notification.
  assert.equal(rig.queues[0].usedIdx, 1, "completed inside the notification");
  assert.equal(rig.statusOf(w), B.S_OK);
  assert.deepEqual(backend.bytes.subarray(8 * 512, 8 * 512 + 4096), data);
  const r = rig.request(B.T_IN, 8, 4096, { split: 700 });
  rig.kick(0);
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(r), B.S_OK);
  assert.deepEqual(rig.mem.get(r.data, 4096), data);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: w.head, len: 1 }, { id: r.head, len: 4097 }]);
  assert.equal(rig.line.level, true);
  assert.equal(rig.device.stats.bytesRead, 4096);
  assert.equal(rig.device.stats.bytesWritten, 4096);
  rig.mem.assertGuardsIntact();
});

Deno.test("a backend with only Promises completes from the event loop, in order", async () => {
  const gated = new GatedBackend(MiB);
  gated.open = true;
  const rig = new BlkRig({ backend: gated });
  const w = rig.request(B.T_OUT, 8, 1024, { data: pattern(1024, 3) });
  const r = rig.request(B.T_IN, 8, 1024);
  rig.kick(0);
  assert.equal(rig.queues[0].usedIdx, 0, "nothing completes inside the notification");
  await usedReaches(rig, 2);
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.id), [w.head, r.head]);
  assert.deepEqual(rig.mem.get(r.data, 1024), pattern(1024, 3));
});

Deno.test("a synchronous backend's requests wait behind a flush in progress, then complete in order", async () => {
  const inner = new MemoryBlockBackend(MiB);
  const { promise: synced, resolve } = Promise.withResolvers<void>();
  const calls: string[] = [];
  const backend: BlockBackend = {
    size: MiB,
    readOnly: false,
    read: (o, t) => inner.read(o, t),
    write: (o, s) => inner.write(o, s),
    readSync: (o, t) => {
      calls.push("readSync");
      inner.readSync(o, t);
    },
    writeSync: (o, s) => {
      calls.push("writeSync");
      inner.writeSync(o, s);
    },
    flush: () => {
      calls.push("flush");
      return synced;
    },
    discard: (o, l) => inner.discard(o, l),
    writeZeroes: (o, l) => inner.writeZeroes(o, l),
  };
  const rig = new BlkRig({ backend });
  const w = rig.request(B.T_OUT, 0, 512, { data: pattern(512, 9) });
  const f = rig.request(B.T_FLUSH, 0, 0);
  const r = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  assert.deepEqual(calls, ["writeSync", "flush"]);
  assert.equal(rig.queues[0].usedIdx, 1, "the write completed at once, the flush waits");
  for (let i = 0; i < 3; i++) await settle();
  assert.equal(rig.queues[0].usedIdx, 1, "the read waits behind the flush");
  resolve();
  await usedReaches(rig, 3);
  assert.deepEqual(calls, ["writeSync", "flush", "readSync"]);
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.id), [w.head, f.head, r.head]);
  assert.deepEqual(rig.mem.get(r.data, 512), pattern(512, 9));
});

Deno.test("a notification moves at most 32 MiB synchronously; the rest follows from the event loop", async () => {
  const rig = new BlkRig({ backend: new MemoryBlockBackend(64 * MiB) }, { ramSize: 48 * MiB });
  const requests = [0, 1, 2, 3, 4].map((i) => rig.request(B.T_IN, i * 16384, 8 * MiB));
  rig.kick(0);
  assert.equal(rig.queues[0].usedIdx, 4, "32 MiB inside the notification");
  await usedReaches(rig, 5);
  assert.deepEqual(requests.map((r) => rig.statusOf(r)), Array(5).fill(B.S_OK));
});

Deno.test("a synchronous backend that throws: IOERR, and the disk keeps working", () => {
  const inner = new MemoryBlockBackend(MiB);
  let fail = true;
  const backend: BlockBackend = {
    size: MiB,
    readOnly: false,
    read: (o, t) => inner.read(o, t),
    write: (o, s) => inner.write(o, s),
    readSync: (o, t) => {
      if (fail) throw new Error("EIO");
      inner.readSync(o, t);
    },
    flush: () => inner.flush(),
    discard: (o, l) => inner.discard(o, l),
    writeZeroes: (o, l) => inner.writeZeroes(o, l),
  };
  const rig = new BlkRig({ backend });
  const a = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  assert.equal(rig.statusOf(a), B.S_IOERR);
  assert.equal(rig.device.stats.backendErrors, 1);
  fail = false;
  const b = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  assert.equal(rig.statusOf(b), B.S_OK);
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.len), [1, 513]);
});

Deno.test("requests inside indirect tables", async () => {
  const { rig, backend } = memoryRig();
  backend.bytes.set(pattern(512, 3), 512 * 100);
  const header = rig.header(B.T_IN, 100);
  const data = rig.alloc(512);
  const status = rig.alloc(1);
  rig.queues[0].addIndirect(rig.alloc(48), [
    { addr: header, len: 16 },
    { addr: data, len: 512, write: true },
    { addr: status, len: 1, write: true },
  ]);
  rig.kick(0);
  await usedReaches(rig, 1);
  assert.equal(rig.mem.u8(status), B.S_OK);
  assert.deepEqual(rig.mem.get(data, 512), pattern(512, 3));
});

Deno.test("GET_ID writes the serial, at most 20 bytes", async () => {
  const { rig } = memoryRig();
  const r = rig.request(B.T_GET_ID, 0, 20);
  const short = rig.request(B.T_GET_ID, 0, 5);
  rig.kick(0);
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(r), B.S_OK);
  const id = new TextDecoder().decode(rig.mem.get(r.data, 20)).replace(/\0+$/, "");
  assert.equal(id, "vmkit-disk-0");
  assert.equal(new TextDecoder().decode(rig.mem.get(short.data, 5)), "vmkit");
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.len), [21, 6]);
});

Deno.test("WRITE_ZEROES and DISCARD over several segments", async () => {
  const { rig, backend } = memoryRig();
  backend.bytes.fill(0xaa);
  const segs = new Uint8Array(32);
  const v = new DataView(segs.buffer);
  v.setUint32(0, 2, true); // sector 2, 1 sector, unmap allowed for write zeroes
  v.setUint32(8, 1, true);
  v.setUint32(12, B.WRITE_ZEROES_FLAG_UNMAP, true);
  v.setUint32(16, 10, true); // sector 10, 3 sectors
  v.setUint32(24, 3, true);
  const wz = rig.request(B.T_WRITE_ZEROES, 0, 32, { data: segs });
  const one = new Uint8Array(16);
  new DataView(one.buffer).setUint32(0, 100, true);
  new DataView(one.buffer).setUint32(8, 2, true);
  const d = rig.request(B.T_DISCARD, 0, 16, { data: one });
  rig.kick(0);
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(wz), B.S_OK);
  assert.equal(rig.statusOf(d), B.S_OK);
  const zero = (from: number, n: number) =>
    backend.bytes.subarray(from * 512, (from + n) * 512).every((b) => b === 0);
  assert.ok(zero(2, 1) && zero(10, 3) && zero(100, 2));
  assert.equal(backend.bytes[3 * 512], 0xaa);
  assert.equal(backend.bytes[13 * 512], 0xaa);
  assert.equal(backend.bytes[1 * 512 + 511], 0xaa);
});

Deno.test("DISCARD / WRITE_ZEROES: UNSUPP for unknown flags, unmap on discard, too much", async () => {
  const cases: [number, number, number, number, number][] = [
    // type, sector, sectors, flags, segments
    [B.T_DISCARD, 0, 1, B.WRITE_ZEROES_FLAG_UNMAP, 1],
    [B.T_WRITE_ZEROES, 0, 1, 2, 1],
    [B.T_WRITE_ZEROES, 0, (1 << 21) + 1, 0, 1],
    [B.T_DISCARD, 0, 1, 0, 9],
  ];
  for (const [type, sector, count, flags, n] of cases) {
    const { rig, backend } = memoryRig();
    backend.bytes.fill(0xaa);
    const segs = new Uint8Array(16 * n);
    for (let i = 0; i < n; i++) {
      const v = new DataView(segs.buffer, 16 * i);
      v.setUint32(0, sector, true);
      v.setUint32(8, count, true);
      v.setUint32(12, flags, true);
    }
    const r = rig.request(type, 0, segs.length, { data: segs });
    rig.kick(0);
    await usedReaches(rig, 1);
    assert.equal(rig.statusOf(r), B.S_UNSUPP, `${type} ${count} ${flags} ${n}`);
    assert.ok(backend.bytes.every((b) => b === 0xaa));
  }
});

Deno.test("a range beyond the capacity fails with IOERR and the disk is never touched", async () => {
  const gated = new GatedBackend(MiB);
  gated.open = true;
  const rig = new BlkRig({ backend: gated });
  const requests = [
    rig.request(B.T_OUT, 2047, 1024, { data: pattern(1024) }), // one sector past the end
    rig.request(B.T_OUT, 2048, 512, { data: pattern(512) }),
    rig.request(B.T_OUT, 2 ** 53, 512, { data: pattern(512) }),
    rig.request(B.T_OUT, 0, 512, { data: pattern(512) }), // sector 2^64 - 1, set below
    rig.request(B.T_IN, 2048, 512),
  ];
  rig.mem.set32(requests[3].header + 8, 0xffff_ffff);
  rig.mem.set32(requests[3].header + 12, 0xffff_ffff);
  const segs = new Uint8Array(16);
  new DataView(segs.buffer).setUint32(0, 2047, true);
  new DataView(segs.buffer).setUint32(8, 2, true);
  requests.push(rig.request(B.T_WRITE_ZEROES, 0, 16, { data: segs }));
  requests.push(rig.request(B.T_DISCARD, 0, 16, { data: segs }));
  rig.kick(0);
  await usedReaches(rig, requests.length);
  for (const r of requests) assert.equal(rig.statusOf(r), B.S_IOERR);
  assert.deepEqual(gated.log, []);
  assert.equal(rig.device.stats.ioErrors, requests.length);
});

Deno.test("data lengths that are not whole sectors, or above the request limit: IOERR", async () => {
  const backend = new MemoryBlockBackend(32 * MiB);
  const rig = new BlkRig({ backend }, { ramSize: 24 * MiB });
  const r1 = rig.request(B.T_OUT, 0, 100, { data: pattern(100) });
  const r2 = rig.request(B.T_IN, 0, 513);
  const r3 = rig.request(B.T_IN, 0, BLK_MAX_REQUEST_BYTES + 512, { split: 1 << 20 });
  rig.kick(0);
  await usedReaches(rig, 3);
  for (const r of [r1, r2, r3]) assert.equal(rig.statusOf(r), B.S_IOERR);
  assert.ok(backend.bytes.subarray(0, 1024).every((b) => b === 0));
});

Deno.test("read-only disks refuse OUT, DISCARD and WRITE_ZEROES with IOERR; reads and flushes work", async () => {
  const { rig, backend } = memoryRig(MiB, true);
  backend.bytes.fill(9, 0, 512);
  const segs = new Uint8Array(16);
  new DataView(segs.buffer).setUint32(8, 1, true);
  const w = rig.request(B.T_OUT, 0, 512, { data: pattern(512) });
  const d = rig.request(B.T_DISCARD, 0, 16, { data: segs });
  const z = rig.request(B.T_WRITE_ZEROES, 0, 16, { data: segs });
  const r = rig.request(B.T_IN, 0, 512);
  const f = rig.request(B.T_FLUSH, 0, 0);
  rig.kick(0);
  await usedReaches(rig, 5);
  assert.deepEqual([w, d, z, r, f].map((x) => rig.statusOf(x)), [1, 1, 1, 0, 0]);
  assert.ok(backend.bytes.subarray(0, 512).every((b) => b === 9));
});

Deno.test("unknown request types are UNSUPP", async () => {
  const { rig } = memoryRig();
  const requests = [10, 14, 2, 0xffff_ffff].map((t) => rig.request(t, 0, 0));
  rig.kick(0);
  await usedReaches(rig, 4);
  for (const r of requests) assert.equal(rig.statusOf(r), B.S_UNSUPP);
  assert.equal(rig.device.stats.unsupported, 4);
});

Deno.test("untrusted: a device-writable buffer where a readable one is required: IOERR", async () => {
  const { rig, backend } = memoryRig();
  // OUT whose data is device-writable.
  const out = rig.request(B.T_OUT, 0, 512, { data: pattern(512), dataWritable: true });
  // A header in a device-writable buffer.
  const header = rig.header(B.T_IN, 0);
  const status = rig.alloc(1, 0xff);
  rig.queues[0].add([
    { addr: header, len: 16, write: true },
    { addr: rig.alloc(512), len: 512, write: true },
    { addr: status, len: 1, write: true },
  ]);
  rig.kick(0);
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(out), B.S_IOERR);
  assert.equal(rig.mem.u8(status), B.S_IOERR);
  assert.ok(backend.bytes.subarray(0, 512).every((b) => b === 0));
  assert.equal(rig.needsReset, false);
});

Deno.test("untrusted: a device-readable buffer where a writable one is required: IOERR", async () => {
  const { rig } = memoryRig();
  const r = rig.request(B.T_IN, 0, 512, { dataWritable: false });
  const id = rig.request(B.T_GET_ID, 0, 20, { dataWritable: false });
  rig.kick(0);
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(r), B.S_IOERR);
  assert.equal(rig.statusOf(id), B.S_IOERR);
  assert.deepEqual(rig.mem.get(r.data, 512), new Uint8Array(512));
});

Deno.test("untrusted: a request without a writable status byte sets DEVICE_NEEDS_RESET", async () => {
  const { rig, backend } = memoryRig();
  const header = rig.header(B.T_OUT, 0);
  rig.queues[0].add([{ addr: header, len: 16 }, { addr: rig.alloc(512, 1), len: 512 }]);
  rig.kick(0);
  await settle();
  assert.equal(rig.mmio.stats.lastFault, "MISSING_STATUS");
  assert.equal(rig.status & S.DEVICE_NEEDS_RESET, S.DEVICE_NEEDS_RESET);
  assert.equal(rig.mmio.read(R.INTERRUPT_STATUS, 4), VIRTIO_INT.CONFIG_CHANGE);
  assert.equal(rig.queues[0].usedIdx, 0);
  assert.ok(backend.bytes.subarray(0, 512).every((b) => b === 0));
});

Deno.test("a host I/O error reaches the guest as IOERR; the disk keeps working", async () => {
  const gated = new GatedBackend(MiB);
  const rig = new BlkRig({ backend: gated });
  const r1 = rig.request(B.T_IN, 0, 512);
  const r2 = rig.request(B.T_IN, 1, 512);
  rig.kick(0);
  await settle();
  gated.calls.shift()!.fail(new Error("EIO"));
  await settle();
  assert.equal(rig.statusOf(r1), B.S_IOERR);
  assert.equal(rig.queues[0].usedIdx, 1);
  gated.calls.shift()!.release();
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(r2), B.S_OK);
  assert.equal(rig.device.stats.backendErrors, 1);
  assert.equal((rig.device.stats.lastBackendError as Error).message, "EIO");
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.len), [1, 513]);
});

Deno.test("requests run one at a time and complete in order", async () => {
  const gated = new GatedBackend(MiB);
  const rig = new BlkRig({ backend: gated });
  const a = rig.request(B.T_OUT, 0, 512, { data: pattern(512, 1) });
  const b = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  const c = rig.request(B.T_FLUSH, 0, 0);
  rig.kick(0);
  for (const expected of ["write 0+512", "read 0+512", "flush 0+0"]) {
    await settle();
    assert.equal(gated.calls.length, 1, "one backend call at a time");
    assert.equal(gated.log.at(-1), expected);
    gated.calls.shift()!.release();
  }
  await usedReaches(rig, 3);
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.id), [a.head, b.head, c.head]);
  assert.deepEqual(rig.mem.get(b.data, 512), pattern(512, 1));
});

Deno.test("a flush completes only after the backend's flush resolves, after earlier writes", async () => {
  const gated = new GatedBackend(MiB);
  const rig = new BlkRig({ backend: gated });
  rig.request(B.T_OUT, 0, 512, { data: pattern(512) });
  const f = rig.request(B.T_FLUSH, 0, 0);
  rig.kick(0);
  await settle();
  assert.deepEqual(gated.log, ["write 0+512"]);
  gated.calls.shift()!.release();
  await settle();
  assert.deepEqual(gated.log, ["write 0+512", "flush 0+0"]);
  assert.equal(rig.queues[0].usedIdx, 1);
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(rig.queues[0].usedIdx, 1, "flush not completed while the backend is syncing");
  assert.equal(rig.statusOf(f), 0xff);
  gated.calls.shift()!.release();
  await usedReaches(rig, 2);
  assert.equal(rig.statusOf(f), B.S_OK);
  assert.equal(rig.device.stats.flushes, 1);
});

Deno.test("a reset while a read is in flight: the late answer writes nothing, raises nothing", async () => {
  const gated = new GatedBackend(MiB);
  gated.inner.bytes.fill(0x5a);
  const rig = new BlkRig({ backend: gated });
  const r = rig.request(B.T_IN, 0, 512);
  const queued = rig.request(B.T_OUT, 4, 512, { data: pattern(512) });
  rig.kick(0);
  await settle();
  assert.equal(gated.calls.length, 1);
  rig.mmio.write(R.STATUS, 4, 0);
  const before = rig.mem.get(r.data, 512);
  rig.line.levels.length = 0;
  gated.calls.shift()!.release();
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(rig.mem.get(r.data, 512), before);
  assert.equal(rig.statusOf(r), 0xff);
  assert.equal(rig.statusOf(queued), 0xff);
  assert.equal(rig.queues[0].usedIdx, 0);
  assert.deepEqual(rig.line.levels, []);
  // The queued write never reached the disk.
  assert.deepEqual(gated.log, ["read 0+512"]);
  assert.ok(gated.inner.bytes.subarray(4 * 512, 5 * 512).every((b) => b === 0x5a));
});

Deno.test("after a reset, new requests wait for the old backend call, then work", async () => {
  const gated = new GatedBackend(MiB);
  const rig = new BlkRig({ backend: gated });
  rig.request(B.T_OUT, 0, 512, { data: pattern(512, 1) });
  rig.kick(0);
  await settle();
  rig.mmio.reset();
  rig.bringUp();
  const r = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  await settle();
  assert.equal(gated.calls.length, 1, "the old write still owns the disk");
  gated.calls.shift()!.release();
  await settle();
  assert.equal(gated.calls.length, 1);
  gated.calls.shift()!.release();
  await usedReaches(rig, 1);
  assert.equal(rig.statusOf(r), B.S_OK);
  // The old write had reached the backend before the reset, so its data is there.
  assert.deepEqual(rig.mem.get(r.data, 512), pattern(512, 1));
});

Deno.test("DEVICE_NEEDS_RESET with requests in flight: answers are dropped", async () => {
  const gated = new GatedBackend(MiB);
  const rig = new BlkRig({ backend: gated });
  const r = rig.request(B.T_IN, 0, 512);
  rig.kick(0);
  await settle();
  rig.queues[0].publish(0xffff); // a corrupt head
  rig.kick(0);
  assert.equal(rig.needsReset, true);
  gated.calls.shift()!.release();
  for (let i = 0; i < 3; i++) await settle();
  assert.equal(rig.statusOf(r), 0xff);
  assert.equal(rig.queues[0].usedIdx, 0);
});

Deno.test("updateCapacity: a resized image raises a configuration change", () => {
  let size = MiB;
  const inner = new MemoryBlockBackend(4 * MiB);
  const backend: BlockBackend = {
    get size() {
      return size;
    },
    readOnly: false,
    read: (offset, target) => inner.read(offset, target),
    write: (offset, source) => inner.write(offset, source),
    flush: () => inner.flush(),
    discard: (offset, length) => inner.discard(offset, length),
    writeZeroes: (offset, length) => inner.writeZeroes(offset, length),
  };
  const rig = new BlkRig({ backend });
  const generation = rig.mmio.read(R.CONFIG_GENERATION, 4);
  assert.equal(rig.device.updateCapacity(), false);
  size = 2 * MiB;
  assert.equal(rig.device.updateCapacity(), true);
  assert.equal(rig.mmio.read(R.CONFIG, 4), 4096);
  assert.notEqual(rig.mmio.read(R.CONFIG_GENERATION, 4), generation);
  assert.equal(rig.mmio.read(R.INTERRUPT_STATUS, 4), VIRTIO_INT.CONFIG_CHANGE);
});

// The host-file backend on real temporary files, alone and under virtio-blk.
import assert from "node:assert/strict";
import { FileBlockBackend, VIRTIO_BLK as B, VirtioError } from "./mod.ts";
import { BlkRig, pattern } from "./testdata/blk_rig.ts";
import { settle } from "./testdata/driver.ts";

async function image(bytes: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  await Deno.writeFile(path, bytes);
  return path;
}

async function usedReaches(rig: BlkRig, n: number): Promise<void> {
  for (let i = 0; i < 200 && rig.queues[0].usedIdx < n; i++) await settle();
  assert.equal(rig.queues[0].usedIdx, n, "requests completed");
}

const isCode = (code: string) => (e: unknown) => e instanceof VirtioError && e.code === code;

Deno.test("open: missing files and directories are BACKEND_OPEN_FAILED with the cause", async () => {
  await assert.rejects(
    FileBlockBackend.open("/nonexistent/disk.img"),
    (e) => isCode("BACKEND_OPEN_FAILED")(e) && (e as Error).cause instanceof Deno.errors.NotFound,
  );
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      FileBlockBackend.open(dir, { readOnly: true }),
      isCode("BACKEND_OPEN_FAILED"),
    );
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("a guest writes, flushes and reads a raw image; the file holds the data", async () => {
  const path = await image(new Uint8Array(64 * 1024 + 100));
  const syncData = Deno.FsFile.prototype.syncData;
  let syncs = 0;
  Deno.FsFile.prototype.syncData = function (this: Deno.FsFile) {
    syncs++;
    return syncData.call(this);
  };
  try {
    using backend = await FileBlockBackend.open(path);
    assert.equal(backend.size, 64 * 1024 + 100);
    const rig = new BlkRig({ backend });
    assert.equal(rig.device.capacity, 128);
    const data = pattern(8192, 5);
    const w = rig.request(B.T_OUT, 16, 8192, { data, split: 3000 });
    const f = rig.request(B.T_FLUSH, 0, 0);
    const r = rig.request(B.T_IN, 16, 8192, { split: 512 });
    rig.kick(0);
    await usedReaches(rig, 3);
    assert.deepEqual([w, f, r].map((x) => rig.statusOf(x)), [0, 0, 0]);
    assert.equal(syncs, 1, "the guest's flush reached fdatasync");
    assert.deepEqual(rig.mem.get(r.data, 8192), data);
    const file = await Deno.readFile(path);
    assert.equal(file.length, 64 * 1024 + 100);
    assert.deepEqual(file.subarray(16 * 512, 16 * 512 + 8192), data);
  } finally {
    Deno.FsFile.prototype.syncData = syncData;
    await Deno.remove(path);
  }
});

Deno.test("write zeroes and discard on a file", async () => {
  const path = await image(new Uint8Array(200 * 1024).fill(0xcc));
  try {
    using backend = await FileBlockBackend.open(path);
    await backend.writeZeroes(1000, 150 * 1024);
    await backend.discard(0, 512);
    const file = await Deno.readFile(path);
    assert.equal(file[999], 0xcc);
    assert.ok(file.subarray(1000, 1000 + 150 * 1024).every((b) => b === 0));
    assert.equal(file[1000 + 150 * 1024], 0xcc);
    assert.equal(file[0], 0xcc, "discard keeps the data");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the backend refuses ranges outside the disk and never grows the file", async () => {
  const path = await image(new Uint8Array(4096));
  try {
    using backend = await FileBlockBackend.open(path);
    for (
      const [offset, length] of [[4096, 1], [4000, 512], [-1, 1], [0, 4097], [2 ** 53, 1], [0.5, 1]]
    ) {
      await assert.rejects(backend.write(offset, new Uint8Array(length)), isCode("OUT_OF_RANGE"));
      await assert.rejects(backend.writeZeroes(offset, length), isCode("OUT_OF_RANGE"));
      await assert.rejects(backend.read(offset, new Uint8Array(length)), isCode("OUT_OF_RANGE"));
    }
    assert.equal((await Deno.stat(path)).size, 4096);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a read-only image: writes refused by the backend and as IOERR through virtio-blk", async () => {
  const path = await image(new Uint8Array(4096).fill(1));
  try {
    using backend = await FileBlockBackend.open(path, { readOnly: true });
    await assert.rejects(backend.write(0, new Uint8Array(512)), isCode("INVALID_STATE"));
    const rig = new BlkRig({ backend });
    assert.equal(rig.device.readOnly, true);
    const w = rig.request(B.T_OUT, 0, 512, { data: pattern(512) });
    const r = rig.request(B.T_IN, 0, 512);
    rig.kick(0);
    await usedReaches(rig, 2);
    assert.equal(rig.statusOf(w), B.S_IOERR);
    assert.equal(rig.statusOf(r), B.S_OK);
    assert.ok((await Deno.readFile(path)).every((b) => b === 1));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("host I/O errors reach the guest as IOERR: a closed file, a file that shrank", async () => {
  const path = await image(new Uint8Array(8192));
  try {
    const backend = await FileBlockBackend.open(path);
    const rig = new BlkRig({ backend });
    await Deno.truncate(path, 1024);
    const r = rig.request(B.T_IN, 4, 1024);
    rig.kick(0);
    await usedReaches(rig, 1);
    assert.equal(rig.statusOf(r), B.S_IOERR);
    backend.close();
    const r2 = rig.request(B.T_IN, 0, 512);
    rig.kick(0);
    await usedReaches(rig, 2);
    assert.equal(rig.statusOf(r2), B.S_IOERR);
    assert.ok(isCode("BACKEND_CLOSED")(rig.device.stats.lastBackendError));
    assert.equal(rig.device.stats.backendErrors, 2);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readSync and writeSync: the file's bytes at once, with the same refusals as the Promise forms", async () => {
  const path = await image(new Uint8Array(8192).fill(1));
  try {
    using disk = await FileBlockBackend.open(path);
    disk.writeSync(1000, pattern(3000, 4));
    const back = new Uint8Array(3000);
    disk.readSync(1000, back);
    assert.deepEqual(back, pattern(3000, 4));
    assert.deepEqual((await Deno.readFile(path)).subarray(1000, 4000), pattern(3000, 4));
    assert.throws(() => disk.readSync(8000, new Uint8Array(512)), isCode("OUT_OF_RANGE"));
    assert.throws(() => disk.writeSync(-1, new Uint8Array(1)), isCode("OUT_OF_RANGE"));
    // While a Promise operation is pending the file position is its own.
    const pending = disk.read(0, new Uint8Array(512));
    assert.throws(() => disk.readSync(0, new Uint8Array(512)), isCode("INVALID_STATE"));
    await pending;
    disk.readSync(0, new Uint8Array(512));
    disk.close();
    assert.throws(() => disk.readSync(0, new Uint8Array(512)), isCode("BACKEND_CLOSED"));
    using ro = await FileBlockBackend.open(path, { readOnly: true });
    assert.throws(() => ro.writeSync(0, new Uint8Array(512)), isCode("INVALID_STATE"));
    ro.readSync(0, back.subarray(0, 512));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("under virtio-blk a file disk completes reads and writes inside the notification; flushes later", async () => {
  const path = await image(new Uint8Array(64 * 1024));
  try {
    using backend = await FileBlockBackend.open(path);
    const rig = new BlkRig({ backend });
    const w = rig.request(B.T_OUT, 2, 4096, { data: pattern(4096, 8) });
    const r = rig.request(B.T_IN, 2, 4096);
    rig.kick(0);
    assert.equal(rig.queues[0].usedIdx, 2);
    assert.deepEqual([rig.statusOf(w), rig.statusOf(r)], [B.S_OK, B.S_OK]);
    assert.deepEqual(rig.mem.get(r.data, 4096), pattern(4096, 8));
    const f = rig.request(B.T_FLUSH, 0, 0);
    rig.kick(0);
    assert.equal(rig.queues[0].usedIdx, 2, "fdatasync runs off the notification");
    await usedReaches(rig, 3);
    assert.equal(rig.statusOf(f), B.S_OK);
  } finally {
    await Deno.remove(path);
  }
});

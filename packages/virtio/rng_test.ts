// virtio-rng: device-writable buffers filled from the host's CSPRNG, one call of at most
// 65536 bytes per request.
import assert from "node:assert/strict";
import { RNG_MAX_FILL, VirtioError, VirtioRng } from "./mod.ts";
import { Rig } from "./testdata/driver.ts";

Deno.test("fills the writable buffers of each request with random bytes", () => {
  const rig = new Rig(new VirtioRng());
  const r = rig.alloc(8, 0xee), a = rig.alloc(100), b = rig.alloc(28);
  const head = rig.queues[0].add([
    { addr: r, len: 8 },
    { addr: a, len: 100, write: true },
    { addr: b, len: 28, write: true },
  ]);
  rig.kick(0);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: head, len: 128 }]);
  const got = [...rig.mem.get(a, 100), ...rig.mem.get(b, 28)];
  // 128 zero bytes from a CSPRNG would be a 2^-1024 event; distinct values show real data.
  assert.ok(new Set(got).size > 32);
  assert.deepEqual([...rig.mem.get(r, 8)], new Array(8).fill(0xee), "readable bytes untouched");
  assert.equal(rig.line.level, true);
  assert.deepEqual(rig.device.stats, { requests: 1, bytes: 128 });
});

Deno.test("at most 65536 bytes per request, in one getRandomValues-sized call", () => {
  const sizes: number[] = [];
  const rng = new VirtioRng({
    fill: (t) => {
      sizes.push(t.length);
      crypto.getRandomValues(t);
    },
  });
  const rig = new Rig(rng, { ramSize: 1 << 20 });
  const big = rig.alloc(100_000);
  rig.queues[0].add([{ addr: big, len: 100_000, write: true }]);
  rig.kick(0);
  assert.deepEqual(sizes, [RNG_MAX_FILL]);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: 65536 }]);
  assert.deepEqual([...rig.mem.get(big + 65536, 16)], new Array(16).fill(0));
});

Deno.test("untrusted: a request with no device-writable buffer is returned with 0 bytes", () => {
  const rig = new Rig(new VirtioRng());
  rig.queues[0].add([{ addr: rig.alloc(16), len: 16 }]);
  rig.kick(0);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: 0 }]);
  assert.equal(rig.needsReset, false);
});

Deno.test("several requests per notification, each answered", () => {
  const rig = new Rig(new VirtioRng({ queueSize: 4 }));
  for (let i = 0; i < 4; i++) rig.queues[0].add([{ addr: rig.alloc(32), len: 32, write: true }]);
  rig.kick(0);
  assert.deepEqual(rig.queues[0].takeUsed().map((u) => u.len), [32, 32, 32, 32]);
});

Deno.test("constructor errors are INVALID_ARGUMENT", () => {
  for (const options of [{ queueSize: 0 }, { queueSize: 12 }, { fill: 1 }]) {
    assert.throws(
      () => new VirtioRng(options as never),
      (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
    );
  }
});

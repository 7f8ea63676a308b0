// virtio-console: bounded receive buffering, synchronous and host-paced transmission, and
// resets in the middle of both.
import assert from "node:assert/strict";
import { VIRTIO_MMIO as R, VirtioConsole, VirtioError } from "./mod.ts";
import { deferred, Rig, settle } from "./testdata/driver.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function consoleRig(options: ConstructorParameters<typeof VirtioConsole>[0] = {}) {
  const sent: string[] = [];
  const device = new VirtioConsole({ onTransmit: (b) => void sent.push(str(b)), ...options });
  return { rig: new Rig(device, { queueSizes: [8, 8] }), sent };
}

Deno.test("receive: input waits for buffers, then fills them across buffer boundaries", () => {
  const { rig } = consoleRig();
  assert.equal(rig.device.receive(text("hello, guest")), 12);
  assert.equal(rig.device.pendingInput, 12);
  const a = rig.alloc(5), b = rig.alloc(4), c = rig.alloc(16);
  rig.queues[0].add([{ addr: a, len: 5, write: true }, { addr: b, len: 4, write: true }]);
  rig.queues[0].add([{ addr: c, len: 16, write: true }]);
  rig.kick(0);
  assert.equal(str(rig.mem.get(a, 5)) + str(rig.mem.get(b, 4)), "hello, gu");
  assert.equal(str(rig.mem.get(c, 3)), "est");
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: 9 }, { id: 2, len: 3 }]);
  assert.equal(rig.device.pendingInput, 0);
  assert.equal(rig.line.level, true);
  // With no input, posted buffers stay with the device until input arrives.
  rig.queues[0].add([{ addr: a, len: 5, write: true }]);
  rig.kick(0);
  assert.equal(rig.queues[0].usedIdx, 2);
  rig.device.receive(text("x"));
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 3, len: 1 }]);
  assert.equal(rig.device.stats.received, 13);
  rig.mem.assertGuardsIntact();
});

Deno.test("receive: input before DRIVER_OK is delivered once the driver is ready", () => {
  const device = new VirtioConsole();
  const rig = new Rig(device, { queueSizes: [8, 8], noDriverOk: true });
  device.receive(text("early"));
  const buf = rig.alloc(8);
  rig.queues[0].add([{ addr: buf, len: 8, write: true }]);
  assert.equal(rig.queues[0].usedIdx, 0);
  rig.driverOk();
  assert.equal(str(rig.mem.get(buf, 5)), "early");
});

Deno.test("receive: beyond the bound, bytes are dropped and counted; receive() says how many it took", () => {
  const { rig } = consoleRig({ receiveLimit: 8 });
  assert.equal(rig.device.receive(text("12345")), 5);
  assert.equal(rig.device.receive(text("6789abc")), 3);
  assert.equal(rig.device.stats.dropped, 4);
  const buf = rig.alloc(16);
  rig.queues[0].add([{ addr: buf, len: 16, write: true }]);
  rig.kick(0);
  assert.equal(str(rig.mem.get(buf, 8)), "12345678");
  // The buffer wraps around its end.
  rig.device.receive(text("abcdef"));
  rig.device.receive(text("ghij"));
  assert.equal(rig.device.stats.dropped, 6);
  rig.queues[0].add([{ addr: buf, len: 16, write: true }]);
  rig.kick(0);
  assert.equal(str(rig.mem.get(buf, 8)), "abcdefgh");
});

Deno.test("untrusted: a receive buffer with no device-writable space is returned empty", () => {
  const { rig } = consoleRig();
  rig.device.receive(text("data"));
  const good = rig.alloc(8);
  rig.queues[0].add([{ addr: rig.alloc(8), len: 8 }]);
  rig.queues[0].add([{ addr: good, len: 8, write: true }]);
  rig.kick(0);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: 0 }, { id: 1, len: 4 }]);
  assert.equal(str(rig.mem.get(good, 4)), "data");
  assert.equal(rig.device.stats.unusableBuffers, 1);
  assert.equal(rig.needsReset, false);
});

Deno.test("transmit: bytes reach the host and the buffer is used before the notify returns", () => {
  const { rig, sent } = consoleRig();
  const a = rig.alloc(6), b = rig.alloc(7);
  rig.mem.put(a, text("hello "));
  rig.mem.put(b, text("world\r\n"));
  const head = rig.queues[0 + 1].add([{ addr: a, len: 6 }, { addr: b, len: 7 }]);
  rig.kick(1);
  assert.equal(sent.join(""), "hello world\r\n");
  assert.deepEqual(rig.queues[1].takeUsed(), [{ id: head, len: 0 }]);
  assert.equal(rig.device.stats.transmitted, 13);
});

Deno.test("untrusted: device-writable buffers in a transmit chain are ignored", () => {
  const { rig, sent } = consoleRig();
  const a = rig.alloc(2), w = rig.alloc(4, 0x33);
  rig.mem.put(a, text("ok"));
  rig.queues[1].add([{ addr: a, len: 2 }, { addr: w, len: 4, write: true }]);
  rig.kick(1);
  assert.deepEqual(sent, ["ok"]);
  assert.deepEqual(rig.queues[1].takeUsed(), [{ id: 0, len: 0 }]);
  assert.deepEqual([...rig.mem.get(w, 4)], [0x33, 0x33, 0x33, 0x33]);
});

Deno.test("transmit: a host that answers with a Promise paces the guest, in order", async () => {
  const waits: PromiseWithResolvers<void>[] = [];
  const sent: string[] = [];
  const device = new VirtioConsole({
    onTransmit: (b) => {
      sent.push(str(b));
      const d = deferred();
      waits.push(d);
      return d.promise;
    },
  });
  const rig = new Rig(device, { queueSizes: [8, 8] });
  for (const s of ["one", "two"]) {
    const at = rig.alloc(3);
    rig.mem.put(at, text(s));
    rig.queues[1].add([{ addr: at, len: 3 }]);
  }
  rig.kick(1);
  assert.deepEqual(sent, ["one"]);
  assert.equal(rig.queues[1].usedIdx, 0);
  rig.kick(1);
  assert.deepEqual(sent, ["one"], "a notification does not overtake the wait");
  waits[0].resolve();
  await settle();
  assert.deepEqual(sent, ["one", "two"]);
  assert.equal(rig.queues[1].usedIdx, 1);
  waits[1].reject(new Error("pipe closed"));
  await settle();
  assert.equal(rig.queues[1].usedIdx, 2);
  assert.equal(device.stats.transmitErrors, 1);
});

Deno.test("transmit: a host callback that throws is counted; the buffer is still returned", () => {
  const device = new VirtioConsole({
    onTransmit: () => {
      throw new Error("boom");
    },
  });
  const rig = new Rig(device, { queueSizes: [8, 8] });
  rig.queues[1].add([{ addr: rig.alloc(4), len: 4 }]);
  rig.kick(1);
  assert.equal(rig.queues[1].usedIdx, 1);
  assert.equal(device.stats.transmitErrors, 1);
});

Deno.test("transmit: a huge buffer is sent in bounded slices from the event loop", async () => {
  let bytes = 0;
  let calls = 0;
  const device = new VirtioConsole({
    onTransmit: (b) => {
      bytes += b.length;
      calls++;
    },
  });
  const rig = new Rig(device, { queueSizes: [8, 8], ramSize: 1 << 20 });
  rig.queues[1].add([{ addr: rig.alloc(200_000, 0x41), len: 200_000 }]);
  rig.kick(1);
  assert.equal(bytes, 64 * 1024, "one budget per notification");
  assert.equal(rig.queues[1].usedIdx, 0);
  for (let i = 0; i < 10 && rig.queues[1].usedIdx === 0; i++) await settle();
  assert.equal(bytes, 200_000);
  assert.equal(calls, Math.ceil(200_000 / 4096));
  assert.equal(rig.queues[1].usedIdx, 1);
});

Deno.test("reset while the host holds a transmit: the late answer touches nothing; the next driver is not blocked", async () => {
  const waits: PromiseWithResolvers<void>[] = [];
  const sent: string[] = [];
  const device = new VirtioConsole({
    onTransmit: (b) => {
      sent.push(str(b));
      const d = deferred();
      waits.push(d);
      return d.promise;
    },
  });
  const rig = new Rig(device, { queueSizes: [8, 8] });
  const at = rig.alloc(4);
  rig.mem.put(at, text("old!"));
  rig.queues[1].add([{ addr: at, len: 4 }]);
  rig.kick(1);
  rig.mmio.write(R.STATUS, 4, 0);
  rig.bringUp();
  rig.mem.put(at, text("new!"));
  rig.queues[1].add([{ addr: at, len: 4 }]);
  rig.kick(1);
  assert.deepEqual(sent, ["old!", "new!"]);
  rig.line.levels.length = 0;
  waits[0].resolve();
  await settle();
  assert.equal(rig.queues[1].usedIdx, 0, "the old buffer is not returned into the new ring");
  assert.deepEqual(rig.line.levels, []);
  waits[1].resolve();
  await settle();
  assert.equal(rig.queues[1].usedIdx, 1);
});

Deno.test("as hvc0: configuration reads zero, no features", () => {
  const { rig } = consoleRig();
  assert.equal(rig.device.features, 0n);
  for (let off = 0; off < 12; off += 4) assert.equal(rig.mmio.read(R.CONFIG + off, 4), 0);
  assert.equal(rig.mmio.read(R.DEVICE_ID, 4), 3);
  assert.equal(rig.mmio.stats.badAccesses, 0);
});

Deno.test("constructor errors are INVALID_ARGUMENT", () => {
  for (
    const options of [{ queueSize: 3 }, { receiveLimit: 0 }, { receiveLimit: 1.5 }, {
      onTransmit: 5,
    }]
  ) {
    assert.throws(
      () => new VirtioConsole(options as never),
      (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
    );
  }
});

Deno.test("transmit: a callback returning a non-thenable value does not make the guest wait", () => {
  const device = new VirtioConsole({ onTransmit: (() => 42) as never });
  const rig = new Rig(device, { queueSizes: [8, 8] });
  rig.queues[1].add([{ addr: rig.alloc(4), len: 4 }]);
  rig.kick(1);
  assert.equal(rig.queues[1].usedIdx, 1);
});

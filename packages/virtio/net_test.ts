// virtio-net: configuration space, transmit (with checksum offload and every per-frame
// mistake), receive into posted buffers with a bounded backlog, link status, the transmit
// budget, resets.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type FrameReceiver,
  type NetBackend,
  VIRTIO_INT,
  VIRTIO_MMIO as R,
  VIRTIO_NET,
  VirtioError,
  VirtioNet,
  type VirtioNetOptions,
  VIRTQ,
} from "./mod.ts";
import { Rig, settle } from "./testdata/driver.ts";

const HDR = VIRTIO_NET.HDR_SIZE;

/** A backend that records what the guest sent and lets the test deliver frames. */
class Wire implements NetBackend {
  readonly sent: Uint8Array[] = [];
  receiver: FrameReceiver | null = null;
  refuse = false;
  attach(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }
  send(frame: Uint8Array): boolean {
    if (this.refuse) return false;
    this.sent.push(frame.slice());
    return true;
  }
}

function netRig(options: VirtioNetOptions = {}, queueSizes = [8, 8]) {
  const wire = new Wire();
  const device = new VirtioNet({ mac: "52:54:00:12:34:56", backend: wire, ...options });
  return { rig: new Rig(device, { queueSizes, ramSize: 4 << 20 }), wire, device };
}

/** An Ethernet frame of `length` bytes with a recognisable payload. */
function frame(length: number, seed = 1): Uint8Array {
  const f = new Uint8Array(length);
  f.set([0x52, 0x54, 0, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1, 0x88, 0xb5].slice(0, length));
  for (let i = 14; i < length; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

/** Puts header + frame in guest RAM as one device-readable buffer and publishes it on queue 1. */
function transmit(rig: Rig<VirtioNet>, data: Uint8Array, header: Uint8Array = new Uint8Array(HDR)) {
  const at = rig.alloc(HDR + data.length);
  rig.mem.put(at, header);
  rig.mem.put(at + HDR, data);
  return rig.queues[1].add([{ addr: at, len: HDR + data.length }]);
}

/** Posts `count` receive buffers of `size` bytes on queue 0; returns their addresses. */
function post(rig: Rig<VirtioNet>, count: number, size = HDR + 1518): number[] {
  const addrs: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = rig.alloc(size);
    addrs.push(at);
    rig.queues[0].add([{ addr: at, len: size, write: true }]);
  }
  return addrs;
}

Deno.test("config: MAC, link status and MTU as the driver reads them; the features offered", () => {
  const { rig, device } = netRig({ mtu: 9000 });
  const mac = [0, 1, 2, 3, 4, 5].map((i) => rig.mmio.read(R.CONFIG + i, 1));
  assert.deepEqual(mac, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
  assert.equal(rig.mmio.read(R.CONFIG + 6, 2), VIRTIO_NET.S_LINK_UP);
  assert.equal(rig.mmio.read(R.CONFIG + 8, 2), 1);
  assert.equal(rig.mmio.read(R.CONFIG + 10, 2), 9000);
  assert.equal(rig.mmio.read(R.CONFIG + 4, 4), 0x0001_5634);
  assert.equal(rig.mmio.read(R.CONFIG + 12, 1), 0, "past the configuration: RAZ");
  const N = VIRTIO_NET;
  for (const bit of [N.F_MAC, N.F_STATUS, N.F_MTU, N.F_CSUM]) {
    assert.equal((device.features >> bit) & 1n, 1n, `feature ${bit}`);
  }
  for (const bit of [N.F_MRG_RXBUF, N.F_GUEST_CSUM, N.F_HOST_TSO4, N.F_GUEST_TSO4]) {
    assert.equal((device.features >> bit) & 1n, 0n, `feature ${bit} is not offered`);
  }
  rig.mmio.write(R.CONFIG, 1, 0xff);
  assert.equal(rig.mmio.read(R.CONFIG, 1), 0x52, "the MAC is read-only");
  assert.equal(device.stats.configWrites, 1);
  assert.equal(device.macAddress, "52:54:00:12:34:56");
});

Deno.test("options: bad MAC, MTU, queue size, backlog and backend are refused with INVALID_ARGUMENT", () => {
  const bad: VirtioNetOptions[] = [
    { mac: "52:54:00:12:34" },
    { mac: "01:00:5e:00:00:01" },
    { mac: new Uint8Array(5) },
    { mtu: 67 },
    { mtu: 65536 },
    { mtu: 1500.5 },
    { queueSize: 100 },
    { queueSize: 1 },
    { receiveBacklog: -1 },
    { backend: {} as NetBackend },
  ];
  for (const options of bad) {
    assert.throws(
      () => new VirtioNet(options),
      (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
      JSON.stringify(options),
    );
  }
  const mac = new VirtioNet().mac;
  assert.equal(mac[0] & 3, 2, "the default MAC is locally administered unicast");
});

Deno.test("transmit: the frame goes to the backend without its header; the buffer comes back", () => {
  const { rig, wire, device } = netRig();
  const f = frame(100);
  const head = transmit(rig, f);
  rig.kick(1);
  assert.deepEqual(wire.sent, [f]);
  assert.deepEqual(rig.queues[1].takeUsed(), [{ id: head, len: 0 }]);
  assert.equal(rig.ack() & VIRTIO_INT.USED_BUFFER, VIRTIO_INT.USED_BUFFER);
  assert.equal(device.stats.txFrames, 1);
  assert.equal(device.stats.txBytes, 100);
  rig.mem.assertGuardsIntact();
});

Deno.test("transmit: a frame spread over buffers of any split is sent whole", () => {
  const { rig, wire } = netRig();
  const f = frame(1514);
  const bytes = new Uint8Array(HDR + f.length);
  bytes.set(f, HDR);
  // Header split across two buffers, payload across three.
  const cuts = [0, 5, 20, 700, 1400, bytes.length];
  const buffers = cuts.slice(1).map((end, i) => {
    const at = rig.alloc(end - cuts[i]);
    rig.mem.put(at, bytes.subarray(cuts[i], end));
    return { addr: at, len: end - cuts[i] };
  });
  rig.queues[1].add(buffers);
  rig.kick(1);
  assert.deepEqual(wire.sent, [f]);
});

/** A UDP/IPv4 frame whose checksum field holds the pseudo-header sum, as Linux leaves it. */
function udpNeedingChecksum(payload: number): { frame: Uint8Array; header: Uint8Array } {
  const f = new Uint8Array(14 + 20 + 8 + payload);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const ip = 14;
  f[ip] = 0x45;
  v.setUint16(ip + 2, 20 + 8 + payload);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], ip + 12);
  const udp = ip + 20;
  v.setUint16(udp, 1234);
  v.setUint16(udp + 2, 5678);
  v.setUint16(udp + 4, 8 + payload);
  for (let i = 0; i < payload; i++) f[udp + 8 + i] = (i * 13) & 0xff;
  // Pseudo header: addresses, protocol, UDP length; folded, not complemented.
  let sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8 + payload;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(udp + 6, sum);
  const header = new Uint8Array(HDR);
  const h = new DataView(header.buffer);
  h.setUint8(0, VIRTIO_NET.HDR_F_NEEDS_CSUM);
  h.setUint16(6, udp, true);
  h.setUint16(8, 6, true);
  return { frame: f, header };
}

/** The ones'-complement sum of the UDP datagram with its pseudo header: 0xffff when right. */
function udpChecksumOk(f: Uint8Array): boolean {
  const udp = 34;
  const length = f.length - udp;
  let sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + length;
  for (let i = udp; i < f.length; i += 2) sum += (f[i] << 8) | (f[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

Deno.test("transmit: checksum offload fills in the TCP/UDP checksum the driver left to the device", () => {
  const { rig, wire, device } = netRig();
  for (const payload of [0, 1, 37, 1000, 1472]) {
    const { frame: f, header } = udpNeedingChecksum(payload);
    transmit(rig, f, header);
    rig.kick(1);
    const sent = wire.sent.at(-1)!;
    assert.ok(udpChecksumOk(sent), `payload ${payload}: checksum verifies`);
    assert.notEqual((sent[40] << 8) | sent[41], 0, "UDP never gets the 'no checksum' value");
    assert.deepEqual(sent.subarray(0, 40), f.subarray(0, 40), "nothing else changed");
  }
  assert.equal(device.stats.txChecksums, 5);
});

Deno.test("untrusted: every per-frame mistake drops that frame only; the device keeps going", () => {
  const { rig, wire, device } = netRig({ mtu: 1500 });
  const gso = new Uint8Array(HDR);
  gso[1] = 1; // VIRTIO_NET_HDR_GSO_TCPV4, never offered
  const csumOutside = new Uint8Array(HDR);
  const h = new DataView(csumOutside.buffer);
  h.setUint8(0, VIRTIO_NET.HDR_F_NEEDS_CSUM);
  h.setUint16(6, 90, true);
  h.setUint16(8, 9, true);
  const cases: [string, () => number][] = [
    ["header only, no frame", () => transmit(rig, new Uint8Array(0))],
    ["shorter than the header", () => {
      const at = rig.alloc(8);
      return rig.queues[1].add([{ addr: at, len: 8 }]);
    }],
    ["zero-length buffer", () => rig.queues[1].add([{ addr: rig.alloc(16), len: 0 }])],
    ["shorter than an Ethernet header", () => transmit(rig, frame(13))],
    ["over the MTU", () => transmit(rig, frame(1500 + 18 + 1))],
    ["far over the MTU", () => transmit(rig, frame(64 * 1024))],
    ["segmentation asked for", () => transmit(rig, frame(100), gso)],
    ["checksum field past the end", () => transmit(rig, frame(100), csumOutside)],
  ];
  for (const [what, make] of cases) {
    const head = make();
    rig.kick(1);
    assert.deepEqual(rig.queues[1].takeUsed(), [{ id: head, len: 0 }], `${what}: returned`);
    assert.equal(rig.needsReset, false, what);
  }
  assert.equal(device.stats.txMalformed, cases.length);
  assert.deepEqual(wire.sent, []);
  const good = frame(1518);
  transmit(rig, good);
  rig.kick(1);
  assert.deepEqual(wire.sent, [good], "the largest frame the MTU allows goes out");
  rig.mem.assertGuardsIntact();
});

Deno.test("untrusted: a descriptor loop in the transmit queue needs a reset; the host is fine", () => {
  const { rig, wire } = netRig();
  const q = rig.queues[1];
  const at = rig.alloc(200);
  q.setDesc(0, at, 100, VIRTQ.DESC_F_NEXT, 1);
  q.setDesc(1, at + 100, 100, VIRTQ.DESC_F_NEXT, 0);
  q.publish(0);
  rig.kick(1);
  assert.equal(rig.needsReset, true);
  assert.equal(rig.mmio.stats.lastFault, "DESCRIPTOR_LOOP");
  assert.deepEqual(wire.sent, []);
  // A reset brings it back.
  rig.bringUp();
  const f = frame(64);
  transmit(rig, f);
  rig.kick(1);
  assert.deepEqual(wire.sent, [f]);
});

Deno.test("receive: a frame goes into a posted buffer behind a header with num_buffers 1", () => {
  const { rig, wire, device } = netRig();
  const [a, b] = post(rig, 2);
  rig.kick(0);
  const f = frame(333, 5);
  assert.equal(wire.receiver!.receive(f), true);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: HDR + 333 }]);
  const header = rig.mem.get(a, HDR);
  assert.deepEqual([...header], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(rig.mem.get(a + HDR, 333), f);
  assert.equal(rig.line.level, true, "the used-buffer interrupt");
  assert.equal(wire.receiver!.receive(frame(60, 6)), true);
  assert.deepEqual(rig.mem.get(b + HDR, 60), frame(60, 6));
  assert.equal(device.stats.rxFrames, 2);
  assert.equal(device.stats.rxBytes, 393);
  rig.mem.assertGuardsIntact();
});

Deno.test("receive: before the driver runs, frames are dropped, not kept", () => {
  const wire = new Wire();
  const device = new VirtioNet({ backend: wire });
  assert.equal(device.receive(frame(60)), false);
  const rig = new Rig(device, { queueSizes: [8, 8], noDriverOk: true });
  assert.equal(device.receive(frame(60)), false);
  post(rig, 1);
  rig.driverOk();
  assert.equal(rig.queues[0].usedIdx, 0);
  assert.equal(device.receive(frame(60)), true);
  assert.equal(rig.queues[0].usedIdx, 1);
  assert.equal(device.stats.rxDropped, 2);
});

Deno.test("receive: with no buffer frames wait in the backlog, in order; a full backlog drops and counts", () => {
  // Room for three 1000-byte frames.
  const { rig, device } = netRig({ receiveBacklog: 3000 });
  for (let i = 0; i < 5; i++) device.receive(frame(1000, i));
  assert.equal(device.backlogFrames, 2 + 1);
  assert.equal(device.stats.rxDropped, 2);
  assert.equal(device.stats.rxBacklogged, 3);
  assert.ok(device.stats.rxBacklogPeak <= 3000);
  const addrs = post(rig, 2);
  rig.kick(0);
  assert.equal(device.backlogFrames, 1);
  // A frame arriving now queues behind the one still waiting.
  device.receive(frame(100, 9));
  const more = post(rig, 4);
  rig.kick(0);
  assert.equal(device.backlogFrames, 0);
  const got = [...addrs, ...more].slice(0, 4).map((at, i) =>
    rig.mem.get(at + HDR, i < 3 ? 1000 : 100)
  );
  assert.deepEqual(got, [frame(1000, 0), frame(1000, 1), frame(1000, 2), frame(100, 9)]);
  assert.equal(device.stats.rxFrames, 4);
});

Deno.test("receive: a frame longer than the buffer it meets is dropped; the buffer comes back empty", () => {
  const { rig, device } = netRig();
  post(rig, 1, HDR + 100);
  post(rig, 1);
  rig.kick(0);
  assert.equal(device.receive(frame(500)), true);
  assert.equal(device.receive(frame(500, 2)), true);
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 0, len: 0 }, { id: 1, len: HDR + 500 }]);
  assert.equal(device.stats.rxTooLong, 1);
  // A buffer the device cannot write into at all is no different.
  rig.queues[0].add([{ addr: rig.alloc(100), len: 100 }]);
  rig.kick(0);
  device.receive(frame(60));
  assert.deepEqual(rig.queues[0].takeUsed(), [{ id: 2, len: 0 }]);
  assert.equal(rig.needsReset, false);
});

Deno.test("receive: frames shorter than an Ethernet header or longer than the MTU allows are dropped", () => {
  const { rig, device } = netRig({ mtu: 576 });
  post(rig, 4);
  rig.kick(0);
  assert.equal(device.receive(new Uint8Array(13)), false);
  assert.equal(device.receive(frame(576 + 19)), false);
  assert.equal(device.receive(frame(576 + 18)), true);
  assert.equal(device.stats.rxDropped, 2);
});

Deno.test("link: down clears the status bit with a configuration interrupt and drops both ways", () => {
  const { rig, wire, device } = netRig();
  post(rig, 2);
  rig.kick(0);
  rig.ack();
  const generation = rig.mmio.read(R.CONFIG_GENERATION, 4);
  device.setLink(false);
  assert.equal(rig.mmio.read(R.CONFIG + 6, 2), 0);
  assert.equal(rig.ack() & VIRTIO_INT.CONFIG_CHANGE, VIRTIO_INT.CONFIG_CHANGE);
  assert.notEqual(rig.mmio.read(R.CONFIG_GENERATION, 4), generation);
  assert.equal(device.receive(frame(60)), false);
  transmit(rig, frame(60));
  rig.kick(1);
  assert.deepEqual(wire.sent, []);
  assert.equal(device.stats.txDropped, 1);
  device.setLink(true);
  assert.equal(rig.mmio.read(R.CONFIG + 6, 2), VIRTIO_NET.S_LINK_UP);
  assert.equal(device.receive(frame(60)), true);
  assert.equal(device.linkUp, true);
});

Deno.test("plug: a device without a backend has no link until it is plugged in, once", () => {
  const device = new VirtioNet();
  const rig = new Rig(device, { queueSizes: [8, 8] });
  assert.equal(rig.mmio.read(R.CONFIG + 6, 2), 0);
  transmit(rig, frame(60));
  rig.kick(1);
  assert.equal(device.stats.txDropped, 1);
  const wire = new Wire();
  device.plug(wire);
  assert.equal(rig.mmio.read(R.CONFIG + 6, 2), VIRTIO_NET.S_LINK_UP);
  assert.equal(wire.receiver, device);
  assert.throws(() => device.plug(new Wire()), (e) => (e as VirtioError).code === "INVALID_STATE");
});

Deno.test("transmit: a backend that refuses or throws loses the frame, not the device", () => {
  const { rig, wire, device } = netRig();
  wire.refuse = true;
  transmit(rig, frame(60));
  rig.kick(1);
  wire.refuse = false;
  wire.send = () => {
    throw new Error("backend broke");
  };
  transmit(rig, frame(60));
  rig.kick(1);
  assert.equal(device.stats.txDropped, 2);
  assert.equal(rig.queues[1].takeUsed().length, 2);
});

Deno.test("transmit: 256 frames go out inside the notification, the rest from the event loop", async () => {
  const { rig, wire } = netRig({ queueSize: 512 }, [8, 512]);
  for (let i = 0; i < 300; i++) transmit(rig, frame(60, i));
  rig.kick(1);
  assert.equal(wire.sent.length, 256);
  // Further notifications while the rest waits change nothing.
  rig.kick(1);
  assert.equal(wire.sent.length, 256);
  await settle();
  assert.equal(wire.sent.length, 300);
  assert.deepEqual(wire.sent[299], frame(60, 299));
  assert.equal(rig.queues[1].takeUsed().length, 300);
});

Deno.test("reset: the backlog and a transmission waiting for the event loop are dropped", async () => {
  const { rig, wire, device } = netRig({ queueSize: 512 }, [8, 512]);
  device.receive(frame(60));
  for (let i = 0; i < 300; i++) transmit(rig, frame(60, i));
  rig.kick(1);
  assert.equal(device.backlogFrames, 1);
  rig.mmio.write(R.STATUS, 4, 0);
  assert.equal(device.backlogFrames, 0);
  await settle();
  assert.equal(wire.sent.length, 256, "nothing more after the reset");
});

Deno.test("property: any mix of frames, buffers and kicks stays inside RAM and the backlog bound", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant("frame" as const),
            length: fc.integer({ min: 0, max: 1600 }),
          }),
          fc.record({
            kind: fc.constant("post" as const),
            size: fc.integer({ min: 0, max: 1600 }),
            writable: fc.boolean(),
          }),
          fc.record({ kind: fc.constant("kick" as const) }),
        ),
        { maxLength: 60 },
      ),
      (steps) => {
        const { rig, device } = netRig({ receiveBacklog: 4096, queueSize: 16 }, [16, 8]);
        let posted = 0;
        let delivered = 0;
        for (const s of steps) {
          if (s.kind === "frame") {
            if (device.receive(frame(s.length))) delivered++;
          } else if (s.kind === "post" && posted - rig.queues[0].usedIdx < 16) {
            rig.queues[0].add([{
              addr: rig.alloc(Math.max(s.size, 1)),
              len: s.size,
              write: s.writable,
            }]);
            posted++;
          } else if (s.kind === "kick") {
            rig.kick(0);
          }
          assert.ok(device.stats.rxBacklogPeak <= 4096);
        }
        const used = rig.queues[0].takeUsed();
        assert.ok(used.length <= posted);
        for (const u of used) assert.ok(u.len === 0 || (u.len >= HDR + 14 && u.len <= HDR + 1518));
        assert.equal(
          device.stats.rxFrames + device.stats.rxTooLong + device.backlogFrames,
          delivered,
        );
        assert.equal(rig.needsReset, false);
        rig.mem.assertGuardsIntact();
      },
    ),
    { numRuns: 200 },
  );
});

// The ARP and ping responder: its answers field by field, and no answer to anything malformed
// or meant for someone else.
import assert from "node:assert/strict";
import fc from "fast-check";
import { EthernetSwitch, NetError, parseIpv4, PingResponder } from "./mod.ts";

const GUEST_MAC = [0x52, 0x54, 0, 0, 0, 2];
const HOST_MAC = [2, 0, 0, 0, 0, 1];

function setup() {
  const sw = new EthernetSwitch();
  const host = new PingResponder({ ip: "10.0.0.1", mac: "02:00:00:00:00:01", backend: sw.port() });
  const answers: Uint8Array[] = [];
  const guest = sw.connect({ receive: (f) => (answers.push(f.slice()), true) });
  return { host, answers, guest };
}

function arpRequest(target: number[]): Uint8Array {
  const f = new Uint8Array(60); // padded to the Ethernet minimum, as NICs send it
  f.set([255, 255, 255, 255, 255, 255, ...GUEST_MAC, 0x08, 0x06]);
  f.set([0, 1, 8, 0, 6, 4, 0, 1, ...GUEST_MAC, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, ...target], 14);
  return f;
}

/** The folded ones'-complement sum (0xffff when a checksum verifies). */
function sum(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function echoRequest(payload: Uint8Array, options: { options?: number; fragment?: boolean } = {}) {
  const ihl = 20 + (options.options ?? 0);
  const f = new Uint8Array(14 + ihl + 8 + payload.length);
  const v = new DataView(f.buffer);
  f.set([...HOST_MAC, ...GUEST_MAC, 0x08, 0x00]);
  f[14] = 0x40 | (ihl / 4);
  v.setUint16(16, ihl + 8 + payload.length);
  v.setUint16(18, 0x1234);
  if (options.fragment) f[20] = 0x20;
  f[22] = 64;
  f[23] = 1;
  f.set([10, 0, 0, 2, 10, 0, 0, 1], 26);
  v.setUint16(24, ~sum(f, 14, 14 + ihl) & 0xffff);
  const icmp = 14 + ihl;
  f[icmp] = 8;
  v.setUint16(icmp + 4, 0x4242);
  v.setUint16(icmp + 6, 7);
  f.set(payload, icmp + 8);
  v.setUint16(icmp + 2, ~sum(f, icmp, f.length) & 0xffff);
  return f;
}

Deno.test("ARP: a request for its address gets a reply with its MAC, to the requester", () => {
  const { host, answers, guest } = setup();
  guest.send(arpRequest([10, 0, 0, 1]));
  assert.equal(answers.length, 1);
  const r = answers[0];
  assert.deepEqual([...r.subarray(0, 14)], [...GUEST_MAC, ...HOST_MAC, 0x08, 0x06]);
  assert.deepEqual([...r.subarray(14, 22)], [0, 1, 8, 0, 6, 4, 0, 2]);
  assert.deepEqual([...r.subarray(22, 32)], [...HOST_MAC, 10, 0, 0, 1]);
  assert.deepEqual([...r.subarray(32, 42)], [...GUEST_MAC, 10, 0, 0, 2]);
  assert.equal(r.length, 42);
  assert.equal(host.stats.arpReplies, 1);
  guest.send(arpRequest([10, 0, 0, 3]));
  assert.equal(answers.length, 1, "not for it: no answer");
  assert.equal(host.stats.ignored, 1);
});

Deno.test("ping: an echo request gets an echo reply with the same id, sequence and data, and valid checksums", () => {
  const { host, answers, guest } = setup();
  for (const size of [0, 1, 56, 1472]) {
    const payload = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
    guest.send(echoRequest(payload));
    const r = answers.at(-1)!;
    assert.deepEqual([...r.subarray(0, 14)], [...GUEST_MAC, ...HOST_MAC, 0x08, 0x00]);
    assert.equal(r[14], 0x45);
    assert.equal(sum(r, 14, 34), 0xffff, "IPv4 header checksum");
    assert.deepEqual([...r.subarray(26, 34)], [10, 0, 0, 1, 10, 0, 0, 2]);
    assert.equal(r[23], 1);
    assert.equal((r[16] << 8) | r[17], 28 + size);
    assert.equal(r.length, 14 + 28 + size);
    assert.equal(r[34], 0, "echo reply");
    assert.equal(sum(r, 34, r.length), 0xffff, "ICMP checksum");
    assert.deepEqual([...r.subarray(38, 42)], [0x42, 0x42, 0, 7]);
    assert.deepEqual(r.subarray(42), payload);
  }
  // IP options are not echoed; the reply's header is 20 bytes.
  guest.send(echoRequest(new Uint8Array(8), { options: 8 }));
  const r = answers.at(-1)!;
  assert.equal(r[14], 0x45);
  assert.equal(sum(r, 34, r.length), 0xffff);
  assert.equal(host.stats.echoReplies, 5);
});

Deno.test("untrusted: malformed or foreign requests get no answer", () => {
  const { host, answers, guest } = setup();
  const good = echoRequest(new Uint8Array(16));
  const broken: [string, Uint8Array][] = [
    ["truncated", good.slice(0, 40)],
    ["fragment", echoRequest(new Uint8Array(16), { fragment: true })],
    [
      "bad header checksum",
      (() => {
        const f = good.slice();
        f[24] ^= 1;
        return f;
      })(),
    ],
    [
      "bad ICMP checksum",
      (() => {
        const f = good.slice();
        f[40] ^= 1;
        return f;
      })(),
    ],
    [
      "total length past the frame",
      (() => {
        const f = good.slice();
        f[17] += 4;
        return f;
      })(),
    ],
    [
      "not IPv4",
      (() => {
        const f = good.slice();
        f[14] = 0x65;
        return f;
      })(),
    ],
    [
      "for someone else",
      (() => {
        const f = good.slice();
        f[33] = 9;
        return f;
      })(),
    ],
    ["short ARP", arpRequest([10, 0, 0, 1]).slice(0, 30)],
    [
      "ARP reply",
      (() => {
        const f = arpRequest([10, 0, 0, 1]);
        f[21] = 2;
        return f;
      })(),
    ],
    ["just a header", good.slice(0, 14)],
  ];
  for (const [what, f] of broken) {
    guest.send(f);
    assert.equal(answers.length, 0, what);
  }
  assert.equal(host.stats.ignored, broken.length);
  guest.send(good);
  assert.equal(answers.length, 1);
});

Deno.test("property: random bytes after an IPv4 or ARP header never make it throw or answer wrongly", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.constantFrom(0x0800, 0x0806),
      (body, type) => {
        const { answers, guest } = setup();
        const f = new Uint8Array(14 + body.length);
        f.set([...HOST_MAC, ...GUEST_MAC, type >> 8, type & 0xff]);
        f.set(body, 14);
        guest.send(f);
        for (const a of answers) {
          assert.deepEqual([...a.subarray(6, 12)], HOST_MAC);
          if (type === 0x0800) assert.equal(sum(a, 14, 34), 0xffff);
        }
      },
    ),
  );
});

Deno.test("options: bad addresses and backends are refused", () => {
  const port = () => new EthernetSwitch().port();
  for (const ip of ["10.0.0", "10.0.0.256", "a.b.c.d", "010.0.0.1", ""]) {
    assert.throws(() => new PingResponder({ ip, backend: port() }), NetError, ip);
  }
  assert.throws(
    () => new PingResponder({ ip: "10.0.0.1", mac: "ff:ff:ff:ff:ff:ff", backend: port() }),
    NetError,
  );
  assert.throws(() => new PingResponder({ ip: "10.0.0.1", backend: {} as never }), NetError);
  assert.deepEqual(parseIpv4("192.168.0.255"), new Uint8Array([192, 168, 0, 255]));
});

// The learning switch: flooding, learning, filtering, aging, the table bound, ports that
// close, receivers that refuse, throw or answer at once, and malformed frames.
import assert from "node:assert/strict";
import fc from "fast-check";
import { EthernetSwitch, NetError, type SwitchPort } from "./mod.ts";

/** A 60-byte frame from MAC `02:..:src` to MAC `dst` (6 bytes) with a tag in byte 14. */
function frame(dst: number[], src: number, tag = 0): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set([2, 0, 0, 0, 0, src], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = tag;
  return f;
}
const mac = (n: number) => [2, 0, 0, 0, 0, n];
const BROADCAST = [255, 255, 255, 255, 255, 255];

/** A switch with ports named a, b, c, ... whose receivers log "name:tag". */
function lan(n: number, options = {}) {
  const sw = new EthernetSwitch(options);
  const log: string[] = [];
  const ports: SwitchPort[] = [];
  for (let i = 0; i < n; i++) {
    const name = String.fromCharCode(97 + i);
    ports.push(sw.connect({ receive: (f) => (log.push(`${name}:${f[14]}`), true) }, name));
  }
  return { sw, log, ports };
}

Deno.test("switch: unknown and broadcast destinations flood; learned ones go to one port", () => {
  const { sw, log, ports: [a, b, c] } = lan(3);
  a.send(frame(mac(2), 1, 1)); // 02..02 unknown: flooded
  assert.deepEqual(log.splice(0), ["b:1", "c:1"]);
  b.send(frame(mac(1), 2, 2)); // a's address was learned on a
  assert.deepEqual(log.splice(0), ["a:2"]);
  a.send(frame(mac(2), 1, 3)); // now b's is known too
  assert.deepEqual(log.splice(0), ["b:3"]);
  c.send(frame(BROADCAST, 3, 4));
  assert.deepEqual(log.splice(0), ["a:4", "b:4"]);
  c.send(frame([0x01, 0x00, 0x5e, 0, 0, 1], 3, 5)); // multicast
  assert.deepEqual(log.splice(0), ["a:5", "b:5"]);
  a.send(frame(mac(1), 1, 6)); // to itself: filtered
  assert.deepEqual(log, []);
  assert.deepEqual(sw.stats, {
    frames: 6,
    forwarded: 2,
    flooded: 3,
    filtered: 1,
    malformed: 0,
    loops: 0,
    evictions: 0,
  });
  assert.equal(sw.lookup(new Uint8Array(mac(2))), b);
  assert.equal(a.stats.inFrames, 3);
  assert.equal(b.stats.outFrames, 4);
});

Deno.test("switch: a station that moves is learned on its new port", () => {
  const { log, ports: [a, b, c] } = lan(3);
  a.send(frame(BROADCAST, 9));
  c.send(frame(mac(9), 3, 1));
  assert.deepEqual(log.splice(0).slice(-1), ["a:1"]);
  b.send(frame(BROADCAST, 9));
  log.length = 0;
  c.send(frame(mac(9), 3, 2));
  assert.deepEqual(log, ["b:2"]);
});

Deno.test("switch: addresses age out and the destination floods again", async () => {
  const { log, ports: [a, b] } = lan(3, { agingMs: 5 });
  a.send(frame(BROADCAST, 1));
  log.length = 0;
  b.send(frame(mac(1), 2, 1));
  assert.deepEqual(log.splice(0), ["a:1"]);
  await new Promise((r) => setTimeout(r, 20));
  b.send(frame(mac(1), 2, 2));
  assert.deepEqual(log, ["a:2", "c:2"]);
});

Deno.test("switch: the table holds at most macTableSize addresses; a flood of made-up sources evicts", () => {
  const { sw, log, ports: [a, b] } = lan(3, { macTableSize: 4 });
  b.send(frame(BROADCAST, 200));
  for (let i = 0; i < 100; i++) a.send(frame(BROADCAST, i));
  assert.equal(sw.stats.evictions, 97);
  log.length = 0;
  // b's address was evicted long ago: its frames flood, and the switch still works.
  a.send(frame(mac(200), 1, 7));
  assert.deepEqual(log, ["b:7", "c:7"]);
});

Deno.test("switch: a closed port receives nothing, sends nothing, and its addresses are forgotten", () => {
  const { sw, log, ports: [a, b, c] } = lan(3);
  b.send(frame(BROADCAST, 2));
  log.length = 0;
  b.close();
  b.close();
  assert.equal(sw.ports.length, 2);
  assert.equal(b.send(frame(BROADCAST, 2)), false);
  a.send(frame(mac(2), 1, 1));
  assert.deepEqual(log, ["c:1"], "b's address is unknown again: flooded to the open ports");
  assert.equal(sw.lookup(new Uint8Array(mac(2))), undefined);
  assert.throws(() => b.attach({ receive: () => true }), NetError);
  c.close();
  sw.close();
  assert.equal(sw.ports.length, 0);
});

Deno.test("switch: malformed frames are dropped and counted; receivers that refuse or throw only lose the frame", () => {
  const sw = new EthernetSwitch();
  const a = sw.port("a");
  const refuses = sw.connect({ receive: () => false });
  const throws = sw.connect({
    receive: () => {
      throw new Error("host code broke");
    },
  });
  let got = 0;
  sw.connect({ receive: () => (got++, true) });
  assert.equal(a.send(new Uint8Array(13)), false);
  assert.equal(a.send(new Uint8Array(65535 + 19)), false);
  assert.equal(sw.stats.malformed, 2);
  assert.equal(a.send(frame(BROADCAST, 1)), true);
  assert.equal(got, 1);
  assert.equal(refuses.stats.outDropped, 1);
  assert.equal(throws.stats.outDropped, 1);
  const unattached = sw.port();
  a.send(frame(BROADCAST, 1));
  assert.equal(unattached.stats.outDropped, 1);
  assert.throws(() => a.attach({} as never), (e) => (e as NetError).code === "INVALID_ARGUMENT");
});

Deno.test("switch: endpoints answering each other at once are cut off 8 deep, not a stack overflow", () => {
  const sw = new EthernetSwitch();
  // Two endpoints that echo every frame back as a broadcast.
  const x: SwitchPort = sw.connect({ receive: (f) => x.send(f) });
  const y: SwitchPort = sw.connect({ receive: (f) => y.send(f) });
  const a = sw.port();
  assert.equal(a.send(frame(BROADCAST, 1)), true);
  assert.ok(sw.stats.loops > 0);
  assert.ok(sw.stats.frames < 1000);
});

Deno.test("switch: options out of range are refused", () => {
  for (const options of [{ macTableSize: 0 }, { macTableSize: 1.5 }, { agingMs: 0 }]) {
    assert.throws(
      () => new EthernetSwitch(options),
      (e) => (e as NetError).code === "INVALID_ARGUMENT",
    );
  }
  assert.throws(() => new EthernetSwitch().lookup(new Uint8Array(5)), NetError);
});

Deno.test("property: every frame reaches exactly the ports a learning bridge sends it to", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          from: fc.integer({ min: 0, max: 3 }),
          src: fc.integer({ min: 1, max: 6 }),
          dst: fc.integer({ min: 0, max: 6 }), // 0: broadcast
        }),
        { maxLength: 80 },
      ),
      (sends) => {
        const sw = new EthernetSwitch();
        const got: number[][] = [[], [], [], []];
        const ports = got.map((g, i) =>
          sw.connect({ receive: (f) => (g.push(f[14]), true) }, `${i}`)
        );
        // The model: where each source address was last seen.
        const where = new Map<number, number>();
        const want: number[][] = [[], [], [], []];
        sends.forEach((s, k) => {
          where.set(s.src, s.from);
          const to = s.dst === 0 ? undefined : where.get(s.dst);
          for (let p = 0; p < 4; p++) {
            if (p !== s.from && (to === undefined || to === p)) want[p].push(k & 0xff);
          }
          ports[s.from].send(frame(s.dst === 0 ? BROADCAST : mac(s.dst), s.src, k & 0xff));
        });
        assert.deepEqual(got, want);
      },
    ),
  );
});

// Random bytes, and valid packets with random arguments mutated at random, into a session over
// the fake machine: nothing throws, nothing hangs, every byte the stub sends is a well-formed
// frame, the target never sees a call the contract forbids, and when the client goes away
// the machine is left running without any of its breakpoints or watchpoints.
import assert from "node:assert/strict";
import fc from "fast-check";
import { checksum } from "./_framing.ts";
import { hexByte } from "./_hex.ts";
import { bytes, frame, PacketClient } from "./testdata/client.ts";
import { DATA, FakeMachine, LOOP, RAM_BASE, RAM_SIZE, STORE_PC } from "./testdata/fake_machine.ts";

const hex = (n: number | bigint) => n.toString(16);

const address = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.integer({ min: RAM_BASE - 8, max: RAM_BASE + RAM_SIZE + 8 }).map(hex),
  },
  { weight: 2, arbitrary: fc.constantFrom(hex(LOOP), hex(STORE_PC), hex(DATA), hex(DATA + 2)) },
  { weight: 1, arbitrary: fc.constantFrom("0", "ffffffffffffffff", "10000000000000000", "", "zz") },
);
const length = fc.oneof(
  fc.integer({ min: 0, max: 16 }).map(hex),
  fc.constantFrom("2000", "ffffffff", "", "-1", "80000000"),
);
const threadId = fc.constantFrom("1", "2", "3", "0", "-1", "", "zz");
const hexBytes = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((b) => [...b].map(hexByte).join(""));
const binary = fc.uint8Array({ maxLength: 24 }).map((b) =>
  [...b].map((x) =>
    x === 0x23 || x === 0x24 || x === 0x7d || x === 0x2a
      ? "}" + String.fromCharCode(x ^ 0x20)
      : String.fromCharCode(x)
  ).join("")
);

/** Packets the stub implements, with arguments good and bad. */
const packet: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("?", "g", "qC", "qfThreadInfo", "qsThreadInfo", "vCont?", "qAttached", "s", "c"),
  fc.constantFrom("vCont;c", "vCont;s:1", "vCont;s:2", "vCont;s:1;c", "vCont;c:2", "vCont;t"),
  fc.constantFrom("qSupported:swbreak+;hwbreak+", "QStartNoAckMode", "vMustReplyEmpty", "qTStatus"),
  fc.tuple(fc.integer({ min: 0, max: 70 }), hexBytes(20)).map(([r, v]) => `P${hex(r)}=${v}`),
  fc.integer({ min: 0, max: 70 }).map((r) => `p${hex(r)}`),
  hexBytes(800).map((h) => `G${h}`),
  fc.tuple(address, length).map(([a, l]) => `m${a},${l}`),
  fc.tuple(address, length, hexBytes(12)).map(([a, l, d]) => `M${a},${l}:${d}`),
  fc.tuple(address, length, binary).map(([a, l, d]) => `X${a},${l}:${d}`),
  fc.tuple(fc.constantFrom("Z", "z"), fc.integer({ min: 0, max: 5 }), address, length).map(
    ([z, t, a, l]) => `${z}${t},${a},${l}`,
  ),
  fc.tuple(fc.constantFrom("Hg", "Hc", "T", "qThreadExtraInfo,"), threadId).map(([p, t]) => p + t),
  fc.tuple(fc.constantFrom("c", "s", "C05;", "S00;"), address).map(([p, a]) => p + a),
  fc.tuple(
    fc.constantFrom("features:read:target.xml", "threads:read:", "features:read:x"),
    length,
    length,
  )
    .map(([o, off, len]) => `qXfer:${o}:${off},${len}`),
  fc.constantFrom("help", "info vcpus", "info mmio", "reset", "bogus").map((c) =>
    `qRcmd,${[...new TextEncoder().encode(c)].map(hexByte).join("")}`
  ),
  { weight: 1, arbitrary: fc.constantFrom("D", "k") },
  fc.string({ maxLength: 12 }),
);

/** A packet as sent, perhaps damaged on the way. */
const unit: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: packet.map(frame) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      packet,
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      fc.constantFrom("flip", "cut", "insert"),
    ).map(
      ([p, at, byte, resum, how]) => {
        const body = [...bytes(p)];
        const i = body.length === 0 ? 0 : at % body.length;
        if (how === "flip" && body.length > 0) body[i] ^= byte | 1;
        else if (how === "cut") body.length = i;
        else body.splice(i, 0, byte);
        const payload = Uint8Array.from(body);
        const sum = resum ? checksum(payload) : (checksum(payload) + 1) & 0xff;
        return new Uint8Array([0x24, ...payload, 0x23, ...bytes(hexByte(sum))]);
      },
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom("+", "-", "\x03", "$", "#", "}").map(bytes) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
);

async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no progress in ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const turn = () => new Promise((r) => setTimeout(r, 0));

/** Feeds the units, then checks the session and the target, and ends the session. */
async function exercise(units: readonly Uint8Array[], yields: readonly boolean[]) {
  const fake = new FakeMachine({ batch: 16 });
  const client = await PacketClient.connect(fake);
  for (let i = 0; i < units.length; i++) {
    await within(5000, "feed", client.session.feed(units[i]));
    client.take(); // throws on a malformed frame
    if (yields[i % yields.length]) await turn();
  }
  // A resume in flight is stopped the way gdb would: Ctrl-C, then the stop reply.
  if (client.session.state === "running") {
    await within(
      5000,
      "interrupt",
      (async () => {
        while (client.session.state === "running") {
          await client.session.feed(bytes("\x03"));
          await turn();
        }
      })(),
    );
    client.take();
  }
  const state = client.session.state;
  assert.ok(state === "stopped" || state === "ended", `state ${state}`);
  const how = await within(5000, "close", client.session.close());
  await fake.shutdown();
  assert.deepEqual(fake.violations, []);
  if (how !== "kill") {
    assert.equal(fake.points.size, 0, "no breakpoint or watchpoint outlives the client");
    assert.ok(fake.detached || fake.calls.includes("detach"), "the target was detached");
  } else {
    assert.ok(fake.killed);
  }
}

Deno.test("property: random bytes never break the stub", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
      (chunks, yields) => exercise(chunks, yields),
    ),
    { numRuns: 150 },
  );
});

Deno.test("property: valid and mutated packets keep the session and the target sane", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(unit, { minLength: 1, maxLength: 40 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
      (units, yields) => exercise(units, yields),
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: a packet stream split anywhere gets the same replies", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(packet.filter((p) => !/^(D|k|c|s|vCont;[cs]|[CS]0)/.test(p)), { maxLength: 15 }),
      fc.array(fc.nat(2000), { maxLength: 8 }),
      async (packets, cuts) => {
        const stream = new Uint8Array(packets.flatMap((p) => [...frame(p)]));
        const replies = async (splits: number[]) => {
          const fake = new FakeMachine();
          const client = await PacketClient.connect(fake);
          let at = 0;
          for (const s of [...splits, stream.length]) {
            const end = Math.max(at, Math.min(s, stream.length));
            await client.session.feed(stream.subarray(at, end));
            at = end;
          }
          const out = client.take();
          await client.session.close();
          await fake.shutdown();
          return out;
        };
        assert.deepEqual(await replies(cuts.sort((a, b) => a - b)), await replies([]));
      },
    ),
    { numRuns: 60 },
  );
});

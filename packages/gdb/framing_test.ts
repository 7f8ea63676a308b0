// Framing, checksums, escaping and run-length encoding, against the protocol's own examples
// and round-trip properties.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checksum,
  escapeBinary,
  type FrameEvent,
  framePacket,
  PacketDecoder,
  rleDecode,
  rleEncode,
  unescapeBinary,
} from "./_framing.ts";
import { MAX_PACKET_SIZE } from "./limits.ts";
import { bytes } from "./testdata/client.ts";

const text = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("checksums are the byte sum modulo 256, as in the protocol's examples", () => {
  assert.equal(text(framePacket(bytes("g"))), "$g#67");
  assert.equal(text(framePacket(bytes("?"))), "$?#3f");
  assert.equal(text(framePacket(bytes("OK"))), "$OK#9a");
  assert.equal(text(framePacket(bytes(""))), "$#00");
  assert.equal(checksum(new Uint8Array(256).fill(1)), 0);
});

Deno.test("binary escaping covers $ # } * and nothing else", () => {
  const data = Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0x00, 0x03, 0xff, 0x2b);
  assert.equal(text(escapeBinary(data)), "}\x03}\x04}]}\x0a\x00\x03\xff+");
  assert.deepEqual(unescapeBinary(escapeBinary(data)), data);
  assert.equal(unescapeBinary(bytes("abc}")), undefined, "a dangling escape is malformed");
  const plain = bytes("plain");
  assert.equal(escapeBinary(plain), plain, "nothing to escape: no copy");
});

Deno.test("run-length encoding: runs of four or more, never a # or $ count", () => {
  const enc = (s: string) => text(rleEncode(bytes(s)));
  assert.equal(enc("000"), "000");
  assert.equal(enc("0000"), "0* ");
  assert.equal(enc("000000"), '0*"'); // 5 more: '"'
  assert.equal(enc("0000000"), '0*"0'); // 6 more would be '#'
  assert.equal(enc("00000000"), '0*"00'); // 7 more would be '$'
  assert.equal(enc("0".repeat(98)), "0*~");
  assert.equal(enc("0".repeat(99)), "0*~0");
  assert.equal(enc("ab0000cd"), "ab0* cd");
});

Deno.test("run-length encoding never starts a run at an escaped byte", () => {
  // 0x7d then four 0x5d: escaped as `}]` then `]]]]`; the run may only cover the literal ones.
  const escaped = escapeBinary(Uint8Array.of(0x7d, 0x5d, 0x5d, 0x5d, 0x5d));
  assert.equal(text(escaped), "}]]]]]");
  const encoded = rleEncode(escaped);
  assert.equal(text(encoded), "}]]* ");
  assert.deepEqual(
    unescapeBinary(rleDecode(encoded)!),
    Uint8Array.of(0x7d, 0x5d, 0x5d, 0x5d, 0x5d),
  );
});

Deno.test("run-length decoding rejects what cannot be expanded", () => {
  assert.equal(rleDecode(bytes("*a")), undefined, "nothing to repeat");
  assert.equal(rleDecode(bytes("a*")), undefined, "no count");
  assert.equal(rleDecode(bytes("a*\x1f")), undefined, "unprintable count");
  assert.equal(rleDecode(bytes("a*\x7f")), undefined, "count past ~");
  assert.equal(rleDecode(bytes("a*~"), 50), undefined, "longer than the bound");
  assert.equal(text(rleDecode(bytes("a*~"), 98)!), "a".repeat(98));
  assert.equal(rleDecode(new Uint8Array(MAX_PACKET_SIZE + 1)), undefined);
});

Deno.test("property: escape, encode, decode, unescape gives the data back", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x7d, 0x5d, 0x30)), {
        maxLength: 400,
      }),
      (values) => {
        const data = Uint8Array.from(values);
        const wire = rleEncode(escapeBinary(data));
        assert.ok(!wire.includes(0x23) && !wire.includes(0x24), "no raw # or $ on the wire");
        assert.deepEqual(unescapeBinary(rleDecode(wire, 1 << 20)!), data);
      },
    ),
  );
});

function decodeAll(stream: Uint8Array, splits: number[] = []): FrameEvent[] {
  const decoder = new PacketDecoder();
  const events: FrameEvent[] = [];
  let at = 0;
  for (const s of [...splits, stream.length]) {
    decoder.push(stream.subarray(at, Math.max(at, Math.min(s, stream.length))), events);
    at = Math.max(at, Math.min(s, stream.length));
  }
  return events;
}

const show = (events: FrameEvent[]) =>
  events.map((e) => (e.kind === "packet" ? `packet:${text(e.payload)}` : e.kind));

Deno.test("decoder: packets, acknowledgements and the interrupt byte", () => {
  const events = decodeAll(bytes("+$g#67-\x03$m0,4#fd"));
  assert.deepEqual(show(events), ["ack", "packet:g", "nack", "interrupt", "packet:m0,4"]);
});

Deno.test("decoder: checksums may be uppercase; wrong or non-hex ones are reported", () => {
  assert.deepEqual(show(decodeAll(bytes("$OK#9A"))), ["packet:OK"]);
  assert.deepEqual(show(decodeAll(bytes("$g#68$g#zz$g#6"))), ["bad-checksum", "bad-checksum"]);
});

Deno.test("decoder: garbage between packets is counted and skipped", () => {
  const decoder = new PacketDecoder();
  const events: FrameEvent[] = [];
  decoder.push(bytes("hello\x00\xff$g#67world"), events);
  assert.deepEqual(show(events), ["packet:g"]);
  assert.equal(decoder.stats.garbageBytes, 12);
});

Deno.test("decoder: a $ restarts a packet, also inside the checksum", () => {
  const decoder = new PacketDecoder();
  const events: FrameEvent[] = [];
  decoder.push(bytes("$qSupp$g#67$?#$?#3f"), events);
  assert.deepEqual(show(events), ["packet:g", "bad-checksum", "packet:?"]);
  assert.equal(decoder.stats.abandonedPackets, 1);
});

Deno.test("decoder: 0x03 inside a packet is data (binary X writes carry it)", () => {
  const events = decodeAll(frame("X0,1:\x03"));
  assert.deepEqual(show(events), ["packet:X0,1:\x03"]);
});

Deno.test("decoder: an oversized packet is consumed without being stored", () => {
  const big = "M0,1:" + "0".repeat(MAX_PACKET_SIZE);
  const events = decodeAll(new Uint8Array([...frame(big), ...frame("g")]));
  assert.deepEqual(show(events), ["oversized", "packet:g"]);
  const corrupt = frame(big);
  corrupt[corrupt.length - 1] ^= 1;
  assert.deepEqual(show(decodeAll(corrupt)), ["bad-checksum"]);
  assert.deepEqual(show(decodeAll(frame("x".repeat(MAX_PACKET_SIZE)))), [
    `packet:${"x".repeat(MAX_PACKET_SIZE)}`,
  ]);
});

Deno.test("property: the decoder gives the same events however the stream is split", () => {
  const unit = fc.oneof(
    fc.constantFrom("+", "-", "\x03", "junk", "$", "#"),
    fc.string({ maxLength: 20 }).map((s) => String.fromCharCode(...frame(s.replace(/[$#]/g, "")))),
  );
  fc.assert(
    fc.property(
      fc.array(unit, { maxLength: 30 }),
      fc.array(fc.nat(400), { maxLength: 10 }),
      (units, cuts) => {
        const stream = bytes(units.join(""));
        const whole = show(decodeAll(stream));
        const split = show(decodeAll(stream, cuts.sort((a, b) => a - b)));
        assert.deepEqual(split, whole);
      },
    ),
  );
});

function frame(payload: string): Uint8Array {
  const sum = checksum(bytes(payload)).toString(16).padStart(2, "0");
  return bytes(`$${payload}#${sum}`);
}

Deno.test("decoder: while the target runs, 0x03 interrupts even inside a packet", () => {
  const decoder = new PacketDecoder();
  const events: FrameEvent[] = [];
  decoder.interruptAnywhere = true;
  decoder.push(bytes("$X0,1:\x03$?#3f"), events);
  assert.deepEqual(show(events), ["interrupt", "packet:?"]);
  assert.equal(decoder.stats.abandonedPackets, 1);
});

Deno.test("decoder: push stops after the events asked for and says how far it got", () => {
  const decoder = new PacketDecoder();
  const events: FrameEvent[] = [];
  const stream = bytes("+$g#67-");
  assert.equal(decoder.push(stream, events, 1), 1);
  assert.equal(decoder.push(stream.subarray(1), events, 1), 5);
  assert.equal(decoder.push(stream.subarray(6), events, 1), 1);
  assert.equal(decoder.push(new Uint8Array(0), events, 1), 0);
  assert.deepEqual(show(events), ["ack", "packet:g", "nack"]);
});

// Untrusted input, failing targets and the end of a session: every case gets an error reply
// or is dropped, never an exception, and the target is left running without the client's
// breakpoints.
import assert from "node:assert/strict";
import { framePacket } from "./_framing.ts";
import { GdbSession, MAX_PACKET_SIZE, MAX_RETRANSMISSIONS } from "./mod.ts";
import { bytes, frame, PacketClient, payloads } from "./testdata/client.ts";
import { FakeMachine } from "./testdata/fake_machine.ts";

async function finish(fake: FakeMachine, client: PacketClient) {
  await client.session.close();
  await fake.shutdown();
  assert.deepEqual(fake.violations, []);
}

Deno.test("a bad checksum is answered with -, and the resent packet is served", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  assert.deepEqual(await client.raw("$?#00"), ["-"]);
  assert.equal(client.session.stats.lastFault, "BAD_CHECKSUM");
  assert.deepEqual(await client.raw("$?#3f"), ["+", { payload: "T05thread:1;" }]);
  await finish(fake, client);
});

Deno.test(`- makes the stub resend its last reply, at most ${MAX_RETRANSMISSIONS} times`, async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  await client.send("?");
  for (let i = 0; i < MAX_RETRANSMISSIONS; i++) {
    assert.deepEqual(await client.raw("-"), [{ payload: "T05thread:1;" }]);
  }
  assert.deepEqual(await client.raw("-"), []);
  assert.equal(client.session.stats.retransmissions, MAX_RETRANSMISSIONS);
  assert.equal(client.session.stats.lastFault, "RETRANSMIT_LIMIT");
  assert.deepEqual(await client.raw("+-"), [], "after +, there is nothing to resend");
  await finish(fake, client);
});

Deno.test("an oversized packet gets E07 and the stream stays in step", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  const big = frame(`M401000,${MAX_PACKET_SIZE.toString(16)}:${"00".repeat(MAX_PACKET_SIZE)}`);
  const tokens = await client.raw(new Uint8Array([...big, ...frame("?")]));
  assert.deepEqual(tokens, ["+", { payload: "E07" }, "+", { payload: "T05thread:1;" }]);
  assert.equal(client.session.stats.faults, 1);
  assert.ok(!fake.calls.includes("writeMemory"));
  await finish(fake, client);
});

Deno.test("garbage between packets is skipped and counted", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  const tokens = await client.raw(
    new Uint8Array([...bytes("GET / HTTP/1.1\r\n\0\xff"), ...frame("?")]),
  );
  assert.deepEqual(payloads(tokens), ["T05thread:1;"]);
  assert.equal(client.session.stats.garbageBytes, 18);
  assert.equal(client.session.stats.lastFault, "GARBAGE");
  await finish(fake, client);
});

Deno.test("malformed packets: empty, broken run-length encoding, binary junk", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  assert.equal(await client.ask(""), "E16");
  assert.equal(await client.ask("*a"), "E16");
  assert.equal(await client.ask("m*"), "E16");
  assert.equal(await client.ask("m4" + "*~".repeat(200)), "E16", "expands past the limit");
  assert.equal(
    await client.ask("m40*!,4"),
    "200080d2",
    "the client's run-length encoding is expanded",
  );
  assert.equal(await client.ask("\x80\xff\x01"), "");
  assert.equal(await client.ask("Z\xff,1,1"), "E16");
  assert.equal(await client.ask("qRcmd,\xff"), "E16");
  assert.equal(await client.ask("vCont;\x00"), "E16");
  await finish(fake, client);
});

Deno.test("a half-sent packet cannot keep Ctrl-C from a running target", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  await client.send("vCont;c");
  assert.deepEqual(await client.raw("$m400000,4"), [], "a packet left open");
  assert.deepEqual(await client.raw("\x03"), []);
  assert.deepEqual(await client.waitForReply(), ["T02thread:1;"]);
  assert.equal(await client.ask("qC"), "QC1", "the stream is back in step");
  await finish(fake, client);
});

Deno.test("a packet and the interrupt byte in one chunk: each is decoded in its own state", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  // While stopped, 0x03 inside X data is data; the vCont in the same chunk then runs the
  // machine, and the 0x03 after it interrupts.
  const chunk = new Uint8Array([...frame("X401000,1:\x03"), ...frame("vCont;c"), 0x03]);
  assert.deepEqual(payloads(await client.raw(chunk)), ["OK"]);
  assert.deepEqual(await client.waitForReply(), ["T02thread:1;"]);
  assert.equal(fake.memory[0x1000], 3);
  await finish(fake, client);
});

Deno.test("closing while stopped removes the client's points and detaches", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  await client.ask("Z0,400010,4");
  await client.ask("Z1,400014,4");
  await client.ask("Z4,401000,4");
  assert.equal(fake.points.size, 3);
  assert.equal(await client.session.close(), "disconnect");
  assert.equal(fake.points.size, 0);
  assert.ok(fake.detached);
  assert.equal(client.session.state, "ended");
  assert.deepEqual(client.take(), [], "nothing is sent to a client that left");
  await finish(fake, client);
});

Deno.test("closing while running interrupts first, so points are removed from a paused machine", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  await client.ask("Z0,400ff0,4");
  await client.send("vCont;c");
  assert.ok(fake.running);
  await client.session.close();
  assert.ok(!fake.running);
  assert.deepEqual(fake.calls.slice(-3), ["interrupt", "removePoint", "detach"]);
  assert.deepEqual(client.take(), [], "the stop is not reported to a client that left");
  await finish(fake, client);
});

Deno.test("closing a session that never started touches nothing", async () => {
  const fake = new FakeMachine();
  const session = new GdbSession(fake, { write: () => {} });
  assert.equal(await session.close(), "disconnect");
  await session.feed(frame("?"));
  assert.deepEqual(fake.calls, []);
});

Deno.test("a failing target gets E05 and the session carries on", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  const readRegisters = fake.readRegisters;
  fake.readRegisters = () => {
    throw new Error("vCPU lost");
  };
  assert.equal(await client.ask("g"), "E05");
  assert.equal(await client.ask("p20"), "E05");
  assert.equal(await client.ask(`P5=${"00".repeat(8)}`), "E05");
  assert.equal(client.session.stats.targetErrors, 3);
  assert.match(client.logs[0], /readRegisters\(\) failed: vCPU lost/);
  fake.readRegisters = readRegisters;

  const resume = fake.resume;
  fake.resume = () => {
    throw new Error("cannot run");
  };
  assert.equal(await client.ask("vCont;c"), "E05");
  assert.equal(client.session.state, "stopped");
  fake.resume = () => Promise.reject(new Error("crashed"));
  assert.deepEqual(await client.resume("vCont;c"), ["E05"]);
  assert.equal(client.session.state, "stopped");
  fake.resume = resume;

  fake.readMemory = () => undefined as never;
  assert.equal(await client.ask("m400000,4"), "E0e", "a result that is no result");
  const threads = fake.threads;
  fake.threads = () => {
    throw new Error("no threads");
  };
  assert.equal(await client.ask("g"), "E03");
  assert.equal(await client.ask("qfThreadInfo"), "l");
  fake.threads = threads;
  assert.equal(await client.ask("?"), "T05thread:1;");
  await finish(fake, client);
});

Deno.test("a target that fails to halt still gets a session", async () => {
  const fake = new FakeMachine();
  fake.halt = () => Promise.reject(new Error("busy"));
  const client = await PacketClient.connect(fake);
  assert.equal(await client.ask("?"), "T05thread:1;");
  assert.equal(client.session.stats.targetErrors, 1);
  await finish(fake, client);
});

Deno.test("after the machine exits: W, then E01 for anything that needs it, and no detach", async () => {
  const fake = new FakeMachine();
  fake.resume = () => Promise.resolve({ reason: "exited", status: 3 });
  const client = await PacketClient.connect(fake);
  assert.deepEqual(await client.resume("vCont;c"), ["W03"]);
  for (const p of ["g", "m400000,4", "Z0,400000,4", "vCont;c", "c", "qRcmd,6869"]) {
    assert.equal(await client.ask(p), "E01", p);
  }
  assert.equal(await client.ask("?"), "W03");
  assert.equal(await client.ask("qfThreadInfo"), "m1,2");
  await client.session.close();
  assert.ok(!fake.detached);
});

Deno.test("a transport that fails to write loses output, not the session", async () => {
  const fake = new FakeMachine();
  const logs: string[] = [];
  const session = new GdbSession(fake, {
    write: () => Promise.reject(new Error("connection reset")),
    log: (m) => logs.push(m),
  });
  await session.start();
  await session.feed(frame("g"));
  await session.feed(frame("Z0,400000,4"));
  assert.equal(logs.length, 1);
  assert.match(logs[0], /connection reset/);
  assert.equal(fake.points.size, 1, "packets are still served");
  await session.close();
  assert.equal(fake.points.size, 0);
});

Deno.test("a slow transport holds further packets back until it has written", async () => {
  const fake = new FakeMachine();
  const pending: (() => void)[] = [];
  const written: string[] = [];
  const session = new GdbSession(fake, {
    write: (b) =>
      new Promise((resolve) =>
        pending.push(() => (written.push(String.fromCharCode(...b)), resolve()))
      ),
  });
  await session.start();
  let fed = false;
  const feeding = session.feed(new Uint8Array([...frame("?"), ...frame("qC")])).then(
    () => (fed = true),
  );
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(pending.length, 1, "only the first ack is in flight");
  assert.ok(!fed);
  while (!fed) {
    pending.shift()?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  await feeding;
  const packet = (p: string) => String.fromCharCode(...framePacket(bytes(p)));
  assert.deepEqual(written, ["+", packet("T05thread:1;"), "+", packet("QC1")]);
  await session.close();
  await fake.shutdown();
});

Deno.test("feeds are handled in order even when not awaited", async () => {
  const fake = new FakeMachine();
  const client = await PacketClient.connect(fake);
  const all = [
    client.session.feed(frame("Hg2")),
    client.session.feed(frame("qC")),
    client.session.feed(frame("g")),
  ];
  await Promise.all(all);
  const got = payloads(client.take());
  assert.equal(got[0], "OK");
  assert.equal(got[1], "QC1");
  assert.equal(got[2].slice(32 * 16, 32 * 16 + 8), "00014000", "g after Hg2 reads cpu1");
  await finish(fake, client);
});

// The TCP server with raw sockets: one client at a time, disconnects and kills, closing the
// server under a client, bad options, and a client that floods it.
import assert from "node:assert/strict";
import { GdbError, GdbServer } from "./mod.ts";
import { frame, parseOutput, payloads, type Token } from "./testdata/client.ts";
import { FakeMachine } from "./testdata/fake_machine.ts";
import { until } from "./testdata/gdb.ts";

/** A raw protocol client over TCP. */
class Raw {
  #buffer: number[] = [];
  #closed = false;
  readonly #reading: Promise<void>;

  private constructor(readonly conn: Deno.TcpConn) {
    this.#reading = (async () => {
      const chunk = new Uint8Array(4096);
      try {
        for (let n; (n = await conn.read(chunk)) !== null;) {
          this.#buffer.push(...chunk.subarray(0, n));
        }
      } catch {
        // Reset by the peer: as good as closed.
      }
      this.#closed = true;
    })();
  }

  static async connect(server: GdbServer): Promise<Raw> {
    return new Raw(await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : data;
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** Waits until the output holds `count` packets, and returns all tokens so far. */
  async packets(count: number): Promise<Token[]> {
    await until(
      () => {
        try {
          return payloads(parseOutput(Uint8Array.from(this.#buffer))).length >= count ||
            this.#closed;
        } catch {
          return false; // a frame still arriving
        }
      },
      `${count} packets`,
      10_000,
    );
    const tokens = parseOutput(Uint8Array.from(this.#buffer));
    this.#buffer = [];
    return tokens;
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Closed by the server.
    }
    await this.#reading;
  }

  async ended(): Promise<void> {
    await this.#reading;
  }
}

Deno.test("a client talks to the stub over TCP; it listens on 127.0.0.1 by default", async () => {
  const fake = new FakeMachine();
  await using server = GdbServer.listen(fake, { port: 0 });
  assert.equal(server.addr.hostname, "127.0.0.1");
  const client = await Raw.connect(server);
  await client.write(frame("?"));
  assert.deepEqual(await client.packets(1), ["+", { payload: "T05thread:1;" }]);
  assert.ok(server.session !== undefined);
  await client.close();
  await until(() => server.session === undefined, "the session to end");
  assert.ok(fake.detached);
  await fake.shutdown();
});

Deno.test("one client at a time; the next one is served after the first leaves", async () => {
  const fake = new FakeMachine();
  const logs: string[] = [];
  await using server = GdbServer.listen(fake, { port: 0, log: (m) => logs.push(m) });
  const first = await Raw.connect(server);
  await first.write(frame("Z0,400010,4"));
  assert.deepEqual(payloads(await first.packets(1)), ["OK"]);

  const second = await Raw.connect(server);
  await second.ended();
  assert.equal(server.refused, 1);
  assert.ok(logs.some((l) => /refused .*: another debugger is attached/.test(l)), logs.join("\n"));

  await first.close();
  await until(() => server.session === undefined, "the first session to end");
  assert.equal(fake.points.size, 0);
  const third = await Raw.connect(server);
  await third.write(frame("?"));
  assert.deepEqual(payloads(await third.packets(1)), ["T05thread:1;"]);
  assert.equal(fake.calls.filter((c) => c === "halt").length, 2, "each client halts the machine");
  await third.close();
  await until(() => server.session === undefined, "the third session to end");
  await fake.shutdown();
  assert.deepEqual(fake.violations, []);
});

Deno.test("k kills the target and the stub closes the connection", async () => {
  const fake = new FakeMachine();
  await using server = GdbServer.listen(fake, { port: 0 });
  const client = await Raw.connect(server);
  await client.write(frame("k"));
  await client.ended();
  assert.ok(fake.killed);
  assert.ok(!fake.detached);
  await until(() => server.session === undefined, "the session to end");
});

Deno.test("Ctrl-C over TCP, and a client that disconnects while the machine runs", async () => {
  const fake = new FakeMachine();
  await using server = GdbServer.listen(fake, { port: 0 });
  const client = await Raw.connect(server);
  await client.write(new Uint8Array([...frame("QStartNoAckMode"), ...frame("vCont;c")]));
  await until(() => fake.running, "the machine to run");
  await client.write("\x03");
  assert.deepEqual(payloads(await client.packets(2)), ["OK", "T02thread:1;"]);

  // A watchpoint the guest never touches, so the machine runs until the client leaves.
  await client.write(new Uint8Array([...frame("Z2,401800,4"), ...frame("vCont;c")]));
  await until(() => fake.running && fake.points.size === 1, "running with the watchpoint");
  await client.close();
  await until(() => server.session === undefined, "the session to end");
  assert.equal(fake.points.size, 0);
  assert.ok(fake.detached);
  assert.ok(fake.calls.includes("interrupt"));
  await fake.shutdown();
  assert.deepEqual(fake.violations, []);
});

Deno.test("closing the server detaches the attached client's target and disconnects it", async () => {
  const fake = new FakeMachine();
  const server = GdbServer.listen(fake, { port: 0 });
  const client = await Raw.connect(server);
  await client.write(frame("Z1,400010,4"));
  await client.packets(1);
  await server.close();
  await client.ended();
  assert.ok(fake.detached);
  assert.equal(fake.points.size, 0);
  await server.close(); // twice is fine
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
  await fake.shutdown();
});

Deno.test("a flood of junk is read and dropped; the stub answers the packet after it", async () => {
  const fake = new FakeMachine();
  await using server = GdbServer.listen(fake, { port: 0 });
  const client = await Raw.connect(server);
  const junk = new Uint8Array(1 << 20);
  for (let at = 0; at < junk.length; at += 65536) {
    crypto.getRandomValues(junk.subarray(at, at + 65536));
  }
  for (let i = 0; i < junk.length; i++) if (junk[i] === 0x24 || junk[i] === 0x2d) junk[i] = 0;
  await client.write(junk);
  await client.write(frame("qC"));
  const got = payloads(await client.packets(1));
  assert.deepEqual(got, ["QC1"]);
  assert.ok(server.session!.stats.garbageBytes > 900_000);
  await client.close();
  await until(() => server.session === undefined, "the session to end");
  await fake.shutdown();
});

Deno.test("bad options and a taken port are GdbErrors", async () => {
  const fake = new FakeMachine();
  for (const port of [-1, 65536, 1.5, NaN]) {
    assert.throws(
      () => GdbServer.listen(fake, { port }),
      (e) => e instanceof GdbError && e.code === "INVALID_ARGUMENT",
    );
  }
  assert.throws(
    () => GdbServer.listen(fake, { port: 0, hostname: "" }),
    (e) => e instanceof GdbError && e.code === "INVALID_ARGUMENT",
  );
  await using first = GdbServer.listen(fake, { port: 0 });
  assert.throws(
    () => GdbServer.listen(fake, { port: first.addr.port }),
    (e) =>
      e instanceof GdbError && e.code === "LISTEN_FAILED" &&
      e.message.includes(`127.0.0.1:${first.addr.port}`),
  );
});

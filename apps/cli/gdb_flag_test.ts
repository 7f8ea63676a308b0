import assert from "node:assert/strict";
import { type CliHost, EXIT, runCli } from "./cli.ts";
import { CliError } from "./errors.ts";
import { parseGdbFlag } from "./gdb_flag.ts";

function host() {
  const err: string[] = [];
  const h: CliHost = {
    interactive: false,
    setRaw: () => {},
    read: () => new Promise(() => {}),
    message: () => {},
    stdout: () => {},
    stderr: (line) => err.push(line),
    readFile: (path) => Promise.reject(new Deno.errors.NotFound(path)),
  };
  return { h, err };
}

Deno.test("--gdb: PORT, HOST:PORT, :PORT and [IPv6]:PORT", () => {
  assert.deepEqual(parseGdbFlag("1234", false), { host: "127.0.0.1", port: 1234, wait: false });
  assert.deepEqual(parseGdbFlag(":0", true), { host: "127.0.0.1", port: 0, wait: true });
  assert.deepEqual(parseGdbFlag("0.0.0.0:65535", false), {
    host: "0.0.0.0",
    port: 65535,
    wait: false,
  });
  assert.deepEqual(parseGdbFlag("localhost:1234", false)?.host, "localhost");
  assert.deepEqual(parseGdbFlag("[::1]:1234", false), { host: "::1", port: 1234, wait: false });
  assert.equal(parseGdbFlag(undefined, false), undefined);
});

Deno.test("--gdb: bad values and --gdb-wait alone are usage errors", () => {
  for (
    const bad of ["", "x", "65536", "-1", "12.5", "host:", "a b:1", "::1:1234", "1:2:3", "123456"]
  ) {
    assert.throws(() => parseGdbFlag(bad, false), (e: unknown) => {
      assert.ok(e instanceof CliError && e.code === "USAGE", String(e));
      assert.match((e as Error).message, /^--gdb: expected \[HOST:\]PORT, got /);
      return true;
    }, bad);
  }
  assert.throws(() => parseGdbFlag(undefined, true), /--gdb-wait needs --gdb/);
});

Deno.test("vmkit run/demo --gdb: a bad value or a port that cannot be listened on is one line, exit 2", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  for (
    const [args, pattern] of [
      [["demo", "--gdb", "70000"], /--gdb: expected \[HOST:\]PORT, got "70000"/],
      [["run", "-k", "k", "--gdb", "nope"], /--gdb: expected/],
      [["demo", "--gdb-wait"], /--gdb-wait needs --gdb/],
      [["demo", "--gdb"], /--gdb/],
      [["demo", "--gdb", `127.0.0.1:${taken.addr.port}`], /gdb: cannot listen on 127\.0\.0\.1:\d+/],
    ] as const
  ) {
    const t = host();
    assert.equal(await runCli(t.h, [...args]), EXIT.BAD_INPUT, args.join(" "));
    assert.equal(t.err.length, 1, `${args.join(" ")}: ${t.err.join("\n")}`);
    assert.match(t.err[0], pattern);
  }
});

import assert from "node:assert/strict";
import { type CliHost, EXIT, runCli } from "./cli.ts";

function host(files: Record<string, Uint8Array> = {}) {
  let out = "";
  const err: string[] = [];
  const h: CliHost = {
    interactive: false,
    setRaw: () => {},
    read: () => new Promise(() => {}), // no input
    message: () => {},
    stdout: (b) => out += new TextDecoder().decode(b),
    stderr: (line) => err.push(line),
    readFile: (path) => {
      const f = files[path];
      return f ? Promise.resolve(f) : Promise.reject(new Deno.errors.NotFound(path));
    },
  };
  return { h, out: () => out, err };
}

Deno.test("cli: no command prints the usage and fails; help succeeds", async () => {
  const a = host();
  assert.equal(await runCli(a.h, []), EXIT.BAD_INPUT);
  assert.match(a.out(), /Usage:/);
  const b = host();
  assert.equal(await runCli(b.h, ["help", "demo"]), EXIT.OK);
  assert.match(b.out(), /vmkit demo/);
});

Deno.test("cli: bad input is one line and status 2", async () => {
  for (
    const [args, pattern] of [
      [["run"], /--kernel FILE is required/],
      [["run", "-k", "missing"], /cannot read the kernel "missing": no such file/],
      [["run", "-k", "k", "--smp", "two"], /--smp/],
      [["run", "-k", "k", "--timeout", "-1"], /--timeout/],
      [["demo", "--bogus"], /bogus/],
      [["frob"], /unknown command "frob"/],
    ] as const
  ) {
    const t = host({ k: new Uint8Array(10) });
    assert.equal(await runCli(t.h, [...args]), EXIT.BAD_INPUT, args.join(" "));
    assert.equal(t.err.length, 1, args.join(" "));
    assert.match(t.err[0], pattern);
  }
});

Deno.test("cli: a kernel that is not an Image is refused before anything runs", async () => {
  const t = host({ k: new Uint8Array(4096) });
  assert.equal(await runCli(t.h, ["run", "-k", "k"]), EXIT.BAD_INPUT);
  assert.match(t.err[0], /^vmkit: cannot load the kernel: .*magic/);
});

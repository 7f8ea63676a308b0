import assert from "node:assert/strict";
import { type CliHost, EXIT, runCli } from "./cli.ts";
import { slowEngineWarning, VMKIT_VERSION } from "./version.ts";

function capture() {
  let out = "";
  const err: string[] = [];
  const host: CliHost = {
    interactive: false,
    setRaw: () => {},
    read: () => new Promise(() => {}),
    message: () => {},
    stdout: (b) => out += new TextDecoder().decode(b),
    stderr: (line) => err.push(line),
    readFile: (path) => Promise.reject(new Deno.errors.NotFound(path)),
  };
  return { host, out: () => out, err };
}

/** Asks the library file itself, bypassing VMKit's loader. */
function ucVersion(path: string): string {
  const lib = Deno.dlopen(path, {
    uc_version: { parameters: ["pointer", "pointer"], result: "u32" },
  });
  try {
    const v = lib.symbols.uc_version(null, null);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}`;
  } finally {
    lib.close();
  }
}

const config = JSON.parse(await Deno.readTextFile(new URL("./deno.json", import.meta.url)));

Deno.test("version: prints VMKit's, Deno's and the engine's versions, the engine's from its own uc_version", async () => {
  const t = capture();
  assert.equal(await runCli(t.host, ["version"]), EXIT.OK, t.err.join("\n"));
  const lines = t.out().trimEnd().split("\n");
  assert.equal(lines.length, 3, t.out());
  assert.equal(lines[0], `vmkit ${config.version}`);
  assert.equal(VMKIT_VERSION, config.version);
  assert.equal(lines[1], `deno ${Deno.version.deno}`);
  const m = /^unicorn (\d+\.\d+\.\d+) (\S+)/.exec(lines[2]);
  assert.ok(m, lines[2]);
  const [, printed, path] = m;
  assert.equal(printed, ucVersion(path), `the version printed for ${path}`);
  // The warning, exactly when the engine is older than 2.1.
  const [major, minor, patch] = printed.split(".").map(Number);
  const old = major < 2 || (major === 2 && minor < 1);
  assert.deepEqual(t.err, old ? [`vmkit: ${slowEngineWarning({ major, minor, patch })}`] : []);
  if (old) assert.match(t.err[0], new RegExp(`Unicorn ${printed} is older than 2\\.1`));

  const dashed = capture();
  assert.equal(await runCli(dashed.host, ["--version"]), EXIT.OK);
  assert.equal(dashed.out(), t.out());
});

Deno.test("version: slowEngineWarning draws the line at 2.1", () => {
  assert.match(slowEngineWarning({ major: 2, minor: 0, patch: 1 }) ?? "", /2\.0\.1 is older/);
  assert.match(slowEngineWarning({ major: 2, minor: 0, patch: 9 }) ?? "", /slow path/);
  assert.equal(slowEngineWarning({ major: 2, minor: 1, patch: 0 }), undefined);
  assert.equal(slowEngineWarning({ major: 2, minor: 1, patch: 4 }), undefined);
  assert.equal(slowEngineWarning({ major: 3, minor: 0, patch: 0 }), undefined);
});

Deno.test("version: an engine that cannot be loaded still prints the rest, one line why and status 1", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      new URL("./main.ts", import.meta.url).pathname,
      "version",
    ],
    env: { VMKIT_UNICORN_PATH: "/nonexistent/libunicorn.so.2" },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr).trimEnd().split("\n");
  assert.equal(out.code, EXIT.FAILED);
  assert.equal(stdout, `vmkit ${config.version}\ndeno ${Deno.version.deno}\n`);
  assert.equal(stderr.length, 1, stderr.join("\n"));
  assert.match(stderr[0], /^vmkit: .*\/nonexistent\/libunicorn\.so\.2.*VMKIT_UNICORN_PATH/);
});

Deno.test("version: listed in the help, with a help of its own", async () => {
  const t = capture();
  assert.equal(await runCli(t.host, ["help"]), EXIT.OK);
  assert.match(t.out(), /vmkit version +versions of VMKit, Deno and the Unicorn engine/);
  const h = capture();
  assert.equal(await runCli(h.host, ["version", "--help"]), EXIT.OK);
  assert.match(h.out(), /Usage: vmkit version/);
  const bad = capture();
  assert.equal(await runCli(bad.host, ["version", "--bogus"]), EXIT.BAD_INPUT);
  assert.equal(bad.err.length, 1);
});

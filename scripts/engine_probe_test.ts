import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";

const PROBE = new URL("./engine_probe.ts", import.meta.url).pathname;

async function probe(...names: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", PROBE, ...names],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("engine_probe: reports the version the library itself reports, after names that do not load", async () => {
  using library = UnicornLibrary.open();
  const notALibrary = new URL(import.meta.url).pathname;
  const r = await probe("/nonexistent/libunicorn.so.2", notALibrary, library.path);
  assert.equal(r.code, 0, r.stderr);
  const [version, path] = r.stdout.trimEnd().split(" ");
  assert.equal(version, library.versionString);
  // Symlinks followed: the file itself.
  assert.equal(path, library.path.includes("/") ? Deno.realPathSync(library.path) : library.path);
});

Deno.test("engine_probe: nothing loads: one line per name and status 1", async () => {
  const notALibrary = new URL(import.meta.url).pathname;
  const r = await probe("/nonexistent/libunicorn.so.2", notALibrary);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /^\/nonexistent\/libunicorn\.so\.2: cannot open shared object file/);
  assert.match(lines[1], new RegExp(`^${notALibrary.replaceAll(".", "\\.")}: `));
});

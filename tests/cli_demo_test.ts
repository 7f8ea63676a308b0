/**
 * The README's first command, end to end: `vmkit demo` as a separate
 * process boots the committed demo guest, which prints its report and powers
 * off, and the command exits 0.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { assertDemoOutput, DEMO_TICKS } from "../apps/cli/testdata/demo_output.ts";
import { ROOT } from "./helpers/assets.ts";
import { runVmkit } from "./helpers/cli.ts";

function assertPoweredOff(stderr: string) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  assert.equal(lines.length, 1, `expected one status line, got:\n${stderr}`);
  assert.match(lines[0], /^vmkit: the guest powered off after [\d.]+ s/);
}

Deno.test("vmkit demo: the demo guest reports what it saw and powers off, exit 0", async () => {
  const result = await runVmkit(["demo"], 60_000);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(assertDemoOutput(result.stdout).length, DEMO_TICKS);
  assert.match(result.stdout, /\r\n/, "newlines reach the terminal as CR LF (raw mode)");
  assertPoweredOff(result.stderr);
});

Deno.test("vmkit demo: --clock virtual and --quiet", async () => {
  const result = await runVmkit(["demo", "--clock", "virtual", "--quiet"], 60_000);
  assert.equal(result.code, 0, result.stderr);
  assertDemoOutput(result.stdout);
  assert.equal(result.stderr, "", "--quiet leaves only the guest console");
});

Deno.test("./vmkit demo: the README's command itself", async () => {
  // The script looks for a Deno on PATH before installing one; offer it the
  // one running these tests.
  const path = `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`;
  const out = await new Deno.Command("sh", {
    args: [`${ROOT}vmkit`, "demo"],
    cwd: ROOT,
    env: { PATH: path },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assertDemoOutput(new TextDecoder().decode(out.stdout));
  assertPoweredOff(stderr);
});

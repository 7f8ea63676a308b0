/**
 * A short pass of every fuzz target with a fixed seed (a longer one is `deno task fuzz`), and
 * planted bugs showing that the engine finds, saves and replays each kind of finding.
 */
import assert from "node:assert/strict";
import { runFuzz } from "./engine.ts";
import { assetsRequired } from "../testing/requirements.ts";
import { TARGET_NAMES } from "./targets/mod.ts";
import { fromHex } from "./target.ts";
import { TRIGGER } from "./testdata/planted.ts";

const SECONDS = 2;
const SEED = 20240601;
const required = assetsRequired();
const planted = new URL("./testdata/planted.ts", import.meta.url).href;

for (const name of TARGET_NAMES) {
  Deno.test(`fuzz ${name}: ${SECONDS} s with seed ${SEED} finds nothing`, async () => {
    const report = await runFuzz({ targets: [name], secondsPerTarget: SECONDS, seed: SEED });
    const [target] = report.targets;
    for (const note of target.notes) console.warn(`fuzz ${name}: ${note}`);
    if (required) assert.deepEqual(target.notes.filter((n) => /missing/.test(n)), []);
    assert.deepEqual(
      report.findings.map((f) => `${f.kind}: ${f.error.split("\n")[0]} (input in ${f.file})`),
      [],
    );
    assert.ok(target.seeds > 0, "the target has seeds");
    assert.ok(target.runs > target.seeds, `ran ${target.runs} inputs`);
    // Some inputs get through every check: the fuzzer reaches past the first error.
    assert.ok(
      Object.keys(target.outcomes).some((o) => /\bok\b|delivered true/.test(o)),
      `no input succeeded: ${Object.keys(target.outcomes).join("; ")}`,
    );
  });
}

for (const kind of ["throw", "invariant"] as const) {
  Deno.test(`fuzz engine: a planted ${kind} is found, saved as hex and replayable`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const report = await runFuzz({
        targets: [`planted-${kind}`],
        secondsPerTarget: 10,
        maxRuns: 20_000,
        seed: 7,
        reportDir: dir,
        module: planted,
      });
      assert.equal(report.findings.length, 1, "one distinct finding, however often it is hit");
      const [f] = report.findings;
      assert.equal(f.kind, kind === "throw" ? "exception" : "invariant");
      assert.match(f.error, /planted/);
      assert.ok(f.input.includes(TRIGGER));
      assert.deepEqual(fromHex(await Deno.readTextFile(f.file)), f.input);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("fuzz engine: an input past the time bound is a hang, confirmed and saved", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const report = await runFuzz({
      targets: ["planted-hang"],
      secondsPerTarget: 1,
      maxRuns: 20_000,
      seed: 7,
      timeoutMs: 300,
      reportDir: dir,
      module: planted,
    });
    assert.equal(report.findings.length, 1);
    const [f] = report.findings;
    assert.equal(f.kind, "hang");
    assert.ok(f.input.includes(TRIGGER));
    assert.deepEqual(fromHex(await Deno.readTextFile(f.file)), f.input);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz engine: one seed gives the same inputs, so a run can be repeated", async () => {
  const run = () => runFuzz({ targets: ["fdt"], secondsPerTarget: 30, maxRuns: 3000, seed: SEED });
  const [a, b] = [await run(), await run()];
  assert.equal(a.targets[0].runs, 3000);
  assert.deepEqual(a.targets[0].outcomes, b.targets[0].outcomes);
});

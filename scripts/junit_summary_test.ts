import assert from "node:assert/strict";
import { reportLabel } from "./junit_summary.ts";

const SCRIPT = new URL("./junit_summary.ts", import.meta.url).pathname;

/** Runs real tests with `deno test --junit-path` and returns the report's path. */
async function realReport(dir: string, name: string, source: string): Promise<string> {
  const test = `${dir}/${name}_test.ts`;
  await Deno.writeTextFile(test, source);
  const report = `${dir}/${name}.xml`;
  await new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-config", "--no-check", `--junit-path=${report}`, `${name}_test.ts`],
    cwd: dir,
    stdout: "null",
    stderr: "null",
  }).output();
  return report;
}

async function summarise(...args: string[]): Promise<{ code: number; lines: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, lines: new TextDecoder().decode(out.stdout).trimEnd().split("\n") };
}

Deno.test("junit_summary: sums several real deno reports, labels the second run's failures, ends with N passed, N failed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vmkit-junit-" });
  try {
    const first = await realReport(
      dir,
      "junit",
      `Deno.test("adds", () => {});
       Deno.test("says it's fine", () => {});
       Deno.test({ name: "needs a tool", ignore: true, fn() {} });`,
    );
    const second = await realReport(
      dir,
      "junit-unicorn-2.0.1",
      `Deno.test("boots", () => {});
       Deno.test("a <store> & a \\"load\\"", () => { throw new Error("no"); });`,
    );
    const { code, lines } = await summarise(first, second, "--extra-passed", "1");
    assert.equal(code, 1);
    assert.equal(lines.at(-1), "4 passed, 1 failed");
    assert.deepEqual(lines.filter((l) => l.startsWith("FAILED: ")), [
      `FAILED: [unicorn-2.0.1] ./junit-unicorn-2.0.1_test.ts > a <store> & a "load"`,
    ]);
    assert.ok(lines.includes(`report ${first}: 2 ok / 0 not ok / 1 ignored`), lines.join("\n"));

    const clean = await summarise(first);
    assert.equal(clean.code, 0);
    assert.equal(clean.lines.at(-1), "2 passed, 0 failed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("junit_summary: a missing or empty report counts as a failure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vmkit-junit-" });
  try {
    const empty = await realReport(dir, "junit-empty", `// no tests`);
    const { code, lines } = await summarise(empty, `${dir}/junit-absent.xml`);
    assert.equal(code, 1);
    assert.equal(lines.at(-1), "0 passed, 2 failed");
    assert.ok(lines.some((l) => l.includes(`no test report at ${dir}/junit-absent.xml`)));
    assert.ok(lines.some((l) => l.includes(`${empty} holds no test results`)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("junit_summary: labels come from junit-LABEL.xml", () => {
  assert.equal(reportLabel(".reports/junit.xml"), "");
  assert.equal(reportLabel(".reports/junit-unicorn-2.0.1.xml"), "unicorn-2.0.1");
  assert.equal(reportLabel("other.xml"), "");
});

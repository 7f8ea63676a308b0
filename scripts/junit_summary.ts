/**
 * Prints `N passed, N failed` from a JUnit XML report written by `deno test`.
 *
 * Usage: deno run --allow-read scripts/junit_summary.ts REPORT.xml [--extra-failed N] [--extra-passed N]
 *
 * Exits 1 when anything failed or the report is missing or empty, so CI cannot
 * mistake a run that never happened for a clean one.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    "extra-passed": { type: "string", default: "0" },
    "extra-failed": { type: "string", default: "0" },
  },
});

const path = positionals[0];
if (!path) {
  console.error("usage: junit_summary.ts REPORT.xml");
  Deno.exit(2);
}

let xml = "";
let missing = false;
try {
  xml = await Deno.readTextFile(path);
} catch (e) {
  console.error(`no test report at ${path}: ${(e as Error).message}`);
  missing = true;
}

let passed = 0;
let failed = 0;
let ignored = 0;
const failedNames: string[] = [];
// deno's report is flat: <testcase ...>(<failure/>|<skipped/>)?</testcase> or self-closing.
const caseRe = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
for (const m of xml.matchAll(caseRe)) {
  const body = m[3] ?? "";
  if (/<failure\b|<error\b/.test(body)) {
    failed++;
    const name = /name="([^"]*)"/.exec(m[1])?.[1] ?? "?";
    const file = /classname="([^"]*)"/.exec(m[1])?.[1] ?? "";
    failedNames.push(`${file} > ${name}`);
  } else if (/<skipped\b/.test(body)) {
    ignored++;
  } else {
    passed++;
  }
}
passed += Number(values["extra-passed"]);
failed += Number(values["extra-failed"]);

for (const n of failedNames) console.log(`FAILED: ${n}`);
if (ignored > 0) console.log(`${ignored} ignored`);
// A run that produced no report, or a report without tests, never passes.
if (
  missing || passed + failed === Number(values["extra-passed"]) + Number(values["extra-failed"])
) {
  console.log("the test run produced no results");
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);

/**
 * Prints `N passed, N failed` from one or more JUnit XML reports written by
 * `deno test`, as the last line. Failed tests are listed first, each prefixed
 * with its report's label when it has one: `junit-unicorn-2.0.1.xml` is
 * labelled `unicorn-2.0.1` (the name after `junit-`), `junit.xml` is not.
 *
 * Usage: deno run --allow-read scripts/junit_summary.ts REPORT.xml... [--extra-failed N] [--extra-passed N]
 *
 * Exits 1 when anything failed or any report is missing or holds no tests,
 * so CI cannot mistake a run that never happened for a clean one.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One report's counts. */
export interface ReportSummary {
  /** The report's path. */
  readonly path: string;
  /** The label its failures are prefixed with ("" for none). */
  readonly label: string;
  readonly passed: number;
  readonly failed: number;
  readonly ignored: number;
  /** `[label] file > test name` for each failed test. */
  readonly failedNames: readonly string[];
  /** Why the report does not count as a run, when it does not. */
  readonly problem?: string;
}

/** The label of a report file: `junit-X.xml` gives `X`, anything else none. */
export function reportLabel(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return /^junit-(.+)\.xml$/.exec(base)?.[1] ?? "";
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#x[0-9a-f]+|#\d+);/gi, (_, e: string) => {
    switch (e.toLowerCase()) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
      case "amp":
        return "&";
    }
    return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/** Counts one report's test cases; `xml` undefined means the file could not be read. */
export function summariseReport(path: string, xml: string | undefined): ReportSummary {
  const label = reportLabel(path);
  const prefix = label ? `[${label}] ` : "";
  let passed = 0;
  let failed = 0;
  let ignored = 0;
  const failedNames: string[] = [];
  // deno's report is flat: <testcase ...>(<failure/>|<skipped/>)?</testcase> or self-closing.
  const caseRe = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of (xml ?? "").matchAll(caseRe)) {
    const body = m[3] ?? "";
    if (/<failure\b|<error\b/.test(body)) {
      failed++;
      const name = unescapeXml(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "?");
      const file = unescapeXml(/\bclassname="([^"]*)"/.exec(m[1])?.[1] ?? "");
      failedNames.push(`${prefix}${file} > ${name}`);
    } else if (/<skipped\b/.test(body)) {
      ignored++;
    } else {
      passed++;
    }
  }
  const problem = xml === undefined
    ? `no test report at ${path}`
    : passed + failed === 0
    ? `${path} holds no test results`
    : undefined;
  return { path, label, passed, failed, ignored, failedNames, problem };
}

/** The lines to print for several reports plus extra counts; the last is `N passed, N failed`. */
export function summaryLines(
  reports: readonly ReportSummary[],
  extraPassed = 0,
  extraFailed = 0,
): { lines: string[]; failed: number } {
  const lines: string[] = [];
  let passed = extraPassed;
  let failed = extraFailed;
  for (const r of reports) {
    lines.push(...r.failedNames.map((n) => `FAILED: ${n}`));
    passed += r.passed;
    failed += r.failed;
  }
  for (const r of reports) {
    const what = r.label ? `${r.path} (${r.label})` : r.path;
    lines.push(`report ${what}: ${r.passed} ok / ${r.failed} not ok / ${r.ignored} ignored`);
    // A run that produced no report, or a report without tests, never passes.
    if (r.problem) {
      lines.push(`the test run produced no results: ${r.problem}`);
      failed++;
    }
  }
  if (reports.length === 0) {
    lines.push("the test run produced no results: no report given");
    failed++;
  }
  lines.push(`${passed} passed, ${failed} failed`);
  return { lines, failed };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "extra-passed": { type: "string", default: "0" },
      "extra-failed": { type: "string", default: "0" },
    },
  });
  if (positionals.length === 0) {
    console.error("usage: junit_summary.ts REPORT.xml... [--extra-passed N] [--extra-failed N]");
    Deno.exit(2);
  }
  const reports = positionals.map((path) => {
    let xml: string | undefined;
    try {
      xml = Deno.readTextFileSync(path);
    } catch {
      xml = undefined;
    }
    return summariseReport(path, xml);
  });
  const { lines, failed } = summaryLines(
    reports,
    Number(values["extra-passed"]),
    Number(values["extra-failed"]),
  );
  for (const line of lines) console.log(line);
  Deno.exit(failed > 0 ? 1 : 0);
}

/**
 * Runs a bare-metal program that reports on the console (`guests/lib/
 * report_console.c`) on two machines: VMKit (`vmkit run --kernel`) and the
 * reference, QEMU's virt board with the same CPU model, and reads what each
 * reported, so a test can require the same verdicts and values from both.
 *
 * @module
 */

import assert from "node:assert/strict";
import { toolRequirement } from "../../testing/requirements.ts";
import { runVmkit } from "./cli.ts";

/** `qemu-system-aarch64`, the reference machine. */
export const qemu = toolRequirement(
  "qemu-system-aarch64",
  "sudo apt-get install --no-install-recommends qemu-system-arm",
);

/** One check as the program reported it. */
export interface ReportedCheck {
  readonly passed: boolean;
  /** The line, for messages. */
  readonly line: string;
}

/** Everything a program reported, and how its machine ended. */
export interface Report {
  /** Checks by name, in the order reported. */
  readonly checks: Map<string, ReportedCheck>;
  /** Notes by name. */
  readonly notes: Map<string, bigint>;
  /** The final counts, when the program got there. */
  readonly done: { passed: number; failed: number } | undefined;
  /** The machine's exit status. */
  readonly code: number;
  /** The console. */
  readonly stdout: string;
  /** The host's messages. */
  readonly stderr: string;
}

/** Reads the console lines of `report_console.c`. */
export function parseReport(stdout: string, stderr = "", code = 0): Report {
  const checks = new Map<string, ReportedCheck>();
  const notes = new Map<string, bigint>();
  let done: Report["done"];
  for (const line of stdout.split(/\r?\n/)) {
    let m = /^check (.*): (pass|FAIL observed 0x[0-9a-f]+ expected 0x[0-9a-f]+)$/.exec(line);
    if (m) {
      assert.ok(!checks.has(m[1]), `check "${m[1]}" reported twice`);
      checks.set(m[1], { passed: m[2] === "pass", line });
      continue;
    }
    m = /^note (.*): (0x[0-9a-f]+)$/.exec(line);
    if (m) {
      notes.set(m[1], BigInt(m[2]));
      continue;
    }
    m = /^done: (\d+) passed, (\d+) failed$/.exec(line);
    if (m) done = { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return { checks, notes, done, code, stdout, stderr };
}

/** Runs `program` on VMKit with `--mem 128M` and `args`. */
export async function runOnVmkit(program: string, args: string[] = []): Promise<Report> {
  const r = await runVmkit(
    ["run", "--kernel", program, "--mem", "128M", "--timeout", "120", ...args],
    180_000,
  );
  return parseReport(r.stdout, r.stderr, r.code);
}

/** Runs `program` on QEMU 7.2's virt board, `-cpu cortex-a72 -m 128M`, plus `args`. */
export async function runOnQemu(program: string, args: string[] = []): Promise<Report> {
  const child = new Deno.Command("qemu-system-aarch64", {
    args: [
      ...["-M", "virt", "-cpu", "cortex-a72", "-m", "128M", "-nographic", "-nic", "none"],
      ...["-no-reboot", "-kernel", program, ...args],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return parseReport(decode(out.stdout), decode(out.stderr), out.code);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts that a run finished with every check passed. */
export function assertAllPassed(machine: string, report: Report): void {
  const failed = [...report.checks.values()].filter((c) => !c.passed).map((c) => c.line);
  assert.deepEqual(failed, [], `${machine}: failed checks\n${report.stdout.slice(-3000)}`);
  assert.ok(
    report.done,
    `${machine} did not finish (exit ${report.code}):\n${report.stderr}\n${
      report.stdout.slice(-3000)
    }`,
  );
  assert.deepEqual(report.done, { passed: report.checks.size, failed: 0 }, `${machine}: counts`);
  assert.equal(report.code, 0, `${machine} exit status; stderr: ${report.stderr}`);
}

/**
 * Asserts that both machines passed every check and reported the same
 * checks, in the same order.
 */
export function assertSameVerdicts(vmkit: Report, reference: Report): void {
  assertAllPassed("QEMU", reference);
  assertAllPassed("VMKit", vmkit);
  assert.deepEqual([...vmkit.checks.keys()], [...reference.checks.keys()], "the checks reported");
}

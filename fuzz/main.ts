/**
 * `deno task fuzz`: feeds random and mutated inputs to the device-tree parser, the kernel loader,
 * the GIC and the PL011, and fails on any exception that is not the package's typed error, any
 * broken invariant, and any input that runs for more than the time bound.
 *
 * ```
 * deno task fuzz [--seconds N] [--seed S] [--target fdt,gic] [--timeout-ms M] [--runs N]
 * deno task fuzz --replay .reports/fuzz/fdt-exception-1234abcd.hex
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runFuzz } from "./engine.ts";
import { TARGET_NAMES } from "./targets/mod.ts";
import { fromHex } from "./target.ts";

const USAGE = `usage: deno task fuzz [options]
  --seconds N      total time, split evenly between the targets (default 60)
  --seed S         seed (default: a random one, printed) to repeat a run
  --target LIST    comma-separated targets (default: all): ${TARGET_NAMES.join(", ")}
  --timeout-ms M   an input running longer is a finding (default 1000)
  --runs N         stop each target after N inputs
  --replay FILE    run one saved input (a .hex file from .reports/fuzz/) and show what it does`;

function fail(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  Deno.exit(2);
}

function number(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) fail(`${what} must be a non-negative number, got ${text}`);
  return n;
}

async function replay(file: string, target: string | undefined, timeoutMs: number): Promise<never> {
  const name = target ?? TARGET_NAMES.find((n) => file.split("/").pop()!.startsWith(`${n}-`));
  if (name === undefined) fail(`cannot tell the target from ${file}: pass --target`);
  const input = fromHex(Deno.readTextFileSync(file));
  const { createTarget } = await import("./targets/mod.ts");
  const root = new URL("../", import.meta.url).href;
  const guestDir = Deno.env.get("VMKIT_GUEST_DIR") ??
    decodeURIComponent(new URL(".cache/guests", root).pathname);
  const t = createTarget(name, { root, guestDir, notes: [] });
  console.log(`replaying ${input.length} bytes on ${name} (time bound ${timeoutMs} ms)`);
  const started = performance.now();
  try {
    const label = await t.run(input);
    console.log(`outcome: ${label} (${(performance.now() - started).toFixed(1)} ms)`);
    Deno.exit(0);
  } catch (e) {
    console.log(`finding after ${(performance.now() - started).toFixed(1)} ms:`);
    console.log(e instanceof Error ? e.stack : String(e));
    Deno.exit(1);
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        seconds: { type: "string" },
        seed: { type: "string" },
        target: { type: "string" },
        "timeout-ms": { type: "string" },
        runs: { type: "string" },
        replay: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const timeoutMs = number(v["timeout-ms"], "--timeout-ms", 1000);
  if (v.replay !== undefined) await replay(v.replay, v.target, timeoutMs);
  const targets = v.target === undefined ? [...TARGET_NAMES] : v.target.split(",");
  for (const t of targets) if (!TARGET_NAMES.includes(t)) fail(`no target ${JSON.stringify(t)}`);
  const seconds = number(v.seconds, "--seconds", 60);
  const seed = v.seed === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : number(v.seed, "--seed", 0) >>> 0;
  const runs = v.runs === undefined ? undefined : number(v.runs, "--runs", 0);
  console.log(
    `fuzz: seed ${seed}, ${seconds} s over ${
      targets.join(", ")
    }, inputs over ${timeoutMs} ms are hangs`,
  );
  const started = performance.now();
  const report = await runFuzz({
    targets,
    secondsPerTarget: seconds / targets.length,
    seed,
    timeoutMs,
    maxRuns: runs,
    log: (line) => console.log(line),
  });
  const total = report.targets.reduce((n, t) => n + t.runs, 0);
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    `fuzz: ${total} inputs in ${
      elapsed.toFixed(1)
    } s, ${report.findings.length} findings (seed ${seed})`,
  );
  if (report.findings.length > 0) Deno.exit(1);
}

await main();

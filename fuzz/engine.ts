/**
 * Runs fuzz targets, each in a worker inside a child process, with a time budget, a seed and a per-input time bound, and saves
 * each distinct finding (an unexpected exception, a broken invariant, an input that runs past the
 * bound) as a hex file.
 *
 * @module
 */

import { deriveSeed, hashString } from "./rng.ts";
import type { RunnerMessage, RunnerRequest } from "./runner.ts";
import { findingSignature, fromHex, hexDump, toHex } from "./target.ts";
import type { WorkerDone } from "./worker.ts";

/** Where the targets live unless a test substitutes its own. */
const DEFAULT_MODULE = new URL("./targets/mod.ts", import.meta.url).href;
const ROOT = new URL("../", import.meta.url);
const RUNNER = decodeURIComponent(new URL("./runner.ts", import.meta.url).pathname);

/** How to run. */
export interface FuzzOptions {
  /** Target names. */
  readonly targets: readonly string[];
  /** Time for each target, in seconds. */
  readonly secondsPerTarget: number;
  /** Seed of the whole run; each target derives its own from it and its name. */
  readonly seed: number;
  /** An input running longer than this is a finding (a hang), confirmed by a second run. */
  readonly timeoutMs?: number;
  /** Stop a target after this many inputs even if time is left. */
  readonly maxRuns?: number;
  /** Where findings are saved. */
  readonly reportDir?: string;
  /** Module exporting `createTarget(name, context)`; tests plant targets with known bugs. */
  readonly module?: string;
  /** Progress lines; nothing is printed without it. */
  readonly log?: (line: string) => void;
}

/** One distinct finding. */
export interface Finding {
  readonly target: string;
  readonly kind: "exception" | "invariant" | "hang";
  readonly signature: string;
  readonly error: string;
  readonly input: Uint8Array;
  /** The saved hex file. */
  readonly file: string;
}

/** What one target did. */
export interface TargetReport {
  readonly name: string;
  readonly runs: number;
  readonly seconds: number;
  readonly seeds: number;
  readonly corpus: number;
  readonly outcomes: Record<string, number>;
  readonly findings: Finding[];
  readonly notes: string[];
}

/** What the whole run did. */
export interface FuzzReport {
  readonly seed: number;
  readonly targets: TargetReport[];
  readonly findings: Finding[];
}

type ChildResult =
  | { readonly type: "done"; readonly done: WorkerDone }
  | { readonly type: "hang"; readonly input: Uint8Array; readonly ms: number }
  | { readonly type: "crash"; readonly input: Uint8Array; readonly error: string };

function guestDir(): string {
  return Deno.env.get("VMKIT_GUEST_DIR") ??
    decodeURIComponent(new URL(".cache/guests", ROOT).pathname);
}

/**
 * Runs one target in a child process (see runner.ts) until it is done, an input runs past the
 * time bound, or it dies.
 */
async function runChild(
  request: Omit<RunnerRequest, "root" | "guestDir">,
  onFinding: (f: Omit<Finding, "target" | "file">) => void,
): Promise<ChildResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-env", RUNNER],
    cwd: decodeURIComponent(ROOT.pathname),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify({ ...request, root: ROOT.href, guestDir: guestDir() })),
  );
  await writer.close();
  // A child that stops talking (it should not: it bounds every input itself) is killed.
  const watchdog = setTimeout(
    () => child.kill("SIGKILL"),
    request.durationMs + 10 * request.timeoutMs + 30_000,
  );
  const stderr = new Response(child.stderr).text();
  let result: ChildResult | undefined;
  let pending = "";
  const handle = (line: string): void => {
    if (line.trim() === "") return;
    const m = JSON.parse(line) as RunnerMessage;
    if (m.type === "finding") {
      onFinding({ kind: m.kind, signature: m.signature, error: m.error, input: fromHex(m.input) });
    } else if (m.type === "done") result = m;
    else result = { ...m, input: fromHex(m.input) };
  };
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) handle(line);
  }
  handle(pending);
  const status = await child.status;
  clearTimeout(watchdog);
  const errors = (await stderr).trim();
  if (result !== undefined) return result;
  // The whole process died (a V8 heap limit aborts it): the input is lost, the seed is not.
  return {
    type: "crash",
    input: new Uint8Array(0),
    error: `fuzz process died (exit ${status.code}${
      status.signal === null ? "" : `, ${status.signal}`
    }); the input was lost, rerun with the seed\n${errors.split("\n").slice(-20).join("\n")}`,
  };
}

function save(dir: string, finding: Omit<Finding, "file">, seed: number): string {
  Deno.mkdirSync(dir, { recursive: true });
  const id = hashString(finding.signature).toString(16).padStart(8, "0");
  const file = `${dir}/${finding.target}-${finding.kind}-${id}.hex`;
  const hex = Array.from(finding.input, (b) => b.toString(16).padStart(2, "0")).join("");
  const lines = [
    `# target: ${finding.target}`,
    `# kind: ${finding.kind}`,
    `# run seed: ${seed}`,
    `# replay: deno task fuzz --replay ${file}`,
    ...finding.error.split("\n").map((l) => `# ${l}`),
    ...(hex.match(/.{1,64}/g) ?? []),
    "",
  ];
  Deno.writeTextFileSync(file, lines.join("\n"));
  return file;
}

/** Fuzzes each target in turn and returns what happened; findings are saved as they come. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const reportDir = options.reportDir ??
    decodeURIComponent(new URL(".reports/fuzz", ROOT).pathname);
  const module = options.module ?? DEFAULT_MODULE;
  const log = options.log ?? (() => {});
  const reports: TargetReport[] = [];
  const all: Finding[] = [];

  for (const name of options.targets) {
    const started = performance.now();
    const deadline = started + options.secondsPerTarget * 1000;
    const findings: Finding[] = [];
    const known = new Set<string>();
    const outcomes: Record<string, number> = {};
    const notes: string[] = [];
    let runs = 0;
    let seeds = 0;
    let corpus = 0;
    const record = (f: Omit<Finding, "file">): void => {
      if (known.has(f.signature)) return;
      known.add(f.signature);
      const file = save(reportDir, f, options.seed);
      const finding = { ...f, file };
      findings.push(finding);
      log(`FINDING ${name} (${f.kind}): ${f.error.split("\n")[0]}`);
      log(`  input (${f.input.length} bytes) saved to ${file}`);
      log(hexDump(f.input, 256).replace(/^/gm, "  "));
    };
    const onFinding = (f: Omit<Finding, "target" | "file">): void => record({ target: name, ...f });

    for (let restart = 0;; restart++) {
      const remaining = deadline - performance.now();
      if (restart > 0 && remaining <= 0) break;
      const result = await runChild(
        {
          module,
          target: name,
          seed: deriveSeed(options.seed, name, restart),
          durationMs: Math.max(0, remaining),
          maxRuns: Math.max(0, (options.maxRuns ?? Number.MAX_SAFE_INTEGER) - runs),
          timeoutMs,
        },
        onFinding,
      );
      if (result.type === "done") {
        runs += result.done.runs;
        seeds = result.done.seeds;
        corpus = Math.max(corpus, result.done.corpus);
        for (const [k, v] of Object.entries(result.done.outcomes)) {
          outcomes[k] = (outcomes[k] ?? 0) + v;
        }
        for (const n of result.done.notes) if (!notes.includes(n)) notes.push(n);
        break;
      }
      if (result.type === "crash") {
        const error = `worker died: ${result.error}`;
        record({
          target: name,
          kind: "exception",
          signature: findingSignature("exception", error),
          error,
          input: result.input,
        });
        continue;
      }
      // A hang: confirm it with the input alone in a fresh worker, so a machine that was busy
      // for a second is not mistaken for a bug.
      const again = await runChild(
        {
          module,
          target: name,
          seed: 0,
          durationMs: 0,
          maxRuns: 1,
          timeoutMs,
          replay: toHex(result.input),
        },
        () => {},
      );
      if (again.type === "hang") {
        const error = `input ran for more than ${timeoutMs} ms, twice (first ${
          Math.round(result.ms)
        } ms)`;
        record({
          target: name,
          kind: "hang",
          signature: `hang ${name}`,
          error,
          input: result.input,
        });
      } else {
        notes.push(
          `an input took over ${timeoutMs} ms once but not on a second run (busy machine)`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const report: TargetReport = {
      name,
      runs,
      seconds,
      seeds,
      corpus,
      outcomes,
      findings,
      notes,
    };
    reports.push(report);
    all.push(...findings);
    const top = Object.entries(outcomes).sort((a, b) => b[1] - a[1]).slice(0, 4)
      .map(([k, v]) => `${k} ${v}`).join("; ");
    log(
      `${name}: ${runs} inputs in ${seconds.toFixed(1)} s (${
        Math.round(runs / Math.max(seconds, 1e-3))
      }/s), ${seeds} seeds, corpus ${corpus}, ${
        Object.keys(outcomes).length
      } outcomes, ${findings.length} findings [${top}]`,
    );
    for (const n of notes) log(`  note: ${n}`);
  }
  return { seed: options.seed, targets: reports, findings: all };
}

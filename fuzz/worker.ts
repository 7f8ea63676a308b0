/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Runs one target in a worker, so that the engine can stop it when an input hangs. Before each
 * input the worker bumps a shared counter and copies the input into shared memory: when the
 * counter stops moving, the engine knows which input hung without asking the (busy) worker.
 *
 * @module
 */

import { mutate } from "./mutate.ts";
import { Rng } from "./rng.ts";
import {
  describeError,
  findingSignature,
  type FuzzTarget,
  InvariantError,
  type SeedContext,
} from "./target.ts";

/** What the engine asks for. */
export interface WorkerRequest {
  /** URL of the module exporting `createTarget(name, context)`. */
  readonly module: string;
  readonly target: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly maxRuns: number;
  /** Run just this input (to replay a finding or confirm a hang). */
  readonly replay?: Uint8Array;
  readonly root: string;
  readonly guestDir: string;
  /** [counter, input length] as Int32, then the input bytes. */
  readonly shared: SharedArrayBuffer;
}

/** A finding, as the worker reports it. */
export interface WorkerFinding {
  readonly type: "finding";
  readonly kind: "exception" | "invariant";
  readonly signature: string;
  readonly error: string;
  readonly input: Uint8Array;
}

/** The worker's closing report. */
export interface WorkerDone {
  readonly type: "done";
  readonly runs: number;
  readonly seeds: number;
  readonly corpus: number;
  readonly outcomes: Record<string, number>;
  readonly notes: string[];
  /** The replayed input's outcome label, in replay mode. */
  readonly replayOutcome?: string;
}

/** Bytes of shared memory before the input. */
export const SHARED_HEADER = 8;
const CORPUS_LIMIT = 1024;
/** Share of inputs made from scratch rather than by mutating the corpus. */
const FRESH_SHARE = 0.05;

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const state = new Int32Array(request.shared, 0, 2);
  const window = new Uint8Array(request.shared, SHARED_HEADER);
  const notes: string[] = [];
  const context: SeedContext = { root: request.root, guestDir: request.guestDir, notes };
  const { createTarget } = await import(request.module) as {
    createTarget(name: string, context: SeedContext): FuzzTarget;
  };
  const target = createTarget(request.target, context);
  const outcomes = new Map<string, number>();
  const reported = new Set<string>();
  let runs = 0;

  async function runOne(input: Uint8Array): Promise<string | undefined> {
    const length = Math.min(input.length, window.length);
    window.set(input.subarray(0, length));
    Atomics.store(state, 1, length);
    Atomics.add(state, 0, 1);
    runs++;
    try {
      const result = target.run(input);
      const label = typeof result === "string" ? result : await result;
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      return label;
    } catch (e) {
      const kind = e instanceof InvariantError ? "invariant" : "exception";
      const error = describeError(e);
      const signature = findingSignature(kind, error);
      outcomes.set(`finding ${kind}`, (outcomes.get(`finding ${kind}`) ?? 0) + 1);
      if (!reported.has(signature)) {
        reported.add(signature);
        const finding: WorkerFinding = { type: "finding", kind, signature, error, input };
        self.postMessage(finding);
      }
      return undefined;
    }
  }

  let replayOutcome: string | undefined;
  const seeds = request.replay === undefined ? await target.seeds() : [];
  const corpus = seeds.filter((s) => s.length <= target.maxLength);
  if (request.replay !== undefined) {
    replayOutcome = await runOne(request.replay) ?? "finding";
  } else {
    const end = performance.now() + request.durationMs;
    const seen = new Set<string>();
    for (const seed of corpus) {
      const label = await runOne(seed);
      if (label !== undefined) seen.add(label);
    }
    if (corpus.length === 0) corpus.push(new Uint8Array(0));
    const rng = new Rng(request.seed);
    const options = { maxLength: target.maxLength, dictionary: target.dictionary };
    while (performance.now() < end && runs < request.maxRuns) {
      const input = rng.chance(FRESH_SHARE)
        ? rng.bytes(rng.below(Math.min(target.maxLength, 4096) + 1))
        : mutate(rng, rng.pick(corpus), rng.pick(corpus), options);
      const label = await runOne(input);
      // An outcome not seen before marks an input that got somewhere new: keep it to build on.
      if (label !== undefined && !seen.has(label)) {
        seen.add(label);
        if (corpus.length < CORPUS_LIMIT) corpus.push(input);
        else corpus[rng.below(CORPUS_LIMIT)] = input;
      }
    }
  }
  const done: WorkerDone = {
    type: "done",
    runs,
    seeds: seeds.length,
    corpus: corpus.length,
    outcomes: Object.fromEntries(outcomes),
    notes,
    replayOutcome,
  };
  self.postMessage(done);
};

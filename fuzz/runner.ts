/**
 * The child process that runs one target: it starts the worker, watches the shared counter for an
 * input that runs past the time bound, and reports findings and the result on stdout as JSON
 * lines. It then exits, which also ends a worker stuck in an endless loop: Deno's
 * `Worker.terminate()` does not stop such a worker (its thread keeps a core busy and the process
 * alive), so the engine runs every worker in a process of its own.
 *
 * @module
 */

import { fromHex, toHex } from "./target.ts";
import {
  SHARED_HEADER,
  type WorkerDone,
  type WorkerFinding,
  type WorkerRequest,
} from "./worker.ts";

/** Largest input a worker can hand over when it hangs. */
const SHARED_INPUT = 1024 * 1024;
const POLL_MS = 50;

/** What the engine sends on stdin. */
export interface RunnerRequest {
  readonly module: string;
  readonly target: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly maxRuns: number;
  readonly timeoutMs: number;
  readonly root: string;
  readonly guestDir: string;
  /** Hex of one input to run alone. */
  readonly replay?: string;
}

/** One line of the runner's output. */
export type RunnerMessage =
  | {
    readonly type: "finding";
    readonly kind: WorkerFinding["kind"];
    readonly signature: string;
    readonly error: string;
    readonly input: string;
  }
  | { readonly type: "done"; readonly done: WorkerDone }
  | { readonly type: "hang"; readonly input: string; readonly ms: number }
  | { readonly type: "crash"; readonly input: string; readonly error: string };

const encoder = new TextEncoder();

function send(message: RunnerMessage): void {
  const line = encoder.encode(JSON.stringify(message) + "\n");
  let at = 0;
  while (at < line.length) at += Deno.stdout.writeSync(line.subarray(at));
}

function run(request: RunnerRequest): Promise<void> {
  const shared = new SharedArrayBuffer(SHARED_HEADER + SHARED_INPUT);
  const state = new Int32Array(shared, 0, 2);
  const current = (): string =>
    toHex(new Uint8Array(shared, SHARED_HEADER, Atomics.load(state, 1)));
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  return new Promise<void>((resolve) => {
    let lastCount = 0;
    let lastChange = performance.now();
    const finish = (message: RunnerMessage): void => {
      clearInterval(timer);
      send(message);
      resolve();
    };
    const timer = setInterval(() => {
      const count = Atomics.load(state, 0);
      const now = performance.now();
      if (count !== lastCount) {
        lastCount = count;
        lastChange = now;
      } else if (count > 0 && now - lastChange > request.timeoutMs) {
        finish({ type: "hang", input: current(), ms: now - lastChange });
      }
    }, POLL_MS);
    worker.onmessage = (event: MessageEvent<WorkerFinding | WorkerDone>) => {
      const data = event.data;
      if (data.type === "finding") send({ ...data, input: toHex(data.input) });
      else finish({ type: "done", done: data });
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      finish({
        type: "crash",
        input: current(),
        error: `${event.message}\n    at ${event.filename}:${event.lineno}`,
      });
    };
    const message: WorkerRequest = {
      module: request.module,
      target: request.target,
      seed: request.seed,
      durationMs: request.durationMs,
      maxRuns: request.maxRuns,
      replay: request.replay === undefined ? undefined : fromHex(request.replay),
      root: request.root,
      guestDir: request.guestDir,
      shared,
    };
    worker.postMessage(message);
  });
}

if (import.meta.main) {
  const request = JSON.parse(await new Response(Deno.stdin.readable).text()) as RunnerRequest;
  await run(request);
  // Exiting the process is what stops a worker that is stuck in an endless loop.
  Deno.exit(0);
}

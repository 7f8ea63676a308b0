/**
 * Running the adversarial guests (`guests/adversarial/`) with the real
 * `vmkit` command while watching its memory, and the assertions every case
 * shares: how the host ended, and that it stayed within its memory bound.
 *
 * @module
 */

import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { type Asset, bareMetalGuest, ROOT } from "./assets.ts";
import { type CliOptions, CliProcess } from "./cli.ts";
import { findProcess, RssSampler } from "./process_watch.ts";

/** A program of the adversarial suite. */
export function adversarialGuest(name: string): Asset {
  return bareMetalGuest(`adversarial/${name}`);
}

/**
 * What a `vmkit` process may use beyond its guest's RAM. An idle VM's
 * process is about 65 MiB resident (Deno, V8, the engine); translated code
 * adds up to about 100 MiB before the vCPU empties the buffer.
 */
export const HOST_ALLOWANCE_MIB = 300;

/** Text that only a crash of the runtime or a host timer misuse prints. */
const RUNTIME_TROUBLE = ["error:", "Uncaught", "panicked", "TimeoutOverflowWarning"];

/** A `vmkit` process under watch. */
export class WatchedVmkit implements AsyncDisposable {
  readonly process: CliProcess;
  readonly rss: RssSampler;
  /** The pid of `vmkit` itself (under `script` on a terminal). */
  readonly pid: number;

  private constructor(process: CliProcess, pid: number) {
    this.process = process;
    this.pid = pid;
    this.rss = new RssSampler(pid);
  }

  /** Starts `vmkit args...` and begins sampling its RSS every 100 ms. */
  static async start(args: string[], options: CliOptions = {}): Promise<WatchedVmkit> {
    const process = new CliProcess(args, options);
    let pid: number | undefined = process.pid;
    if (options.terminal) {
      const deadline = performance.now() + 10_000;
      while ((pid = findProcess(process.pid, `${ROOT}apps/cli/main.ts`)) === undefined) {
        if (performance.now() > deadline || process.status) {
          await process[Symbol.asyncDispose]();
          throw new Error(`vmkit did not start under script:\n${process.stdout}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return new WatchedVmkit(process, pid);
  }

  /** Sends `signal` to `vmkit` itself. */
  signal(signal: Deno.Signal): void {
    Deno.kill(this.pid, signal);
  }

  /** Waits for the end (SIGKILL after `timeoutMs`); returns the status. */
  async exit(timeoutMs = 60_000): Promise<Deno.CommandStatus> {
    await this.process.exit(timeoutMs);
    this.rss.stop();
    return this.process.status!;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.rss.stop();
    if (!this.process.status) {
      try {
        Deno.kill(this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.process[Symbol.asyncDispose]();
  }
}

/** Lines of `text` without terminal escapes and carriage returns, empty ones dropped. */
export function lines(text: string): string[] {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.replace(/\r/g, "").trim())
    .filter((l) => l !== "");
}

/** Nothing on `stderr` says the runtime crashed or misused a host timer. */
export function assertNoRuntimeTrouble(stderr: string): void {
  for (const marker of RUNTIME_TROUBLE) {
    assert.ok(!stderr.includes(marker), `"${marker}" on stderr:\n${stderr.slice(-3000)}`);
  }
}

/**
 * The host ended on its own terms: not by a signal, with the expected exit
 * status, its last stderr line a `vmkit: ...` line matching `line`, and no
 * runtime trouble.
 */
export function assertHostEnded(
  status: Deno.CommandStatus,
  stderr: string,
  expected: { code: number; line: RegExp },
): void {
  const all = lines(stderr);
  const last = all.at(-1) ?? "";
  assert.equal(
    status.signal,
    null,
    `vmkit was killed by ${status.signal}:\n${stderr.slice(-3000)}`,
  );
  assertNoRuntimeTrouble(stderr);
  assert.match(
    last,
    /^vmkit: /,
    `the last stderr line is not a vmkit line:\n${stderr.slice(-3000)}`,
  );
  assert.match(last, expected.line);
  assert.equal(status.code, expected.code, `exit status; stderr:\n${stderr.slice(-3000)}`);
}

/** The peak RSS stayed within the guest's RAM plus {@link HOST_ALLOWANCE_MIB}. */
export function assertRssBound(w: WatchedVmkit, guestMiB: number): void {
  assert.ok(w.rss.samples.length > 0, "no RSS sample was taken");
  const bound = guestMiB + HOST_ALLOWANCE_MIB + flushSpikeMiB();
  assert.ok(
    w.rss.peakMiB <= bound,
    `peak RSS ${w.rss.peakMiB.toFixed(1)} MiB is over ${bound} MiB (${guestMiB} MiB of guest RAM)`,
  );
}

let engineSpike: number | undefined;

/**
 * Unicorn 2.0.x cannot size its buffer of translated code (1 GiB), and
 * emptying it zeroes all of it (QEMU's tcg_region_assign) before the vCPU
 * hands the pages back: a moment at 1 GiB more, documented in the vcpu
 * README. 2.1's buffer is 128 MiB, inside the allowance.
 */
function flushSpikeMiB(): number {
  if (engineSpike === undefined) {
    using library = UnicornLibrary.open();
    engineSpike = library.atLeast(2, 1, 0) ? 0 : 1024;
  }
  return engineSpike;
}

/** The console's `done: N passed, M failed` line, checked for N > 0 and M = 0. */
export function assertAllPassed(stdout: string): void {
  const failures = lines(stdout).filter((l) => /^check .*: FAIL/.test(l));
  assert.deepEqual(failures, [], "failed checks");
  const m = /done: (\d+) passed, (\d+) failed/.exec(stdout);
  assert.ok(m, `no "done:" line; console tail:\n${stdout.slice(-2000)}`);
  assert.ok(Number(m[1]) > 0, "no check passed");
  assert.equal(Number(m[2]), 0, m[0]);
}

/**
 * Diagnostics the guest can trigger, rate-limited per kind: a guest that
 * reboots or calls the firmware in a loop must not flood the host's stderr
 * (it once wrote 200,000 lines in under two seconds).
 *
 * @module
 */

/**
 * Options for a {@link RateLimitedLog}.
 *
 * @example
 * ```ts
 * import { RateLimitedLog, type RateLimitOptions } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let now = 0;
 * const options: RateLimitOptions = { burst: 1, windowMs: 1000, now: () => now };
 * const lines: string[] = [];
 * const log = new RateLimitedLog((line) => lines.push(line), options);
 * log.log("psci", () => "first");
 * log.log("psci", () => "second"); // suppressed
 * now = 1500; // a new window
 * log.log("psci", () => "third");
 * assert.equal(lines[0], "first");
 * assert.equal(lines.at(-1), "third");
 * ```
 */
export interface RateLimitOptions {
  /** Lines of one kind let through per window. Default 5. */
  readonly burst?: number;
  /** The window, in milliseconds. Default 10,000. */
  readonly windowMs?: number;
  /** The clock, in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

interface Kind {
  windowStart: number;
  printed: number;
  suppressed: number;
}

/**
 * Passes on at most `burst` lines of each kind per window and counts the
 * rest; the count is reported with the next line of that kind after the
 * window, or by {@link flush}.
 *
 * @example
 * ```ts
 * import { RateLimitedLog } from "@vmkit/vmm";
 *
 * const lines: string[] = [];
 * const log = new RateLimitedLog((line) => lines.push(line), { burst: 2 });
 * for (let i = 0; i < 10; i++) log.log("reboot", () => `reboot ${i}`);
 * log.flush();
 * console.log(lines); // [ "reboot 0", "reboot 1", "8 more \"reboot\" messages suppressed" ]
 * ```
 */
export class RateLimitedLog {
  readonly #sink: (line: string) => void;
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, Kind>();

  /** Lines go to `sink`. */
  constructor(sink: (line: string) => void, options: RateLimitOptions = {}) {
    this.#sink = sink;
    this.#burst = options.burst ?? 5;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Logs a line of `kind`; `message` is only built when the line is let through. */
  log(kind: string, message: () => string): void {
    const now = this.#now();
    let k = this.#kinds.get(kind);
    if (k === undefined) {
      k = { windowStart: now, printed: 0, suppressed: 0 };
      this.#kinds.set(kind, k);
    } else if (now - k.windowStart >= this.#windowMs) {
      this.#report(kind, k);
      k.windowStart = now;
      k.printed = 0;
    }
    if (k.printed >= this.#burst) {
      k.suppressed++;
      return;
    }
    k.printed++;
    this.#sink(message());
  }

  /** Reports every count of suppressed lines not reported yet. */
  flush(): void {
    for (const [kind, k] of this.#kinds) this.#report(kind, k);
  }

  #report(kind: string, k: Kind): void {
    if (k.suppressed === 0) return;
    this.#sink(`${k.suppressed} more ${JSON.stringify(kind)} messages suppressed`);
    k.suppressed = 0;
  }
}

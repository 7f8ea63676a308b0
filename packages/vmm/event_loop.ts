/**
 * Yielding to the host's event loop between slices, and sleeping while the
 * guest idles, without the clamp that chains of nested timers get.
 *
 * The run loop is synchronous between slices; it yields every few
 * milliseconds so console input, signals and timers get serviced. Node's
 * `setImmediate` (in Deno through `node:timers`) runs after the event loop's
 * I/O and timer phases and costs tens of microseconds; a MessageChannel
 * message is as cheap but starves timers and I/O for over a second, and a
 * chained `setTimeout(0)` costs milliseconds.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** How late a timer may fire; the remainder of a sleep is waited for exactly. */
const TIMER_SLACK_MS = 2;
/**
 * The longest one timer may wait: a longer delay makes the runtime warn
 * (TimeoutOverflowWarning) and fire after 1 ms instead. Longer sleeps end
 * early, and the caller sleeps again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Yields to the event loop and wakes sleepers early. One per VM. */
export class EventLoopYield implements Disposable {
  readonly #blocker = new Int32Array(new SharedArrayBuffer(4));
  #sleeper: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // Counts wake() calls, so one that lands while a sleep is being set up is
  // not lost.
  #wakeups = 0;

  /** Lets pending host events run, then resumes. */
  yield(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Sleeps up to `ms` milliseconds, or about 24 days at most (the longest
   * timer; `Infinity` sleeps that long); {@link wake} ends the sleep early.
   * A pending sleep keeps the process alive, as a timer does. Timers fire a
   * millisecond or two late, so the last stretch is a short blocking wait
   * that ends on time.
   */
  async sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return;
    ms = Math.min(ms, MAX_TIMER_MS);
    const end = performance.now() + ms;
    const wakeups = this.#wakeups;
    if (ms > TIMER_SLACK_MS) {
      let woken = false;
      // Scheduling the timer from a fresh macrotask keeps it out of any
      // nested timer chain.
      await this.yield();
      if (this.#wakeups !== wakeups) return;
      await new Promise<void>((resolve) => {
        this.#sleeper = () => {
          woken = true;
          resolve();
        };
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#sleeper = null;
          resolve();
        }, ms - TIMER_SLACK_MS);
      });
      if (woken) return;
    }
    const left = end - performance.now();
    if (left > 0) Atomics.wait(this.#blocker, 0, 0, left);
  }

  /** Ends a {@link sleep} in progress, or one about to start waiting. */
  wake(): void {
    this.#wakeups++;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const resolve = this.#sleeper;
    this.#sleeper = null;
    resolve?.();
  }

  /** Ends any sleep. */
  [Symbol.dispose](): void {
    this.wake();
  }
}

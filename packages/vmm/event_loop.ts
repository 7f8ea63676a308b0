/**
 * Waiting without blocking the host's event loop, and without the 4 ms clamp
 * browsers and Deno apply to chains of nested timers.
 *
 * The run loop is synchronous between slices; it yields every few
 * milliseconds so console input, signals and timers get serviced. A
 * MessageChannel message is a macrotask that costs tens of microseconds,
 * where `setTimeout(0)` inside a timer chain costs milliseconds.
 *
 * @module
 */

/** Yields to the event loop and wakes sleepers early. One per VM. */
export class EventLoopYield implements Disposable {
  readonly #channel = new MessageChannel();
  #pending: (() => void) | null = null;
  #sleeper: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.#channel.port1.onmessage = () => {
      const resolve = this.#pending;
      this.#pending = null;
      resolve?.();
    };
    // An idle channel must not keep the process alive.
    // deno-lint-ignore no-explicit-any
    (this.#channel.port1 as any).unref?.();
  }

  /** Lets pending host events run, then resumes. */
  yield(): Promise<void> {
    return new Promise((resolve) => {
      this.#pending = resolve;
      this.#channel.port2.postMessage(0);
    });
  }

  /**
   * Sleeps up to `ms` milliseconds (`Infinity`: until woken); {@link wake}
   * ends the sleep early. Sub-millisecond waits block briefly instead, since
   * no timer is that fine.
   */
  async sleep(ms: number): Promise<void> {
    if (ms <= 0) return;
    if (ms < 1) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return;
    }
    // Scheduling the timer from a fresh macrotask keeps it out of any nested
    // timer chain.
    await this.yield();
    await new Promise<void>((resolve) => {
      this.#sleeper = resolve;
      if (Number.isFinite(ms)) {
        this.#timer = setTimeout(() => this.wake(), ms);
      }
    });
  }

  /** Ends a {@link sleep} in progress. */
  wake(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const resolve = this.#sleeper;
    this.#sleeper = null;
    resolve?.();
  }

  /** Releases the channel. */
  [Symbol.dispose](): void {
    this.wake();
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}

/**
 * A learning bridge's forwarding table: which port each source MAC address was last seen on,
 * bounded in size and aged.
 *
 * @module
 */

/** A MAC address as one number (48 bits fit a double exactly). */
export function macKey(frame: Uint8Array, at: number): number {
  return (frame[at] * 0x100_0000 + (frame[at + 1] << 16 | frame[at + 2] << 8 | frame[at + 3])) *
      0x10000 + (frame[at + 4] << 8 | frame[at + 5]);
}

interface Entry<P> {
  port: P;
  seen: number;
}

/** The table: key → port, at most `limit` entries, each forgotten `agingMs` after last seen. */
export class MacTable<P> {
  readonly #entries = new Map<number, Entry<P>>();
  readonly #limit: number;
  readonly #agingMs: number;
  /** Entries forgotten to make room. */
  evictions = 0;

  constructor(limit: number, agingMs: number) {
    this.#limit = limit;
    this.#agingMs = agingMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `key` was seen as a source on `port` at `now`. */
  learn(key: number, port: P, now: number): void {
    const e = this.#entries.get(key);
    if (e !== undefined) {
      e.port = port;
      e.seen = now;
      return;
    }
    if (this.#entries.size >= this.#limit) {
      // Full (a guest making up source addresses): the oldest learned address goes.
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.evictions++;
    }
    this.#entries.set(key, { port, seen: now });
  }

  /** The port `key` lives on, unless unknown or aged out. */
  lookup(key: number, now: number): P | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.seen > this.#agingMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.port;
  }

  /** Forgets everything learned on `port`. */
  forget(port: P): void {
    for (const [key, e] of this.#entries) if (e.port === port) this.#entries.delete(key);
  }
}

/**
 * Attaches a guest console to the terminal: raw mode when interactive, so
 * every key (Ctrl-C included) goes to the guest, and QEMU's escape keys —
 * Ctrl-A x quits, Ctrl-A h lists the keys, Ctrl-A Ctrl-A sends a Ctrl-A.
 *
 * @module
 */

/**
 * The host side of a console.
 *
 * @example
 * ```ts
 * import { type ConsoleIo, ConsoleSession } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * let rawMode = false;
 * const messages: string[] = [];
 * const read = [new TextEncoder().encode("ls\x01x echo lost")];
 * const io: ConsoleIo = {
 *   interactive: true, // a terminal: raw mode, escape keys
 *   setRaw: (raw) => void (rawMode = raw),
 *   read: (buffer) => {
 *     const chunk = read.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 *   message: (text) => void messages.push(text),
 * };
 * const guest: string[] = [];
 * const session = new ConsoleSession(io, {
 *   input: (bytes) => guest.push(new TextDecoder().decode(bytes)),
 *   quit: () => guest.push("<quit>"),
 * });
 * assert.equal(rawMode, true);
 * await session.pump();
 * session.close();
 * assert.equal(rawMode, false);
 * assert.deepEqual(guest, ["ls", "<quit>"]); // Ctrl-A x quits; what follows is dropped
 * ```
 */
export interface ConsoleIo {
  /** Whether stdin is a terminal (raw mode and escape keys apply). */
  readonly interactive: boolean;
  /** Turns raw mode on or off. */
  setRaw(raw: boolean): void;
  /** Reads host input; resolves `null` at end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes VMKit's own messages (help, quit notice). */
  message(text: string): void;
}

/**
 * Callbacks from an attached console.
 *
 * @example
 * ```ts
 * import { type ConsoleHandlers, type ConsoleIo, ConsoleSession } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * // Piped input (not a terminal) goes to the guest as it is, Ctrl-A included.
 * const input = [new Uint8Array([0x61, 0x01, 0x78])];
 * const io: ConsoleIo = {
 *   interactive: false,
 *   setRaw: () => {},
 *   read: (buffer) => {
 *     const chunk = input.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 *   message: () => {},
 * };
 * const received: number[] = [];
 * let quit = false;
 * const handlers: ConsoleHandlers = {
 *   input: (bytes) => void received.push(...bytes),
 *   quit: () => void (quit = true),
 * };
 * await new ConsoleSession(io, handlers).pump();
 * assert.deepEqual(received, [0x61, 0x01, 0x78]);
 * assert.equal(quit, false);
 * ```
 */
export interface ConsoleHandlers {
  /** Bytes for the guest. */
  input(bytes: Uint8Array): void;
  /** The user pressed the quit escape. */
  quit(): void;
}

const CTRL_A = 0x01;

/**
 * Splits host input into guest bytes and escape commands.
 *
 * @example
 * ```ts
 * import { EscapeDecoder } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const decoder = new EscapeDecoder();
 * let help = 0;
 * const first = decoder.feed(new Uint8Array([0x61, 0x01]), () => help++); // "a", then Ctrl-A
 * assert.deepEqual([...first.guest], [0x61]); // the Ctrl-A waits for the next key
 * const second = decoder.feed(new Uint8Array([0x01, 0x62]), () => help++); // Ctrl-A again: sent
 * assert.deepEqual([...second.guest], [0x01, 0x62]);
 * assert.equal(help, 0);
 * ```
 */
export class EscapeDecoder {
  #armed = false;

  /**
   * Feeds host bytes; returns the bytes for the guest and whether the quit
   * escape was seen (bytes after it are dropped).
   */
  feed(data: Uint8Array, onHelp: () => void): { guest: Uint8Array; quit: boolean } {
    const out = new Uint8Array(data.length);
    let n = 0;
    for (const byte of data) {
      if (this.#armed) {
        this.#armed = false;
        if (byte === 0x78 /* x */ || byte === 0x58 /* X */) {
          return { guest: out.subarray(0, n), quit: true };
        }
        if (byte === CTRL_A) out[n++] = CTRL_A;
        else if (byte === 0x68 /* h */ || byte === 0x3f /* ? */) onHelp();
        // Any other key after Ctrl-A is swallowed, as QEMU does.
        continue;
      }
      if (byte === CTRL_A) {
        this.#armed = true;
        continue;
      }
      out[n++] = byte;
    }
    return { guest: out.subarray(0, n), quit: false };
  }
}

/**
 * The escape-key help.
 *
 * @example
 * ```ts
 * import { ESCAPE_HELP } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(ESCAPE_HELP, /C-a x +quit VMKit/);
 * ```
 */
export const ESCAPE_HELP =
  "\r\nC-a x    quit VMKit\r\nC-a h    this help\r\nC-a C-a  send C-a to the guest\r\n";

/**
 * Forwards host input to the guest until `signal` aborts or input ends.
 * Raw mode is restored by {@link ConsoleSession.close}.
 *
 * @example
 * ```ts
 * import { ConsoleSession, ESCAPE_HELP } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const messages: string[] = [];
 * const input = [new Uint8Array([0x01, 0x68])]; // Ctrl-A h
 * const session = new ConsoleSession({
 *   interactive: true,
 *   setRaw: () => {},
 *   read: (buffer) => {
 *     const chunk = input.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 *   message: (text) => void messages.push(text),
 * }, { input: () => {}, quit: () => {} });
 * await session.pump();
 * session.close();
 * assert.deepEqual(messages, [ESCAPE_HELP]);
 * ```
 */
export class ConsoleSession {
  readonly #io: ConsoleIo;
  readonly #handlers: ConsoleHandlers;
  readonly #decoder = new EscapeDecoder();
  #closed = false;

  /**
   * Attaches the console; an interactive terminal goes into raw mode.
   *
   * @param io the host terminal
   * @param handlers where input and quit go
   */
  constructor(io: ConsoleIo, handlers: ConsoleHandlers) {
    this.#io = io;
    this.#handlers = handlers;
    if (io.interactive) io.setRaw(true);
  }

  /** Reads until input ends or the session is closed. */
  async pump(): Promise<void> {
    const buffer = new Uint8Array(4096);
    while (!this.#closed) {
      const n = await this.#io.read(buffer);
      if (n === null || this.#closed) return;
      const chunk = buffer.slice(0, n);
      if (!this.#io.interactive) {
        this.#handlers.input(chunk);
        continue;
      }
      const { guest, quit } = this.#decoder.feed(chunk, () => this.#io.message(ESCAPE_HELP));
      if (guest.length) this.#handlers.input(guest);
      if (quit) {
        this.#handlers.quit();
        return;
      }
    }
  }

  /** Leaves raw mode. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#io.interactive) this.#io.setRaw(false);
  }
}

/**
 * Attaches a guest console to the terminal: raw mode when interactive, so
 * every key (Ctrl-C included) goes to the guest, and QEMU's escape keys —
 * Ctrl-A x quits, Ctrl-A h lists the keys, Ctrl-A Ctrl-A sends a Ctrl-A.
 *
 * @module
 */

/** The host side of a console. */
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

/** Callbacks from an attached console. */
export interface ConsoleHandlers {
  /** Bytes for the guest. */
  input(bytes: Uint8Array): void;
  /** The user pressed the quit escape. */
  quit(): void;
}

const CTRL_A = 0x01;

/** Splits host input into guest bytes and escape commands. */
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

/** The escape-key help. */
export const ESCAPE_HELP =
  "\r\nC-a x    quit VMKit\r\nC-a h    this help\r\nC-a C-a  send C-a to the guest\r\n";

/**
 * Forwards host input to the guest until `signal` aborts or input ends.
 * Raw mode is restored by {@link ConsoleSession.close}.
 */
export class ConsoleSession {
  readonly #io: ConsoleIo;
  readonly #handlers: ConsoleHandlers;
  readonly #decoder = new EscapeDecoder();
  #closed = false;

  /** @param io the host terminal; @param handlers where input and quit go */
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

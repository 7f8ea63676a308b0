/**
 * Console output gathered byte by byte as the guest writes its UART, and
 * handed to the sink in chunks: at most every few kilobytes, and whenever
 * the run loop yields, so output stays prompt without a call per byte.
 *
 * @module
 */

import type { ConsoleSink } from "./config.ts";

const CONSOLE_BUFFER = 4096;

/**
 * A buffer in front of a {@link ConsoleSink}.
 *
 * @example
 * ```ts
 * import { ConsoleBuffer } from "@vmkit/vmm";
 *
 * let text = "";
 * const out = new ConsoleBuffer({ write: (b) => text += new TextDecoder().decode(b) });
 * for (const b of new TextEncoder().encode("hi\n")) out.emit(b);
 * out.flush();
 * console.log(text); // "hi\n"
 * ```
 */
export class ConsoleBuffer {
  readonly #sink: ConsoleSink | undefined;
  readonly #bytes = new Uint8Array(CONSOLE_BUFFER);
  #length = 0;

  /** Output goes to `sink`; without one it is dropped. */
  constructor(sink: ConsoleSink | undefined) {
    this.#sink = sink;
  }

  /** One byte of output. */
  emit(byte: number): void {
    if (!this.#sink) return;
    this.#bytes[this.#length++] = byte;
    if (this.#length === CONSOLE_BUFFER) this.flush();
  }

  /** Hands what is buffered to the sink. */
  flush(): void {
    if (this.#length === 0 || !this.#sink) return;
    // The sink may keep the chunk: it gets a copy.
    const chunk = this.#bytes.slice(0, this.#length);
    this.#length = 0;
    this.#sink.write(chunk);
  }
}

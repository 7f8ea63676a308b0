/**
 * Console output of several VMs on one terminal: each VM's bytes are cut into lines and every
 * line is written whole with the VM's name in front (`[name] `), so lines of different VMs
 * never mix within a line.
 *
 * @module
 */

/** A line longer than this is written in pieces (a guest that never ends its line). */
const MAX_LINE = 4096;

/**
 * Cuts one VM's console output into prefixed lines.
 *
 * @example
 * ```ts
 * import { PrefixedLines } from "@vmkit/cli";
 *
 * const out: string[] = [];
 * const lines = new PrefixedLines("web", (line) => out.push(line));
 * lines.write(new TextEncoder().encode("booting\r\nready"));
 * lines.write(new TextEncoder().encode("\n"));
 * console.log(out); // [ "[web] booting\n", "[web] ready\n" ]
 * ```
 */
export class PrefixedLines {
  readonly #prefix: string;
  readonly #emit: (line: string) => void;
  readonly #decoder = new TextDecoder();
  #partial = "";

  /** Lines go to `emit`, each with `[name] ` in front and ending in `\n`. */
  constructor(name: string, emit: (line: string) => void) {
    this.#prefix = `[${name}] `;
    this.#emit = emit;
  }

  /** More output; whole lines are written, the rest waits for its end. */
  write(bytes: Uint8Array): void {
    let text = this.#partial + this.#decoder.decode(bytes, { stream: true });
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      this.#line(text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      this.#line(text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.#partial = text;
  }

  /** Writes what is left of an unfinished line (at the end of the run). */
  flush(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    if (rest !== "") this.#line(rest);
  }

  #line(text: string): void {
    // Serial consoles end lines with CR LF; one terminal line each is what is wanted here.
    this.#emit(`${this.#prefix}${text.endsWith("\r") ? text.slice(0, -1) : text}\n`);
  }
}

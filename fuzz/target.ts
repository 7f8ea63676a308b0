/**
 * What a fuzz target is, and how it tells an expected outcome from a finding.
 *
 * @module
 */

/** Files and directories a target may read its seeds from. */
export interface SeedContext {
  /** The repository root (ends with "/"). */
  readonly root: string;
  /** Where Debian's kernel (`Image`) is, when it has been fetched. */
  readonly guestDir: string;
  /** Notes for the person running the fuzzer (a seed file that is missing, ...). */
  readonly notes: string[];
}

/** One thing to fuzz, made by a factory that gets the {@linkcode SeedContext}. */
export interface FuzzTarget {
  /** Short name, used on the command line and in finding file names. */
  readonly name: string;
  /** One line on what it exercises. */
  readonly description: string;
  /** Inputs never grow beyond this. */
  readonly maxLength: number;
  /** Byte strings meaningful to the target, for the mutator. */
  readonly dictionary?: readonly Uint8Array[];
  /** Inputs to start from (real files where there are any). */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /**
   * Runs one input and returns a label for its outcome ("ok", an error code, ...); inputs with a
   * label not seen before join the corpus. Throws only for a finding: an exception that is not
   * the package's typed error, or a broken invariant ({@linkcode InvariantError}).
   */
  run(input: Uint8Array): string | Promise<string>;
}

/** A property the code under test promises was broken (the input is a finding). */
export class InvariantError extends Error {
  /** @param message what was promised and what happened instead */
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

/** Throws an {@linkcode InvariantError} unless `condition` holds. */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantError(message());
}

/** An error class with a `code`, like `FdtError`. */
// deno-lint-ignore no-explicit-any
type CodedErrorClass = abstract new (...args: any[]) => Error & { readonly code: string };

/**
 * Runs `fn` and returns "ok", or the `code` of an error of one of `expected` classes; anything
 * else thrown propagates (a finding).
 */
export function outcome(expected: readonly CodedErrorClass[], fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    for (const cls of expected) if (e instanceof cls) return e.code;
    throw e;
  }
}

/** {@linkcode outcome} for an asynchronous `fn`. */
export async function outcomeAsync(
  expected: readonly CodedErrorClass[],
  fn: () => Promise<unknown>,
): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (e) {
    for (const cls of expected) if (e instanceof cls) return e.code;
    throw e;
  }
}

/** Hex with the file offset every 16 bytes, for printing an input. */
export function hexDump(data: Uint8Array, limit = data.length): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.min(data.length, limit); i += 16) {
    const row = Array.from(data.subarray(i, Math.min(i + 16, data.length, limit)))
      .map((b) => b.toString(16).padStart(2, "0"));
    lines.push(`${i.toString(16).padStart(8, "0")}  ${row.join(" ")}`);
  }
  if (data.length > limit) lines.push(`... (${data.length - limit} more bytes)`);
  return lines.join("\n");
}

/** The input as one hex string, the format finding files are saved in. */
export function toHex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads a finding file back: hex digits, whitespace and `#` comment lines ignored. */
export function fromHex(text: string): Uint8Array {
  const digits = text.split("\n").filter((l) => !l.startsWith("#")).join("").replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) {
    throw new Error("not a hex dump: expected pairs of hex digits");
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * What makes two findings the same bug: the error's first line with numbers blanked, and the first
 * stack frame inside the repository's packages.
 */
export function findingSignature(kind: string, error: string): string {
  const lines = error.split("\n");
  const head = lines[0].replace(/0x[0-9a-f]+|\d+/gi, "N");
  const frame = lines.find((l) => /^\s+at .*\/packages\//.test(l))?.trim()
    .replace(/:\d+:\d+\)?$/, "") ?? "";
  return `${kind}: ${head} ${frame}`.trim();
}

/** An error with its stack and the chain of causes, as text. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return `thrown non-Error: ${String(e)}`;
  let text = e.stack ?? `${e.name}: ${e.message}`;
  if (e.cause !== undefined) text += `\ncaused by: ${describeError(e.cause)}`;
  return text;
}

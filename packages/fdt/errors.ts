/**
 * Every way a device tree operation can fail, as a string-literal union so callers can switch on
 * it exhaustively.
 *
 * - `TRUNCATED`: the blob ends before the header or before `totalsize`.
 * - `BAD_MAGIC`: the first word is not `0xd00dfeed`.
 * - `UNSUPPORTED_VERSION`: `version` is below 16 or `last_comp_version` above 17.
 * - `BAD_HEADER`: header fields contradict each other (`totalsize` smaller than the header,
 *   `last_comp_version` above `version`).
 * - `BLOCK_OUT_OF_RANGE`: a block offset or size points outside the header/`totalsize` window.
 * - `BLOCK_OVERLAP`: two blocks share bytes.
 * - `MISALIGNED_BLOCK`: the reservation block is not 8-byte aligned or the structure block not
 *   4-byte aligned.
 * - `BAD_RESERVATION`: the memory-reservation block has no terminating entry.
 * - `BAD_TOKEN`: an unknown token in the structure block.
 * - `STRUCT_OVERRUN`: a token or its payload runs past the end of the structure block.
 * - `UNTERMINATED_NAME`: a node name has no NUL before the end of the structure block.
 * - `UNTERMINATED_STRING`: a property name has no NUL before the end of the strings block.
 * - `BAD_STRING_OFFSET`: a property name offset lies outside the strings block.
 * - `BAD_NAME`: a node or property name is empty or uses characters the format forbids.
 * - `DUPLICATE_NAME`: two properties or two child nodes of one node share a name.
 * - `UNCLOSED_NODE`: the structure ends while nodes are still open.
 * - `UNEXPECTED_END_NODE`: `FDT_END_NODE` with no node open.
 * - `MISSING_END_TOKEN`: the structure block ends without `FDT_END`.
 * - `BAD_STRUCTURE`: tokens in an order the format forbids (a property outside any node, a
 *   property after a child node, a second root, no root).
 * - `LIMIT_EXCEEDED`: a size, depth or count cap was reached.
 * - `VALUE_OVERFLOW`: a decoded number does not fit the JavaScript type it is returned as.
 * - `BAD_PROPERTY_VALUE`: a property's length or contents do not match the type asked for.
 * - `BAD_CELLS`: `#address-cells`/`#size-cells` are missing where required or out of range.
 * - `PHANDLE_NOT_FOUND`: a phandle reference names no node.
 * - `DUPLICATE_PHANDLE`: two nodes claim the same phandle.
 * - `PHANDLE_CYCLE`: following phandle references comes back to a node already visited.
 * - `NOT_FOUND`: a path, alias or node that must exist does not.
 * - `AMBIGUOUS_PATH`: a path component without unit address matches several nodes.
 * - `INVALID_ARGUMENT`: a value handed to an edit or builder method is out of range.
 *
 * @example Telling failures apart
 * ```ts
 * import { FdtError, type FdtErrorCode, parseFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * function whyNot(blob: Uint8Array): FdtErrorCode | undefined {
 *   try {
 *     parseFdt(blob);
 *     return undefined;
 *   } catch (e) {
 *     if (e instanceof FdtError) return e.code;
 *     throw e;
 *   }
 * }
 * assert.equal(whyNot(new Uint8Array(2)), "TRUNCATED");
 * assert.equal(whyNot(new Uint8Array(64)), "BAD_MAGIC");
 * ```
 */
export type FdtErrorCode =
  | "TRUNCATED"
  | "BAD_MAGIC"
  | "UNSUPPORTED_VERSION"
  | "BAD_HEADER"
  | "BLOCK_OUT_OF_RANGE"
  | "BLOCK_OVERLAP"
  | "MISALIGNED_BLOCK"
  | "BAD_RESERVATION"
  | "BAD_TOKEN"
  | "STRUCT_OVERRUN"
  | "UNTERMINATED_NAME"
  | "UNTERMINATED_STRING"
  | "BAD_STRING_OFFSET"
  | "BAD_NAME"
  | "DUPLICATE_NAME"
  | "UNCLOSED_NODE"
  | "UNEXPECTED_END_NODE"
  | "MISSING_END_TOKEN"
  | "BAD_STRUCTURE"
  | "LIMIT_EXCEEDED"
  | "VALUE_OVERFLOW"
  | "BAD_PROPERTY_VALUE"
  | "BAD_CELLS"
  | "PHANDLE_NOT_FOUND"
  | "DUPLICATE_PHANDLE"
  | "PHANDLE_CYCLE"
  | "NOT_FOUND"
  | "AMBIGUOUS_PATH"
  | "INVALID_ARGUMENT";

/**
 * All error codes, in declaration order; handy for exhaustive tests and tooling.
 *
 * @example Checking a string against the codes
 * ```ts
 * import { FDT_ERROR_CODES, type FdtErrorCode } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const isFdtErrorCode = (s: string): s is FdtErrorCode =>
 *   (FDT_ERROR_CODES as readonly string[]).includes(s);
 * assert.equal(isFdtErrorCode("PHANDLE_CYCLE"), true);
 * assert.equal(isFdtErrorCode("EIO"), false);
 * ```
 */
export const FDT_ERROR_CODES: readonly FdtErrorCode[] = Object.freeze(
  [
    "TRUNCATED",
    "BAD_MAGIC",
    "UNSUPPORTED_VERSION",
    "BAD_HEADER",
    "BLOCK_OUT_OF_RANGE",
    "BLOCK_OVERLAP",
    "MISALIGNED_BLOCK",
    "BAD_RESERVATION",
    "BAD_TOKEN",
    "STRUCT_OVERRUN",
    "UNTERMINATED_NAME",
    "UNTERMINATED_STRING",
    "BAD_STRING_OFFSET",
    "BAD_NAME",
    "DUPLICATE_NAME",
    "UNCLOSED_NODE",
    "UNEXPECTED_END_NODE",
    "MISSING_END_TOKEN",
    "BAD_STRUCTURE",
    "LIMIT_EXCEEDED",
    "VALUE_OVERFLOW",
    "BAD_PROPERTY_VALUE",
    "BAD_CELLS",
    "PHANDLE_NOT_FOUND",
    "DUPLICATE_PHANDLE",
    "PHANDLE_CYCLE",
    "NOT_FOUND",
    "AMBIGUOUS_PATH",
    "INVALID_ARGUMENT",
  ] as const,
);

/**
 * Where an error happened, beyond its code and message.
 *
 * @example Usage
 * ```ts
 * import { FdtError, type FdtErrorDetails } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const where: FdtErrorDetails = { path: "/chosen" };
 * const error = new FdtError("NOT_FOUND", "no stdout-path", where);
 * assert.equal(error.message, "no stdout-path (at /chosen)");
 * assert.equal(error.path, "/chosen");
 * assert.equal(error.offset, undefined);
 * ```
 */
export interface FdtErrorDetails {
  /** Byte offset in the parsed blob. */
  offset?: number;
  /** Path of the node involved, for errors raised on a tree rather than a blob. */
  path?: string;
}

/**
 * The one error type of `@vmkit/fdt`. Parsing, decoding and editing never throw anything else
 * for bad input.
 *
 * @example Catching a parse error
 * ```ts
 * import { FdtError, parseFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const script = new TextEncoder().encode("#!/bin/sh\necho hello\n");
 * assert.throws(
 *   () => parseFdt(script),
 *   (e) => e instanceof FdtError && e.code === "BAD_MAGIC" && e.offset === 0,
 * );
 * ```
 */
export class FdtError extends Error {
  /** What went wrong, machine-readable. */
  readonly code: FdtErrorCode;
  /** Byte offset in the blob where the problem was found, for errors raised while parsing. */
  readonly offset?: number;
  /** Path of the node involved, for errors raised while reading or editing a tree. */
  readonly path?: string;

  /**
   * Creates an error; the message gets the offset and path appended when they are given.
   * @param code what went wrong
   * @param message a sentence for humans; the offset and path are appended when given
   * @param details where it went wrong
   */
  constructor(code: FdtErrorCode, message: string, details: FdtErrorDetails = {}) {
    const where: string[] = [];
    if (details.offset !== undefined) where.push(`at offset 0x${details.offset.toString(16)}`);
    if (details.path !== undefined) where.push(`at ${details.path}`);
    super(where.length > 0 ? `${message} (${where.join(", ")})` : message);
    this.name = "FdtError";
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.path !== undefined) this.path = details.path;
  }
}

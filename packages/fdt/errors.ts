/**
 * Every way a device tree operation can fail, as a string-literal union so callers can switch on
 * it exhaustively.
 *
 * - `truncated`: the blob ends before the header or before `totalsize`.
 * - `bad-magic`: the first word is not `0xd00dfeed`.
 * - `unsupported-version`: `version` is below 16 or `last_comp_version` above 17.
 * - `bad-header`: header fields contradict each other (`totalsize` smaller than the header,
 *   `last_comp_version` above `version`).
 * - `block-out-of-range`: a block offset or size points outside the header/`totalsize` window.
 * - `block-overlap`: two blocks share bytes.
 * - `misaligned-block`: the reservation block is not 8-byte aligned or the structure block not
 *   4-byte aligned.
 * - `bad-reservation`: the memory-reservation block has no terminating entry.
 * - `bad-token`: an unknown token in the structure block.
 * - `struct-overrun`: a token or its payload runs past the end of the structure block.
 * - `unterminated-name`: a node name has no NUL before the end of the structure block.
 * - `unterminated-string`: a property name has no NUL before the end of the strings block.
 * - `bad-string-offset`: a property name offset lies outside the strings block.
 * - `bad-name`: a node or property name is empty or uses characters the format forbids.
 * - `duplicate-name`: two properties or two child nodes of one node share a name.
 * - `unclosed-node`: the structure ends while nodes are still open.
 * - `unexpected-end-node`: `FDT_END_NODE` with no node open.
 * - `missing-end-token`: the structure block ends without `FDT_END`.
 * - `bad-structure`: tokens in an order the format forbids (a property outside any node, a
 *   property after a child node, a second root, no root).
 * - `limit-exceeded`: a size, depth or count cap was reached.
 * - `value-overflow`: a decoded number does not fit the JavaScript type it is returned as.
 * - `bad-property-value`: a property's length or contents do not match the type asked for.
 * - `bad-cells`: `#address-cells`/`#size-cells` are missing where required or out of range.
 * - `phandle-not-found`: a phandle reference names no node.
 * - `duplicate-phandle`: two nodes claim the same phandle.
 * - `phandle-cycle`: following phandle references comes back to a node already visited.
 * - `not-found`: a path, alias or node that must exist does not.
 * - `ambiguous-path`: a path component without unit address matches several nodes.
 * - `invalid-argument`: a value handed to an edit or builder method is out of range.
 */
export type FdtErrorCode =
  | "truncated"
  | "bad-magic"
  | "unsupported-version"
  | "bad-header"
  | "block-out-of-range"
  | "block-overlap"
  | "misaligned-block"
  | "bad-reservation"
  | "bad-token"
  | "struct-overrun"
  | "unterminated-name"
  | "unterminated-string"
  | "bad-string-offset"
  | "bad-name"
  | "duplicate-name"
  | "unclosed-node"
  | "unexpected-end-node"
  | "missing-end-token"
  | "bad-structure"
  | "limit-exceeded"
  | "value-overflow"
  | "bad-property-value"
  | "bad-cells"
  | "phandle-not-found"
  | "duplicate-phandle"
  | "phandle-cycle"
  | "not-found"
  | "ambiguous-path"
  | "invalid-argument";

/** All error codes, in declaration order; handy for exhaustive tests and tooling. */
export const FDT_ERROR_CODES: readonly FdtErrorCode[] = Object.freeze(
  [
    "truncated",
    "bad-magic",
    "unsupported-version",
    "bad-header",
    "block-out-of-range",
    "block-overlap",
    "misaligned-block",
    "bad-reservation",
    "bad-token",
    "struct-overrun",
    "unterminated-name",
    "unterminated-string",
    "bad-string-offset",
    "bad-name",
    "duplicate-name",
    "unclosed-node",
    "unexpected-end-node",
    "missing-end-token",
    "bad-structure",
    "limit-exceeded",
    "value-overflow",
    "bad-property-value",
    "bad-cells",
    "phandle-not-found",
    "duplicate-phandle",
    "phandle-cycle",
    "not-found",
    "ambiguous-path",
    "invalid-argument",
  ] as const,
);

/** Where an error happened, beyond its code and message. */
export interface FdtErrorDetails {
  /** Byte offset in the parsed blob. */
  offset?: number;
  /** Path of the node involved, for errors raised on a tree rather than a blob. */
  path?: string;
}

/**
 * The one error type of `@vmkit/fdt`. Parsing, decoding and editing never throw anything else
 * for bad input.
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

/**
 * The error type of `@vmkit/net`. Frames never raise errors (a bad frame is dropped and
 * counted); these are for host-side misuse and for backends that cannot be opened.
 *
 * @module
 */

/**
 * What went wrong.
 *
 * @example
 * ```ts
 * import { NetError, type NetErrorCode } from "@vmkit/net";
 *
 * const code: NetErrorCode = new NetError("INVALID_ARGUMENT", "no").code;
 * console.log(code); // INVALID_ARGUMENT
 * ```
 */
export type NetErrorCode =
  /** An option or argument is missing, malformed or out of range. */
  | "INVALID_ARGUMENT"
  /** A call in a state that does not allow it (a port attached twice, used after close). */
  | "INVALID_STATE"
  /** The system refused: opening a TAP device needs CAP_NET_ADMIN. */
  | "PERMISSION_DENIED"
  /** A TAP device could not be opened or set up for another reason; the message says which. */
  | "TAP_FAILED"
  /** TAP devices exist on Linux only. */
  | "UNSUPPORTED";

/**
 * An error raised by `@vmkit/net`.
 *
 * @example
 * ```ts
 * import { EthernetSwitch, NetError } from "@vmkit/net";
 *
 * try {
 *   new EthernetSwitch({ macTableSize: 0 });
 * } catch (e) {
 *   console.log(e instanceof NetError && e.code); // INVALID_ARGUMENT
 * }
 * ```
 */
export class NetError extends Error {
  /** What went wrong. */
  readonly code: NetErrorCode;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param message one sentence saying what and where
   * @param options the underlying cause, if any
   */
  constructor(code: NetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NetError";
    this.code = code;
  }
}

/**
 * The two kinds of trouble in `@vmkit/gdb`, kept apart:
 *
 * - {@link GdbError} is thrown for host-side misuse: bad options, a port that cannot be
 *   listened on, a session used after it ended.
 * - {@link ProtocolFault} names what a client did wrong. A client is never a reason for an
 *   exception: it gets an error reply (or its bytes are dropped) and the fault is counted in
 *   the session's stats.
 *
 * @module
 */

/**
 * Why a {@link GdbError} was raised.
 *
 * @example
 * ```ts
 * import { GdbError, type GdbErrorCode } from "@vmkit/gdb";
 *
 * const code: GdbErrorCode = new GdbError("INVALID_ARGUMENT", "no").code;
 * console.log(code); // INVALID_ARGUMENT
 * ```
 */
export type GdbErrorCode =
  /** An option or argument is missing, malformed or out of range. */
  | "INVALID_ARGUMENT"
  /** A call made in a state that does not allow it (a session started twice, a closed server). */
  | "INVALID_STATE"
  /** The listening socket could not be opened; `cause` holds the system error. */
  | "LISTEN_FAILED";

/**
 * A host-side error in the use of `@vmkit/gdb`.
 *
 * @example
 * ```ts
 * import { GdbError, GdbServer } from "@vmkit/gdb";
 *
 * try {
 *   // deno-lint-ignore no-explicit-any
 *   GdbServer.listen({} as any, { port: 70000 });
 * } catch (e) {
 *   console.log(e instanceof GdbError && e.code); // INVALID_ARGUMENT
 * }
 * ```
 */
export class GdbError extends Error {
  /** What went wrong. */
  readonly code: GdbErrorCode;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param message a sentence saying what and where
   * @param options the underlying cause, if any
   */
  constructor(code: GdbErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GdbError";
    this.code = code;
  }
}

/**
 * What a client did wrong, as counted in a session's stats (`lastFault`):
 *
 * - `BAD_CHECKSUM`: a packet whose checksum is wrong or not hex (answered `-` in ack mode,
 *   dropped in no-ack mode).
 * - `OVERSIZED`: a packet longer than `MAX_PACKET_SIZE` (answered `E07`).
 * - `GARBAGE`: bytes between packets that mean nothing (dropped).
 * - `MALFORMED`: a packet the stub knows whose arguments do not parse, or whose run-length
 *   encoding or escaping is broken (answered `E16`, EINVAL).
 * - `NO_SUCH_THREAD`: a thread id that names no thread (answered `E03`, ESRCH).
 * - `WHILE_RUNNING`: a packet other than the interrupt byte while the target runs (acknowledged
 *   and dropped, as gdbserver does in all-stop mode).
 * - `RETRANSMIT_LIMIT`: more `-` for one reply than `MAX_RETRANSMISSIONS` (dropped).
 * - `TOO_MANY_POINTS`: a breakpoint or watchpoint beyond `MAX_POINTS` (answered `E1c`).
 *
 * @example
 * ```ts
 * import type { ProtocolFault } from "@vmkit/gdb";
 *
 * const fault: ProtocolFault = "BAD_CHECKSUM";
 * console.log(fault); // BAD_CHECKSUM
 * ```
 */
export type ProtocolFault =
  | "BAD_CHECKSUM"
  | "OVERSIZED"
  | "GARBAGE"
  | "MALFORMED"
  | "NO_SUCH_THREAD"
  | "WHILE_RUNNING"
  | "RETRANSMIT_LIMIT"
  | "TOO_MANY_POINTS";

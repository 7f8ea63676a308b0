/**
 * The public types around {@link GdbSession}: its options, states, ends and counters.
 *
 * @module
 */

import type { ProtocolFault } from "./errors.ts";

/**
 * Where a session's output goes, and where it reports.
 *
 * @example
 * ```ts
 * import type { GdbSessionOptions } from "@vmkit/gdb";
 *
 * const options: GdbSessionOptions = { write: (bytes) => void bytes, log: console.error };
 * console.log(typeof options.write); // function
 * ```
 */
export interface GdbSessionOptions {
  /**
   * Sends bytes to the client, in order. When it returns a promise, the session waits for it
   * before handling the next packet, so a client that does not read cannot make output pile
   * up. A rejection counts as a lost connection: later output is dropped.
   */
  write(bytes: Uint8Array): void | Promise<void>;
  /** Diagnostics (a target that threw, a lost connection); defaults to nothing. */
  log?(message: string): void;
}

/**
 * Where a session is: `starting` (halting the target for the new client), `stopped` (the
 * target is paused and packets are served), `running` (a resume is pending; only the interrupt
 * byte acts), `ended` (killed, detached, or the client went away).
 *
 * @example
 * ```ts
 * import type { GdbSessionState } from "@vmkit/gdb";
 *
 * const state: GdbSessionState = "stopped";
 * console.log(state); // stopped
 * ```
 */
export type GdbSessionState = "new" | "starting" | "stopped" | "running" | "ended";

/**
 * How a session ended: `kill` (`k`), `detach` (`D`), or `disconnect` (the transport closed, or
 * {@link GdbSession.close} was called).
 *
 * @example
 * ```ts
 * import type { GdbSessionEnd } from "@vmkit/gdb";
 *
 * const how: GdbSessionEnd = "detach";
 * console.log(how); // detach
 * ```
 */
export type GdbSessionEnd = "kill" | "detach" | "disconnect";

/**
 * Counters of a session, for tests and diagnostics.
 *
 * @example
 * ```ts
 * import type { GdbSessionStats } from "@vmkit/gdb";
 *
 * const seen = (s: GdbSessionStats) => `${s.packets} packets, ${s.faults} faults`;
 * console.log(typeof seen); // function
 * ```
 */
export interface GdbSessionStats {
  /** Packets received with a good checksum. */
  readonly packets: number;
  /** Packets sent (retransmissions not counted). */
  readonly replies: number;
  /** Packets answered with the empty reply (not implemented). */
  readonly unsupported: number;
  /** Protocol faults of every kind. */
  readonly faults: number;
  /** The most recent protocol fault. */
  readonly lastFault: ProtocolFault | undefined;
  /** Bytes between packets that meant nothing. */
  readonly garbageBytes: number;
  /** Replies sent again for `-`. */
  readonly retransmissions: number;
  /** Target methods that threw or rejected. */
  readonly targetErrors: number;
  /** What the most recent of them threw. */
  readonly lastTargetError: unknown;
}

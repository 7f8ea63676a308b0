/**
 * The bounds the stub keeps against a client it does not trust. Each is announced or enforced
 * the way the protocol allows: the packet size through `qSupported`, the others as error
 * replies.
 *
 * @module
 */

/**
 * The largest packet payload (the bytes between `$` and `#`) the stub accepts, also after
 * run-length expansion; announced to the client as `PacketSize=4000` (hex). A longer packet is
 * read to its end without being stored and answered with `E07` (E2BIG).
 *
 * @example
 * ```ts
 * import { MAX_PACKET_SIZE } from "@vmkit/gdb";
 *
 * console.log(MAX_PACKET_SIZE.toString(16)); // 4000
 * ```
 */
export const MAX_PACKET_SIZE = 0x4000;

/**
 * The most bytes one `m` request returns (its reply is twice that in hex). gdb sizes its
 * requests from the packet size, so it never asks for more; a larger request gets a short
 * read, which the protocol allows.
 *
 * @example
 * ```ts
 * import { MAX_MEMORY_READ, MAX_PACKET_SIZE } from "@vmkit/gdb";
 *
 * console.log(MAX_MEMORY_READ * 2 <= MAX_PACKET_SIZE); // true
 * ```
 */
export const MAX_MEMORY_READ = 0x2000;

/**
 * The most breakpoints and watchpoints inserted at once through one session; one more is
 * refused with `E1c` (ENOSPC). Far above what a person sets, it bounds what a hostile client
 * can make the stub (and the target) remember.
 *
 * @example
 * ```ts
 * import { MAX_POINTS } from "@vmkit/gdb";
 *
 * console.log(MAX_POINTS); // 4096
 * ```
 */
export const MAX_POINTS = 4096;

/**
 * How often one reply is sent again for `-` (a negative acknowledgement) before further `-`
 * for it are ignored, so that a client cannot make the stub send without end.
 *
 * @example
 * ```ts
 * import { MAX_RETRANSMISSIONS } from "@vmkit/gdb";
 *
 * console.log(MAX_RETRANSMISSIONS); // 8
 * ```
 */
export const MAX_RETRANSMISSIONS = 8;

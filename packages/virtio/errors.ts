/**
 * The two kinds of trouble in `@vmkit/virtio`, kept strictly apart:
 *
 * - {@link VirtioError} is thrown for host-side misuse: bad constructor options, a backend
 *   file that cannot be opened, a device model breaking the queue protocol.
 * - {@link VirtioFault} names what a guest did wrong. Guest misbehaviour is never an exception:
 *   the transport reacts the way the module docs of `transport.ts` describe and records the
 *   fault in its stats.
 *
 * @module
 */

/**
 * Why a {@link VirtioError} was raised.
 *
 * @example
 * ```ts
 * import { VirtioError, type VirtioErrorCode } from "@vmkit/virtio";
 *
 * const code: VirtioErrorCode = new VirtioError("INVALID_ARGUMENT", "no").code;
 * console.log(code); // INVALID_ARGUMENT
 * ```
 */
export type VirtioErrorCode =
  /** A constructor option or argument is missing, malformed or out of range. */
  | "INVALID_ARGUMENT"
  /** A call made in a state that does not allow it (a chain completed twice, a device attached twice). */
  | "INVALID_STATE"
  /** A backend file could not be opened or inspected; `cause` holds the system error. */
  | "BACKEND_OPEN_FAILED"
  /** A backend was used after it was closed. */
  | "BACKEND_CLOSED"
  /** A backend request reaches outside the disk. */
  | "OUT_OF_RANGE";

/**
 * A host-side error in the use of `@vmkit/virtio`.
 *
 * @example
 * ```ts
 * import { RamGuestMemory, VirtioError } from "@vmkit/virtio";
 *
 * try {
 *   new RamGuestMemory(-1, new Uint8Array(16));
 * } catch (e) {
 *   console.log(e instanceof VirtioError && e.code); // INVALID_ARGUMENT
 * }
 * ```
 */
export class VirtioError extends Error {
  /** What went wrong. */
  readonly code: VirtioErrorCode;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param message a sentence saying what and where
   * @param options the underlying cause, if any
   */
  constructor(code: VirtioErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VirtioError";
    this.code = code;
  }
}

/**
 * What a guest driver did wrong, as recorded in the transport's stats (`lastFault`).
 *
 * Refusals (the register write has no effect, the driver can retry):
 * - `QUEUE_SIZE`: QueueReady=1 with a queue size of 0, above QueueNumMax, or not a power of two.
 * - `RING_ALIGNMENT`: QueueReady=1 with a ring address not aligned as the spec requires
 *   (descriptor table 16, driver area 2, device area 4).
 * - `RING_OUTSIDE_RAM`: QueueReady=1 with a ring that does not lie wholly inside guest RAM.
 * - `FEATURES_REFUSED`: FEATURES_OK without VIRTIO_F_VERSION_1 or with features not offered.
 * - `DRIVER_OK_REFUSED`: DRIVER_OK before FEATURES_OK.
 * - `NOTIFY_IGNORED`: a queue notification before DRIVER_OK, for a missing queue, or for a queue
 *   that is not ready.
 *
 * Device errors (the device sets DEVICE_NEEDS_RESET, raises a configuration-change interrupt
 * and stops touching guest memory until it is reset):
 * - `AVAIL_INDEX`: the available index moved more than the queue size past the last one seen.
 * - `TOO_MANY_IN_FLIGHT`: more buffers made available than the queue holds.
 * - `DESCRIPTOR_INDEX`: a head or `next` index outside the descriptor table.
 * - `DESCRIPTOR_LOOP`: a chain that visits a descriptor twice.
 * - `CHAIN_TOO_LONG`: a chain (with its indirect table) of more buffers than QueueNumMax. (A
 *   chain of unique descriptors in the ring cannot be longer than the queue size; only an
 *   indirect table can make it longer, and limits such as virtio-blk's SEG_MAX are derived
 *   from QueueNumMax, which a driver may use after choosing a smaller queue.)
 * - `DESCRIPTOR_ORDER`: a device-readable buffer after a device-writable one.
 * - `ADDRESS_OUTSIDE_RAM`: a buffer or indirect table not wholly inside guest RAM (this covers
 *   address + length overflowing 64 bits).
 * - `INDIRECT_NOT_NEGOTIATED`: an indirect descriptor without VIRTIO_F_INDIRECT_DESC.
 * - `INDIRECT_WITH_NEXT`: an indirect descriptor that also has NEXT set.
 * - `NESTED_INDIRECT`: an indirect descriptor inside an indirect table.
 * - `INDIRECT_LENGTH`: an indirect table whose length is 0, not a multiple of 16, or of more
 *   than QueueNumMax descriptors.
 * - `MISSING_STATUS`: a block request with no device-writable byte for its status.
 *
 * @example
 * ```ts
 * import type { VirtioFault } from "@vmkit/virtio";
 *
 * const fault: VirtioFault = "DESCRIPTOR_LOOP";
 * console.log(fault); // DESCRIPTOR_LOOP
 * ```
 */
export type VirtioFault =
  | "QUEUE_SIZE"
  | "RING_ALIGNMENT"
  | "RING_OUTSIDE_RAM"
  | "FEATURES_REFUSED"
  | "DRIVER_OK_REFUSED"
  | "NOTIFY_IGNORED"
  | "AVAIL_INDEX"
  | "TOO_MANY_IN_FLIGHT"
  | "DESCRIPTOR_INDEX"
  | "DESCRIPTOR_LOOP"
  | "CHAIN_TOO_LONG"
  | "DESCRIPTOR_ORDER"
  | "ADDRESS_OUTSIDE_RAM"
  | "INDIRECT_NOT_NEGOTIATED"
  | "INDIRECT_WITH_NEXT"
  | "NESTED_INDIRECT"
  | "INDIRECT_LENGTH"
  | "MISSING_STATUS";

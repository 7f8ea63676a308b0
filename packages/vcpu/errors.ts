/**
 * The error type of `@vmkit/vcpu`.
 *
 * @module
 */

/**
 * What went wrong, as a stable code callers can branch on.
 *
 * @example
 * ```ts
 * import { AddressSpace, VcpuError, type VcpuErrorCode } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const map = new AddressSpace();
 * map.add({ base: 0x4000_0000, size: 0x1000, kind: "ram" });
 * let code: VcpuErrorCode | undefined;
 * try {
 *   map.add({ base: 0x4000_0000, size: 0x1000, kind: "mmio" }, "uart");
 * } catch (e) {
 *   if (e instanceof VcpuError) code = e.code;
 * }
 * assert.equal(code, "BAD_REGION");
 * ```
 */
export type VcpuErrorCode =
  /** libunicorn could not be found or loaded. */
  | "LIBRARY_NOT_FOUND"
  /** libunicorn is older than 2.0.1. */
  | "LIBRARY_TOO_OLD"
  /** This host's operating system and CPU cannot call the engine correctly. */
  | "UNSUPPORTED_PLATFORM"
  /** A Unicorn call returned an error. */
  | "ENGINE_ERROR"
  /** The requested CPU model is unknown or known not to work. */
  | "UNSUPPORTED_CPU_MODEL"
  /** The start-up self-test of the engine's private layout failed. */
  | "CALIBRATION_FAILED"
  /** A memory region is misaligned, empty, overlapping or outside the address space. */
  | "BAD_REGION"
  /** An argument is out of range. */
  | "INVALID_ARGUMENT"
  /** The vCPU was used after `close()`. */
  | "CLOSED"
  /** The call is not allowed in the vCPU's current state (e.g. while it runs). */
  | "INVALID_STATE"
  /** A callback (MMIO handler, timer or IRQ listener) threw while the guest ran. */
  | "CALLBACK_FAILED"
  /** Delivering a synchronous exception into the guest did not land where it must. */
  | "EXCEPTION_DELIVERY_FAILED";

/**
 * An error raised by `@vmkit/vcpu`, with a `code` saying what went wrong
 * and a message saying where.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, VcpuError } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * // RAM must start and end on 4 KiB pages.
 * assert.throws(() => vcpu.mapRam(0x4000_0800, new Uint8Array(0x1000)), (e) => {
 *   assert.ok(e instanceof VcpuError);
 *   assert.equal(e.code, "BAD_REGION");
 *   assert.match(e.message, /0x40000800/);
 *   return true;
 * });
 * ```
 */
export class VcpuError extends Error {
  /** What went wrong. */
  readonly code: VcpuErrorCode;

  /**
   * Creates the error; `name` is `"VcpuError"`, so it prints as such.
   *
   * @param code what went wrong
   * @param message a sentence saying what and where
   * @param options the underlying cause, if any
   */
  constructor(code: VcpuErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VcpuError";
    this.code = code;
  }
}

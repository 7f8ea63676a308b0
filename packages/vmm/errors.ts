/**
 * The error type of `@vmkit/vmm`.
 *
 * @module
 */

/**
 * What went wrong, as a stable code callers can branch on.
 *
 * @example
 * ```ts
 * import { normalizeConfig, VmmError, type VmmErrorCode } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let code: VmmErrorCode | undefined;
 * try {
 *   normalizeConfig({ cpus: 9 });
 * } catch (e) {
 *   if (e instanceof VmmError) code = e.code;
 * }
 * assert.equal(code, "BAD_CONFIG");
 * ```
 */
export type VmmErrorCode =
  /** A configuration value is missing, malformed or out of range. */
  | "BAD_CONFIG"
  /** A device window overlaps another, is empty or misaligned, or runs past the address space. */
  | "BAD_REGION"
  /** The VM is in the wrong state for the call (nothing loaded, running, closed). */
  | "INVALID_STATE"
  /** Loading kernel, device tree or initrd failed; `cause` holds the loader's error. */
  | "LOAD_FAILED";

/**
 * An error raised by `@vmkit/vmm`, with a `code` saying what went wrong.
 *
 * @example
 * ```ts
 * import { parseMemorySize, VmmError } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => parseMemorySize("12 parsecs"),
 *   (e) => e instanceof VmmError && e.code === "BAD_CONFIG",
 * );
 * ```
 */
export class VmmError extends Error {
  /** What went wrong. */
  readonly code: VmmErrorCode;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param message a sentence saying what and where
   * @param options the underlying cause, if any
   */
  constructor(code: VmmErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VmmError";
    this.code = code;
  }
}

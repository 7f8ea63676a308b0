/**
 * The error type of `@vmkit/vmm`.
 *
 * @module
 */

/** What went wrong, as a stable code callers can branch on. */
export type VmmErrorCode =
  /** A configuration value is missing, malformed or out of range. */
  | "BAD_CONFIG"
  /** A device window overlaps another, is empty or misaligned, or runs past the address space. */
  | "BAD_REGION"
  /** The VM is in the wrong state for the call (nothing loaded, running, closed). */
  | "INVALID_STATE"
  /** Loading kernel, device tree or initrd failed; `cause` holds the loader's error. */
  | "LOAD_FAILED";

/** An error raised by `@vmkit/vmm`, with a `code` saying what went wrong. */
export class VmmError extends Error {
  /** What went wrong. */
  readonly code: VmmErrorCode;

  /**
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

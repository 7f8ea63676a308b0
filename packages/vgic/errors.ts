/**
 * Errors for programmer mistakes made while configuring or wiring the GIC.
 *
 * Guest accesses never raise these: a guest is untrusted, so its bad accesses are absorbed the
 * way the architecture says and counted in {@link VgicStats}.
 *
 * @module
 */

/** Why a {@link VgicError} was raised. */
export type VgicErrorCode =
  /** A constructor option is out of range (CPU count, interrupt count). */
  | "BAD_CONFIG"
  /** An interrupt number is not implemented or not usable for the requested operation. */
  | "INVALID_IRQ"
  /** A CPU index is out of range, or missing where a banked (SGI/PPI) interrupt needs one. */
  | "INVALID_CPU"
  /** A single-owner hook (such as the deactivation hook) is already taken. */
  | "HOOK_IN_USE";

/** Details attached to a {@link VgicError}, saying where the mistake is. */
export interface VgicErrorDetails {
  /** The interrupt number involved, when there is one. */
  readonly intid?: number;
  /** The CPU index involved, when there is one. */
  readonly cpu?: number;
}

/** A configuration or wiring error in the use of `@vmkit/vgic`. */
export class VgicError extends Error {
  /** Machine-readable reason. */
  readonly code: VgicErrorCode;
  /** The interrupt number involved, if any. */
  readonly intid: number | undefined;
  /** The CPU index involved, if any. */
  readonly cpu: number | undefined;

  /**
   * Create an error.
   *
   * @param code machine-readable reason
   * @param message human-readable explanation
   * @param details where the mistake is
   */
  constructor(code: VgicErrorCode, message: string, details: VgicErrorDetails = {}) {
    super(message);
    this.name = "VgicError";
    this.code = code;
    this.intid = details.intid;
    this.cpu = details.cpu;
  }
}

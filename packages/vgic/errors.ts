/**
 * Errors for programmer mistakes made while configuring or wiring the GIC.
 *
 * Guest accesses never raise these: a guest is untrusted, so its bad accesses are absorbed the
 * way the architecture says and counted in {@link VgicStats}.
 *
 * @module
 */

/**
 * Why a {@link VgicError} was raised.
 *
 * @example Telling wiring mistakes apart
 * ```ts
 * import { Gicv2, VgicError, type VgicErrorCode } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * function whyNot(wire: () => void): VgicErrorCode | undefined {
 *   try {
 *     wire();
 *     return undefined;
 *   } catch (e) {
 *     if (e instanceof VgicError) return e.code;
 *     throw e;
 *   }
 * }
 * const gic = new Gicv2({ cpus: 2 });
 * assert.equal(whyNot(() => new Gicv2({ cpus: 9 })), "BAD_CONFIG");
 * assert.equal(whyNot(() => gic.line(27)), "INVALID_CPU"); // a PPI: whose?
 * assert.equal(whyNot(() => gic.line(3, 0)), "INVALID_IRQ"); // SGIs have no input line
 * ```
 */
export type VgicErrorCode =
  /** A constructor option is out of range (CPU count, interrupt count). */
  | "BAD_CONFIG"
  /** An interrupt number is not implemented or not usable for the requested operation. */
  | "INVALID_IRQ"
  /** A CPU index is out of range, or missing where a banked (SGI/PPI) interrupt needs one. */
  | "INVALID_CPU"
  /** A single-owner hook (such as the deactivation hook) is already taken. */
  | "HOOK_IN_USE";

/**
 * Details attached to a {@link VgicError}, saying where the mistake is.
 *
 * @example Usage
 * ```ts
 * import { VgicError, type VgicErrorDetails } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const where: VgicErrorDetails = { intid: 27, cpu: 4 };
 * const error = new VgicError("INVALID_CPU", "no such CPU interface: 4", where);
 * assert.equal(error.intid, 27);
 * assert.equal(error.cpu, 4);
 * ```
 */
export interface VgicErrorDetails {
  /** The interrupt number involved, when there is one. */
  readonly intid?: number;
  /** The CPU index involved, when there is one. */
  readonly cpu?: number;
}

/**
 * A configuration or wiring error in the use of `@vmkit/vgic`.
 *
 * @example Catching a wiring mistake
 * ```ts
 * import { Gicv2, VgicError } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * assert.throws(
 *   () => gic.setLevel(27, true, 5), // the virtual timer's PPI, on a CPU that does not exist
 *   (e) => e instanceof VgicError && e.code === "INVALID_CPU" && e.intid === 27 && e.cpu === 5,
 * );
 * ```
 */
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

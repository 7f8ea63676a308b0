/**
 * The command line's error: bad flags or files, exit status 2.
 *
 * @module
 */

/**
 * What went wrong with a command line.
 *
 * @example
 * ```ts
 * import { CliError, type CliErrorCode, parseDiskSpec } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * let code: CliErrorCode | undefined;
 * try {
 *   parseDiskSpec("disk.img,rw");
 * } catch (e) {
 *   if (e instanceof CliError) code = e.code;
 * }
 * assert.equal(code, "USAGE");
 * ```
 */
export type CliErrorCode = "USAGE";

/**
 * A problem with the command line or the files it names: exit status 2.
 *
 * @example
 * ```ts
 * import { CliError } from "@vmkit/cli";
 *
 * const e = new CliError("USAGE", "--smp: 9 is not 1 to 8");
 * console.log(e.code, e.message); // USAGE --smp: 9 is not 1 to 8
 * ```
 */
export class CliError extends Error {
  /** What went wrong. */
  readonly code: CliErrorCode;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param message one line saying what and where
   */
  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

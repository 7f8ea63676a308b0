/**
 * The loader's error type.
 *
 * @module
 */

/**
 * What went wrong, as a stable string a caller can switch on.
 *
 * Image header: `TRUNCATED`, `BAD_MAGIC`, `COMPRESSED_IMAGE`, `BIG_ENDIAN`,
 * `UNSUPPORTED_PAGE_SIZE`, `RESERVED_FLAGS`, `RESERVED_FIELD`, `UNSAFE_INTEGER`,
 * `BAD_TEXT_OFFSET`, `BAD_IMAGE_SIZE`.
 * PE/COFF header of an EFI-stub Image: `BAD_PE_HEADER` (a file cut short is `TRUNCATED`).
 * Decompression: `GZIP_CORRUPT`, `GZIP_TOO_LARGE`.
 * Arguments and guest RAM: `INVALID_ARGUMENT`, `BAD_RAM`, `UNALIGNED_RAM_BASE`.
 * Placement: `KERNEL_OUTSIDE_RAM`, `DTB_OUTSIDE_RAM`, `INITRD_OUTSIDE_RAM`, `DTB_TOO_LARGE`,
 * `DTB_MISALIGNED`, `DTB_SLOT_OVERFLOW`, `INITRD_WINDOW`, `OVERLAP`, `NO_ROOM`.
 * Device tree: `BAD_DTB`, `INITRD_MISMATCH`, `MEMORY_MISMATCH`.
 *
 * @example Telling failures apart
 * ```ts
 * import { LoaderError, type LoaderErrorCode, parseImageHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * function whyNot(kernel: Uint8Array): LoaderErrorCode | undefined {
 *   try {
 *     parseImageHeader(kernel);
 *     return undefined;
 *   } catch (e) {
 *     if (e instanceof LoaderError) return e.code;
 *     throw e;
 *   }
 * }
 * assert.equal(whyNot(new Uint8Array(16)), "TRUNCATED");
 * assert.equal(whyNot(new Uint8Array(64)), "BAD_MAGIC");
 * assert.equal(whyNot(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), "COMPRESSED_IMAGE"); // zstd
 * ```
 */
export type LoaderErrorCode =
  | "TRUNCATED"
  | "BAD_MAGIC"
  | "COMPRESSED_IMAGE"
  | "BIG_ENDIAN"
  | "UNSUPPORTED_PAGE_SIZE"
  | "RESERVED_FLAGS"
  | "RESERVED_FIELD"
  | "UNSAFE_INTEGER"
  | "BAD_TEXT_OFFSET"
  | "BAD_IMAGE_SIZE"
  | "BAD_PE_HEADER"
  | "GZIP_CORRUPT"
  | "GZIP_TOO_LARGE"
  | "INVALID_ARGUMENT"
  | "BAD_RAM"
  | "UNALIGNED_RAM_BASE"
  | "KERNEL_OUTSIDE_RAM"
  | "DTB_OUTSIDE_RAM"
  | "INITRD_OUTSIDE_RAM"
  | "DTB_TOO_LARGE"
  | "DTB_MISALIGNED"
  | "DTB_SLOT_OVERFLOW"
  | "INITRD_WINDOW"
  | "OVERLAP"
  | "NO_ROOM"
  | "BAD_DTB"
  | "INITRD_MISMATCH"
  | "MEMORY_MISMATCH";

/**
 * Where an error happened, beyond its message.
 *
 * @example Usage
 * ```ts
 * import { LoaderError, type LoaderErrorDetails } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const cause = new Error("short read");
 * const details: LoaderErrorDetails = { offset: 0x40, cause };
 * const error = new LoaderError("TRUNCATED", "kernel ends inside its header", details);
 * assert.equal(error.offset, 0x40);
 * assert.equal(error.cause, cause); // the standard Error.cause
 * assert.equal(error.address, undefined);
 * ```
 */
export interface LoaderErrorDetails {
  /** Byte offset inside the input (Image header field, DTB structure). */
  readonly offset?: number;
  /** Guest-physical address the error is about. */
  readonly address?: number;
  /** The underlying error (an `FdtError`, a decompression `TypeError`). */
  readonly cause?: unknown;
}

/**
 * Raised by every loader function (and handed to the `onError` callback of
 * {@linkcode linux_setup_images}). The message names the field, offset or
 * guest-physical address concerned; `code` is for programs.
 *
 * @example Catching a loader error
 * ```ts
 * import { LoaderError, parseImageHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const gzipped = new Uint8Array([0x1f, 0x8b, 0x08, 0x00]);
 * assert.throws(
 *   () => parseImageHeader(gzipped),
 *   (e) => e instanceof LoaderError && e.code === "COMPRESSED_IMAGE" && e.offset === 0,
 * );
 * ```
 */
export class LoaderError extends Error {
  /** Stable machine-readable reason. */
  readonly code: LoaderErrorCode;
  /** Byte offset inside the input, when the error is about a file's content. */
  readonly offset?: number;
  /** Guest-physical address, when the error is about placement. */
  readonly address?: number;

  /**
   * Creates an error; `details.cause` becomes the standard `Error.cause`.
   *
   * @param code machine-readable reason
   * @param message human-readable explanation naming what and where
   * @param details offset, address and underlying cause, when known
   */
  constructor(code: LoaderErrorCode, message: string, details: LoaderErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "LoaderError";
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.address !== undefined) this.address = details.address;
  }
}

/** Formats a guest-physical address or offset the way the messages show them. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

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

/** Where an error happened, beyond its message. */
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

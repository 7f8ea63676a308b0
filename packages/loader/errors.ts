/**
 * The loader's error type.
 *
 * @module
 */

/**
 * What went wrong, as a stable string a caller can switch on.
 *
 * Image header: `truncated`, `bad-magic`, `compressed-image`, `big-endian`,
 * `unsupported-page-size`, `reserved-flags`, `reserved-field`, `unsafe-integer`,
 * `bad-text-offset`, `bad-image-size`.
 * Decompression: `gzip-corrupt`, `gzip-too-large`.
 * Arguments and guest RAM: `bad-argument`, `bad-ram`, `unaligned-ram-base`.
 * Placement: `kernel-outside-ram`, `dtb-outside-ram`, `initrd-outside-ram`, `dtb-too-large`,
 * `dtb-misaligned`, `dtb-slot-overflow`, `initrd-window`, `overlap`, `no-room`.
 * Device tree: `bad-dtb`, `initrd-mismatch`, `memory-mismatch`.
 */
export type LoaderErrorCode =
  | "truncated"
  | "bad-magic"
  | "compressed-image"
  | "big-endian"
  | "unsupported-page-size"
  | "reserved-flags"
  | "reserved-field"
  | "unsafe-integer"
  | "bad-text-offset"
  | "bad-image-size"
  | "gzip-corrupt"
  | "gzip-too-large"
  | "bad-argument"
  | "bad-ram"
  | "unaligned-ram-base"
  | "kernel-outside-ram"
  | "dtb-outside-ram"
  | "initrd-outside-ram"
  | "dtb-too-large"
  | "dtb-misaligned"
  | "dtb-slot-overflow"
  | "initrd-window"
  | "overlap"
  | "no-room"
  | "bad-dtb"
  | "initrd-mismatch"
  | "memory-mismatch";

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

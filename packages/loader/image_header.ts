/**
 * The 64-byte header at the start of an uncompressed arm64 Linux `Image`.
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";
import { parsePeHeader, type PeHeader } from "./pe_header.ts";

/**
 * Length of the arm64 Image header in bytes.
 *
 * @example The smallest Image is a header alone
 * ```ts
 * import {
 *   IMAGE_HEADER_SIZE,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(IMAGE_HEADER_SIZE);
 * new DataView(kernel.buffer).setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * assert.equal(parseImageHeader(kernel).loadSize, IMAGE_HEADER_SIZE);
 * assert.throws(() => parseImageHeader(kernel.subarray(0, IMAGE_HEADER_SIZE - 1)), {
 *   code: "TRUNCATED",
 * });
 * ```
 */
export const IMAGE_HEADER_SIZE = 64;

/**
 * The header's magic number, the bytes `"ARM\x64"` read as a little-endian u32 at 0x38.
 *
 * @example Usage
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(64);
 * kernel.set(new TextEncoder().encode("ARM\x64"), IMAGE_MAGIC_OFFSET);
 * assert.equal(new DataView(kernel.buffer).getUint32(IMAGE_MAGIC_OFFSET, true), IMAGE_MAGIC);
 * ```
 */
export const IMAGE_MAGIC = 0x644d5241;

/**
 * Offset of the magic number inside the header.
 *
 * @example Recognising an arm64 Image
 * ```ts
 * import { IMAGE_HEADER_SIZE, IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const isArm64Image = (b: Uint8Array): boolean =>
 *   b.length >= IMAGE_HEADER_SIZE &&
 *   new DataView(b.buffer, b.byteOffset).getUint32(IMAGE_MAGIC_OFFSET, true) === IMAGE_MAGIC;
 * const kernel = new Uint8Array(IMAGE_HEADER_SIZE);
 * assert.equal(isArm64Image(kernel), false);
 * new DataView(kernel.buffer).setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * assert.equal(isArm64Image(kernel), true);
 * ```
 */
export const IMAGE_MAGIC_OFFSET = 0x38;

/**
 * The `text_offset` to assume for kernels older than v3.17, whose `image_size` field is 0 and
 * whose `text_offset` field is in the kernel's own endianness.
 *
 * @example A kernel older than v3.17
 * ```ts
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   LEGACY_TEXT_OFFSET,
 *   parseImageHeader,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(4096); // image_size (0x10) left 0: a legacy kernel
 * new DataView(kernel.buffer).setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const header = parseImageHeader(kernel);
 * assert.equal(header.legacy, true);
 * assert.equal(header.textOffset, LEGACY_TEXT_OFFSET);
 * ```
 */
export const LEGACY_TEXT_OFFSET = 0x80000;

/**
 * A kernel page size that the header's flags can announce.
 *
 * @example Refusing a kernel the guest CPU cannot run
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET, type PageSize, parseImageHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(4096);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * view.setBigUint64(0x10, 0x10_0000n, true); // image_size
 * view.setBigUint64(0x18, 2n << 1n, true); // flags bits 2:1 = 2: 16 KiB pages
 * assert.equal(parseImageHeader(kernel).pageSize, 16384);
 * const supportedPageSizes: PageSize[] = [4096, 65536];
 * assert.throws(() => parseImageHeader(kernel, { supportedPageSizes }), {
 *   code: "UNSUPPORTED_PAGE_SIZE",
 * });
 * ```
 */
export type PageSize = 4096 | 16384 | 65536;

/**
 * The decoded header. Offsets in the comments are inside the file.
 *
 * @example Usage
 * ```ts
 * import {
 *   type ImageHeader,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB, BSS included
 * view.setBigUint64(0x18, 0b1010n, true); // flags: 4 KiB pages, place anywhere
 * const header: ImageHeader = parseImageHeader(kernel);
 * assert.equal(header.loadSize, 0x20_0000); // what to reserve, not the file's 4 KiB
 * assert.equal(header.pageSize, 4096);
 * assert.equal(header.placeAnywhere, true);
 * assert.equal(header.efiStub, false); // no "MZ" at the start
 * ```
 */
export interface ImageHeader {
  /** 0x00: first instruction (the bytes `"MZ"` at its start when an EFI stub is built in). */
  readonly code0: number;
  /** 0x04: second instruction. */
  readonly code1: number;
  /** 0x08 as stored in the file (ignored when {@linkcode ImageHeader.legacy}). */
  readonly textOffsetField: number;
  /**
   * The load offset from the 2 MiB-aligned base to use: the field, or
   * {@linkcode LEGACY_TEXT_OFFSET} for a legacy kernel.
   */
  readonly textOffset: number;
  /** 0x10: bytes the kernel uses from its load address, BSS included; 0 on legacy kernels. */
  readonly imageSize: number;
  /** 0x18: the raw flags. */
  readonly flags: number;
  /** Flags bit 0 clear: the kernel runs little-endian (big-endian ones are rejected). */
  readonly littleEndian: boolean;
  /** Flags bits 2:1: the kernel's page size, `undefined` when the kernel leaves it unspecified. */
  readonly pageSize: PageSize | undefined;
  /**
   * Flags bit 3: the 2 MiB-aligned base may be anywhere in RAM (`true`), or should be as close to
   * the start of RAM as possible because memory below it is unusable (`false`).
   */
  readonly placeAnywhere: boolean;
  /** 0x20: reserved. */
  readonly res2: number;
  /** 0x28: reserved. */
  readonly res3: number;
  /** 0x30: reserved. */
  readonly res4: number;
  /** 0x38: always {@linkcode IMAGE_MAGIC} in a parsed header. */
  readonly magic: number;
  /** 0x3C: offset of the PE header when an EFI stub is built in, else reserved. */
  readonly res5: number;
  /** `code0` starts with `"MZ"`: the Image doubles as an EFI application. */
  readonly efiStub: boolean;
  /** `image_size` is 0: a kernel older than v3.17, whose real size is unknown. */
  readonly legacy: boolean;
  /**
   * Bytes to reserve from the load address: `image_size`, or for a legacy kernel the file's
   * length (which leaves out the BSS, so keep other images well clear of a legacy kernel).
   */
  readonly loadSize: number;
  /**
   * The PE/COFF header of an EFI-stub Image (one starting with `"MZ"`), whose section table
   * proves the file is whole; `undefined` for an Image without one.
   */
  readonly pe: PeHeader | undefined;
}

/**
 * Knobs for {@linkcode parseImageHeader}.
 *
 * @example Accepting reserved fields
 * ```ts
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   type ParseImageHeaderOptions,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(4096);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * view.setBigUint64(0x20, 1n, true); // res2, reserved: a future kernel may give it a meaning
 * assert.throws(() => parseImageHeader(kernel), { code: "RESERVED_FIELD", offset: 0x20 });
 * const lenient: ParseImageHeaderOptions = { allowReserved: true };
 * assert.equal(parseImageHeader(kernel, lenient).res2, 1);
 * ```
 */
export interface ParseImageHeaderOptions {
  /**
   * Page sizes the guest CPU's MMU supports (from ID_AA64MMFR0_EL1.TGran*). A kernel announcing
   * another one is rejected with `UNSUPPORTED_PAGE_SIZE`. Default: all three. A kernel that leaves
   * its page size unspecified is always accepted.
   */
  readonly supportedPageSizes?: readonly PageSize[];
  /**
   * Accept set bits in the reserved flags (4..63) and non-zero `res2`..`res4`. Default `false`:
   * a future kernel that gives them a meaning may need a bootloader that knows it, so refusing
   * is safer than booting it wrong.
   */
  readonly allowReserved?: boolean;
}

const FLAG_BIG_ENDIAN = 0x1;
const FLAG_PAGE_SIZE_SHIFT = 1;
const FLAG_PAGE_SIZE_MASK = 0x3;
const FLAG_PLACE_ANYWHERE = 0x8;
const FLAGS_KNOWN = 0xf;
const PAGE_SIZES: readonly (PageSize | undefined)[] = Object.freeze([
  undefined,
  4096,
  16384,
  65536,
]);
const TEXT_OFFSET_ALIGN = 4096;

/**
 * Names a compressed-file signature at the start of `bytes`, or returns `undefined`.
 *
 * Recognises gzip, xz, zstd, bzip2, LZ4 (frame and legacy), LZMA-alone's common form and the EFI
 * zboot wrapper (`CONFIG_EFI_ZBOOT`), so that handing one of them to the synchronous functions
 * fails with a clear `COMPRESSED_IMAGE` error rather than `BAD_MAGIC`.
 *
 * @example Usage
 * ```ts
 * import { detectCompression } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectCompression(new Uint8Array([0x1f, 0x8b, 0x08])), "gzip");
 * assert.equal(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
 * assert.equal(detectCompression(new Uint8Array(64)), undefined); // no known signature
 * ```
 */
export function detectCompression(bytes: Uint8Array): string | undefined {
  const at = (i: number): number => (i < bytes.length ? bytes[i] : -1);
  const starts = (sig: readonly number[], from = 0): boolean =>
    sig.every((b, i) => at(from + i) === b);
  if (starts([0x1f, 0x8b])) return "gzip";
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  if (starts([0x42, 0x5a, 0x68])) return "bzip2";
  if (starts([0x04, 0x22, 0x4d, 0x18]) || starts([0x02, 0x21, 0x4c, 0x18])) return "lz4";
  if (starts([0x5d, 0x00, 0x00])) return "lzma";
  if (starts([0x4d, 0x5a]) && starts([0x7a, 0x69, 0x6d, 0x67], 4)) return "EFI zboot";
  return undefined;
}

/**
 * True when `bytes` starts with the gzip magic number (1F 8B).
 *
 * @example Usage
 * ```ts
 * import { isGzip } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const stream = new Blob(["Image"]).stream().pipeThrough(new CompressionStream("gzip"));
 * const gz = await new Response(stream).bytes();
 * assert.equal(isGzip(gz), true);
 * assert.equal(isGzip(new TextEncoder().encode("Image")), false);
 * ```
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function readU64(view: DataView, offset: number, field: string): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LoaderError(
      "UNSAFE_INTEGER",
      `Image header field ${field} at offset ${hex(offset)} is 0x${
        value.toString(16)
      }, beyond 2^53 - 1`,
      { offset },
    );
  }
  return Number(value);
}

/**
 * Parses and validates the header of an uncompressed arm64 Linux `Image`.
 *
 * `image` is the whole file (its length is checked against `image_size` and used as the size of
 * a legacy kernel). Throws {@linkcode LoaderError}: `COMPRESSED_IMAGE` for a gzip/xz/zstd/... file
 * (use {@linkcode readKernelImage} for gzip), `TRUNCATED`, `BAD_MAGIC`, `BIG_ENDIAN`,
 * `UNSUPPORTED_PAGE_SIZE`, `RESERVED_FLAGS`, `RESERVED_FIELD`, `UNSAFE_INTEGER`,
 * `BAD_TEXT_OFFSET` (not a multiple of 4 KiB), `BAD_IMAGE_SIZE` (smaller than the file).
 *
 * An Image starting with `"MZ"` (built with the EFI stub) also has its PE/COFF header checked by
 * {@linkcode parsePeHeader}: `BAD_PE_HEADER` when it is malformed, `TRUNCATED` when the file ends
 * before the last section's raw data, as a kernel cut short in a copy does.
 *
 * @example Usage
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET, parseImageHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // Normally the file itself: parseImageHeader(await Deno.readFile("Image")).
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x08, 0x8_0000n, true); // text_offset: 512 KiB
 * view.setBigUint64(0x10, 0x10_0000n, true); // image_size: 1 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const header = parseImageHeader(kernel);
 * assert.equal(header.textOffset, 0x8_0000);
 * assert.equal(header.imageSize, 0x10_0000);
 * view.setBigUint64(0x08, 0x123n, true);
 * assert.throws(() => parseImageHeader(kernel), { code: "BAD_TEXT_OFFSET", offset: 0x08 });
 * ```
 */
export function parseImageHeader(
  image: Uint8Array,
  options: ParseImageHeaderOptions = {},
): ImageHeader {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const hasMagic = image.length >= IMAGE_HEADER_SIZE &&
    view.getUint32(IMAGE_MAGIC_OFFSET, true) === IMAGE_MAGIC;
  if (!hasMagic) {
    const compression = detectCompression(image);
    if (compression !== undefined) {
      throw new LoaderError(
        "COMPRESSED_IMAGE",
        compression === "gzip"
          ? "kernel is gzip-compressed: decompress it with readKernelImage() first"
          : `kernel is ${compression}-compressed: only uncompressed or gzip Images are supported`,
        { offset: 0 },
      );
    }
    if (image.length < IMAGE_HEADER_SIZE) {
      throw new LoaderError(
        "TRUNCATED",
        `kernel is ${image.length} bytes, shorter than the ${IMAGE_HEADER_SIZE}-byte arm64 Image header`,
        { offset: image.length },
      );
    }
    throw new LoaderError(
      "BAD_MAGIC",
      `not an arm64 Linux Image: magic at offset ${hex(IMAGE_MAGIC_OFFSET)} is ${
        hex(view.getUint32(IMAGE_MAGIC_OFFSET, true))
      }, expected ${hex(IMAGE_MAGIC)} ("ARM\\x64")`,
      { offset: IMAGE_MAGIC_OFFSET },
    );
  }

  const allowReserved = options.allowReserved ?? false;
  const flagsLow = view.getUint32(0x18, true);
  const flagsHigh = view.getUint32(0x1c, true);
  if (!allowReserved && ((flagsLow & ~FLAGS_KNOWN) !== 0 || flagsHigh !== 0)) {
    throw new LoaderError(
      "RESERVED_FLAGS",
      `Image header flags at offset 0x18 are 0x${
        view.getBigUint64(0x18, true).toString(16)
      }: reserved bits 4..63 are set`,
      { offset: 0x18 },
    );
  }
  for (const [name, offset] of [["res2", 0x20], ["res3", 0x28], ["res4", 0x30]] as const) {
    if (!allowReserved && view.getBigUint64(offset, true) !== 0n) {
      throw new LoaderError(
        "RESERVED_FIELD",
        `Image header field ${name} at offset ${hex(offset)} is 0x${
          view.getBigUint64(offset, true).toString(16)
        }, expected 0`,
        { offset },
      );
    }
  }

  const textOffsetField = readU64(view, 0x08, "text_offset");
  const imageSize = readU64(view, 0x10, "image_size");
  const flags = readU64(view, 0x18, "flags");
  const res2 = readU64(view, 0x20, "res2");
  const res3 = readU64(view, 0x28, "res3");
  const res4 = readU64(view, 0x30, "res4");

  if ((flags & FLAG_BIG_ENDIAN) !== 0) {
    throw new LoaderError(
      "BIG_ENDIAN",
      "Image header flags bit 0 (offset 0x18) says the kernel is big-endian; guests here are little-endian",
      { offset: 0x18 },
    );
  }
  const pageSize = PAGE_SIZES[(flags >>> FLAG_PAGE_SIZE_SHIFT) & FLAG_PAGE_SIZE_MASK];
  if (
    pageSize !== undefined && options.supportedPageSizes !== undefined &&
    !options.supportedPageSizes.includes(pageSize)
  ) {
    throw new LoaderError(
      "UNSUPPORTED_PAGE_SIZE",
      `Image header flags bits 2:1 (offset 0x18) ask for ${
        pageSize / 1024
      } KiB pages; the guest CPU supports ${
        options.supportedPageSizes.map((s) => `${s / 1024} KiB`).join(", ") || "none"
      }`,
      { offset: 0x18 },
    );
  }

  const legacy = imageSize === 0;
  const textOffset = legacy ? LEGACY_TEXT_OFFSET : textOffsetField;
  if (textOffset % TEXT_OFFSET_ALIGN !== 0) {
    throw new LoaderError(
      "BAD_TEXT_OFFSET",
      `Image header text_offset at offset 0x8 is ${
        hex(textOffset)
      }, not a multiple of 4 KiB: the kernel maps itself in pages from its first byte`,
      { offset: 0x08 },
    );
  }
  if (!legacy && imageSize < image.length) {
    throw new LoaderError(
      "BAD_IMAGE_SIZE",
      `Image header image_size at offset 0x10 is ${
        hex(imageSize)
      }, smaller than the ${image.length}-byte file`,
      { offset: 0x10 },
    );
  }

  // After the Image header checks, so a file that is not an Image at all is named as such.
  const pe = parsePeHeader(image);
  const code0 = view.getUint32(0x00, true);
  return {
    code0,
    code1: view.getUint32(0x04, true),
    textOffsetField,
    textOffset,
    imageSize,
    flags,
    littleEndian: true,
    pageSize,
    placeAnywhere: (flags & FLAG_PLACE_ANYWHERE) !== 0,
    res2,
    res3,
    res4,
    magic: IMAGE_MAGIC,
    res5: view.getUint32(0x3c, true),
    efiStub: image[0] === 0x4d && image[1] === 0x5a,
    legacy,
    loadSize: legacy ? image.length : imageSize,
    pe,
  };
}

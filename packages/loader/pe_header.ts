/**
 * The PE/COFF header of an arm64 Image built with the EFI stub, read to learn how long the file
 * must be: the Image header alone says nothing about that, so a kernel cut short would otherwise
 * load and crash in the guest.
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";

/**
 * `"PE\0\0"` read as a little-endian u32: the signature at the offset the Image's `res5` gives.
 *
 * @example Usage
 * ```ts
 * import { PE_SIGNATURE } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("PE\0\0");
 * assert.equal(new DataView(bytes.buffer).getUint32(0, true), PE_SIGNATURE);
 * ```
 */
export const PE_SIGNATURE = 0x00004550;

/**
 * The COFF `Machine` value of AArch64 (`IMAGE_FILE_MACHINE_ARM64`).
 *
 * @example Refusing another architecture's EFI binary
 * ```ts
 * import { PE_MACHINE_ARM64, PE_SIGNATURE, parsePeHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x100);
 * const view = new DataView(image.buffer);
 * image.set([0x4d, 0x5a]); // "MZ": an EFI stub
 * view.setUint32(0x3c, 0x40, true); // res5: where the PE header starts
 * view.setUint32(0x40, PE_SIGNATURE, true);
 * view.setUint16(0x44, 0x8664, true); // Machine: x86-64, not PE_MACHINE_ARM64
 * assert.throws(() => parsePeHeader(image), { code: "BAD_PE_HEADER", offset: 0x44 });
 * assert.equal(PE_MACHINE_ARM64, 0xaa64);
 * ```
 */
export const PE_MACHINE_ARM64 = 0xaa64;

/**
 * The PE32+ optional header's magic number.
 *
 * @example The optional header must be PE32+
 * ```ts
 * import { PE32_PLUS_MAGIC, PE_MACHINE_ARM64, PE_SIGNATURE, parsePeHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x100);
 * const view = new DataView(image.buffer);
 * image.set([0x4d, 0x5a]); // "MZ"
 * view.setUint32(0x3c, 0x40, true); // res5
 * view.setUint32(0x40, PE_SIGNATURE, true);
 * view.setUint16(0x44, PE_MACHINE_ARM64, true);
 * view.setUint16(0x46, 1, true); // NumberOfSections
 * view.setUint16(0x54, 112, true); // SizeOfOptionalHeader
 * view.setUint16(0x58, 0x10b, true); // PE32, the 32-bit form, where PE32_PLUS_MAGIC belongs
 * assert.throws(() => parsePeHeader(image), { code: "BAD_PE_HEADER", offset: 0x58 });
 * assert.equal(PE32_PLUS_MAGIC, 0x20b);
 * ```
 */
export const PE32_PLUS_MAGIC = 0x20b;

/**
 * Most sections a PE image may have (the limit the PE specification states).
 *
 * @example Usage
 * ```ts
 * import { PE_MACHINE_ARM64, PE_MAX_SECTIONS, PE_SIGNATURE, parsePeHeader } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x100);
 * const view = new DataView(image.buffer);
 * image.set([0x4d, 0x5a]); // "MZ"
 * view.setUint32(0x3c, 0x40, true); // res5
 * view.setUint32(0x40, PE_SIGNATURE, true);
 * view.setUint16(0x44, PE_MACHINE_ARM64, true);
 * view.setUint16(0x46, PE_MAX_SECTIONS + 1, true); // NumberOfSections
 * assert.throws(() => parsePeHeader(image), { code: "BAD_PE_HEADER", offset: 0x46 });
 * ```
 */
export const PE_MAX_SECTIONS = 96;

/** Offset of the PE header's file offset (`e_lfanew`, the Image's `res5`). */
const PE_POINTER_OFFSET = 0x3c;
/** Signature (4) plus the COFF file header (20). */
const COFF_END = 24;
/** The fixed part of a PE32+ optional header, up to and including `NumberOfRvaAndSizes`. */
const OPTIONAL_HEADER_MIN = 112;
const SECTION_HEADER_SIZE = 40;
const U32_LIMIT = 0x1_0000_0000;

/**
 * One entry of the section table.
 *
 * @example Listing the sections of an EFI-stub Image
 * ```ts
 * import {
 *   PE32_PLUS_MAGIC,
 *   PE_MACHINE_ARM64,
 *   PE_SIGNATURE,
 *   type PeSection,
 *   parsePeHeader,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x2000);
 * const view = new DataView(image.buffer);
 * image.set([0x4d, 0x5a]); // "MZ"
 * view.setUint32(0x3c, 0x40, true); // res5: the PE header
 * view.setUint32(0x40, PE_SIGNATURE, true);
 * view.setUint16(0x44, PE_MACHINE_ARM64, true);
 * view.setUint16(0x46, 1, true); // one section
 * view.setUint16(0x54, 112, true); // SizeOfOptionalHeader, no data directories
 * view.setUint16(0x58, PE32_PLUS_MAGIC, true);
 * image.set(new TextEncoder().encode(".text"), 0xc8); // the section table follows at 0xc8
 * view.setUint32(0xc8 + 16, 0x1000, true); // SizeOfRawData
 * view.setUint32(0xc8 + 20, 0x1000, true); // PointerToRawData
 * const sections: readonly PeSection[] = parsePeHeader(image)?.sections ?? [];
 * assert.deepEqual(sections.map((s) => [s.name, s.pointerToRawData + s.sizeOfRawData]), [
 *   [".text", 0x2000],
 * ]);
 * ```
 */
export interface PeSection {
  /** The 8-byte name with its NUL padding removed (`.text`, `.data`, ...). */
  readonly name: string;
  /** File offset of this entry in the section table. */
  readonly headerOffset: number;
  /** Bytes the section occupies once loaded. */
  readonly virtualSize: number;
  /** Where it loads, relative to the image base. */
  readonly virtualAddress: number;
  /** Bytes of the section stored in the file. */
  readonly sizeOfRawData: number;
  /** File offset of those bytes. */
  readonly pointerToRawData: number;
}

/**
 * What {@linkcode parsePeHeader} read.
 *
 * @example How long an EFI-stub Image must be
 * ```ts
 * import {
 *   PE32_PLUS_MAGIC,
 *   PE_MACHINE_ARM64,
 *   PE_SIGNATURE,
 *   type PeHeader,
 *   parsePeHeader,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x2000);
 * const view = new DataView(image.buffer);
 * image.set([0x4d, 0x5a]); // "MZ"
 * view.setUint32(0x3c, 0x40, true); // res5: the PE header
 * view.setUint32(0x40, PE_SIGNATURE, true);
 * view.setUint16(0x44, PE_MACHINE_ARM64, true);
 * view.setUint16(0x46, 1, true); // one section
 * view.setUint16(0x54, 112, true); // SizeOfOptionalHeader
 * view.setUint16(0x58, PE32_PLUS_MAGIC, true);
 * view.setUint32(0xc8 + 16, 0x1000, true); // the section's SizeOfRawData
 * view.setUint32(0xc8 + 20, 0x1000, true); // and PointerToRawData
 * const pe: PeHeader | undefined = parsePeHeader(image);
 * assert.equal(pe?.rawDataEnd, 0x2000);
 * // A copy cut short is caught here rather than crashing in the guest.
 * assert.throws(() => parsePeHeader(image.subarray(0, 0x1800)), { code: "TRUNCATED" });
 * ```
 */
export interface PeHeader {
  /** File offset of the `"PE\0\0"` signature. */
  readonly offset: number;
  /** COFF `Machine`; always {@linkcode PE_MACHINE_ARM64} in a parsed header. */
  readonly machine: number;
  /** File offset of the section table. */
  readonly sectionTableOffset: number;
  /** The section table. */
  readonly sections: readonly PeSection[];
  /** End of the furthest section's raw data: the least file length that holds every section. */
  readonly rawDataEnd: number;
}

function malformed(offset: number, what: string): LoaderError {
  return new LoaderError(
    "BAD_PE_HEADER",
    `malformed PE/COFF header: ${what} (at offset ${hex(offset)})`,
    { offset },
  );
}

function truncated(length: number, what: string): LoaderError {
  return new LoaderError(
    "TRUNCATED",
    `kernel is truncated: the file is ${length} (${hex(length)}) bytes but ${what}`,
    { offset: length },
  );
}

/**
 * Reads and checks the PE/COFF header of an arm64 Image that starts with `"MZ"` (an EFI stub),
 * and checks that the file holds every section's raw data. Returns `undefined` for an Image
 * without `"MZ"`, which carries no such header.
 *
 * Throws {@linkcode LoaderError}: `TRUNCATED` when the file ends inside the headers or before the
 * end of a section's raw data (`offset` is the file length); `BAD_PE_HEADER` when the header
 * contradicts itself (`offset` is the field's): a `res5` pointing into the 64-byte Image header,
 * no `"PE\0\0"` signature, a machine other than AArch64, no sections or more than 96, an optional
 * header that is not PE32+ or too small for its data directories, or raw data that starts inside
 * the headers or ends beyond 2^32.
 *
 * @example
 * ```ts
 * import { parsePeHeader } from "@vmkit/loader";
 * // A file without "MZ" carries no PE header.
 * console.log(parsePeHeader(new Uint8Array(64))); // undefined
 * ```
 */
export function parsePeHeader(image: Uint8Array): PeHeader | undefined {
  if (image.length < 2 || image[0] !== 0x4d || image[1] !== 0x5a) return undefined;
  const length = image.length;
  if (length < PE_POINTER_OFFSET + 4) {
    throw truncated(length, `it starts with "MZ" and ends before the PE header offset at 0x3c`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const pe = view.getUint32(PE_POINTER_OFFSET, true);
  if (pe < 0x40) {
    throw malformed(
      PE_POINTER_OFFSET,
      `the PE header offset (res5) is ${hex(pe)}, inside the 64-byte Image header`,
    );
  }
  if (pe + COFF_END > length) {
    throw truncated(length, `the PE/COFF header at ${hex(pe)} (from res5) needs ${COFF_END} bytes`);
  }
  const signature = view.getUint32(pe, true);
  if (signature !== PE_SIGNATURE) {
    throw malformed(
      pe,
      `signature is ${hex(signature)}, expected ${hex(PE_SIGNATURE)} ("PE\\0\\0")`,
    );
  }
  const machine = view.getUint16(pe + 4, true);
  if (machine !== PE_MACHINE_ARM64) {
    throw malformed(
      pe + 4,
      `Machine is ${hex(machine)}, expected ${hex(PE_MACHINE_ARM64)} (arm64)`,
    );
  }
  const count = view.getUint16(pe + 6, true);
  if (count === 0 || count > PE_MAX_SECTIONS) {
    throw malformed(pe + 6, `NumberOfSections is ${count}, expected 1..${PE_MAX_SECTIONS}`);
  }
  const optionalSize = view.getUint16(pe + 20, true);
  if (optionalSize < OPTIONAL_HEADER_MIN) {
    throw malformed(
      pe + 20,
      `SizeOfOptionalHeader is ${optionalSize}, below the ${OPTIONAL_HEADER_MIN} bytes of a PE32+ one`,
    );
  }
  const optional = pe + COFF_END;
  if (optional + optionalSize > length) {
    throw truncated(
      length,
      `the optional header at ${hex(optional)} runs to ${hex(optional + optionalSize)}`,
    );
  }
  const magic = view.getUint16(optional, true);
  if (magic !== PE32_PLUS_MAGIC) {
    throw malformed(optional, `optional header magic is ${hex(magic)}, expected 0x20b (PE32+)`);
  }
  const directories = view.getUint32(optional + 108, true);
  if (OPTIONAL_HEADER_MIN + directories * 8 > optionalSize) {
    throw malformed(
      optional + 108,
      `NumberOfRvaAndSizes is ${directories}: its data directories do not fit the ${optionalSize}-byte optional header`,
    );
  }
  const table = optional + optionalSize;
  const tableEnd = table + count * SECTION_HEADER_SIZE;
  if (tableEnd > length) {
    throw truncated(
      length,
      `the table of ${count} sections at ${hex(table)} runs to ${hex(tableEnd)}`,
    );
  }

  const sections: PeSection[] = [];
  let rawDataEnd = tableEnd;
  for (let i = 0; i < count; i++) {
    const at = table + i * SECTION_HEADER_SIZE;
    const section: PeSection = {
      name: sectionName(image, at),
      headerOffset: at,
      virtualSize: view.getUint32(at + 8, true),
      virtualAddress: view.getUint32(at + 12, true),
      sizeOfRawData: view.getUint32(at + 16, true),
      pointerToRawData: view.getUint32(at + 20, true),
    };
    // A section without file bytes (BSS-like) may leave its pointer 0.
    if (section.sizeOfRawData > 0) {
      const end = section.pointerToRawData + section.sizeOfRawData;
      if (end > U32_LIMIT) {
        throw malformed(
          at + 16,
          `section ${quote(section.name)} raw data ${hex(section.pointerToRawData)} + ${
            hex(section.sizeOfRawData)
          } overflows 32 bits`,
        );
      }
      if (section.pointerToRawData < tableEnd) {
        throw malformed(
          at + 20,
          `section ${quote(section.name)} raw data at ${
            hex(section.pointerToRawData)
          } starts inside the headers, which end at ${hex(tableEnd)}`,
        );
      }
      rawDataEnd = Math.max(rawDataEnd, end);
    }
    sections.push(section);
  }
  for (const s of sections) {
    const end = s.pointerToRawData + s.sizeOfRawData;
    if (s.sizeOfRawData > 0 && end > length) {
      throw truncated(
        length,
        `PE section ${quote(s.name)} (entry at ${hex(s.headerOffset)}) has raw data ${
          hex(s.pointerToRawData)
        }..${hex(end)}; the sections need ${hex(rawDataEnd)} bytes`,
      );
    }
  }
  return { offset: pe, machine, sectionTableOffset: table, sections, rawDataEnd };
}

function sectionName(image: Uint8Array, at: number): string {
  let name = "";
  for (let i = 0; i < 8 && image[at + i] !== 0; i++) name += String.fromCharCode(image[at + i]);
  return name;
}

function quote(name: string): string {
  return JSON.stringify(name);
}

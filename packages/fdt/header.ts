import { readU32 } from "./cells.ts";
import { FdtError } from "./errors.ts";

/**
 * The first word of every blob.
 *
 * @example Recognising a blob
 * ```ts
 * import { FDT_MAGIC, Fdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const looksLikeDtb = (b: Uint8Array): boolean =>
 *   b.length >= 4 && new DataView(b.buffer, b.byteOffset).getUint32(0) === FDT_MAGIC;
 * assert.equal(looksLikeDtb(serializeFdt(new Fdt())), true);
 * assert.equal(looksLikeDtb(new TextEncoder().encode("/dts-v1/;")), false);
 * ```
 */
export const FDT_MAGIC = 0xd00dfeed;
/**
 * Structure-block token opening a node; followed by the NUL-terminated name.
 *
 * @example The structure block of an empty tree
 * ```ts
 * import {
 *   DEFAULT_LIMITS,
 *   FDT_BEGIN_NODE,
 *   FDT_END,
 *   FDT_END_NODE,
 *   Fdt,
 *   readHeader,
 *   serializeFdt,
 * } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const blob = serializeFdt(new Fdt());
 * const struct = readHeader(blob, DEFAULT_LIMITS.maxTotalSize).offDtStruct;
 * const view = new DataView(blob.buffer);
 * const words = [0, 4, 8, 12].map((at) => view.getUint32(struct + at));
 * assert.deepEqual(words, [FDT_BEGIN_NODE, 0, FDT_END_NODE, FDT_END]); // the root's name is empty
 * ```
 */
export const FDT_BEGIN_NODE = 0x1;
/**
 * Structure-block token closing a node.
 *
 * @example Closing the root node
 * ```ts
 * import { DEFAULT_LIMITS, FDT_END_NODE, Fdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const blob = serializeFdt(new Fdt());
 * const struct = readHeader(blob, DEFAULT_LIMITS.maxTotalSize).offDtStruct;
 * // After FDT_BEGIN_NODE and the root's empty name, padded to a word.
 * assert.equal(new DataView(blob.buffer).getUint32(struct + 8), FDT_END_NODE);
 * ```
 */
export const FDT_END_NODE = 0x2;
/**
 * Structure-block token for a property: length, name offset, value.
 *
 * @example A property in the structure block
 * ```ts
 * import { DEFAULT_LIMITS, FDT_PROP, Fdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#size-cells", 2);
 * const blob = serializeFdt(fdt);
 * const view = new DataView(blob.buffer);
 * // After the root's FDT_BEGIN_NODE and its empty name.
 * const at = readHeader(blob, DEFAULT_LIMITS.maxTotalSize).offDtStruct + 8;
 * // The token, the value's length, the name's offset in the strings block, then the value.
 * const words = [0, 4, 8, 12].map((i) => view.getUint32(at + i));
 * assert.deepEqual(words, [FDT_PROP, 4, 0, 2]);
 * ```
 */
export const FDT_PROP = 0x3;
/**
 * Structure-block token that means nothing (left behind by in-place edits).
 *
 * @example Deleting a property in place, as libfdt does
 * ```ts
 * import { DEFAULT_LIMITS, FDT_NOP, Fdt, parseFdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setEmpty("dma-coherent");
 * const blob = serializeFdt(fdt);
 * const view = new DataView(blob.buffer);
 * const at = readHeader(blob, DEFAULT_LIMITS.maxTotalSize).offDtStruct + 8;
 * // An empty property is three words: token, length, name offset.
 * for (let i = 0; i < 3; i++) view.setUint32(at + 4 * i, FDT_NOP);
 * assert.equal(parseFdt(blob).root.hasProperty("dma-coherent"), false);
 * ```
 */
export const FDT_NOP = 0x4;
/**
 * Structure-block token ending the structure.
 *
 * @example The last word of the structure block
 * ```ts
 * import { DEFAULT_LIMITS, FDT_END, Fdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.addNode("chosen").setString("bootargs", "console=ttyAMA0");
 * const blob = serializeFdt(fdt);
 * const h = readHeader(blob, DEFAULT_LIMITS.maxTotalSize);
 * const last = h.offDtStruct + (h.sizeDtStruct ?? 0) - 4;
 * assert.equal(new DataView(blob.buffer).getUint32(last), FDT_END);
 * ```
 */
export const FDT_END = 0x9;

/** Header size for version 17 (which adds `size_dt_struct`). */
export const HEADER_SIZE_V17 = 40;
/** Header size for version 16. */
export const HEADER_SIZE_V16 = 36;
/**
 * The newest version this package writes.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LIMITS, FDT_VERSION, Fdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const header = readHeader(serializeFdt(new Fdt()), DEFAULT_LIMITS.maxTotalSize);
 * assert.equal(header.version, FDT_VERSION);
 * assert.equal(header.sizeDtStruct !== undefined, true); // a version 17 field
 * ```
 */
export const FDT_VERSION = 17;
/**
 * The `last_comp_version` this package writes.
 *
 * @example Usage
 * ```ts
 * import {
 *   DEFAULT_LIMITS,
 *   FDT_LAST_COMP_VERSION,
 *   Fdt,
 *   readHeader,
 *   serializeFdt,
 * } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const header = readHeader(serializeFdt(new Fdt()), DEFAULT_LIMITS.maxTotalSize);
 * assert.equal(header.lastCompVersion, FDT_LAST_COMP_VERSION); // version 16 readers can read it
 * ```
 */
export const FDT_LAST_COMP_VERSION = 16;

/**
 * Byte offsets of the header fields, used by the reader, the writer and error reports.
 *
 * @example Reading any header word by name
 * ```ts
 * import { Fdt, HEADER_FIELD, type HeaderFieldOffsets, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * function headerWord(blob: Uint8Array, field: keyof HeaderFieldOffsets): number {
 *   return new DataView(blob.buffer, blob.byteOffset).getUint32(HEADER_FIELD[field]);
 * }
 * const blob = serializeFdt(new Fdt());
 * assert.equal(headerWord(blob, "totalsize"), blob.length);
 * assert.equal(headerWord(blob, "lastCompVersion"), 16);
 * ```
 */
export interface HeaderFieldOffsets {
  /** `magic`. */
  readonly magic: 0;
  /** `totalsize`. */
  readonly totalsize: 4;
  /** `off_dt_struct`. */
  readonly offDtStruct: 8;
  /** `off_dt_strings`. */
  readonly offDtStrings: 12;
  /** `off_mem_rsvmap`. */
  readonly offMemRsvmap: 16;
  /** `version`. */
  readonly version: 20;
  /** `last_comp_version`. */
  readonly lastCompVersion: 24;
  /** `boot_cpuid_phys`. */
  readonly bootCpuidPhys: 28;
  /** `size_dt_strings`. */
  readonly sizeDtStrings: 32;
  /** `size_dt_struct` (version 17). */
  readonly sizeDtStruct: 36;
}

/**
 * Where each header field sits.
 *
 * @example Patching a blob's boot CPU in place
 * ```ts
 * import { Fdt, HEADER_FIELD, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const blob = serializeFdt(new Fdt());
 * new DataView(blob.buffer).setUint32(HEADER_FIELD.bootCpuidPhys, 2);
 * assert.equal(parseFdt(blob).bootCpuidPhys, 2);
 * ```
 */
export const HEADER_FIELD: HeaderFieldOffsets = Object.freeze({
  magic: 0,
  totalsize: 4,
  offDtStruct: 8,
  offDtStrings: 12,
  offMemRsvmap: 16,
  version: 20,
  lastCompVersion: 24,
  bootCpuidPhys: 28,
  sizeDtStrings: 32,
  sizeDtStruct: 36,
});

/**
 * The decoded header of a blob.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LIMITS, Fdt, type FdtHeader, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const blob = serializeFdt(new Fdt());
 * const header: FdtHeader = readHeader(blob, DEFAULT_LIMITS.maxTotalSize);
 * assert.equal(header.totalSize, blob.length);
 * assert.equal(header.headerSize, 40); // version 17
 * assert.equal(header.offMemRsvmap, 40); // the reservations follow the header
 * ```
 */
export interface FdtHeader {
  /** Bytes in the blob, header included. */
  totalSize: number;
  /** Offset of the structure block. */
  offDtStruct: number;
  /** Offset of the strings block. */
  offDtStrings: number;
  /** Offset of the memory-reservation block. */
  offMemRsvmap: number;
  /** Format version. */
  version: number;
  /** Oldest version this blob is compatible with. */
  lastCompVersion: number;
  /** Physical id of the boot CPU. */
  bootCpuidPhys: number;
  /** Length of the strings block. */
  sizeDtStrings: number;
  /** Length of the structure block; undefined before version 17. */
  sizeDtStruct: number | undefined;
  /** How many header bytes the version defines (36 or 40). */
  headerSize: number;
}

/**
 * Reads and checks the header: magic, versions, `totalsize` against the blob, and every block
 * offset and size against `totalsize`. Block overlap and the reservation block's extent are
 * checked by the parser, which knows where each block ends.
 *
 * @example Checking a blob's header alone
 * ```ts
 * import { Fdt, readHeader, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const blob = serializeFdt(new Fdt());
 * assert.equal(readHeader(blob, 4096).totalSize, blob.length);
 * assert.throws(() => readHeader(blob, 64), { code: "LIMIT_EXCEEDED" }); // above the cap
 * assert.throws(() => readHeader(blob.subarray(0, 36), 4096), { code: "TRUNCATED" });
 * ```
 */
export function readHeader(blob: Uint8Array, maxTotalSize: number): FdtHeader {
  if (!(blob instanceof Uint8Array)) {
    throw new FdtError("INVALID_ARGUMENT", "a device tree blob must be a Uint8Array");
  }
  if (blob.length < 4) {
    throw new FdtError("TRUNCATED", `blob is ${blob.length} bytes, too short for a header`, {
      offset: blob.length,
    });
  }
  const magic = readU32(blob, 0);
  if (magic !== FDT_MAGIC) {
    throw new FdtError(
      "BAD_MAGIC",
      `magic is 0x${magic.toString(16).padStart(8, "0")}, expected 0xd00dfeed`,
      { offset: 0 },
    );
  }
  if (blob.length < HEADER_SIZE_V16) {
    throw new FdtError("TRUNCATED", `blob is ${blob.length} bytes, too short for a header`, {
      offset: blob.length,
    });
  }
  const f = HEADER_FIELD;
  const version = readU32(blob, f.version);
  const lastCompVersion = readU32(blob, f.lastCompVersion);
  if (version < 16) {
    throw new FdtError("UNSUPPORTED_VERSION", `version ${version} predates 16`, {
      offset: f.version,
    });
  }
  if (lastCompVersion > FDT_VERSION) {
    throw new FdtError(
      "UNSUPPORTED_VERSION",
      `last_comp_version ${lastCompVersion} needs a reader newer than version ${FDT_VERSION}`,
      { offset: f.lastCompVersion },
    );
  }
  if (lastCompVersion > version) {
    throw new FdtError(
      "BAD_HEADER",
      `last_comp_version ${lastCompVersion} is above version ${version}`,
      { offset: f.lastCompVersion },
    );
  }
  const headerSize = version >= 17 ? HEADER_SIZE_V17 : HEADER_SIZE_V16;
  if (blob.length < headerSize) {
    throw new FdtError("TRUNCATED", `blob is ${blob.length} bytes, header needs ${headerSize}`, {
      offset: blob.length,
    });
  }
  const totalSize = readU32(blob, f.totalsize);
  if (totalSize < headerSize) {
    throw new FdtError("BAD_HEADER", `totalsize ${totalSize} is smaller than the header`, {
      offset: f.totalsize,
    });
  }
  if (totalSize > maxTotalSize) {
    throw new FdtError(
      "LIMIT_EXCEEDED",
      `totalsize ${totalSize} is above the ${maxTotalSize}-byte limit`,
      { offset: f.totalsize },
    );
  }
  if (totalSize > blob.length) {
    throw new FdtError(
      "TRUNCATED",
      `header says ${totalSize} bytes but the blob has ${blob.length}`,
      { offset: blob.length },
    );
  }
  const header: FdtHeader = {
    totalSize,
    offDtStruct: readU32(blob, f.offDtStruct),
    offDtStrings: readU32(blob, f.offDtStrings),
    offMemRsvmap: readU32(blob, f.offMemRsvmap),
    version,
    lastCompVersion,
    bootCpuidPhys: readU32(blob, f.bootCpuidPhys),
    sizeDtStrings: readU32(blob, f.sizeDtStrings),
    sizeDtStruct: version >= 17 ? readU32(blob, f.sizeDtStruct) : undefined,
    headerSize,
  };
  checkBlock(header, "memory-reservation", header.offMemRsvmap, 0, f.offMemRsvmap);
  checkBlock(header, "structure", header.offDtStruct, header.sizeDtStruct ?? 0, f.offDtStruct);
  checkBlock(header, "strings", header.offDtStrings, header.sizeDtStrings, f.offDtStrings);
  if (header.offMemRsvmap % 8 !== 0) {
    throw new FdtError(
      "MISALIGNED_BLOCK",
      `memory-reservation block at 0x${header.offMemRsvmap.toString(16)} is not 8-byte aligned`,
      { offset: f.offMemRsvmap },
    );
  }
  if (header.offDtStruct % 4 !== 0) {
    throw new FdtError(
      "MISALIGNED_BLOCK",
      `structure block at 0x${header.offDtStruct.toString(16)} is not 4-byte aligned`,
      { offset: f.offDtStruct },
    );
  }
  if (header.sizeDtStruct !== undefined && header.sizeDtStruct % 4 !== 0) {
    throw new FdtError(
      "MISALIGNED_BLOCK",
      `structure block size ${header.sizeDtStruct} is not a multiple of 4`,
      { offset: f.sizeDtStruct },
    );
  }
  return header;
}

function checkBlock(
  header: FdtHeader,
  what: string,
  offset: number,
  size: number,
  field: number,
): void {
  if (offset < header.headerSize || offset > header.totalSize) {
    throw new FdtError(
      "BLOCK_OUT_OF_RANGE",
      `${what} block offset 0x${offset.toString(16)} is outside [0x${
        header.headerSize.toString(16)
      }, totalsize 0x${header.totalSize.toString(16)}]`,
      { offset: field },
    );
  }
  if (size > header.totalSize - offset) {
    throw new FdtError(
      "BLOCK_OUT_OF_RANGE",
      `${what} block of ${size} bytes at 0x${offset.toString(16)} runs past totalsize 0x${
        header.totalSize.toString(16)
      }`,
      // The size field is the culprit when the offset itself was fine.
      {
        offset: what === "strings"
          ? HEADER_FIELD.sizeDtStrings
          : what === "structure"
          ? HEADER_FIELD.sizeDtStruct
          : field,
      },
    );
  }
}

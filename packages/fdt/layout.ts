import type { FdtProperty } from "./property.ts";
import type { FdtNode } from "./tree.ts";

/**
 * The three blocks a blob carries after its header.
 *
 * @example Usage
 * ```ts
 * import { Fdt, type FdtBlockKind, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const layout = parseFdt(serializeFdt(new Fdt())).layout;
 * const order: FdtBlockKind[] = layout?.order ?? [];
 * assert.deepEqual(order, ["memreserve", "struct", "strings"]); // the order dtc writes
 * ```
 */
export type FdtBlockKind = "memreserve" | "struct" | "strings";

/**
 * How a parsed blob was laid out, kept so that serialising the unmodified tree reproduces the
 * input byte for byte, and so that an edited tree keeps its block order, gaps, total size and
 * string table (new names are appended). A tree built from scratch has none and gets the compact layout `dtc`
 * writes: header, reservations, structure, strings, no padding.
 *
 * @example Keeping or dropping free space
 * ```ts
 * import { Fdt, type FdtLayout, HEADER_FIELD, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * // A blob with 1 KiB of free space at its end, as `dtc -p 1024` writes it.
 * const compact = serializeFdt(new Fdt());
 * const padded = new Uint8Array(compact.length + 1024);
 * padded.set(compact);
 * new DataView(padded.buffer).setUint32(HEADER_FIELD.totalsize, padded.length);
 * const fdt = parseFdt(padded);
 * const layout: FdtLayout | undefined = fdt.layout;
 * assert.equal(layout?.tail.length, 1024);
 * assert.equal(serializeFdt(fdt).length, padded.length); // kept on a round trip
 * fdt.layout = undefined; // forgotten: the compact layout
 * assert.equal(serializeFdt(fdt).length, compact.length);
 * ```
 */
export interface FdtLayout {
  /** Header `version` to write (16 or 17). */
  version: number;
  /** Header `last_comp_version` to write. */
  lastCompVersion: number;
  /** Block order in the file. */
  order: FdtBlockKind[];
  /** Where each block started. */
  offsets: Record<FdtBlockKind, number>;
  /** How long each block was (the structure block up to and including `FDT_END` in version 16). */
  sizes: Record<FdtBlockKind, number>;
  /** Bytes found between the end of the previous block (or the header) and each block. */
  gaps: Record<FdtBlockKind, Uint8Array>;
  /** Bytes after `FDT_END` that `size_dt_struct` still counted as structure. */
  structTail: Uint8Array;
  /** Bytes after the last block up to `totalsize` (free space left by `dtc -p` or libfdt). */
  tail: Uint8Array;
  /**
   * The parsed `totalsize`. An edited tree keeps it while the content fits, using up or giving
   * back free space at the end the way an in-place editor would, and grows past it otherwise.
   */
  totalSize: number;
  /** The strings block as parsed; reused (and appended to) while every name it served is in use. */
  strings: Uint8Array;
  /** The strings-block offset each parsed property's name was read from. */
  nameOffsets: Map<FdtProperty, number>;
  /** `FDT_NOP` tokens seen right before a node's `FDT_BEGIN_NODE` or a property's `FDT_PROP`. */
  nopsBefore: Map<FdtNode | FdtProperty, number>;
  /** `FDT_NOP` tokens seen right before a node's `FDT_END_NODE`. */
  nopsBeforeEnd: Map<FdtNode, number>;
  /**
   * Non-zero alignment padding after a node name (in-place editors such as libfdt leave stale
   * bytes there). Only entries that differ from zeros are kept.
   */
  namePadding: Map<FdtNode, Uint8Array>;
  /**
   * Non-zero alignment padding after a property value, with the value array it followed; it is
   * written again only while the property still holds that very array.
   */
  valuePadding: Map<FdtProperty, { value: Uint8Array; padding: Uint8Array }>;
  /** `FDT_NOP` tokens seen between the root's `FDT_END_NODE` and `FDT_END`. */
  nopsBeforeFinalEnd: number;
}

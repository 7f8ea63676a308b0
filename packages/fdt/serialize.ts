import { align4, alignTo, assertAddress, writeU32 } from "./cells.ts";
import { FdtError } from "./errors.ts";
import type { Fdt } from "./fdt.ts";
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  FDT_VERSION,
  HEADER_FIELD,
  HEADER_SIZE_V16,
  HEADER_SIZE_V17,
} from "./header.ts";
import type { FdtBlockKind, FdtLayout } from "./layout.ts";
import { StringTable } from "./strings.ts";
import type { FdtProperty } from "./property.ts";
import type { FdtNode } from "./tree.ts";

const DEFAULT_ORDER: readonly FdtBlockKind[] = Object.freeze(["memreserve", "struct", "strings"]);
const ALIGNMENT: Readonly<Record<FdtBlockKind, number>> = Object.freeze({
  memreserve: 8,
  struct: 4,
  strings: 1,
});
// Zero-length, so nothing can ever be written into it.
const EMPTY = new Uint8Array(0);

/**
 * Serialises a tree into a blob.
 *
 * A tree parsed from a blob and left unmodified comes out byte for byte as it went in (block order,
 * padding, free space, string table, `FDT_NOP`s all kept), except that a version above 17 is
 * written as 17: this package cannot vouch for what a newer version adds, so, like libfdt, it
 * stamps the newest version it knows. An edited tree keeps that layout, its
 * `totalsize` while the content fits in it, and its string table, appending new names; if a name
 * the old table served is no longer used, the table is rebuilt.
 *
 * A tree built from scratch (or with `layout` cleared) is written the way `dtc` writes it: version
 * 17 (`last_comp_version` 16), header, reservations, structure, strings, no padding, names in
 * first-use order sharing common tails.
 *
 * @example Round trips
 * ```ts
 * import { Fdt, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setString("model", "vmkit");
 * const blob = serializeFdt(fdt);
 * assert.deepEqual(serializeFdt(parseFdt(blob)), blob); // unmodified: the same bytes
 * const edited = parseFdt(blob);
 * edited.root.setString("model", "virt");
 * assert.equal(parseFdt(serializeFdt(edited)).root.getString("model"), "virt");
 * ```
 */
export function serializeFdt(fdt: Fdt): Uint8Array {
  const layout = fdt.layout;
  const version = layout?.version === 16 ? 16 : FDT_VERSION;
  const headerSize = version === 16 ? HEADER_SIZE_V16 : HEADER_SIZE_V17;
  checkU32(fdt.bootCpuidPhys, "bootCpuidPhys");

  const properties: FdtProperty[] = [];
  let structSize = 4 + 4 * (layout?.nopsBeforeFinalEnd ?? 0);
  for (const node of fdt.nodes()) {
    structSize += 8 + align4(node.name.length + 1) + 4 * nopCount(layout, node) +
      4 * (layout?.nopsBeforeEnd.get(node) ?? 0);
    for (const p of node.properties) {
      properties.push(p);
      structSize += 12 + align4(p.value.length) + 4 * nopCount(layout, p);
    }
  }
  const strings = planStrings(properties, layout);
  const structTail = layout?.structTail ?? EMPTY;
  const sizes: Record<FdtBlockKind, number> = {
    memreserve: (fdt.reservations.length + 1) * 16,
    struct: structSize + structTail.length,
    strings: strings.table.length,
  };

  const order = layout?.order ?? DEFAULT_ORDER;
  let offsets: Record<FdtBlockKind, number> = { memreserve: 0, struct: 0, strings: 0 };
  if (layout !== undefined && order.every((kind) => sizes[kind] === layout.sizes[kind])) {
    // Nothing changed size: every block goes back exactly where it was, which also covers layouts
    // no sequential rule reproduces (an empty block parked inside another, say).
    offsets = { ...layout.offsets };
  } else {
    let cursor = headerSize;
    for (const kind of order) {
      cursor = alignTo(cursor + (layout?.gaps[kind].length ?? 0), ALIGNMENT[kind]);
      offsets[kind] = cursor;
      cursor += sizes[kind];
    }
  }
  let contentEnd = headerSize;
  for (const kind of order) contentEnd = Math.max(contentEnd, offsets[kind] + sizes[kind]);
  const tail = layout?.tail ?? EMPTY;
  // Free space at the end absorbs growth (and takes back shrinkage) so an edited blob keeps its
  // totalsize when it can; its bytes are kept only where the content ends where it used to.
  const totalSize = Math.max(contentEnd, layout?.totalSize ?? 0);
  if (totalSize > 0xffff_ffff) {
    throw new FdtError("LIMIT_EXCEEDED", `blob would be ${totalSize} bytes, over 4 GiB`);
  }

  const out = new Uint8Array(totalSize);
  if (layout !== undefined) {
    // Each gap goes right after whatever precedes it, mirroring how the parser cut them out;
    // alignment padding added because sizes changed stays zero.
    let previousEnd = headerSize;
    for (const kind of order) {
      out.set(layout.gaps[kind], previousEnd);
      previousEnd = Math.max(previousEnd, offsets[kind] + sizes[kind]);
    }
    if (contentEnd + tail.length === totalSize) out.set(tail, contentEnd);
  }
  const f = HEADER_FIELD;
  writeU32(out, f.magic, FDT_MAGIC);
  writeU32(out, f.totalsize, totalSize);
  writeU32(out, f.offDtStruct, offsets.struct);
  writeU32(out, f.offDtStrings, offsets.strings);
  writeU32(out, f.offMemRsvmap, offsets.memreserve);
  writeU32(out, f.version, version);
  writeU32(out, f.lastCompVersion, layout?.lastCompVersion ?? FDT_LAST_COMP_VERSION);
  writeU32(out, f.bootCpuidPhys, fdt.bootCpuidPhys);
  writeU32(out, f.sizeDtStrings, sizes.strings);
  if (version >= 17) writeU32(out, f.sizeDtStruct, sizes.struct);

  writeReservations(fdt, out, offsets.memreserve);
  const structEnd = writeStructure(fdt, layout, strings.offsets, out, offsets.struct);
  out.set(structTail, structEnd);
  out.set(strings.table, offsets.strings);
  return out;
}

function nopCount(layout: FdtLayout | undefined, key: FdtNode | FdtProperty): number {
  return layout?.nopsBefore.get(key) ?? 0;
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new FdtError("INVALID_ARGUMENT", `${what} must be a u32, got ${value}`);
  }
}

interface StringsPlan {
  table: Uint8Array;
  offsets: Map<FdtProperty, number>;
}

function planStrings(properties: FdtProperty[], layout: FdtLayout | undefined): StringsPlan {
  const offsets = new Map<FdtProperty, number>();
  let reuse = layout !== undefined;
  if (layout !== undefined) {
    const inUse = new Set(properties.map((p) => p.name));
    for (const p of layout.nameOffsets.keys()) {
      if (!inUse.has(p.name)) {
        reuse = false;
        break;
      }
    }
  }
  const table = new StringTable(reuse ? layout!.strings : EMPTY);
  for (const p of properties) {
    const hint = reuse ? layout!.nameOffsets.get(p) : undefined;
    offsets.set(
      p,
      hint !== undefined && table.hasAt(p.name, hint) ? hint : table.offsetOf(p.name),
    );
  }
  return { table: table.bytes(), offsets };
}

function writeReservations(fdt: Fdt, out: Uint8Array, at: number): void {
  for (const r of fdt.reservations) {
    assertAddress(r.address, "reservation address");
    assertAddress(r.size, "reservation size");
    if (r.address === 0 && r.size === 0) {
      throw new FdtError(
        "INVALID_ARGUMENT",
        "a reservation of address 0 and size 0 would read as the end of the block",
      );
    }
    writeU32(out, at, Math.floor(r.address / 0x1_0000_0000));
    writeU32(out, at + 4, r.address % 0x1_0000_0000);
    writeU32(out, at + 8, Math.floor(r.size / 0x1_0000_0000));
    writeU32(out, at + 12, r.size % 0x1_0000_0000);
    at += 16;
  }
  // The terminating all-zero entry is already zero.
}

function writeNops(out: Uint8Array, at: number, count: number): number {
  for (let i = 0; i < count; i++, at += 4) writeU32(out, at, FDT_NOP);
  return at;
}

function writeStructure(
  fdt: Fdt,
  layout: FdtLayout | undefined,
  nameOffsets: Map<FdtProperty, number>,
  out: Uint8Array,
  at: number,
): number {
  // Iterative so that tree depth never meets the call-stack limit.
  const stack: { node: FdtNode; next: number }[] = [];
  const open = (node: FdtNode): void => {
    at = writeNops(out, at, nopCount(layout, node));
    writeU32(out, at, FDT_BEGIN_NODE);
    at += 4;
    for (let i = 0; i < node.name.length; i++) out[at + i] = node.name.charCodeAt(i);
    const namePadding = layout?.namePadding.get(node);
    if (namePadding !== undefined) out.set(namePadding, at + node.name.length + 1);
    at += align4(node.name.length + 1);
    for (const p of node.properties) {
      at = writeNops(out, at, nopCount(layout, p));
      writeU32(out, at, FDT_PROP);
      writeU32(out, at + 4, p.value.length);
      writeU32(out, at + 8, nameOffsets.get(p)!);
      out.set(p.value, at + 12);
      const padding = layout?.valuePadding.get(p);
      if (padding !== undefined && padding.value === p.value) {
        out.set(padding.padding, at + 12 + p.value.length);
      }
      at += 12 + align4(p.value.length);
    }
    stack.push({ node, next: 0 });
  };
  open(fdt.root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.children.length) {
      open(top.node.children[top.next++]);
      continue;
    }
    stack.pop();
    at = writeNops(out, at, layout?.nopsBeforeEnd.get(top.node) ?? 0);
    writeU32(out, at, FDT_END_NODE);
    at += 4;
  }
  at = writeNops(out, at, layout?.nopsBeforeFinalEnd ?? 0);
  writeU32(out, at, FDT_END);
  return at + 4;
}

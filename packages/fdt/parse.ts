import { align4, readU32 } from "./cells.ts";
import { FdtError } from "./errors.ts";
import { Fdt } from "./fdt.ts";
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_NOP,
  FDT_PROP,
  FDT_VERSION,
  readHeader,
} from "./header.ts";
import type { FdtBlockKind, FdtLayout } from "./layout.ts";
import { DEFAULT_LIMITS, type FdtLimits, MAX_TREE_DEPTH } from "./limits.ts";
import { isValidNodeName, isValidPropertyName } from "./names.ts";
import type { FdtProperty } from "./property.ts";
import type { FdtReservation } from "./regions.ts";
import type { FdtNode } from "./tree.ts";

/**
 * Options for {@link parseFdt}.
 *
 * @example Capping the node count
 * ```ts
 * import { Fdt, parseFdt, type ParseOptions, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * for (let i = 0; i < 10; i++) {
 *   fdt.root.addNode(`virtio_mmio@${(0xa00_0000 + i * 0x200).toString(16)}`);
 * }
 * const blob = serializeFdt(fdt);
 * const strict: ParseOptions = { limits: { maxNodes: 8 } };
 * assert.throws(() => parseFdt(blob, strict), { code: "LIMIT_EXCEEDED" });
 * assert.equal(parseFdt(blob).root.children.length, 10);
 * ```
 */
export interface ParseOptions {
  /** Caps that override {@link DEFAULT_LIMITS} one by one. */
  limits?: Partial<FdtLimits>;
}

interface Block {
  kind: FdtBlockKind;
  start: number;
  end: number;
}

/**
 * Parses a flattened device tree blob (version 16 or 17, or newer ones compatible with 17).
 *
 * Everything is checked before it is used: the header, every block's bounds and alignment,
 * overlap between blocks, the reservation block's terminator, each structure token, each name and
 * name offset. Bad input raises {@link FdtError} with the byte offset of the problem; the work done
 * is linear in the blob size and capped by `options.limits`.
 *
 * The returned tree owns copies of all values; `blob` is not retained.
 *
 * @example Usage
 * ```ts
 * import { Fdt, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * // Usually the blob comes from a file: parseFdt(await Deno.readFile("virt.dtb")).
 * const built = new Fdt();
 * built.root.addNode("memory@40000000").setString("device_type", "memory");
 * const blob = serializeFdt(built);
 * assert.equal(parseFdt(blob).getNode("/memory").name, "memory@40000000");
 * assert.throws(() => parseFdt(blob.subarray(0, 20)), { name: "FdtError", code: "TRUNCATED" });
 * ```
 */
export function parseFdt(blob: Uint8Array, options: ParseOptions = {}): Fdt {
  const limits = resolveLimits(options.limits);
  const header = readHeader(blob, limits.maxTotalSize);
  const fdt = new Fdt();
  fdt.bootCpuidPhys = header.bootCpuidPhys;

  const rsvStart = header.offMemRsvmap;
  const strStart = header.offDtStrings;
  const strEnd = strStart + header.sizeDtStrings;
  const structStart = header.offDtStruct;
  // The reservation block has no size field: it ends at its terminator, which must come before
  // the next block.
  let rsvLimit = header.totalSize;
  if (structStart > rsvStart && header.sizeDtStruct !== 0) {
    rsvLimit = Math.min(rsvLimit, structStart);
  }
  if (strStart > rsvStart && header.sizeDtStrings !== 0) rsvLimit = Math.min(rsvLimit, strStart);
  const rsvEnd = readReservations(
    blob,
    header.offMemRsvmap,
    rsvLimit,
    header.totalSize,
    limits,
    fdt.reservations,
  );
  // Version 16 does not record the structure size: it ends at its FDT_END token, which must come
  // before whichever block follows it.
  let structLimit = header.totalSize;
  if (header.sizeDtStruct !== undefined) {
    structLimit = structStart + header.sizeDtStruct;
  } else {
    if (rsvStart >= structStart) structLimit = Math.min(structLimit, rsvStart);
    if (header.sizeDtStrings > 0 && strStart >= structStart) {
      structLimit = Math.min(structLimit, strStart);
    }
  }
  checkOverlap([
    { kind: "memreserve", start: rsvStart, end: rsvEnd },
    { kind: "struct", start: structStart, end: structLimit },
    { kind: "strings", start: strStart, end: strEnd },
  ]);

  const layout: FdtLayout = {
    version: header.version === 16 ? 16 : FDT_VERSION,
    lastCompVersion: header.lastCompVersion,
    order: [],
    offsets: { memreserve: rsvStart, struct: structStart, strings: strStart },
    sizes: { memreserve: 0, struct: 0, strings: 0 },
    gaps: { memreserve: new Uint8Array(0), struct: new Uint8Array(0), strings: new Uint8Array(0) },
    structTail: new Uint8Array(0),
    tail: new Uint8Array(0),
    totalSize: header.totalSize,
    strings: blob.slice(strStart, strEnd),
    nameOffsets: new Map(),
    nopsBefore: new Map(),
    nopsBeforeEnd: new Map(),
    nopsBeforeFinalEnd: 0,
    namePadding: new Map(),
    valuePadding: new Map(),
  };
  const structEnd = readStructure(
    blob,
    fdt,
    layout,
    limits,
    structStart,
    structLimit,
    strStart,
    strEnd,
  );
  if (header.sizeDtStruct !== undefined) {
    layout.structTail = blob.slice(structEnd, structLimit);
  }
  const blocks: Block[] = [
    { kind: "memreserve", start: rsvStart, end: rsvEnd },
    {
      kind: "struct",
      start: structStart,
      end: header.sizeDtStruct !== undefined ? structLimit : structEnd,
    },
    { kind: "strings", start: strStart, end: strEnd },
  ];
  blocks.sort((a, b) => a.start - b.start);
  let previousEnd = header.headerSize;
  for (const block of blocks) {
    layout.order.push(block.kind);
    layout.sizes[block.kind] = block.end - block.start;
    layout.gaps[block.kind] = blob.slice(previousEnd, Math.max(previousEnd, block.start));
    previousEnd = Math.max(previousEnd, block.end);
  }
  layout.tail = blob.slice(previousEnd, header.totalSize);
  fdt.layout = layout;
  return fdt;
}

function resolveLimits(overrides: Partial<FdtLimits> | undefined): FdtLimits {
  const limits: FdtLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new FdtError("INVALID_ARGUMENT", `limit ${key} must be a non-negative integer`);
    }
  }
  limits.maxDepth = Math.min(limits.maxDepth, MAX_TREE_DEPTH);
  return limits;
}

/** Reads entries up to the all-zero terminator; returns the offset just past it. */
function readReservations(
  blob: Uint8Array,
  start: number,
  limit: number,
  totalSize: number,
  limits: FdtLimits,
  out: FdtReservation[],
): number {
  let at = start;
  for (;;) {
    if (at + 16 > limit) {
      if (limit < totalSize) {
        throw new FdtError(
          "BLOCK_OVERLAP",
          "memory-reservation block runs into the next block before its terminating entry",
          { offset: limit },
        );
      }
      throw new FdtError(
        "BAD_RESERVATION",
        "memory-reservation block has no terminating entry before totalsize",
        { offset: at },
      );
    }
    const addressHi = readU32(blob, at);
    const addressLo = readU32(blob, at + 4);
    const sizeHi = readU32(blob, at + 8);
    const sizeLo = readU32(blob, at + 12);
    if ((addressHi | addressLo | sizeHi | sizeLo) === 0) return at + 16;
    if (out.length >= limits.maxReservations) {
      throw new FdtError(
        "LIMIT_EXCEEDED",
        `more than ${limits.maxReservations} memory reservations`,
        { offset: at },
      );
    }
    if (addressHi > 0x1f_ffff || sizeHi > 0x1f_ffff) {
      throw new FdtError(
        "VALUE_OVERFLOW",
        "memory reservation does not fit in 53 bits",
        { offset: addressHi > 0x1f_ffff ? at : at + 8 },
      );
    }
    out.push({
      address: addressHi * 0x1_0000_0000 + addressLo,
      size: sizeHi * 0x1_0000_0000 + sizeLo,
    });
    at += 16;
  }
}

function checkOverlap(blocks: Block[]): void {
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      const a = blocks[i];
      const b = blocks[j];
      if (a.start === a.end || b.start === b.end) continue;
      const start = Math.max(a.start, b.start);
      if (start < Math.min(a.end, b.end)) {
        throw new FdtError(
          "BLOCK_OVERLAP",
          `${a.kind} block [0x${a.start.toString(16)}, 0x${
            a.end.toString(16)
          }) overlaps ${b.kind} block [0x${b.start.toString(16)}, 0x${b.end.toString(16)})`,
          { offset: start },
        );
      }
    }
  }
}

/** Index of the first NUL in [start, end) relative to `start`, or -1. Names are short, so a plain
 * loop beats creating a subarray for indexOf. */
function findNul(blob: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    if (blob[i] === 0) return i - start;
  }
  return -1;
}

/** Decodes a name made of printable ASCII; undefined when any byte is outside that range. */
function asciiName(blob: Uint8Array, start: number, end: number): string | undefined {
  let name = "";
  for (let i = start; i < end; i++) {
    const c = blob[i];
    if (c <= 0x20 || c >= 0x7f) return undefined;
    name += String.fromCharCode(c);
  }
  return name;
}

/** Walks the token stream into `fdt`; returns the offset just past `FDT_END`. */
function readStructure(
  blob: Uint8Array,
  fdt: Fdt,
  layout: FdtLayout,
  limits: FdtLimits,
  start: number,
  limit: number,
  strStart: number,
  strEnd: number,
): number {
  // One copy of the whole block backs every value: hundreds of tiny allocations cost more than
  // the rest of the parse together, and the tree must not alias the caller's buffer.
  const values = blob.slice(start, limit);
  const stack: FdtNode[] = [];
  const names = new Map<number, string>();
  let rootSeen = false;
  let nodes = 0;
  let properties = 0;
  let nops = 0;
  let pos = start;
  for (;;) {
    if (pos + 4 > limit) {
      if (stack.length > 0) {
        throw new FdtError(
          "UNCLOSED_NODE",
          `structure block ends with ${stack.length} node(s) still open (innermost ${
            stack[stack.length - 1].path
          })`,
          { offset: pos },
        );
      }
      throw new FdtError("MISSING_END_TOKEN", "structure block ends without FDT_END", {
        offset: pos,
      });
    }
    const token = readU32(blob, pos);
    switch (token) {
      case FDT_BEGIN_NODE: {
        const nameStart = pos + 4;
        const window = Math.min(limit, nameStart + limits.maxNameLength + 1);
        const nul = findNul(blob, nameStart, window);
        if (nul < 0) {
          if (window === limit) {
            throw new FdtError("UNTERMINATED_NAME", "node name runs past the structure block", {
              offset: nameStart,
            });
          }
          throw new FdtError(
            "LIMIT_EXCEEDED",
            `node name longer than ${limits.maxNameLength} bytes`,
            { offset: nameStart },
          );
        }
        const name = asciiName(blob, nameStart, nameStart + nul);
        let node: FdtNode;
        if (stack.length === 0) {
          if (rootSeen) {
            throw new FdtError("BAD_STRUCTURE", "a second root node follows the first", {
              offset: pos,
            });
          }
          if (name !== "") {
            throw new FdtError(
              "BAD_NAME",
              `the root node must have an empty name, has ${JSON.stringify(name ?? "?")}`,
              { offset: nameStart },
            );
          }
          rootSeen = true;
          node = fdt.root;
        } else {
          const parent = stack[stack.length - 1];
          if (name === undefined || !isValidNodeName(name)) {
            throw new FdtError("BAD_NAME", "invalid node name", { offset: nameStart });
          }
          if (stack.length > limits.maxDepth) {
            throw new FdtError("LIMIT_EXCEEDED", `nodes nest deeper than ${limits.maxDepth}`, {
              offset: pos,
            });
          }
          if (parent.getChild(name) !== undefined) {
            throw new FdtError(
              "DUPLICATE_NAME",
              `node ${name} appears twice under ${parent.path}`,
              {
                offset: pos,
              },
            );
          }
          node = parent.addNode(name);
        }
        if (++nodes > limits.maxNodes) {
          throw new FdtError("LIMIT_EXCEEDED", `more than ${limits.maxNodes} nodes`, {
            offset: pos,
          });
        }
        if (nops > 0) layout.nopsBefore.set(node, nops);
        nops = 0;
        stack.push(node);
        pos = align4(nameStart + nul + 1);
        const namePadding = nonZeroPadding(blob, nameStart + nul + 1, pos, limit);
        if (namePadding !== undefined) layout.namePadding.set(node, namePadding);
        break;
      }
      case FDT_END_NODE: {
        const node = stack.pop();
        if (node === undefined) {
          throw new FdtError("UNEXPECTED_END_NODE", "FDT_END_NODE with no node open", {
            offset: pos,
          });
        }
        if (nops > 0) layout.nopsBeforeEnd.set(node, nops);
        nops = 0;
        pos += 4;
        break;
      }
      case FDT_PROP: {
        if (pos + 12 > limit) {
          throw new FdtError("STRUCT_OVERRUN", "property header runs past the structure block", {
            offset: pos,
          });
        }
        const length = readU32(blob, pos + 4);
        const nameOffset = readU32(blob, pos + 8);
        const node = stack[stack.length - 1];
        if (node === undefined) {
          throw new FdtError("BAD_STRUCTURE", "property outside any node", { offset: pos });
        }
        if (node.children.length > 0) {
          throw new FdtError(
            "BAD_STRUCTURE",
            `property after a child node in ${node.path} (properties must come first)`,
            { offset: pos },
          );
        }
        const valueStart = pos + 12;
        if (length > limit - valueStart) {
          throw new FdtError(
            "STRUCT_OVERRUN",
            `property value of ${length} bytes runs past the structure block`,
            { offset: pos + 4 },
          );
        }
        const name = propertyName(blob, names, nameOffset, strStart, strEnd, limits, pos + 8);
        if (node.hasProperty(name)) {
          throw new FdtError("DUPLICATE_NAME", `property ${name} appears twice in ${node.path}`, {
            offset: pos,
          });
        }
        if (++properties > limits.maxProperties) {
          throw new FdtError("LIMIT_EXCEEDED", `more than ${limits.maxProperties} properties`, {
            offset: pos,
          });
        }
        const value = values.subarray(valueStart - start, valueStart - start + length);
        node.setProperty(name, value);
        const property = node.getProperty(name) as FdtProperty;
        layout.nameOffsets.set(property, nameOffset);
        if (nops > 0) layout.nopsBefore.set(property, nops);
        nops = 0;
        pos = align4(valueStart + length);
        const padding = nonZeroPadding(blob, valueStart + length, pos, limit);
        if (padding !== undefined) layout.valuePadding.set(property, { value, padding });
        break;
      }
      case FDT_NOP:
        nops++;
        pos += 4;
        break;
      case FDT_END:
        if (stack.length > 0) {
          throw new FdtError(
            "UNCLOSED_NODE",
            `FDT_END with ${stack.length} node(s) still open (innermost ${
              stack[stack.length - 1].path
            })`,
            { offset: pos },
          );
        }
        if (!rootSeen) {
          throw new FdtError("BAD_STRUCTURE", "structure block has no root node", { offset: pos });
        }
        layout.nopsBeforeFinalEnd = nops;
        return pos + 4;
      default:
        throw new FdtError("BAD_TOKEN", `unknown structure token 0x${token.toString(16)}`, {
          offset: pos,
        });
    }
    if (pos > limit) {
      throw new FdtError("STRUCT_OVERRUN", "padding runs past the structure block", {
        offset: limit,
      });
    }
  }
}

/** The padding bytes in [start, end) if any is non-zero (and all lie inside the block). */
function nonZeroPadding(
  blob: Uint8Array,
  start: number,
  end: number,
  limit: number,
): Uint8Array | undefined {
  if (end > limit) return undefined;
  for (let i = start; i < end; i++) {
    if (blob[i] !== 0) return blob.slice(start, end);
  }
  return undefined;
}

function propertyName(
  blob: Uint8Array,
  cache: Map<number, string>,
  nameOffset: number,
  strStart: number,
  strEnd: number,
  limits: FdtLimits,
  fieldOffset: number,
): string {
  const cached = cache.get(nameOffset);
  if (cached !== undefined) return cached;
  if (nameOffset >= strEnd - strStart) {
    throw new FdtError(
      "BAD_STRING_OFFSET",
      `property name offset 0x${nameOffset.toString(16)} is outside the ${
        strEnd - strStart
      }-byte strings block`,
      { offset: fieldOffset },
    );
  }
  const start = strStart + nameOffset;
  const window = Math.min(strEnd, start + limits.maxNameLength + 1);
  const nul = findNul(blob, start, window);
  if (nul < 0) {
    if (window === strEnd) {
      throw new FdtError("UNTERMINATED_STRING", "property name runs past the strings block", {
        offset: start,
      });
    }
    throw new FdtError(
      "LIMIT_EXCEEDED",
      `property name longer than ${limits.maxNameLength} bytes`,
      { offset: start },
    );
  }
  const name = asciiName(blob, start, start + nul);
  if (name === undefined || !isValidPropertyName(name)) {
    throw new FdtError("BAD_NAME", "invalid property name", { offset: start });
  }
  cache.set(nameOffset, name);
  return name;
}

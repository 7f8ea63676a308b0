/**
 * Caps that keep hostile or corrupt blobs from exhausting memory or time.
 *
 * @example Tighter caps for an untrusted blob
 * ```ts
 * import { DEFAULT_LIMITS, Fdt, type FdtLimits, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setString("model", "a model name long enough to push the blob past 64 bytes");
 * const tiny: FdtLimits = { ...DEFAULT_LIMITS, maxTotalSize: 64 };
 * assert.throws(() => parseFdt(serializeFdt(fdt), { limits: tiny }), { code: "LIMIT_EXCEEDED" });
 * ```
 */
export interface FdtLimits {
  /** Largest `totalsize` accepted, in bytes. */
  maxTotalSize: number;
  /** Deepest node nesting accepted; the root is depth 0. */
  maxDepth: number;
  /** Most nodes in one tree. */
  maxNodes: number;
  /** Most properties in one tree. */
  maxProperties: number;
  /** Most memory-reservation entries. */
  maxReservations: number;
  /** Longest node or property name, in bytes. */
  maxNameLength: number;
}

/**
 * The caps `parseFdt` applies unless told otherwise. They sit far above anything a real machine
 * description needs (Linux itself refuses device trees over 2 MiB on arm64) while keeping the work
 * for any input linear and small.
 *
 * @example Overriding one cap
 * ```ts
 * import { DEFAULT_LIMITS, Fdt, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_LIMITS.maxDepth, 64);
 * const fdt = new Fdt();
 * fdt.root.addNode("a").addNode("b").addNode("c"); // /a/b/c is at depth 3
 * const blob = serializeFdt(fdt);
 * assert.equal(parseFdt(blob).getNode("/a/b/c").depth, 3);
 * assert.throws(() => parseFdt(blob, { limits: { maxDepth: 2 } }), { code: "LIMIT_EXCEEDED" });
 * ```
 */
export const DEFAULT_LIMITS: Readonly<FdtLimits> = Object.freeze({
  maxTotalSize: 16 * 1024 * 1024,
  maxDepth: 64,
  maxNodes: 100_000,
  maxProperties: 500_000,
  maxReservations: 4096,
  maxNameLength: 1024,
});

/**
 * The deepest nesting the edit API lets a tree reach. Walks are iterative, so this only bounds
 * path lengths and the cost of computing them.
 *
 * @example Usage
 * ```ts
 * import { Fdt, MAX_TREE_DEPTH } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * let node = new Fdt().root;
 * while (node.depth < MAX_TREE_DEPTH) node = node.addNode("n");
 * assert.throws(() => node.addNode("n"), { code: "LIMIT_EXCEEDED" });
 * ```
 */
export const MAX_TREE_DEPTH = 1024;

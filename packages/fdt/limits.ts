/** Caps that keep hostile or corrupt blobs from exhausting memory or time. */
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
 */
export const MAX_TREE_DEPTH = 1024;

/**
 * Flattened device trees (DTB, versions 16 and 17) in pure TypeScript: parse and validate a blob,
 * read and edit the tree, build one from scratch, serialise it (byte-identical for unmodified
 * input), and dump it as DTS text.
 *
 * @module
 */
export { FDT_ERROR_CODES, FdtError, type FdtErrorCode, type FdtErrorDetails } from "./errors.ts";
export { DEFAULT_LIMITS, type FdtLimits, MAX_TREE_DEPTH } from "./limits.ts";
export { FdtNode } from "./tree.ts";
export { FdtProperty } from "./property.ts";
export type { FdtRange, FdtRanges, FdtRegion, FdtReservation } from "./regions.ts";
export { Fdt } from "./fdt.ts";
export type { FdtBlockKind, FdtLayout } from "./layout.ts";
export {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  FDT_VERSION,
  type FdtHeader,
  HEADER_FIELD,
  type HeaderFieldOffsets,
  readHeader,
} from "./header.ts";
export { type DtsOptions, toDts } from "./dts.ts";
export { parseFdt, type ParseOptions } from "./parse.ts";
export { serializeFdt } from "./serialize.ts";
export {
  clearInitrdRange,
  getBootargs,
  getInitrdRange,
  getStdoutPath,
  type InitrdRange,
  resolveStdout,
  setBootargs,
  type SetInitrdOptions,
  setInitrdRange,
  setStdoutPath,
} from "./chosen.ts";
export { getMemoryRegions, memoryNodes, setMemoryRegions } from "./memory.ts";
export {
  followPhandleChain,
  getInterruptControllerChain,
  getInterruptParent,
  getPhandleTarget,
} from "./phandle.ts";
export { translateAddress } from "./address.ts";
export { isValidNodeName, isValidPropertyName } from "./names.ts";

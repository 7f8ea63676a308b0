/**
 * Phandles for device-tree nodes a device adds under the root it is given
 * (a device sees the node it describes itself under, not the whole tree).
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";

/** The node's phandle, giving it one above the largest in its tree first if it has none. */
export function phandleOf(node: FdtNode): number {
  const existing = node.phandle;
  if (existing !== undefined) return existing;
  let root = node;
  while (root.parent) root = root.parent;
  let max = 0;
  const visit = (n: FdtNode) => {
    const p = n.phandle;
    if (p !== undefined && p !== 0xffff_ffff && p > max) max = p;
    for (const c of n.children) visit(c);
  };
  visit(root);
  node.setU32("phandle", max + 1);
  return max + 1;
}

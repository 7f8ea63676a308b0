import { FdtError } from "./errors.ts";
import type { FdtNode } from "./tree.ts";

/**
 * Translates an address on `node`'s bus (as its `reg` gives it) to a CPU physical address by
 * applying each ancestor's `ranges`. Undefined when some ancestor has no `ranges` (its children are
 * not memory-mapped) or no window covers the address.
 */
export function translateAddress(node: FdtNode, address: number): number | undefined {
  let value = address;
  for (let bus = node.parent; bus !== undefined && bus.parent !== undefined; bus = bus.parent) {
    const ranges = bus.getRanges();
    if (ranges === undefined) return undefined;
    if (ranges.identity) continue;
    const hit = ranges.entries.find((r) =>
      value >= r.childAddress && value - r.childAddress < r.size
    );
    if (hit === undefined) return undefined;
    value = hit.parentAddress + (value - hit.childAddress);
    if (!Number.isSafeInteger(value)) {
      throw new FdtError("VALUE_OVERFLOW", "translated address does not fit in 53 bits", {
        path: bus.path,
      });
    }
  }
  return value;
}

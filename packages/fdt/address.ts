import { FdtError } from "./errors.ts";
import type { FdtNode } from "./tree.ts";

/**
 * Translates an address on `node`'s bus (as its `reg` gives it) to a CPU physical address by
 * applying each ancestor's `ranges`. Undefined when some ancestor has no `ranges` (its children are
 * not memory-mapped) or no window covers the address.
 *
 * @example A device behind a bus with `ranges`
 * ```ts
 * import { Fdt, translateAddress } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * const soc = fdt.root.addNode("soc").setU32("#address-cells", 1).setU32("#size-cells", 1)
 *   .setCells("ranges", [0x0, 0x0, 0x0900_0000, 0x10_0000]); // bus 0 is CPU 0x09000000
 * const uart = soc.addNode("serial@1000").setReg([{ address: 0x1000, size: 0x1000 }]);
 * const [reg] = uart.getReg() ?? [];
 * assert.equal(translateAddress(uart, reg.address), 0x0900_1000);
 * assert.equal(translateAddress(uart, 0x20_0000), undefined); // outside every window
 * ```
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

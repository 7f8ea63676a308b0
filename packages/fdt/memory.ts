import { assertAddress } from "./cells.ts";
import { FdtError } from "./errors.ts";
import type { Fdt } from "./fdt.ts";
import type { FdtRegion } from "./regions.ts";
import type { FdtNode } from "./tree.ts";

/**
 * The root's children with `device_type = "memory"`, in document order.
 *
 * @example Usage
 * ```ts
 * import { Fdt, memoryNodes } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.addNode("memory@40000000").setString("device_type", "memory");
 * fdt.root.addNode("memory@80000000").setString("device_type", "memory");
 * fdt.root.addNode("flash@0"); // not memory: no device_type
 * assert.deepEqual(memoryNodes(fdt).map((n) => n.name), ["memory@40000000", "memory@80000000"]);
 * ```
 */
export function memoryNodes(fdt: Fdt): FdtNode[] {
  return fdt.root.children.filter((n) => {
    const value = n.getProperty("device_type")?.value;
    // Compared as bytes so a non-string device_type elsewhere cannot make this throw.
    return value !== undefined && value.length === 7 && value[6] === 0 &&
      String.fromCharCode(...value.subarray(0, 6)) === "memory";
  });
}

/**
 * Every region of every memory node (`device_type = "memory"` under the root), `reg` decoded with
 * the root's `#address-cells`/`#size-cells`, in document order. Nodes whose `status` says they are
 * disabled are skipped, as Linux skips them.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getMemoryRegions } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * fdt.root.addNode("memory@40000000").setString("device_type", "memory")
 *   .setReg([{ address: 0x4000_0000, size: 0x800_0000 }]);
 * assert.deepEqual(getMemoryRegions(fdt), [{ address: 0x4000_0000, size: 0x800_0000 }]);
 * ```
 */
export function getMemoryRegions(fdt: Fdt): FdtRegion[] {
  const out: FdtRegion[] = [];
  for (const node of memoryNodes(fdt)) {
    if (!node.isEnabled) continue;
    for (const region of node.getReg() ?? []) out.push(region);
  }
  return out;
}

/** The properties of the memory node binding: a node with nothing else only describes memory. */
const MEMORY_BINDING = new Set([
  "device_type",
  "reg",
  "status",
  "numa-node-id",
  "hotpluggable",
  "ecc-detection-bits",
  "ecc-correction-bits",
  "name",
]);

/** True when `node` holds nothing but a memory description, so removing it loses nothing else. */
function onlyMemory(node: FdtNode): boolean {
  return node.children.length === 0 && node.properties.every((p) => MEMORY_BINDING.has(p.name));
}

/**
 * Replaces every memory node with one `memory@<address>` node per region, `reg` encoded with the
 * root's cells (`VALUE_OVERFLOW` when a value needs more cells than the root grants). The new
 * nodes take the place of the first old one, or go last under the root when there was none.
 *
 * A node that claims `device_type = "memory"` but also holds something else (child nodes, or
 * properties beyond the memory binding's, such as a `/chosen` with `bootargs`) keeps everything
 * but its `device_type`: it stops being a memory node without losing the rest.
 *
 * @example Describing two banks of RAM
 * ```ts
 * import { Fdt, getMemoryRegions, setMemoryRegions } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * const banks = [
 *   { address: 0x4000_0000, size: 0x4000_0000 },
 *   { address: 0x1_0000_0000, size: 0x4000_0000 },
 * ];
 * setMemoryRegions(fdt, banks);
 * assert.deepEqual(fdt.root.children.map((n) => n.name), ["memory@40000000", "memory@100000000"]);
 * assert.deepEqual(getMemoryRegions(fdt), banks);
 * ```
 */
export function setMemoryRegions(fdt: Fdt, regions: readonly FdtRegion[]): void {
  const names = new Set<string>();
  for (const r of regions) {
    assertAddress(r.address, "memory address");
    assertAddress(r.size, "memory size");
    if (r.size === 0) throw new FdtError("INVALID_ARGUMENT", "a memory region cannot be empty");
    if (r.address + r.size > Number.MAX_SAFE_INTEGER) {
      throw new FdtError("INVALID_ARGUMENT", "a memory region cannot end above 2^53");
    }
    const name = `memory@${r.address.toString(16)}`;
    if (names.has(name)) {
      throw new FdtError(
        "INVALID_ARGUMENT",
        `two memory regions start at 0x${r.address.toString(16)}`,
      );
    }
    names.add(name);
  }
  const root = fdt.root;
  const old = memoryNodes(fdt);
  let index = old.length > 0 ? root.children.indexOf(old[0]) : root.children.length;
  // Everything that can fail is checked before the tree changes, so an error leaves it intact.
  const ac = root.addressCells;
  const sc = root.sizeCells;
  for (const r of regions) {
    if (!fitsCells(r.address, ac)) {
      throw new FdtError(
        "VALUE_OVERFLOW",
        `address 0x${r.address.toString(16)} needs more than ${ac} cell(s)`,
        { path: "/" },
      );
    }
    if (!fitsCells(r.size, sc)) {
      throw new FdtError(
        "VALUE_OVERFLOW",
        `size 0x${r.size.toString(16)} needs more than ${sc} cell(s)`,
        { path: "/" },
      );
    }
    const clash = root.getChild(`memory@${r.address.toString(16)}`);
    if (clash !== undefined && !old.includes(clash)) {
      throw new FdtError(
        "DUPLICATE_NAME",
        `${clash.name} exists without device_type "memory"`,
        { path: "/" },
      );
    }
  }
  for (const node of old) {
    if (onlyMemory(node)) node.remove();
    else node.removeProperty("device_type");
  }
  for (const r of regions) {
    root.addNode(`memory@${r.address.toString(16)}`, index++)
      .setString("device_type", "memory")
      .setReg([r]);
  }
}

function fitsCells(value: number, cells: number): boolean {
  return cells >= 2 || value < 2 ** (32 * cells);
}

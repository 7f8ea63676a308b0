import { FdtError } from "./errors.ts";
import type { Fdt } from "./fdt.ts";
import type { FdtNode } from "./tree.ts";

function resolve(
  index: Map<number, FdtNode>,
  from: FdtNode,
  property: string,
): FdtNode | undefined {
  const phandle = from.getU32(property);
  if (phandle === undefined) return undefined;
  const target = index.get(phandle);
  if (target === undefined) {
    throw new FdtError(
      "PHANDLE_NOT_FOUND",
      `${property} = <0x${phandle.toString(16)}> names no node`,
      { path: from.path },
    );
  }
  return target;
}

/**
 * The node a single-phandle property (such as `interrupt-parent` or `msi-parent`) refers to;
 * undefined when the property is absent, `PHANDLE_NOT_FOUND` when it names nothing.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getPhandleTarget } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const its = fdt.root.addNode("its@8080000").setEmpty("msi-controller");
 * const pcie = fdt.root.addNode("pcie@10000000").setU32("msi-parent", fdt.assignPhandle(its));
 * assert.equal(getPhandleTarget(fdt, pcie, "msi-parent"), its);
 * assert.equal(getPhandleTarget(fdt, pcie, "iommu-map"), undefined); // absent
 * ```
 */
export function getPhandleTarget(fdt: Fdt, node: FdtNode, property: string): FdtNode | undefined {
  return resolve(fdt.phandles(), node, property);
}

/**
 * A node's interrupt parent: its own `interrupt-parent`, else the nearest ancestor's, as the
 * specification says. Undefined when no node on the way up has one.
 *
 * @example Inherited from an ancestor
 * ```ts
 * import { Fdt, getInterruptParent } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const gic = fdt.root.addNode("intc@8000000").setEmpty("interrupt-controller");
 * fdt.root.setU32("interrupt-parent", fdt.assignPhandle(gic));
 * const uart = fdt.root.addNode("pl011@9000000"); // no interrupt-parent of its own
 * assert.equal(getInterruptParent(fdt, uart), gic);
 * ```
 */
export function getInterruptParent(fdt: Fdt, node: FdtNode): FdtNode | undefined {
  return interruptParent(fdt.phandles(), node);
}

function interruptParent(
  index: Map<number, FdtNode>,
  node: FdtNode,
): FdtNode | undefined {
  for (let n: FdtNode | undefined = node; n !== undefined; n = n.parent) {
    const target = resolve(index, n, "interrupt-parent");
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * The interrupt controllers an interrupt from `node` passes through, nearest first, ending at the
 * root controller (one whose interrupt parent is itself or absent). Raises `PHANDLE_CYCLE` when
 * the chain loops between different controllers.
 *
 * @example A GPIO interrupt through the GPIO controller to the GIC
 * ```ts
 * import { Fdt, getInterruptControllerChain } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const gic = fdt.root.addNode("intc@8000000").setEmpty("interrupt-controller");
 * fdt.root.setU32("interrupt-parent", fdt.assignPhandle(gic));
 * const gpio = fdt.root.addNode("pl061@9030000").setEmpty("interrupt-controller");
 * const keys = fdt.root.addNode("gpio-keys").setU32("interrupt-parent", fdt.assignPhandle(gpio));
 * const chain = getInterruptControllerChain(fdt, keys);
 * assert.deepEqual(chain.map((n) => n.name), ["pl061@9030000", "intc@8000000"]);
 * ```
 */
export function getInterruptControllerChain(fdt: Fdt, node: FdtNode): FdtNode[] {
  const index = fdt.phandles();
  const chain: FdtNode[] = [];
  const seen = new Set<FdtNode>();
  let current = interruptParent(index, node);
  while (current !== undefined) {
    if (seen.has(current)) {
      throw new FdtError(
        "PHANDLE_CYCLE",
        `interrupt-parent chain loops back to ${current.path}`,
        { path: current.path },
      );
    }
    seen.add(current);
    chain.push(current);
    const next = interruptParent(index, current);
    // A root controller usually inherits the root's interrupt-parent, which names itself.
    if (next === current) break;
    current = next;
  }
  return chain;
}

/**
 * Follows a single-phandle property from node to node until a node lacks it, returning the nodes
 * reached (not including `start`). Raises `PHANDLE_CYCLE` when a node comes round again, including
 * a node that names itself.
 *
 * @example Walking the cache hierarchy
 * ```ts
 * import { Fdt, followPhandleChain } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const l3 = fdt.ensureNode("/cpus/l3-cache");
 * const l2 = fdt.ensureNode("/cpus/l2-cache").setU32("next-level-cache", fdt.assignPhandle(l3));
 * const cpu = fdt.ensureNode("/cpus/cpu@0").setU32("next-level-cache", fdt.assignPhandle(l2));
 * const caches = followPhandleChain(fdt, cpu, "next-level-cache");
 * assert.deepEqual(caches.map((n) => n.name), ["l2-cache", "l3-cache"]);
 * ```
 */
export function followPhandleChain(fdt: Fdt, start: FdtNode, property: string): FdtNode[] {
  const index = fdt.phandles();
  const chain: FdtNode[] = [];
  const seen = new Set<FdtNode>([start]);
  let current = resolve(index, start, property);
  while (current !== undefined) {
    if (seen.has(current)) {
      throw new FdtError("PHANDLE_CYCLE", `${property} chain loops back to ${current.path}`, {
        path: current.path,
      });
    }
    seen.add(current);
    chain.push(current);
    current = resolve(index, current, property);
  }
  return chain;
}

import { type DtsOptions, toDts } from "./dts.ts";
import { FdtError } from "./errors.ts";
import type { FdtLayout } from "./layout.ts";
import type { FdtReservation } from "./regions.ts";
import { FdtNode } from "./tree.ts";

const MAX_PHANDLE = 0xffff_fffe;

/**
 * A whole device tree: the root node, the memory reservations and the boot CPU, plus the layout
 * of the blob it was parsed from (if any).
 *
 * @example Building a tree and looking nodes up
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * fdt.ensureNode("/chosen").setString("bootargs", "console=ttyAMA0");
 * const gic = fdt.root.addNode("intc@8000000").setEmpty("interrupt-controller");
 * const phandle = fdt.assignPhandle(gic); // 1, the first free one
 * assert.equal(fdt.getNode("/chosen").getString("bootargs"), "console=ttyAMA0");
 * assert.equal(fdt.findNode("/intc")?.path, "/intc@8000000");
 * assert.equal(fdt.findByPhandle(phandle), gic);
 * ```
 */
export class Fdt {
  /** The root node (`/`). */
  readonly root: FdtNode;
  /** Memory-reservation block entries, in order. */
  reservations: FdtReservation[];
  /** Header `boot_cpuid_phys`: the physical id of the CPU that boots. */
  bootCpuidPhys: number;
  /**
   * The parsed blob's layout, used to reproduce it exactly; undefined for trees built from
   * scratch. Set it to undefined to get the compact `dtc`-style layout and a fresh string table.
   */
  layout: FdtLayout | undefined;

  /**
   * An empty tree (a root without properties), or a tree around an existing root.
   * @param root the root node; a fresh one when omitted
   */
  constructor(root: FdtNode = new FdtNode()) {
    if (root.parent !== undefined || root.depth !== 0) {
      throw new FdtError("INVALID_ARGUMENT", "the root of a tree must be a root node");
    }
    this.root = root;
    this.reservations = [];
    this.bootCpuidPhys = 0;
    this.layout = undefined;
  }

  /**
   * Looks a node up by path: absolute (`/cpus/cpu@0`), with unit addresses left out where that is
   * unambiguous (`/memory`), or starting with an alias from `/aliases` (`serial0`,
   * `serial0/child`). Returns undefined when nothing matches; raises `AMBIGUOUS_PATH` when a
   * component without unit address matches several nodes.
   */
  findNode(path: string): FdtNode | undefined {
    if (typeof path !== "string" || path.length === 0) return undefined;
    let rest = path;
    if (!path.startsWith("/")) {
      const slash = path.indexOf("/");
      const alias = slash < 0 ? path : path.slice(0, slash);
      const target = this.root.getChild("aliases")?.getString(alias);
      // An alias must hold an absolute path; refusing anything else also rules out alias loops.
      if (target === undefined || !target.startsWith("/")) return undefined;
      rest = slash < 0 ? target : target + path.slice(slash);
    }
    let node: FdtNode | undefined = this.root;
    for (const part of rest.split("/")) {
      if (part === "") continue;
      node = node.findChild(part);
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** Like {@link Fdt.findNode} but raises `NOT_FOUND` instead of returning undefined. */
  getNode(path: string): FdtNode {
    const node = this.findNode(path);
    if (node === undefined) throw new FdtError("NOT_FOUND", `no node at ${JSON.stringify(path)}`);
    return node;
  }

  /**
   * The node at an absolute path made of exact names, creating every missing node on the way
   * (`ensureNode("/chosen")`).
   */
  ensureNode(path: string): FdtNode {
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new FdtError("INVALID_ARGUMENT", `ensureNode needs an absolute path, got ${path}`);
    }
    let node = this.root;
    for (const part of path.split("/")) {
      if (part !== "") node = node.ensureNode(part);
    }
    return node;
  }

  /** Removes the node at `path` (found as {@link Fdt.findNode} does); returns whether it existed. */
  removeNode(path: string): boolean {
    const node = this.findNode(path);
    if (node === undefined || node === this.root) return false;
    return node.remove();
  }

  /** Every node, depth first, in document order, starting with the root. */
  nodes(): IterableIterator<FdtNode> {
    return this.root.walk();
  }

  /** The alias table (`/aliases`) as name → path; empty when there is none. */
  aliases(): Map<string, string> {
    const out = new Map<string, string>();
    const node = this.root.getChild("aliases");
    if (node === undefined) return out;
    for (const p of node.properties) {
      const value = node.getString(p.name);
      if (value !== undefined) out.set(p.name, value);
    }
    return out;
  }

  /**
   * Every phandle in the tree mapped to its node. Raises `DUPLICATE_PHANDLE` when two nodes claim
   * the same value.
   */
  phandles(): Map<number, FdtNode> {
    const map = new Map<number, FdtNode>();
    for (const node of this.nodes()) {
      const ph = node.phandle;
      if (ph === undefined) continue;
      const other = map.get(ph);
      if (other !== undefined) {
        throw new FdtError(
          "DUPLICATE_PHANDLE",
          `phandle 0x${ph.toString(16)} is claimed by ${other.path} and ${node.path}`,
          { path: node.path },
        );
      }
      map.set(ph, node);
    }
    return map;
  }

  /** The node with this phandle, or undefined. */
  findByPhandle(phandle: number): FdtNode | undefined {
    for (const node of this.nodes()) {
      if (node.phandle === phandle) return node;
    }
    return undefined;
  }

  /**
   * The next free phandle: one above the largest in use (`phandle` or `linux,phandle`), starting
   * at 1. Nothing is written; see {@link Fdt.assignPhandle}.
   */
  allocatePhandle(): number {
    let max = 0;
    for (const node of this.nodes()) {
      for (const name of ["phandle", "linux,phandle"]) {
        const value = node.getU32(name);
        if (value !== undefined && value !== 0xffff_ffff && value > max) max = value;
      }
    }
    if (max >= MAX_PHANDLE) {
      throw new FdtError("LIMIT_EXCEEDED", "no phandle values left above the largest in use");
    }
    return max + 1;
  }

  /** The node's phandle, giving it a fresh `phandle` property first if it has none. */
  assignPhandle(node: FdtNode): number {
    const existing = node.phandle;
    if (existing !== undefined) return existing;
    const value = this.allocatePhandle();
    node.setU32("phandle", value);
    return value;
  }

  /** The tree as DTS source text; see {@link toDts}. */
  toDts(options?: DtsOptions): string {
    return toDts(this, options);
  }
}

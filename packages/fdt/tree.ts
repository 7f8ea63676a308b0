import {
  assertAddress,
  decodeText,
  encodeCells,
  encodeString,
  encodeStringList,
  encodeU64,
  readCellsAsNumber,
  readU32,
  readU64Big,
  writeNumberAsCells,
} from "./cells.ts";
import { FdtError } from "./errors.ts";
import { MAX_TREE_DEPTH } from "./limits.ts";
import { baseName, isValidNodeName } from "./names.ts";
import { FdtProperty } from "./property.ts";
import type { FdtRange, FdtRanges, FdtRegion } from "./regions.ts";

/**
 * A device tree node: an ordered list of properties and an ordered list of children. Nodes are
 * created through {@link FdtNode.addNode} (or the tree's root) so every node knows its parent.
 *
 * @example Building and reading nodes
 * ```ts
 * import { Fdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const cpus = fdt.root.addNode("cpus").setU32("#address-cells", 1).setU32("#size-cells", 0);
 * const cpu = cpus.addNode("cpu@0").setString("device_type", "cpu");
 * cpu.setReg([{ address: 0, size: 0 }]);
 * assert.equal(cpu.path, "/cpus/cpu@0");
 * assert.equal(cpu.unitAddress, "0");
 * assert.equal(cpu.getString("device_type"), "cpu");
 * // The only `cpu@…` child, so the unit address may be left out.
 * assert.equal(cpus.findChild("cpu"), cpu);
 * ```
 */
export class FdtNode {
  #name = "";
  #parent: FdtNode | undefined;
  #depth = 0;
  readonly #properties: FdtProperty[] = [];
  readonly #propertyIndex = new Map<string, FdtProperty>();
  readonly #children: FdtNode[] = [];
  readonly #childIndex = new Map<string, FdtNode>();

  /** Creates a detached root node (empty name, no parent); children come from `addNode`. */
  constructor() {}

  /** The full node name including any unit address (`cpu@0`); empty for the root. */
  get name(): string {
    return this.#name;
  }

  /** The parent node, or undefined for the root and for removed nodes. */
  get parent(): FdtNode | undefined {
    return this.#parent;
  }

  /** Nesting depth: 0 for the root. */
  get depth(): number {
    return this.#depth;
  }

  /** The name without its unit address (`cpu` for `cpu@0`). */
  get baseName(): string {
    return baseName(this.name);
  }

  /** The unit address (`0` for `cpu@0`), or undefined. */
  get unitAddress(): string | undefined {
    const at = this.name.indexOf("@");
    return at < 0 ? undefined : this.name.slice(at + 1);
  }

  /** The absolute path, e.g. `/cpus/cpu@0`; `/` for the root; just the name once removed. */
  get path(): string {
    if (this.#parent === undefined) return this.#depth === 0 ? "/" : this.name;
    const parts: string[] = [this.name];
    for (
      let node = this.#parent;
      node !== undefined && node.#parent !== undefined;
      node = node.#parent
    ) {
      parts.push(node.name);
    }
    return "/" + parts.reverse().join("/");
  }

  /** The properties in order. The array is live; edit through the node's methods. */
  get properties(): readonly FdtProperty[] {
    return this.#properties;
  }

  /** The children in order. The array is live; edit through the node's methods. */
  get children(): readonly FdtNode[] {
    return this.#children;
  }

  // ---- properties: reading ----

  /** The property called `name`, or undefined. */
  getProperty(name: string): FdtProperty | undefined {
    return this.#propertyIndex.get(name);
  }

  /** Whether the node has a property called `name`. */
  hasProperty(name: string): boolean {
    return this.#propertyIndex.has(name);
  }

  /** A copy of the raw value, or undefined when absent. */
  getBytes(name: string): Uint8Array | undefined {
    return this.#propertyIndex.get(name)?.value.slice();
  }

  /** A one-cell property as a number, or undefined; `BAD_PROPERTY_VALUE` unless 4 bytes long. */
  getU32(name: string): number | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length !== 4) throw this.#badValue(name, "a 4-byte u32", value.length);
    return readU32(value, 0);
  }

  /**
   * A two-cell property as a bigint (the full 64-bit range), or undefined; `BAD_PROPERTY_VALUE`
   * unless 8 bytes long. Use {@link FdtNode.getNumber} for addresses and sizes.
   */
  getU64(name: string): bigint | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length !== 8) throw this.#badValue(name, "an 8-byte u64", value.length);
    return readU64Big(value, 0);
  }

  /**
   * A one- or two-cell property as a number, or undefined; `VALUE_OVERFLOW` above 2^53 - 1 and
   * `BAD_PROPERTY_VALUE` for any other length.
   */
  getNumber(name: string): number | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length !== 4 && value.length !== 8) {
      throw this.#badValue(name, "a 4- or 8-byte integer", value.length);
    }
    return readCellsAsNumber(value, 0, value.length / 4, `property ${name}`, this.path);
  }

  /** The value as 32-bit cells, or undefined; `BAD_PROPERTY_VALUE` unless a multiple of 4 bytes. */
  getCells(name: string): number[] | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length % 4 !== 0) throw this.#badValue(name, "whole cells", value.length);
    const cells: number[] = new Array(value.length / 4);
    for (let i = 0; i < cells.length; i++) cells[i] = readU32(value, i * 4);
    return cells;
  }

  /**
   * The first string of a string property, or undefined; `BAD_PROPERTY_VALUE` unless the value is
   * non-empty and NUL-terminated.
   */
  getString(name: string): string | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length === 0 || value[value.length - 1] !== 0) {
      throw new FdtError("BAD_PROPERTY_VALUE", `property ${name} is not a NUL-terminated string`, {
        path: this.path,
      });
    }
    return decodeText(value.subarray(0, value.indexOf(0)));
  }

  /**
   * All strings of a string-list property (`compatible`), or undefined; an empty value is an empty
   * list; `BAD_PROPERTY_VALUE` unless NUL-terminated.
   */
  getStringList(name: string): string[] | undefined {
    const value = this.#propertyIndex.get(name)?.value;
    if (value === undefined) return undefined;
    if (value.length === 0) return [];
    if (value[value.length - 1] !== 0) {
      throw new FdtError(
        "BAD_PROPERTY_VALUE",
        `property ${name} is not a NUL-terminated string list`,
        { path: this.path },
      );
    }
    return decodeText(value.subarray(0, value.length - 1)).split("\0");
  }

  /** The node's phandle (`phandle`, else legacy `linux,phandle`), or undefined. */
  get phandle(): number | undefined {
    return this.getU32("phandle") ?? this.getU32("linux,phandle");
  }

  /**
   * `#address-cells` of this node, which sizes the addresses in its children's `reg` and the child
   * side of its own `ranges`; 2 when absent, as the specification says.
   */
  get addressCells(): number {
    return this.#cellCount("#address-cells", 2);
  }

  /** `#size-cells` of this node (for its children's `reg` and its `ranges`); 1 when absent. */
  get sizeCells(): number {
    return this.#cellCount("#size-cells", 1);
  }

  /** Whether `status` is absent, `okay` or `ok`, which is how the format marks a usable node. */
  get isEnabled(): boolean {
    const status = this.getString("status");
    return status === undefined || status === "okay" || status === "ok";
  }

  /**
   * The decoded `reg` property, using the parent's `#address-cells`/`#size-cells`, or undefined
   * when absent. Raises `VALUE_OVERFLOW` for values that do not fit a number.
   */
  getReg(): FdtRegion[] | undefined {
    const value = this.#propertyIndex.get("reg")?.value;
    if (value === undefined) return undefined;
    const ac = this.#parent?.addressCells ?? 2;
    const sc = this.#parent?.sizeCells ?? 1;
    const stride = (ac + sc) * 4;
    if (stride === 0) {
      if (value.length === 0) return [];
      throw new FdtError(
        "BAD_CELLS",
        "reg present but parent has #address-cells = #size-cells = 0",
        {
          path: this.path,
        },
      );
    }
    if (value.length % stride !== 0) {
      throw this.#badValue("reg", `a multiple of ${stride} bytes`, value.length);
    }
    const out: FdtRegion[] = [];
    for (let at = 0; at < value.length; at += stride) {
      out.push({
        address: readCellsAsNumber(value, at, ac, "reg address", this.path),
        size: readCellsAsNumber(value, at + ac * 4, sc, "reg size", this.path),
      });
    }
    return out;
  }

  /**
   * The decoded `ranges` property, or undefined when absent. Child addresses use this node's
   * `#address-cells`, parent addresses the parent's, sizes this node's `#size-cells`.
   */
  getRanges(): FdtRanges | undefined {
    const value = this.#propertyIndex.get("ranges")?.value;
    if (value === undefined) return undefined;
    if (value.length === 0) return { identity: true, entries: [] };
    const cac = this.addressCells;
    const pac = this.#parent?.addressCells ?? 2;
    const sc = this.sizeCells;
    const stride = (cac + pac + sc) * 4;
    if (stride === 0) {
      throw new FdtError("BAD_CELLS", "ranges present but every cell count is 0", {
        path: this.path,
      });
    }
    if (value.length % stride !== 0) {
      throw this.#badValue("ranges", `a multiple of ${stride} bytes`, value.length);
    }
    const entries: FdtRange[] = [];
    for (let at = 0; at < value.length; at += stride) {
      entries.push({
        childAddress: readCellsAsNumber(value, at, cac, "ranges child address", this.path),
        parentAddress: readCellsAsNumber(
          value,
          at + cac * 4,
          pac,
          "ranges parent address",
          this.path,
        ),
        size: readCellsAsNumber(value, at + (cac + pac) * 4, sc, "ranges size", this.path),
      });
    }
    return { identity: false, entries };
  }

  // ---- properties: writing ----

  /**
   * Sets a raw value (kept, not copied). An existing property keeps its position; a new one is
   * appended.
   */
  setProperty(name: string, value: Uint8Array): this {
    const existing = this.#propertyIndex.get(name);
    if (existing !== undefined) {
      existing.value = value;
    } else {
      const property = new FdtProperty(name, value);
      this.#properties.push(property);
      this.#propertyIndex.set(name, property);
    }
    return this;
  }

  /** Sets an empty (boolean) property such as `dma-coherent`. */
  setEmpty(name: string): this {
    return this.setProperty(name, new Uint8Array(0));
  }

  /** Sets a one-cell property; `INVALID_ARGUMENT` outside [0, 2^32). */
  setU32(name: string, value: number): this {
    return this.setProperty(name, encodeCells([value], name));
  }

  /** Sets a two-cell property from a safe integer or a bigint in [0, 2^64). */
  setU64(name: string, value: number | bigint): this {
    return this.setProperty(name, encodeU64(value, name));
  }

  /** Sets a property of 32-bit cells. */
  setCells(name: string, cells: readonly number[]): this {
    return this.setProperty(name, encodeCells(cells, name));
  }

  /** Sets a NUL-terminated string property. */
  setString(name: string, value: string): this {
    return this.setProperty(name, encodeString(value, name));
  }

  /** Sets a string-list property (each string NUL-terminated, back to back). */
  setStringList(name: string, values: readonly string[]): this {
    return this.setProperty(name, encodeStringList(values, name));
  }

  /** Sets a raw byte property from a copy of `bytes`. */
  setBytes(name: string, bytes: Uint8Array | readonly number[]): this {
    if (bytes instanceof Uint8Array) return this.setProperty(name, bytes.slice());
    for (const b of bytes) {
      if (!Number.isInteger(b) || b < 0 || b > 255) {
        throw new FdtError("INVALID_ARGUMENT", `byte values must be integers in [0, 255]`);
      }
    }
    return this.setProperty(name, Uint8Array.from(bytes));
  }

  /**
   * Sets `reg` from regions, encoded with the parent's `#address-cells`/`#size-cells`;
   * `VALUE_OVERFLOW` when a value needs more cells than the parent grants.
   */
  setReg(regions: readonly FdtRegion[]): this {
    const ac = this.#parent?.addressCells ?? 2;
    const sc = this.#parent?.sizeCells ?? 1;
    const stride = (ac + sc) * 4;
    const out = new Uint8Array(stride * regions.length);
    regions.forEach((r, i) => {
      assertAddress(r.address, "reg address");
      assertAddress(r.size, "reg size");
      writeNumberAsCells(out, i * stride, ac, r.address, "reg address", this.path);
      writeNumberAsCells(out, i * stride + ac * 4, sc, r.size, "reg size", this.path);
    });
    return this.setProperty("reg", out);
  }

  /** Removes the property called `name`; returns whether it existed. */
  removeProperty(name: string): boolean {
    const property = this.#propertyIndex.get(name);
    if (property === undefined) return false;
    this.#propertyIndex.delete(name);
    this.#properties.splice(this.#properties.indexOf(property), 1);
    return true;
  }

  // ---- children ----

  /** The child with exactly this name, or undefined. */
  getChild(name: string): FdtNode | undefined {
    return this.#childIndex.get(name);
  }

  /**
   * The child with exactly this name; failing that, when `name` has no unit address, the only
   * child whose name without unit address equals it (`memory` finds `memory@40000000`).
   * Raises `AMBIGUOUS_PATH` when several children match.
   */
  findChild(name: string): FdtNode | undefined {
    const exact = this.#childIndex.get(name);
    if (exact !== undefined || name.includes("@")) return exact;
    let found: FdtNode | undefined;
    for (const child of this.#children) {
      if (child.baseName !== name) continue;
      if (found !== undefined) {
        throw new FdtError(
          "AMBIGUOUS_PATH",
          `${JSON.stringify(name)} matches both ${found.name} and ${child.name}`,
          { path: this.path },
        );
      }
      found = child;
    }
    return found;
  }

  /**
   * Adds a child and returns it (so calls chain into the child). Raises `DUPLICATE_NAME` if a
   * child already has this name.
   * @param name node name with optional unit address, e.g. `memory@40000000`
   * @param index position among the children; appended when omitted
   */
  addNode(name: string, index?: number): FdtNode {
    if (typeof name !== "string" || !isValidNodeName(name)) {
      throw new FdtError("BAD_NAME", `invalid node name ${JSON.stringify(name)}`, {
        path: this.path,
      });
    }
    if (this.#childIndex.has(name)) {
      throw new FdtError("DUPLICATE_NAME", `node ${name} already exists`, { path: this.path });
    }
    if (this.#depth + 1 > MAX_TREE_DEPTH) {
      throw new FdtError("LIMIT_EXCEEDED", `nodes cannot nest deeper than ${MAX_TREE_DEPTH}`, {
        path: this.path,
      });
    }
    const child = FdtNode.#createChild(name, this);
    if (index === undefined) {
      this.#children.push(child);
    } else {
      if (!Number.isInteger(index) || index < 0 || index > this.#children.length) {
        throw new FdtError("INVALID_ARGUMENT", `child index ${index} out of range`, {
          path: this.path,
        });
      }
      this.#children.splice(index, 0, child);
    }
    this.#childIndex.set(name, child);
    return child;
  }

  /** The child with exactly this name, created (appended) when missing. */
  ensureNode(name: string): FdtNode {
    return this.#childIndex.get(name) ?? this.addNode(name);
  }

  /** Removes a child (by exact name or by node); returns whether it was there. */
  removeNode(child: string | FdtNode): boolean {
    const node = typeof child === "string" ? this.#childIndex.get(child) : child;
    if (node === undefined || node.#parent !== this) return false;
    this.#childIndex.delete(node.name);
    this.#children.splice(this.#children.indexOf(node), 1);
    node.#parent = undefined;
    return true;
  }

  /** Detaches this node from its parent; returns whether it had one. */
  remove(): boolean {
    return this.#parent?.removeNode(this) ?? false;
  }

  /** This node and all its descendants, depth first, in document order. */
  *walk(): IterableIterator<FdtNode> {
    const stack: FdtNode[] = [this];
    while (stack.length > 0) {
      const node = stack.pop()!;
      yield node;
      for (let i = node.#children.length - 1; i >= 0; i--) stack.push(node.#children[i]);
    }
  }

  static #createChild(name: string, parent: FdtNode): FdtNode {
    // `new FdtNode()` only makes roots, so a child is given its identity here, where the private
    // fields are reachable and nobody else can fake a parent link.
    const child = new FdtNode();
    child.#name = name;
    child.#parent = parent;
    child.#depth = parent.#depth + 1;
    return child;
  }

  #cellCount(name: string, fallback: number): number {
    const value = this.getU32(name);
    if (value === undefined) return fallback;
    if (value > 4) {
      throw new FdtError("BAD_CELLS", `${name} = ${value} is out of range (at most 4)`, {
        path: this.path,
      });
    }
    return value;
  }

  #badValue(name: string, expected: string, length: number): FdtError {
    return new FdtError(
      "BAD_PROPERTY_VALUE",
      `property ${name} should be ${expected}, is ${length} bytes`,
      { path: this.path },
    );
  }
}

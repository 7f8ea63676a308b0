/**
 * The plain address types of the tree: `reg` regions, memory reservations and `ranges` windows.
 *
 * @module
 */

/**
 * One `reg` entry or memory region: a guest-physical address and a size in bytes.
 *
 * @example Writing and reading `reg`
 * ```ts
 * import { Fdt, type FdtRegion } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * const uart: FdtRegion = { address: 0x0900_0000, size: 0x1000 };
 * const node = fdt.root.addNode("pl011@9000000").setReg([uart]);
 * assert.deepEqual(node.getReg(), [uart]);
 * assert.deepEqual(node.getCells("reg"), [0, 0x0900_0000, 0, 0x1000]); // two cells each
 * ```
 */
export interface FdtRegion {
  /** Start address. */
  address: number;
  /** Length in bytes. */
  size: number;
}

/**
 * One memory-reservation block entry.
 *
 * @example Reserving firmware memory
 * ```ts
 * import { Fdt, type FdtReservation, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const firmware: FdtReservation = { address: 0x4000_0000, size: 0x20_0000 };
 * const fdt = new Fdt();
 * fdt.reservations.push(firmware);
 * assert.deepEqual(parseFdt(serializeFdt(fdt)).reservations, [firmware]);
 * ```
 */
export interface FdtReservation {
  /** Start address. */
  address: number;
  /** Length in bytes. */
  size: number;
}

/**
 * One `ranges` entry: a window of the child bus mapped onto the parent bus.
 *
 * @example Reading a bus window
 * ```ts
 * import { Fdt, type FdtRange } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * // Child address 0 (one cell) is CPU address 0x0a000000 (two cells), for 1 MiB (one cell).
 * const soc = fdt.root.addNode("soc").setU32("#address-cells", 1).setU32("#size-cells", 1)
 *   .setCells("ranges", [0x0, 0x0, 0x0a00_0000, 0x10_0000]);
 * const window: FdtRange | undefined = soc.getRanges()?.entries[0];
 * assert.deepEqual(window, { childAddress: 0, parentAddress: 0x0a00_0000, size: 0x10_0000 });
 * ```
 */
export interface FdtRange {
  /** Address on the child bus (this node's `#address-cells`). */
  childAddress: number;
  /** Address on the parent bus (the parent's `#address-cells`). */
  parentAddress: number;
  /** Length in bytes (this node's `#size-cells`). */
  size: number;
}

/**
 * A decoded `ranges` property.
 *
 * @example Identity, windows, or not mapped
 * ```ts
 * import { Fdt, type FdtRanges } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const bus = fdt.root.addNode("bus").setEmpty("ranges");
 * const ranges: FdtRanges | undefined = bus.getRanges();
 * assert.deepEqual(ranges, { identity: true, entries: [] }); // empty: addresses map one to one
 * assert.equal(fdt.root.addNode("i2c").getRanges(), undefined); // absent: not memory-mapped
 * ```
 */
export interface FdtRanges {
  /** True for an empty `ranges`: child addresses equal parent addresses. */
  identity: boolean;
  /** The translation windows; empty when `identity` is true. */
  entries: FdtRange[];
}

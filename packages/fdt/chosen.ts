import { assertAddress } from "./cells.ts";
import { FdtError } from "./errors.ts";
import type { Fdt } from "./fdt.ts";
import type { FdtNode } from "./tree.ts";

/**
 * An initrd placement as `/chosen` records it: `start` inclusive, `end` exclusive.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getInitrdRange, type InitrdRange, setInitrdRange } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * setInitrdRange(fdt, 0x4800_0000, 0x4840_0000);
 * const initrd: InitrdRange | undefined = getInitrdRange(fdt);
 * assert.equal(initrd && initrd.end - initrd.start, 0x40_0000); // its size: end is exclusive
 * ```
 */
export interface InitrdRange {
  /** First byte of the initrd in guest-physical memory. */
  start: number;
  /** One past the last byte. */
  end: number;
}

/**
 * Options for {@link setInitrdRange}.
 *
 * @example Single cells, for a loader that expects them
 * ```ts
 * import { Fdt, setInitrdRange, type SetInitrdOptions } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const narrow: SetInitrdOptions = { width: 32 };
 * setInitrdRange(fdt, 0x4800_0000, 0x4840_0000, narrow);
 * assert.deepEqual(fdt.getNode("/chosen").getCells("linux,initrd-start"), [0x4800_0000]);
 * assert.throws(() => setInitrdRange(fdt, 0, 2 ** 33, narrow), { code: "VALUE_OVERFLOW" });
 * ```
 */
export interface SetInitrdOptions {
  /** Cell width to write: 64-bit (two cells, the default) or 32-bit (one cell). */
  width?: 32 | 64;
}

/**
 * `/chosen/linux,initrd-start` and `linux,initrd-end`, each read as one or two cells (both forms
 * exist in the wild). Undefined when `/chosen` or either property is missing. Raises
 * `BAD_PROPERTY_VALUE` for other lengths or an end before the start.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getInitrdRange } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * assert.equal(getInitrdRange(fdt), undefined);
 * // Either cell width is read: here one cell each, as some firmware writes them.
 * fdt.ensureNode("/chosen")
 *   .setU32("linux,initrd-start", 0x4800_0000)
 *   .setU32("linux,initrd-end", 0x4810_0000);
 * assert.deepEqual(getInitrdRange(fdt), { start: 0x4800_0000, end: 0x4810_0000 });
 * ```
 */
export function getInitrdRange(fdt: Fdt): InitrdRange | undefined {
  const chosen = fdt.root.getChild("chosen");
  if (chosen === undefined) return undefined;
  const start = chosen.getNumber("linux,initrd-start");
  const end = chosen.getNumber("linux,initrd-end");
  if (start === undefined || end === undefined) return undefined;
  if (end < start) {
    throw new FdtError(
      "BAD_PROPERTY_VALUE",
      `linux,initrd-end 0x${end.toString(16)} is below linux,initrd-start 0x${start.toString(16)}`,
      { path: chosen.path },
    );
  }
  return { start, end };
}

/**
 * Records an initrd in `/chosen` (created if needed). Values are written as 64-bit by default;
 * `{ width: 32 }` writes single cells and raises `VALUE_OVERFLOW` for values that need more.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getInitrdRange, setInitrdRange } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * setInitrdRange(fdt, 0x4800_0000, 0x4840_0000); // creates /chosen; 64-bit cells
 * assert.deepEqual(getInitrdRange(fdt), { start: 0x4800_0000, end: 0x4840_0000 });
 * assert.equal(fdt.getNode("/chosen").getU64("linux,initrd-end"), 0x4840_0000n);
 * ```
 */
export function setInitrdRange(
  fdt: Fdt,
  start: number,
  end: number,
  options: SetInitrdOptions = {},
): void {
  assertAddress(start, "initrd start");
  assertAddress(end, "initrd end");
  if (end < start) {
    throw new FdtError("INVALID_ARGUMENT", `initrd end 0x${end.toString(16)} is below its start`);
  }
  const width = options.width ?? 64;
  if (width !== 32 && width !== 64) {
    throw new FdtError("INVALID_ARGUMENT", `initrd cell width must be 32 or 64, got ${width}`);
  }
  if (width === 32 && end > 0xffff_ffff) {
    throw new FdtError("VALUE_OVERFLOW", "initrd range does not fit 32-bit cells");
  }
  const chosen = fdt.ensureNode("/chosen");
  if (width === 64) {
    chosen.setU64("linux,initrd-start", start).setU64("linux,initrd-end", end);
  } else {
    chosen.setU32("linux,initrd-start", start).setU32("linux,initrd-end", end);
  }
}

/**
 * Removes `linux,initrd-start`/`-end` from `/chosen`, if present.
 *
 * @example Usage
 * ```ts
 * import { clearInitrdRange, Fdt, getInitrdRange, setInitrdRange } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * setInitrdRange(fdt, 0x4800_0000, 0x4840_0000);
 * clearInitrdRange(fdt); // booting without an initrd this time
 * assert.equal(getInitrdRange(fdt), undefined);
 * assert.equal(fdt.findNode("/chosen")?.properties.length, 0); // /chosen itself stays
 * ```
 */
export function clearInitrdRange(fdt: Fdt): void {
  const chosen = fdt.root.getChild("chosen");
  chosen?.removeProperty("linux,initrd-start");
  chosen?.removeProperty("linux,initrd-end");
}

/**
 * `/chosen/bootargs` (the kernel command line), or undefined.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getBootargs } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * assert.equal(getBootargs(fdt), undefined);
 * fdt.ensureNode("/chosen").setString("bootargs", "console=ttyAMA0 quiet");
 * assert.equal(getBootargs(fdt), "console=ttyAMA0 quiet");
 * ```
 */
export function getBootargs(fdt: Fdt): string | undefined {
  return fdt.root.getChild("chosen")?.getString("bootargs");
}

/**
 * Sets `/chosen/bootargs`, creating `/chosen` if needed.
 *
 * @example Appending to the command line
 * ```ts
 * import { Fdt, getBootargs, setBootargs } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * setBootargs(fdt, "console=ttyAMA0");
 * setBootargs(fdt, `${getBootargs(fdt) ?? ""} earlycon`.trim());
 * assert.equal(getBootargs(fdt), "console=ttyAMA0 earlycon");
 * ```
 */
export function setBootargs(fdt: Fdt, args: string): void {
  fdt.ensureNode("/chosen").setString("bootargs", args);
}

/**
 * `/chosen/stdout-path` (or the legacy `linux,stdout-path`), e.g. `/pl011@9000000` or
 * `serial0:115200n8`; undefined when absent.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getStdoutPath } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.ensureNode("/chosen").setString("linux,stdout-path", "/pl011@9000000"); // the legacy name
 * assert.equal(getStdoutPath(fdt), "/pl011@9000000");
 * ```
 */
export function getStdoutPath(fdt: Fdt): string | undefined {
  const chosen = fdt.root.getChild("chosen");
  return chosen?.getString("stdout-path") ?? chosen?.getString("linux,stdout-path");
}

/**
 * Sets `/chosen/stdout-path`, creating `/chosen` if needed.
 *
 * @example Usage
 * ```ts
 * import { Fdt, getStdoutPath, setStdoutPath } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * setStdoutPath(fdt, "serial0:115200n8"); // an alias, then the options
 * assert.equal(getStdoutPath(fdt), "serial0:115200n8");
 * ```
 */
export function setStdoutPath(fdt: Fdt, path: string): void {
  fdt.ensureNode("/chosen").setString("stdout-path", path);
}

/**
 * The console node `stdout-path` names: the part before `:` (options such as `115200n8` follow
 * it) resolved as a path or alias. Undefined when there is no `stdout-path`; raises `NOT_FOUND`
 * when it names nothing.
 *
 * @example Finding the console through an alias
 * ```ts
 * import { Fdt, resolveStdout, setStdoutPath } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * const uart = fdt.root.addNode("pl011@9000000");
 * fdt.ensureNode("/aliases").setString("serial0", "/pl011@9000000");
 * setStdoutPath(fdt, "serial0:115200n8");
 * const stdout = resolveStdout(fdt);
 * assert.equal(stdout?.node, uart);
 * assert.equal(stdout?.options, "115200n8");
 * ```
 */
export function resolveStdout(
  fdt: Fdt,
): { node: FdtNode; options: string | undefined } | undefined {
  const value = getStdoutPath(fdt);
  if (value === undefined) return undefined;
  const colon = value.indexOf(":");
  const target = colon < 0 ? value : value.slice(0, colon);
  const node = fdt.findNode(target);
  if (node === undefined) {
    throw new FdtError("NOT_FOUND", `stdout-path ${JSON.stringify(value)} names no node`, {
      path: "/chosen",
    });
  }
  return { node, options: colon < 0 ? undefined : value.slice(colon + 1) };
}

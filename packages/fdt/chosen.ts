import { assertAddress } from "./cells.ts";
import { FdtError } from "./errors.ts";
import type { Fdt } from "./fdt.ts";
import type { FdtNode } from "./tree.ts";

/** An initrd placement as `/chosen` records it: `start` inclusive, `end` exclusive. */
export interface InitrdRange {
  /** First byte of the initrd in guest-physical memory. */
  start: number;
  /** One past the last byte. */
  end: number;
}

/** Options for {@link setInitrdRange}. */
export interface SetInitrdOptions {
  /** Cell width to write: 64-bit (two cells, the default) or 32-bit (one cell). */
  width?: 32 | 64;
}

/**
 * `/chosen/linux,initrd-start` and `linux,initrd-end`, each read as one or two cells (both forms
 * exist in the wild). Undefined when `/chosen` or either property is missing. Raises
 * `BAD_PROPERTY_VALUE` for other lengths or an end before the start.
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

/** Removes `linux,initrd-start`/`-end` from `/chosen`, if present. */
export function clearInitrdRange(fdt: Fdt): void {
  const chosen = fdt.root.getChild("chosen");
  chosen?.removeProperty("linux,initrd-start");
  chosen?.removeProperty("linux,initrd-end");
}

/** `/chosen/bootargs` (the kernel command line), or undefined. */
export function getBootargs(fdt: Fdt): string | undefined {
  return fdt.root.getChild("chosen")?.getString("bootargs");
}

/** Sets `/chosen/bootargs`, creating `/chosen` if needed. */
export function setBootargs(fdt: Fdt, args: string): void {
  fdt.ensureNode("/chosen").setString("bootargs", args);
}

/**
 * `/chosen/stdout-path` (or the legacy `linux,stdout-path`), e.g. `/pl011@9000000` or
 * `serial0:115200n8`; undefined when absent.
 */
export function getStdoutPath(fdt: Fdt): string | undefined {
  const chosen = fdt.root.getChild("chosen");
  return chosen?.getString("stdout-path") ?? chosen?.getString("linux,stdout-path");
}

/** Sets `/chosen/stdout-path`, creating `/chosen` if needed. */
export function setStdoutPath(fdt: Fdt, path: string): void {
  fdt.ensureNode("/chosen").setString("stdout-path", path);
}

/**
 * The console node `stdout-path` names: the part before `:` (options such as `115200n8` follow
 * it) resolved as a path or alias. Undefined when there is no `stdout-path`; raises `NOT_FOUND`
 * when it names nothing.
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

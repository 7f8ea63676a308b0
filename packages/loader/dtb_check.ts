/**
 * Reading the guest's device tree and holding it against the placement.
 *
 * @module
 */

import { type Fdt, FdtError, getInitrdRange, getMemoryRegions, parseFdt } from "@vmkit/fdt";
import { hex, LoaderError } from "./errors.ts";
import { DTB_MAX_SIZE, type GuestRange } from "./placement.ts";

/** Turns an `FdtError` (or anything else thrown by `@vmkit/fdt`) into a `BAD_DTB` LoaderError. */
export function dtbError(e: unknown, doing: string): LoaderError {
  if (e instanceof LoaderError) return e;
  if (e instanceof FdtError) {
    const where = e.offset !== undefined ? ` at offset ${hex(e.offset)}` : "";
    return new LoaderError("BAD_DTB", `DTB ${doing}: ${e.code}${where}: ${e.message}`, {
      offset: e.offset,
      cause: e,
    });
  }
  return new LoaderError(
    "BAD_DTB",
    `DTB ${doing}: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}

/** Refuses a DTB over 2 MiB, then parses it, wrapping any `FdtError` as `BAD_DTB`. */
export function readDtb(dtb: Uint8Array): Fdt {
  if (dtb.length > DTB_MAX_SIZE) {
    throw new LoaderError(
      "DTB_TOO_LARGE",
      `DTB is ${dtb.length} bytes; the kernel accepts at most ${DTB_MAX_SIZE}`,
    );
  }
  try {
    return parseFdt(dtb);
  } catch (e) {
    throw dtbError(e, "does not parse");
  }
}

/** The `/chosen` initrd range, `BAD_DTB` when the properties are malformed. */
export function dtbInitrd(fdt: Fdt): GuestRange | undefined {
  try {
    return getInitrdRange(fdt);
  } catch (e) {
    throw dtbError(e, "has unreadable /chosen linux,initrd-start/end");
  }
}

/**
 * Refuses a DTB whose `/chosen` initrd properties contradict the initrd placed (or the absence of
 * one): `INITRD_MISMATCH`.
 */
export function checkInitrdAgreement(fdt: Fdt, initrd: GuestRange | undefined): void {
  const named = dtbInitrd(fdt);
  if (initrd === undefined) {
    if (named !== undefined) {
      throw new LoaderError(
        "INITRD_MISMATCH",
        `DTB /chosen names an initrd at ${hex(named.start)}..${
          hex(named.end)
        } but no initrd was given`,
        { address: named.start },
      );
    }
    return;
  }
  if (named === undefined) {
    throw new LoaderError(
      "INITRD_MISMATCH",
      `initrd placed at ${hex(initrd.start)}..${
        hex(initrd.end)
      } but DTB /chosen has no linux,initrd-start/end (pass patchDtb to write them)`,
      { address: initrd.start },
    );
  }
  if (named.start !== initrd.start || named.end !== initrd.end) {
    throw new LoaderError(
      "INITRD_MISMATCH",
      `DTB /chosen linux,initrd-start/end say ${hex(named.start)}..${
        hex(named.end)
      } but the initrd is at ${hex(initrd.start)}..${hex(initrd.end)}`,
      { address: initrd.start },
    );
  }
}

/**
 * Refuses a DTB whose `/memory` does not match the RAM bank (`MEMORY_MISMATCH`): no memory node,
 * a region outside RAM (the kernel would use memory that does not exist), or a placed range that
 * no region (after merging adjacent ones) contains (the kernel would not map it).
 */
export function checkMemoryAgreement(
  fdt: Fdt,
  ram: GuestRange,
  placed: readonly (readonly [string, GuestRange])[],
): void {
  let regions: { address: number; size: number }[];
  try {
    regions = getMemoryRegions(fdt);
  } catch (e) {
    throw dtbError(e, "has an unreadable /memory node");
  }
  const nonEmpty = regions.filter((r) => r.size > 0);
  if (nonEmpty.length === 0) {
    throw new LoaderError(
      "MEMORY_MISMATCH",
      "DTB describes no memory (no /memory node with a non-empty reg)",
    );
  }
  for (const r of nonEmpty) {
    if (r.address < ram.start || r.address + r.size > ram.end) {
      throw new LoaderError(
        "MEMORY_MISMATCH",
        `DTB /memory region ${hex(r.address)}..${hex(r.address + r.size)} is outside RAM ${
          hex(ram.start)
        }..${hex(ram.end)}`,
        { address: r.address },
      );
    }
  }
  const merged: { start: number; end: number }[] = [];
  for (const r of [...nonEmpty].sort((a, b) => a.address - b.address)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.address <= last.end) {
      last.end = Math.max(last.end, r.address + r.size);
    } else merged.push({ start: r.address, end: r.address + r.size });
  }
  for (const [name, range] of placed) {
    if (!merged.some((m) => m.start <= range.start && range.end <= m.end)) {
      throw new LoaderError(
        "MEMORY_MISMATCH",
        `${name} at ${hex(range.start)}..${hex(range.end)} is not inside any DTB /memory region (${
          merged.map((m) => `${hex(m.start)}..${hex(m.end)}`).join(", ")
        })`,
        { address: range.start },
      );
    }
  }
}

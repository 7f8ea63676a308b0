/**
 * Where the kernel, the DTB and the initrd go in guest RAM under the arm64 boot protocol.
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";
import type { ImageHeader } from "./image_header.ts";

/**
 * The kernel's base (its load address minus `text_offset`) is aligned to this: 2 MiB.
 *
 * @example RAM that starts off a 2 MiB line
 * ```ts
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   KERNEL_BASE_ALIGN,
 *   parseImageHeader,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const placement = planLinuxPlacement({
 *   ramBase: 0x4010_0000, // 1 MiB past a 2 MiB line
 *   ramSize: 0x400_0000,
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: 0x1000,
 * });
 * assert.equal(placement.base, 0x4020_0000); // the first 2 MiB line in RAM
 * assert.equal(placement.base % KERNEL_BASE_ALIGN, 0);
 * ```
 */
export const KERNEL_BASE_ALIGN: number = 0x20_0000;
/**
 * Largest DTB the kernel accepts: 2 MiB.
 *
 * @example Planning before the device tree exists
 * ```ts
 * import {
 *   DTB_MAX_SIZE,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const request = {
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x400_0000,
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: DTB_MAX_SIZE, // the most any DTB can need
 * };
 * const { dtb } = planLinuxPlacement(request);
 * assert.equal(dtb.end - dtb.start, DTB_MAX_SIZE);
 * assert.throws(() => planLinuxPlacement({ ...request, dtbSize: DTB_MAX_SIZE + 1 }), {
 *   code: "DTB_TOO_LARGE",
 * });
 * ```
 */
export const DTB_MAX_SIZE: number = 0x20_0000;
/**
 * The DTB's address must be a multiple of this.
 *
 * @example Usage
 * ```ts
 * import {
 *   DTB_ALIGN,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const request = {
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x400_0000,
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: 0x1000,
 * };
 * assert.equal(planLinuxPlacement({ ...request, dtbAddress: 0x4300_0000 }).dtb.start, 0x4300_0000);
 * const misaligned = 0x4300_0000 + DTB_ALIGN / 2;
 * assert.throws(() => planLinuxPlacement({ ...request, dtbAddress: misaligned }), {
 *   code: "DTB_MISALIGNED",
 * });
 * ```
 */
export const DTB_ALIGN = 8;
/**
 * The initrd and the kernel must share a window aligned to this (1 GiB)...
 *
 * @example Usage
 * ```ts
 * import { INITRD_WINDOW_ALIGN, inInitrdWindow } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // The window starts at the 1 GiB line at or below the lower of kernel and initrd.
 * const kernel = { start: INITRD_WINDOW_ALIGN + 0x20_0000, end: INITRD_WINDOW_ALIGN + 0x40_0000 };
 * // Below that line: the window starts at 0 and still holds both.
 * const initrd = { start: 0x3000_0000, end: 0x3010_0000 };
 * assert.equal(inInitrdWindow(kernel, initrd), true);
 * ```
 */
export const INITRD_WINDOW_ALIGN: number = 0x4000_0000;
/**
 * ...and at most this long (32 GiB).
 *
 * @example Usage
 * ```ts
 * import { INITRD_WINDOW_SIZE, inInitrdWindow } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = { start: 0x4000_0000, end: 0x4200_0000 };
 * const last = 0x4000_0000 + INITRD_WINDOW_SIZE; // the window is [1 GiB, 33 GiB)
 * assert.equal(inInitrdWindow(kernel, { start: last - 0x1000, end: last }), true);
 * assert.equal(inInitrdWindow(kernel, { start: last - 0x1000, end: last + 1 }), false);
 * ```
 */
export const INITRD_WINDOW_SIZE: number = 32 * 0x4000_0000;
/**
 * Alignment of an initrd placed by the loader when the kernel leaves its page size unspecified.
 *
 * @example Usage
 * ```ts
 * import {
 *   DEFAULT_INITRD_ALIGN,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000); // flags 0: the kernel leaves its page size unspecified
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const { initrd } = planLinuxPlacement({
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x400_0000,
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: 0x1000,
 *   initrdSize: 12345,
 * });
 * assert.equal(initrd !== undefined && initrd.start % DEFAULT_INITRD_ALIGN, 0);
 * ```
 */
export const DEFAULT_INITRD_ALIGN = 4096;

/**
 * A half-open guest-physical range `[start, end)`.
 *
 * @example Usage
 * ```ts
 * import { type GuestRange, inInitrdWindow } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel: GuestRange = { start: 0x4000_0000, end: 0x4200_0000 }; // end is exclusive
 * const initrd: GuestRange = { start: 0x4800_0000, end: 0x4840_0000 };
 * assert.equal(initrd.end - initrd.start, 0x40_0000); // its length
 * assert.equal(inInitrdWindow(kernel, initrd), true);
 * ```
 */
export interface GuestRange {
  /** First byte. */
  readonly start: number;
  /** First byte after the range. */
  readonly end: number;
}

/**
 * What {@linkcode planLinuxPlacement} needs to know.
 *
 * @example Fixing the initrd's address
 * ```ts
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   planLinuxPlacement,
 *   type PlacementRequest,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const request: PlacementRequest = {
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x1000_0000,
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: 0x2000,
 *   initrdSize: 0x10_0000,
 *   initrdAddress: 0x4800_0000, // given addresses are checked, never moved
 * };
 * assert.deepEqual(planLinuxPlacement(request).initrd, { start: 0x4800_0000, end: 0x4810_0000 });
 * assert.throws(() => planLinuxPlacement({ ...request, initrdAddress: 0x4000_0000 }), {
 *   code: "OVERLAP", // with the kernel
 * });
 * ```
 */
export interface PlacementRequest {
  /** Guest-physical address of the RAM bank everything goes into. */
  readonly ramBase: number;
  /** Bytes of RAM in the bank. */
  readonly ramSize: number;
  /** The kernel's parsed header. */
  readonly header: ImageHeader;
  /** Bytes of the Image file that will be copied. */
  readonly kernelLength: number;
  /**
   * Bytes to reserve for the DTB (its length, plus room to grow if it will be patched; pass
   * {@linkcode DTB_MAX_SIZE} when the DTB does not exist yet). At most 2 MiB.
   */
  readonly dtbSize: number;
  /** Bytes of initrd; 0 or absent for none. */
  readonly initrdSize?: number;
  /** Where the DTB must go; chosen by the loader when absent. */
  readonly dtbAddress?: number;
  /** Where the initrd must go; chosen by the loader when absent. */
  readonly initrdAddress?: number;
}

/**
 * Where everything goes. All ranges lie inside RAM and are pairwise disjoint.
 *
 * @example Usage
 * ```ts
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   type Placement,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * view.setBigUint64(0x08, 0x8_0000n, true); // text_offset: 512 KiB
 * const header = parseImageHeader(kernel);
 * const placement: Placement = planLinuxPlacement({
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x1000_0000,
 *   header,
 *   kernelLength: kernel.length,
 *   dtbSize: 0x2000,
 * });
 * assert.equal(placement.base, 0x4000_0000);
 * assert.equal(placement.kernel.start, placement.base + header.textOffset); // the entry point
 * assert.equal(placement.kernel.end - placement.kernel.start, 0x20_0000); // image_size
 * assert.equal(placement.initrd, undefined); // none was asked for
 * ```
 */
export interface Placement {
  /** The 2 MiB-aligned base: the lowest such address in RAM. */
  readonly base: number;
  /**
   * The kernel: `start` = base + text_offset is also the entry point; `end` = start +
   * max(image_size, file length) is what the kernel may use.
   */
  readonly kernel: GuestRange;
  /**
   * The DTB's slot: `start` is the DTB's address; a loader-chosen slot is a whole free 2 MiB
   * block when one exists, so a patched DTB can grow up to 2 MiB in it.
   */
  readonly dtb: GuestRange;
  /** The initrd, when there is one. */
  readonly initrd?: GuestRange;
}

function alignDown(value: number, align: number): number {
  return Math.floor(value / align) * align;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

function describe(range: GuestRange): string {
  return `${hex(range.start)}..${hex(range.end)}`;
}

function overlaps(a: GuestRange, b: GuestRange): boolean {
  return a.start < b.end && b.start < a.end;
}

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LoaderError("INVALID_ARGUMENT", `${what} ${value} is not a non-negative integer`);
  }
}

/**
 * True when `initrd` lies, with the whole `kernel`, inside one 1 GiB-aligned window of at most
 * 32 GiB, as the boot protocol requires.
 *
 * @example Usage
 * ```ts
 * import { inInitrdWindow } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = { start: 0x4000_0000, end: 0x4200_0000 };
 * assert.equal(inInitrdWindow(kernel, { start: 0x4800_0000, end: 0x4840_0000 }), true);
 * // 40 GiB above: further than one 32 GiB window reaches.
 * assert.equal(inInitrdWindow(kernel, { start: 0xa_0000_0000, end: 0xa_0040_0000 }), false);
 * ```
 */
export function inInitrdWindow(kernel: GuestRange, initrd: GuestRange): boolean {
  const window = alignDown(Math.min(kernel.start, initrd.start), INITRD_WINDOW_ALIGN);
  return Math.max(kernel.end, initrd.end) - window <= INITRD_WINDOW_SIZE;
}

/** The free gaps of `[lo, hi)` around `used`, highest first. */
function freeGaps(lo: number, hi: number, used: readonly GuestRange[]): GuestRange[] {
  const sorted = [...used].sort((a, b) => a.start - b.start);
  const gaps: GuestRange[] = [];
  let cursor = lo;
  for (const range of sorted) {
    if (range.start > cursor) gaps.push({ start: cursor, end: Math.min(range.start, hi) });
    cursor = Math.max(cursor, range.end);
  }
  if (cursor < hi) gaps.push({ start: cursor, end: hi });
  return gaps.filter((g) => g.end > g.start).reverse();
}

/**
 * The highest `align`-aligned range of `size` bytes inside a free gap and inside `[lo, hi)` that
 * passes `accept`, or `undefined`.
 */
function highestFit(
  gaps: readonly GuestRange[],
  size: number,
  align: number,
  accept: (range: GuestRange) => boolean,
  lo = 0,
  hi = Number.MAX_SAFE_INTEGER,
): GuestRange | undefined {
  for (const gap of gaps) {
    const top = Math.min(gap.end, hi);
    const bottom = Math.max(gap.start, lo);
    if (top - bottom < size) continue;
    const start = alignDown(top - size, align);
    if (start < bottom) continue;
    const range = { start, end: start + size };
    if (accept(range)) return range;
  }
  return undefined;
}

function crosses2MiB(range: GuestRange): boolean {
  return range.end - range.start <= DTB_MAX_SIZE &&
    alignDown(range.start, KERNEL_BASE_ALIGN) !==
      alignDown(range.end - 1, KERNEL_BASE_ALIGN);
}

/** The DTB slot the loader picks: a free 2 MiB block, else a spot not crossing a 2 MiB line, else any. */
function chooseDtbSlot(gaps: readonly GuestRange[], size: number): GuestRange | undefined {
  const block = highestFit(gaps, DTB_MAX_SIZE, KERNEL_BASE_ALIGN, () => true);
  if (block !== undefined) return block;
  const exact = Math.max(alignUp(size, DTB_ALIGN), DTB_ALIGN);
  for (const gap of gaps) {
    // Within one gap the highest spot that stays inside a 2 MiB block ends on the block line
    // at or below the top.
    let end = gap.end;
    let start = alignDown(end - exact, DTB_ALIGN);
    if (start >= gap.start && crosses2MiB({ start, end: start + exact })) {
      end = alignDown(start + exact - 1, KERNEL_BASE_ALIGN);
      start = alignDown(end - exact, DTB_ALIGN);
    }
    if (start >= gap.start) return { start, end: start + exact };
  }
  return highestFit(gaps, exact, DTB_ALIGN, () => true);
}

/**
 * Decides where the kernel, DTB and initrd go, without touching RAM.
 *
 * Policy:
 * - kernel base = the lowest 2 MiB-aligned address in RAM (RAM's start when it is aligned, which
 *   also honours flags bit 3 = 0); kernel at base + text_offset with max(image_size, file length)
 *   bytes inside RAM;
 * - DTB, when not given: the highest free, 2 MiB-aligned 2 MiB block of RAM (like existing VMMs,
 *   near the top; the whole block is reserved so a patched DTB can grow); failing that the
 *   highest 8-byte-aligned spot that does not cross a 2 MiB line, failing that any;
 * - initrd, when not given: the highest free spot (so just below the DTB), aligned to the kernel's
 *   page size (4 KiB when unspecified), inside a 1 GiB-aligned window of at most 32 GiB that also
 *   holds the kernel.
 *
 * Given addresses are checked, not moved: DTB 8-byte aligned, reservation ≤ 2 MiB (it may cross a
 * 2 MiB line: the protocol only asks that no 2 MiB block it touches needs special attributes, and
 * all RAM here is normal memory), initrd within the window, all inside RAM, nothing overlapping.
 *
 * Works on the numbers alone, so a VMM can plan before it builds its device tree.
 *
 * Throws {@linkcode LoaderError}: `BAD_RAM`, `INVALID_ARGUMENT`, `KERNEL_OUTSIDE_RAM`,
 * `DTB_TOO_LARGE`, `DTB_MISALIGNED`, `DTB_OUTSIDE_RAM`, `INITRD_OUTSIDE_RAM`, `INITRD_WINDOW`,
 * `OVERLAP`, `NO_ROOM`.
 *
 * @example Usage
 * ```ts
 * import {
 *   DTB_MAX_SIZE,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   parseImageHeader,
 *   planLinuxPlacement,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const placement = planLinuxPlacement({
 *   ramBase: 0x4000_0000,
 *   ramSize: 0x1000_0000, // 256 MiB
 *   header: parseImageHeader(kernel),
 *   kernelLength: kernel.length,
 *   dtbSize: DTB_MAX_SIZE,
 *   initrdSize: 0x40_0000,
 * });
 * assert.deepEqual(placement.kernel, { start: 0x4000_0000, end: 0x4020_0000 }); // bottom of RAM
 * assert.deepEqual(placement.dtb, { start: 0x4fe0_0000, end: 0x5000_0000 }); // the top 2 MiB
 * assert.deepEqual(placement.initrd, { start: 0x4fa0_0000, end: 0x4fe0_0000 }); // right below
 * ```
 */
export function planLinuxPlacement(request: PlacementRequest): Placement {
  const { header } = request;
  const ram = { base: request.ramBase, size: request.ramSize };
  if (
    !Number.isSafeInteger(ram.base) || ram.base < 0 || !Number.isSafeInteger(ram.size) ||
    ram.size < 0 || !Number.isSafeInteger(ram.base + ram.size)
  ) {
    throw new LoaderError(
      "BAD_RAM",
      `guest RAM ${ram.base} + ${ram.size} bytes is not a range below 2^53`,
    );
  }
  checkCount(request.kernelLength, "kernel length");
  checkCount(request.dtbSize, "DTB size");
  if (request.dtbSize === 0) {
    // An empty slot would hand the kernel an address with no device tree behind it.
    throw new LoaderError(
      "INVALID_ARGUMENT",
      "DTB size 0: the boot protocol requires a device tree in x0",
    );
  }
  const initrdSize = request.initrdSize ?? 0;
  checkCount(initrdSize, "initrd size");
  if (request.dtbAddress !== undefined) checkCount(request.dtbAddress, "DTB address");
  if (request.initrdAddress !== undefined) checkCount(request.initrdAddress, "initrd address");

  const ramEnd = ram.base + ram.size;
  const ramText = `RAM ${hex(ram.base)}..${hex(ramEnd)}`;
  const base = alignUp(ram.base, KERNEL_BASE_ALIGN);
  const kernelStart = base + header.textOffset;
  const kernel: GuestRange = {
    start: kernelStart,
    end: kernelStart + Math.max(header.loadSize, request.kernelLength),
  };
  if (kernel.end > ramEnd) {
    throw new LoaderError(
      "KERNEL_OUTSIDE_RAM",
      `kernel needs ${describe(kernel)} (base ${hex(base)} + text_offset ${
        hex(header.textOffset)
      }, ${kernel.end - kernel.start} bytes) but ${ramText}`,
      { address: kernel.start },
    );
  }

  if (request.dtbSize > DTB_MAX_SIZE) {
    throw new LoaderError(
      "DTB_TOO_LARGE",
      `DTB needs ${request.dtbSize} bytes; the kernel accepts at most ${DTB_MAX_SIZE}`,
    );
  }

  let dtb: GuestRange | undefined;
  if (request.dtbAddress !== undefined) {
    dtb = { start: request.dtbAddress, end: request.dtbAddress + request.dtbSize };
    if (dtb.start % DTB_ALIGN !== 0) {
      throw new LoaderError(
        "DTB_MISALIGNED",
        `DTB address ${hex(dtb.start)} is not 8-byte aligned`,
        { address: dtb.start },
      );
    }
    if (dtb.start < ram.base || dtb.end > ramEnd) {
      throw new LoaderError("DTB_OUTSIDE_RAM", `DTB ${describe(dtb)} is outside ${ramText}`, {
        address: dtb.start,
      });
    }
    if (overlaps(dtb, kernel)) {
      throw new LoaderError(
        "OVERLAP",
        `DTB ${describe(dtb)} overlaps the kernel ${describe(kernel)}`,
        { address: Math.max(dtb.start, kernel.start) },
      );
    }
  }

  let initrd: GuestRange | undefined;
  if (initrdSize > 0 && request.initrdAddress !== undefined) {
    initrd = { start: request.initrdAddress, end: request.initrdAddress + initrdSize };
    if (initrd.start < ram.base || initrd.end > ramEnd) {
      throw new LoaderError(
        "INITRD_OUTSIDE_RAM",
        `initrd ${describe(initrd)} is outside ${ramText}`,
        { address: initrd.start },
      );
    }
    for (const [name, other] of [["kernel", kernel], ["DTB", dtb]] as const) {
      if (other !== undefined && overlaps(initrd, other)) {
        throw new LoaderError(
          "OVERLAP",
          `initrd ${describe(initrd)} overlaps the ${name} ${describe(other)}`,
          { address: Math.max(initrd.start, other.start) },
        );
      }
    }
    if (!inInitrdWindow(kernel, initrd)) {
      throw new LoaderError(
        "INITRD_WINDOW",
        `initrd ${describe(initrd)} and kernel ${
          describe(kernel)
        } do not fit one 1 GiB-aligned window of at most 32 GiB`,
        { address: initrd.start },
      );
    }
  }

  if (dtb === undefined) {
    const used = initrd === undefined ? [kernel] : [kernel, initrd];
    dtb = chooseDtbSlot(freeGaps(ram.base, ramEnd, used), request.dtbSize);
    if (dtb === undefined) {
      throw new LoaderError(
        "NO_ROOM",
        `no free ${request.dtbSize}-byte spot for the DTB in ${ramText} beside the kernel ${
          describe(kernel)
        }`,
      );
    }
  }

  if (initrdSize > 0 && initrd === undefined) {
    const align = Math.max(header.pageSize ?? DEFAULT_INITRD_ALIGN, DEFAULT_INITRD_ALIGN);
    const gaps = freeGaps(ram.base, ramEnd, [kernel, dtb]);
    // Every valid window starts at a 1 GiB line at or below the kernel and reaches its end, so
    // their union bounds the search; the exact test then settles each candidate.
    const lo = Math.max(0, alignUp(kernel.end - INITRD_WINDOW_SIZE, INITRD_WINDOW_ALIGN));
    const hi = alignDown(kernel.start, INITRD_WINDOW_ALIGN) + INITRD_WINDOW_SIZE;
    initrd = highestFit(gaps, initrdSize, align, (r) => inInitrdWindow(kernel, r), lo, hi);
    if (initrd === undefined) {
      throw new LoaderError(
        "NO_ROOM",
        `no free ${initrdSize}-byte spot for the initrd in ${ramText} within 32 GiB of the kernel ${
          describe(kernel)
        } and clear of the DTB ${describe(dtb)}`,
      );
    }
  }

  return initrd === undefined ? { base, kernel, dtb } : { base, kernel, dtb, initrd };
}

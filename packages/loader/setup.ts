/**
 * Loading a Linux kernel, its DTB and its initrd into guest RAM in one call.
 *
 * @module
 */

import { clearInitrdRange, serializeFdt, setInitrdRange, setMemoryRegions } from "@vmkit/fdt";
import { checkInitrdAgreement, checkMemoryAgreement, dtbError, readDtb } from "./dtb_check.ts";
import { hex, LoaderError } from "./errors.ts";
import { checkGuestRam, type GuestRam, guestRamEnd, writeGuest } from "./guest_ram.ts";
import {
  type ImageHeader,
  parseImageHeader,
  type ParseImageHeaderOptions,
} from "./image_header.ts";
import { DTB_MAX_SIZE, type GuestRange, planLinuxPlacement } from "./placement.ts";

/**
 * Default room reserved after a DTB the loader will patch: rewriting `/chosen` and `/memory` adds
 * well under 1 KiB. (A DTB the loader places itself gets a whole 2 MiB block when one is free.)
 *
 * @example The slot of a patched DTB at a given address
 * ```ts
 * import { Fdt, serializeFdt } from "@vmkit/fdt";
 * import {
 *   DTB_PATCH_HEADROOM,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   setupLinuxImages,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) };
 * const dtb = serializeFdt(new Fdt());
 * const plan = setupLinuxImages({ ram, kernel, dtb, dtbAddress: 0x4080_0000, patchMemory: true });
 * // Nothing else may be placed in the headroom the patched DTB could have grown into.
 * assert.equal(plan.dtb.slotEnd, 0x4080_0000 + dtb.length + DTB_PATCH_HEADROOM);
 * ```
 */
export const DTB_PATCH_HEADROOM = 4096;

/**
 * What {@linkcode setupLinuxImages} loads, and where.
 *
 * @example Letting the loader write `/memory`
 * ```ts
 * import { Fdt, getMemoryRegions, parseFdt, serializeFdt } from "@vmkit/fdt";
 * import {
 *   guestBytes,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   setupLinuxImages,
 *   type SetupLinuxImagesOptions,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const options: SetupLinuxImagesOptions = {
 *   ram: { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) },
 *   kernel,
 *   dtb: serializeFdt(new Fdt()), // describes no memory yet
 * };
 * assert.throws(() => setupLinuxImages(options), { code: "MEMORY_MISMATCH" });
 * const { dtb } = setupLinuxImages({ ...options, patchMemory: true });
 * const placed = parseFdt(guestBytes(options.ram, dtb.start, dtb.end - dtb.start));
 * assert.deepEqual(getMemoryRegions(placed), [{ address: 0x4000_0000, size: 0x100_0000 }]);
 * ```
 */
export interface SetupLinuxImagesOptions extends ParseImageHeaderOptions {
  /** The guest RAM bank everything is copied into. */
  readonly ram: GuestRam;
  /** The uncompressed Image (see {@linkcode readKernelImage} for `Image.gz`). */
  readonly kernel: Uint8Array;
  /** The flattened device tree to pass in x0. */
  readonly dtb: Uint8Array;
  /** The initial RAM disk, if any (an empty one counts as none). */
  readonly initrd?: Uint8Array;
  /** Guest-physical address for the DTB; default: the highest free 2 MiB block of RAM. */
  readonly dtbAddress?: number;
  /** Guest-physical address for the initrd; default: right below the DTB. */
  readonly initrdAddress?: number;
  /**
   * Write `/chosen` `linux,initrd-start`/`linux,initrd-end` for the placed initrd (or remove them
   * when there is none) instead of requiring the DTB to already say so.
   */
  readonly patchDtb?: boolean;
  /** Replace `/memory` with one region covering the RAM bank. */
  readonly patchMemory?: boolean;
  /**
   * Bytes reserved after a DTB that will be patched, for it to grow into; default
   * {@linkcode DTB_PATCH_HEADROOM}. A patched DTB that outgrows its slot is `DTB_SLOT_OVERFLOW`.
   */
  readonly dtbHeadroom?: number;
}

/**
 * The kernel as placed.
 *
 * @example Usage
 * ```ts
 * import { Fdt, serializeFdt } from "@vmkit/fdt";
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   type KernelPlacement,
 *   setupLinuxImages,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x08, 0x8_0000n, true); // text_offset: 512 KiB
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) };
 * const placed: KernelPlacement =
 *   setupLinuxImages({ ram, kernel, dtb: serializeFdt(new Fdt()), patchMemory: true }).kernel;
 * assert.deepEqual(placed, {
 *   base: 0x4000_0000,
 *   start: 0x4008_0000, // base + text_offset
 *   end: 0x4028_0000, // start + image_size: what the kernel may use, BSS included
 *   fileEnd: 0x4008_1000, // start + the file's length: what was copied
 *   imageSize: 0x20_0000,
 * });
 * ```
 */
export interface KernelPlacement {
  /** The 2 MiB-aligned base the kernel's `text_offset` counts from. */
  readonly base: number;
  /** Load address = entry point. */
  readonly start: number;
  /** End of the memory the kernel may use: start + max(image_size, file length). */
  readonly end: number;
  /** End of the bytes copied from the file. */
  readonly fileEnd: number;
  /** The header's `image_size` (0 for a legacy kernel). */
  readonly imageSize: number;
}

/**
 * The DTB as placed.
 *
 * @example Usage
 * ```ts
 * import { Fdt, serializeFdt } from "@vmkit/fdt";
 * import {
 *   type DtbPlacement,
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   setupLinuxImages,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) };
 * const placed: DtbPlacement =
 *   setupLinuxImages({ ram, kernel, dtb: serializeFdt(new Fdt()), patchMemory: true }).dtb;
 * assert.equal(placed.start, 0x40e0_0000); // x0
 * assert.equal(placed.slotEnd, 0x4100_0000); // the whole top 2 MiB block is the DTB's
 * assert.equal(placed.patched, true); // rewritten: /memory was added
 * ```
 */
export interface DtbPlacement {
  /** Guest-physical address, the value for x0. */
  readonly start: number;
  /** End of the DTB bytes written. */
  readonly end: number;
  /** End of the slot reserved for it (≥ `end`). */
  readonly slotEnd: number;
  /** The DTB was rewritten before copying. */
  readonly patched: boolean;
}

/**
 * Everything a VMM needs after loading: where things went and how to start the boot vCPU.
 *
 * @example From plan to boot registers
 * ```ts
 * import { Fdt, serializeFdt } from "@vmkit/fdt";
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   type LinuxBootPlan,
 *   setupLinuxImages,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // What the boot protocol asks of the boot vCPU; x1..x3 are 0.
 * function bootRegisters(plan: LinuxBootPlan): { pc: number; x0: number } {
 *   return { pc: plan.entry, x0: plan.dtbAddress };
 * }
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) };
 * const plan = setupLinuxImages({ ram, kernel, dtb: serializeFdt(new Fdt()), patchMemory: true });
 * assert.deepEqual(bootRegisters(plan), { pc: 0x4000_0000, x0: 0x40e0_0000 });
 * ```
 */
export interface LinuxBootPlan {
  /** PC for the boot vCPU: the Image's first byte. */
  readonly entry: number;
  /** x0 for the boot vCPU. */
  readonly dtbAddress: number;
  /** The kernel's decoded header. */
  readonly header: ImageHeader;
  /** Where the kernel went. */
  readonly kernel: KernelPlacement;
  /** Where the DTB went. */
  readonly dtb: DtbPlacement;
  /** Where the initrd went, when there is one. */
  readonly initrd?: GuestRange;
}

function requireBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array)) {
    throw new LoaderError("INVALID_ARGUMENT", `${what} is not a Uint8Array`);
  }
}

/**
 * Validates the kernel, places kernel, DTB and initrd under the arm64 boot protocol (policy in
 * {@linkcode planLinuxPlacement}), checks or patches the DTB's `/chosen` initrd range and
 * `/memory`, and only then copies everything into `ram`: on any error RAM is left untouched.
 *
 * The DTB is copied byte for byte unless it is patched, in which case it is re-serialized and
 * must still fit its slot (`DTB_SLOT_OVERFLOW`) and 2 MiB (`DTB_TOO_LARGE`).
 *
 * Throws {@linkcode LoaderError}: the header codes of {@linkcode parseImageHeader}, the placement
 * codes of {@linkcode planLinuxPlacement}, `BAD_DTB` (wrapping the `FdtError` as `cause`),
 * `INITRD_MISMATCH`, `MEMORY_MISMATCH`, `DTB_SLOT_OVERFLOW`, `INVALID_ARGUMENT`, `BAD_RAM`.
 *
 * @example Loading a kernel, a device tree and an initrd
 * ```ts
 * import { Fdt, serializeFdt, setMemoryRegions } from "@vmkit/fdt";
 * import { type GuestRam, IMAGE_MAGIC, IMAGE_MAGIC_OFFSET, setupLinuxImages } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // Normally `await readKernelImage(await Deno.readFile("Image"))`; a bare header does here.
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size: 2 MiB
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 *
 * const ram: GuestRam = { base: 0x4000_0000, bytes: new Uint8Array(0x100_0000) }; // 16 MiB
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
 * setMemoryRegions(fdt, [{ address: ram.base, size: ram.bytes.length }]);
 * const initrd = new Uint8Array(0x1_0000);
 *
 * const plan = setupLinuxImages({ ram, kernel, dtb: serializeFdt(fdt), initrd, patchDtb: true });
 * assert.equal(plan.entry, 0x4000_0000); // the boot vCPU's pc
 * assert.equal(plan.dtbAddress, 0x40e0_0000); // its x0: the top 2 MiB block
 * assert.deepEqual(plan.initrd, { start: 0x40df_0000, end: 0x40e0_0000 }); // now in /chosen
 * ```
 */
export function setupLinuxImages(options: SetupLinuxImagesOptions): LinuxBootPlan {
  const { ram, kernel, dtb } = options;
  checkGuestRam(ram);
  requireBytes(kernel, "kernel");
  requireBytes(dtb, "dtb");
  if (options.initrd !== undefined) requireBytes(options.initrd, "initrd");
  const initrdBytes = options.initrd !== undefined && options.initrd.length > 0
    ? options.initrd
    : undefined;

  const header = parseImageHeader(kernel, options);
  const fdt = readDtb(dtb);
  const patching = options.patchDtb === true || options.patchMemory === true;
  const headroom = options.dtbHeadroom ?? DTB_PATCH_HEADROOM;
  if (!Number.isSafeInteger(headroom) || headroom < 0) {
    throw new LoaderError("INVALID_ARGUMENT", `dtbHeadroom ${headroom} is not a byte count`);
  }
  const reservation = patching ? Math.min(DTB_MAX_SIZE, dtb.length + headroom) : dtb.length;
  const ramRange: GuestRange = { start: ram.base, end: guestRamEnd(ram) };

  const placement = planLinuxPlacement({
    ramBase: ram.base,
    ramSize: ram.bytes.length,
    header,
    kernelLength: kernel.length,
    dtbSize: reservation,
    initrdSize: initrdBytes?.length ?? 0,
    dtbAddress: options.dtbAddress,
    initrdAddress: options.initrdAddress,
  });

  let dtbOut = dtb;
  if (patching) {
    try {
      if (options.patchDtb === true) {
        if (placement.initrd !== undefined) {
          setInitrdRange(fdt, placement.initrd.start, placement.initrd.end);
        } else {
          clearInitrdRange(fdt);
        }
      }
      if (options.patchMemory === true) {
        setMemoryRegions(fdt, [{ address: ram.base, size: ram.bytes.length }]);
      }
      dtbOut = serializeFdt(fdt);
    } catch (e) {
      throw dtbError(e, "could not be patched");
    }
    if (dtbOut.length > DTB_MAX_SIZE) {
      throw new LoaderError(
        "DTB_TOO_LARGE",
        `patched DTB is ${dtbOut.length} bytes; the kernel accepts at most ${DTB_MAX_SIZE}`,
        { address: placement.dtb.start },
      );
    }
    if (placement.dtb.start + dtbOut.length > placement.dtb.end) {
      throw new LoaderError(
        "DTB_SLOT_OVERFLOW",
        `patched DTB is ${dtbOut.length} bytes but its slot at ${hex(placement.dtb.start)}..${
          hex(placement.dtb.end)
        } holds ${placement.dtb.end - placement.dtb.start}`,
        { address: placement.dtb.start },
      );
    }
  }

  const dtbRange: GuestRange = {
    start: placement.dtb.start,
    end: placement.dtb.start + dtbOut.length,
  };
  if (options.patchDtb !== true) checkInitrdAgreement(fdt, placement.initrd);
  const placed: (readonly [string, GuestRange])[] = [
    ["kernel", placement.kernel],
    ["DTB", dtbRange],
  ];
  if (placement.initrd !== undefined) placed.push(["initrd", placement.initrd]);
  checkMemoryAgreement(fdt, ramRange, placed);

  writeGuest(ram, placement.kernel.start, kernel);
  writeGuest(ram, dtbRange.start, dtbOut);
  if (initrdBytes !== undefined && placement.initrd !== undefined) {
    writeGuest(ram, placement.initrd.start, initrdBytes);
  }

  const plan = {
    entry: placement.kernel.start,
    dtbAddress: dtbRange.start,
    header,
    kernel: {
      base: placement.base,
      start: placement.kernel.start,
      end: placement.kernel.end,
      fileEnd: placement.kernel.start + kernel.length,
      imageSize: header.imageSize,
    },
    dtb: {
      start: dtbRange.start,
      end: dtbRange.end,
      slotEnd: placement.dtb.end,
      patched: patching,
    },
  };
  return placement.initrd === undefined ? plan : { ...plan, initrd: placement.initrd };
}

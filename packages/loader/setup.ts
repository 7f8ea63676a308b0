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
 */
export const DTB_PATCH_HEADROOM = 4096;

/** What {@linkcode setupLinuxImages} loads, and where. */
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

/** The kernel as placed. */
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

/** The DTB as placed. */
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

/** Everything a VMM needs after loading: where things went and how to start the boot vCPU. */
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
 * @example
 * ```ts ignore
 * const plan = setupLinuxImages({ ram, kernel, dtb, initrd, patchDtb: true });
 * // boot vCPU: pc = plan.entry, x0 = plan.dtbAddress
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

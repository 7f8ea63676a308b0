/**
 * The classic C entry point of microkernel VMM libraries, with its signature kept.
 *
 * @module
 */

import { checkInitrdAgreement, checkMemoryAgreement, readDtb } from "./dtb_check.ts";
import { hex, LoaderError } from "./errors.ts";
import { checkGuestRam, type GuestRam, guestRamEnd, writeGuest } from "./guest_ram.ts";
import { parseImageHeader } from "./image_header.ts";
import { type GuestRange, KERNEL_BASE_ALIGN, planLinuxPlacement } from "./placement.ts";

function sizeOf(src: Uint8Array, size: number, what: string): Uint8Array {
  if (!(src instanceof Uint8Array)) {
    throw new LoaderError("INVALID_ARGUMENT", `${what} source is not a Uint8Array`);
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > src.length) {
    throw new LoaderError(
      "INVALID_ARGUMENT",
      `${what}_size ${size} is not a byte count within its ${src.length}-byte source`,
    );
  }
  return src.subarray(0, size);
}

function address(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LoaderError("INVALID_ARGUMENT", `${what} ${value} is not a guest-physical address`);
  }
  return value;
}

/**
 * Loads an arm64 Linux kernel, DTB and initrd at fixed addresses, the way the classic C function
 * of the same name does, and returns the kernel's entry point (guest-physical), or -1 on any
 * failure. It never throws: the reason for a failure goes to `onError` when given (an exception
 * thrown by `onError` itself is the caller's and propagates).
 *
 * - The kernel must be an arm64 Image (full header validation, as {@linkcode parseImageHeader});
 *   `ram_start.base` must be 2 MiB aligned (`UNALIGNED_RAM_BASE`); the kernel goes to
 *   `ram_start.base + text_offset` and max(image_size, kernel_size) bytes from there must be in
 *   RAM.
 * - The DTB (`dtb_size` bytes of `dtb_src`) must parse, be at most 2 MiB, and go to the 8-byte
 *   aligned guest-physical `dtb_dest`; it is copied unchanged.
 * - The initrd (`initrd_size` bytes of `initrd_src`; 0 for none, `initrd_dest` then ignored) goes
 *   to `initrd_dest`, inside the kernel's 1 GiB-aligned 32 GiB window, and the DTB's `/chosen`
 *   `linux,initrd-start/end` must be exactly `initrd_dest..initrd_dest + initrd_size` (and absent
 *   when there is no initrd); `/memory` must lie in RAM and cover everything placed.
 * - Nothing may overlap or leave RAM; every `*_size` must be ≤ its source's length. Everything is
 *   checked before the first byte is copied, so a failure leaves RAM untouched.
 *
 * Unlike the C original, overlap is checked against the kernel's destination in guest RAM (not its
 * source buffer), and failure is -1 rather than 0 (0 can be a valid guest-physical address).
 *
 * @param ram_start the guest RAM bank (in C, the VMM's pointer to guest RAM)
 * @param kernel the uncompressed Image
 * @param kernel_size bytes of `kernel` to use
 * @param dtb_src the flattened device tree
 * @param dtb_dest guest-physical address for the DTB
 * @param dtb_size bytes of `dtb_src` to use
 * @param initrd_src the initial RAM disk (may be empty)
 * @param initrd_dest guest-physical address for the initrd
 * @param initrd_size bytes of `initrd_src` to use; 0 for no initrd
 * @param onError receives the {@linkcode LoaderError} explaining a -1
 * @returns the entry point (guest-physical address of the Image), or -1
 *
 * @example The classic call, with fixed addresses
 * ```ts
 * import { Fdt, serializeFdt, setInitrdRange, setMemoryRegions } from "@vmkit/fdt";
 * import {
 *   IMAGE_MAGIC,
 *   IMAGE_MAGIC_OFFSET,
 *   type LoaderError,
 *   linux_setup_images,
 * } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setBigUint64(0x10, 0x20_0000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const ram = { base: 0x4000_0000, bytes: new Uint8Array(0x200_0000) }; // 32 MiB
 * const initrd = new Uint8Array(0x1_0000);
 * const fdt = new Fdt(); // must already say where the initrd goes, and describe RAM
 * setMemoryRegions(fdt, [{ address: ram.base, size: ram.bytes.length }]);
 * setInitrdRange(fdt, 0x4100_0000, 0x4100_0000 + initrd.length);
 * const dtb = serializeFdt(fdt);
 * const load = (dtbDest: number, onError?: (e: LoaderError) => void): number =>
 *   linux_setup_images(
 *     ram, kernel, kernel.length, dtb, dtbDest, dtb.length, initrd, 0x4100_0000, initrd.length,
 *     onError,
 *   );
 * assert.equal(load(0x4080_0000), 0x4000_0000); // the entry point
 * const errors: LoaderError[] = [];
 * assert.equal(load(0x4080_0004, (e) => errors.push(e)), -1); // failure never throws
 * assert.equal(errors[0].code, "DTB_MISALIGNED");
 * ```
 */
export function linux_setup_images(
  ram_start: GuestRam,
  kernel: Uint8Array,
  kernel_size: number,
  dtb_src: Uint8Array,
  dtb_dest: number,
  dtb_size: number,
  initrd_src: Uint8Array,
  initrd_dest: number,
  initrd_size: number,
  onError?: (error: LoaderError) => void,
): number {
  let failure: LoaderError;
  try {
    checkGuestRam(ram_start);
    const kernelBytes = sizeOf(kernel, kernel_size, "kernel");
    const dtbBytes = sizeOf(dtb_src, dtb_size, "dtb");
    const initrdBytes = sizeOf(initrd_src, initrd_size, "initrd");
    address(dtb_dest, "dtb_dest");
    if (initrd_size > 0) address(initrd_dest, "initrd_dest");

    const header = parseImageHeader(kernelBytes);
    if (ram_start.base % KERNEL_BASE_ALIGN !== 0) {
      throw new LoaderError(
        "UNALIGNED_RAM_BASE",
        `guest RAM starts at ${
          hex(ram_start.base)
        }, not 2 MiB aligned: the kernel goes at RAM start + text_offset`,
        { address: ram_start.base },
      );
    }
    const fdt = readDtb(dtbBytes);
    const placement = planLinuxPlacement({
      ramBase: ram_start.base,
      ramSize: ram_start.bytes.length,
      header,
      kernelLength: kernel_size,
      dtbSize: dtb_size,
      dtbAddress: dtb_dest,
      initrdSize: initrd_size,
      initrdAddress: initrd_size > 0 ? initrd_dest : undefined,
    });
    checkInitrdAgreement(fdt, placement.initrd);
    const placed: (readonly [string, GuestRange])[] = [
      ["kernel", placement.kernel],
      ["DTB", placement.dtb],
    ];
    if (placement.initrd !== undefined) placed.push(["initrd", placement.initrd]);
    checkMemoryAgreement(fdt, { start: ram_start.base, end: guestRamEnd(ram_start) }, placed);

    writeGuest(ram_start, placement.kernel.start, kernelBytes);
    writeGuest(ram_start, dtb_dest, dtbBytes);
    if (initrd_size > 0) writeGuest(ram_start, initrd_dest, initrdBytes);
    return placement.kernel.start;
  } catch (e) {
    failure = e instanceof LoaderError ? e : new LoaderError(
      "INVALID_ARGUMENT",
      `linux_setup_images: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  onError?.(failure);
  return -1;
}

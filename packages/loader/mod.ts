/**
 * Loading arm64 Linux guests: the `Image` header, gzip kernels, and the boot-protocol placement of
 * kernel, device tree and initrd in guest RAM.
 *
 * ```ts ignore
 * import { readKernelImage, setupLinuxImages } from "@vmkit/loader";
 * const kernel = await readKernelImage(await Deno.readFile("Image.gz"));
 * const plan = setupLinuxImages({ ram, kernel, dtb, initrd, patchDtb: true });
 * // boot vCPU: pc = plan.entry, x0 = plan.dtbAddress
 * ```
 *
 * @module
 */

export { LoaderError, type LoaderErrorCode, type LoaderErrorDetails } from "./errors.ts";
export {
  detectCompression,
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  IMAGE_MAGIC_OFFSET,
  type ImageHeader,
  isGzip,
  LEGACY_TEXT_OFFSET,
  type PageSize,
  parseImageHeader,
  type ParseImageHeaderOptions,
} from "./image_header.ts";
export {
  parsePeHeader,
  PE32_PLUS_MAGIC,
  PE_MACHINE_ARM64,
  PE_MAX_SECTIONS,
  PE_SIGNATURE,
  type PeHeader,
  type PeSection,
} from "./pe_header.ts";
export {
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  gunzipLimited,
  readKernelImage,
  type ReadKernelImageOptions,
} from "./gzip.ts";
export {
  checkGuestRam,
  guestBytes,
  type GuestRam,
  guestRamEnd,
  inGuestRam,
  writeGuest,
} from "./guest_ram.ts";
export {
  DEFAULT_INITRD_ALIGN,
  DTB_ALIGN,
  DTB_MAX_SIZE,
  type GuestRange,
  inInitrdWindow,
  INITRD_WINDOW_ALIGN,
  INITRD_WINDOW_SIZE,
  KERNEL_BASE_ALIGN,
  type Placement,
  type PlacementRequest,
  planLinuxPlacement,
} from "./placement.ts";
export {
  DTB_PATCH_HEADROOM,
  type DtbPlacement,
  type KernelPlacement,
  type LinuxBootPlan,
  setupLinuxImages,
  type SetupLinuxImagesOptions,
} from "./setup.ts";
export { linux_setup_images } from "./reference.ts";

/**
 * Turns {@link LinuxImages} into a loader that places them in RAM following
 * the arm64 boot protocol (run once at load time and again at each reboot).
 *
 * @module
 */

import { parseFdt, serializeFdt, setBootargs } from "@vmkit/fdt";
import {
  type GuestRam,
  type LinuxBootPlan,
  readKernelImage,
  setupLinuxImages,
} from "@vmkit/loader";
import type { LinuxImages } from "./config.ts";
import { VmmError } from "./errors.ts";

/** What preparing the images needs from the VM. */
export interface LinuxImagesHost {
  /** Guest RAM. */
  readonly ram: GuestRam;
  /** Throws unless the VM may still load images (checked again after each await). */
  recheck(): void;
  /** The VM's generated device tree with `bootargs` (its default command line when absent). */
  deviceTree(bootargs: string | undefined): Uint8Array;
}

/**
 * Reads the kernel, builds or patches the device tree, and returns what
 * places the images in RAM and returns the boot plan.
 *
 * @throws {VmmError} `LOAD_FAILED` with the loader's error as `cause`.
 */
export async function linuxImageLoader(
  images: LinuxImages,
  host: LinuxImagesHost,
): Promise<() => LinuxBootPlan> {
  const { ram } = host;
  let kernel: Uint8Array;
  try {
    kernel = await readKernelImage(images.kernel, { maxDecompressedSize: ram.bytes.byteLength });
  } catch (e) {
    throw loadError(e, "kernel");
  }
  host.recheck();
  let dtb: Uint8Array;
  if (images.dtb) {
    try {
      const fdt = parseFdt(images.dtb);
      if (images.cmdline !== undefined) setBootargs(fdt, images.cmdline);
      dtb = images.cmdline !== undefined ? serializeFdt(fdt) : images.dtb;
    } catch (e) {
      throw loadError(e, "device tree");
    }
  } else {
    dtb = host.deviceTree(images.cmdline);
  }
  const initrd = images.initrd;
  return () => {
    try {
      return setupLinuxImages({ ram, kernel, dtb, initrd, patchDtb: true });
    } catch (e) {
      throw loadError(e, "images");
    }
  };
}

function loadError(e: unknown, what: string): VmmError {
  if (e instanceof VmmError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VmmError("LOAD_FAILED", `cannot load the ${what}: ${message}`, { cause: e });
}

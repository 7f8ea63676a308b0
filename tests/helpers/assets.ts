/**
 * Locates the test guests (Debian's kernel and busybox, the bare-metal
 * programs). A missing one is a requirement not met (`testing/requirements.ts`):
 * its tests are ignored with a message naming the command that provides it,
 * or fail when `VMKIT_REQUIRE_ASSETS=1` (CI).
 *
 * @module
 */

import { fileRequirement, type Requirement } from "../../testing/requirements.ts";

const root = new URL("../../", import.meta.url);

/** The repository root path. */
export const ROOT: string = decodeURIComponent(root.pathname);

/** Directory of the downloaded Linux guest. */
export const GUEST_DIR: string = Deno.env.get("VMKIT_GUEST_DIR") ?? `${ROOT}.cache/guests`;

/** An asset for a test: where it is, and whether the tests that need it run. */
export interface Asset extends Requirement {
  readonly path: string;
}

function asset(path: string, howToGet: string): Asset {
  return { ...fileRequirement(path, howToGet), path };
}

/** Debian's arm64 kernel Image. */
export function linuxKernel(): Asset {
  return asset(`${GUEST_DIR}/Image`, "deno run -A scripts/fetch_guests.ts");
}

/** Debian's static arm64 busybox. */
export function busybox(): Asset {
  return asset(`${GUEST_DIR}/busybox`, "deno run -A scripts/fetch_guests.ts");
}

/** A bare-metal guest built from `guests/` (`make -C guests`). */
export function bareMetalGuest(name: string): Asset {
  return asset(`${ROOT}guests/build/${name}.bin`, "make -C guests");
}

/** A static Linux program built from `guests/linux/` (`make -C guests`). */
export function linuxGuestProgram(name: string): Asset {
  return asset(`${ROOT}guests/build/linux/${name}`, "make -C guests");
}

/** The kernel modules the virtio guests load (`modules/` beside the kernel, same package). */
export function kernelModules(): Asset {
  return asset(`${GUEST_DIR}/modules/modules.json`, "deno run -A scripts/fetch_guests.ts");
}

/** The Linux guest's System.map (its symbols, from the kernel's -dbg package). */
export function systemMap(): Asset {
  return asset(`${GUEST_DIR}/System.map`, "deno run -A scripts/fetch_guests.ts --force");
}

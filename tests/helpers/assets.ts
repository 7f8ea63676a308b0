/**
 * Locates the test guests (Debian's kernel and busybox, the bare-metal
 * programs) and decides what a test does when one is missing: ignored with a
 * message naming the command that provides it, or failed when
 * `VMKIT_REQUIRE_ASSETS=1` (CI).
 *
 * @module
 */

const root = new URL("../../", import.meta.url);

/** Whether missing assets must fail tests instead of skipping them. */
export const REQUIRE_ASSETS: boolean = Deno.env.get("VMKIT_REQUIRE_ASSETS") === "1";

/** The repository root path. */
export const ROOT: string = decodeURIComponent(root.pathname);

/** Directory of the downloaded Linux guest. */
export const GUEST_DIR: string = Deno.env.get("VMKIT_GUEST_DIR") ?? `${ROOT}.cache/guests`;

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** An asset for a test: its path if present, and a note for `ignore` otherwise. */
export interface Asset {
  readonly path: string;
  readonly present: boolean;
  /** True when the test must be skipped (missing and not required). */
  readonly ignore: boolean;
}

function asset(path: string, howToGet: string): Asset {
  const present = exists(path);
  if (!present) {
    const note = `missing test asset ${path}; provide it with: ${howToGet}`;
    if (REQUIRE_ASSETS) {
      // Fail loudly in CI: the test will run and fail on the missing file.
      console.error(note);
    } else {
      console.warn(`skipping tests that need it: ${note}`);
    }
  }
  return { path, present, ignore: !present && !REQUIRE_ASSETS };
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

/**
 * The built-in demo guest: a bare-metal program (source in the repository's
 * `guests/demo/`) built into an arm64 Image and shipped next to this module,
 * so running it needs no cross compiler.
 *
 * @module
 */

/**
 * Where the demo guest's bytes live, relative to this module.
 *
 * @example
 * ```ts
 * import { DEMO_GUEST_URL } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * assert.ok(DEMO_GUEST_URL.pathname.endsWith("/assets/demo.bin"));
 * assert.ok((await Deno.stat(DEMO_GUEST_URL)).size > 0);
 * ```
 */
export const DEMO_GUEST_URL: URL = new URL("./assets/demo.bin", import.meta.url);

/**
 * Why the demo guest could not be read.
 *
 * @example
 * ```ts
 * import { DemoGuestError, type DemoGuestErrorCode, loadDemoGuest } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * let code: DemoGuestErrorCode | undefined;
 * try {
 *   await loadDemoGuest(new URL("file:///nonexistent/demo.bin"));
 * } catch (e) {
 *   if (e instanceof DemoGuestError) code = e.code;
 * }
 * assert.equal(code, "NOT_FOUND");
 * ```
 */
export type DemoGuestErrorCode =
  /** The file is not there (a checkout whose asset was deleted, a broken package). */
  | "NOT_FOUND"
  /** Deno's permissions do not allow reading or fetching it. */
  | "PERMISSION_DENIED"
  /** Fetching it failed (network error, HTTP error status). */
  | "FETCH_FAILED";

/**
 * The demo guest could not be read; `url` says from where.
 *
 * @example
 * ```ts
 * import { DemoGuestError, loadDemoGuest } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   loadDemoGuest(new URL("file:///nonexistent/demo.bin")),
 *   (e) => e instanceof DemoGuestError && e.url === "file:///nonexistent/demo.bin",
 * );
 * ```
 */
export class DemoGuestError extends Error {
  /** What went wrong. */
  readonly code: DemoGuestErrorCode;
  /** Where the guest was looked for. */
  readonly url: string;

  /**
   * Creates the error.
   *
   * @param code what went wrong
   * @param url where the guest was looked for
   * @param message a sentence saying what and how to fix it
   * @param options the underlying cause, if any
   */
  constructor(code: DemoGuestErrorCode, url: URL, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DemoGuestError";
    this.code = code;
    this.url = url.href;
  }
}

function deniedByPermissions(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

/**
 * Reads the demo guest: from disk in a checkout or a local install, over the
 * network when the module itself was loaded from JSR (which then needs
 * `--allow-net` for the registry's host).
 *
 * @throws {DemoGuestError} when it cannot be read.
 *
 * @example
 * ```ts
 * import { loadDemoGuest } from "@vmkit/cli";
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import { VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const kernel = await loadDemoGuest();
 * // An arm64 Image, as the boot protocol asks.
 * assert.equal(new DataView(kernel.buffer).getUint32(IMAGE_MAGIC_OFFSET, true), IMAGE_MAGIC);
 * let out = "";
 * using vm = new VirtualMachine({
 *   memorySize: 64 << 20,
 *   console: { write: (bytes) => void (out += new TextDecoder().decode(bytes)) },
 * });
 * await vm.loadLinux({ kernel });
 * assert.equal((await vm.run()).reason, "poweroff");
 * assert.match(out, /demo: all checks passed/);
 * ```
 */
export async function loadDemoGuest(url: URL = DEMO_GUEST_URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    try {
      return await Deno.readFile(url);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new DemoGuestError(
          "NOT_FOUND",
          url,
          `the demo guest ${url.pathname} is missing; in a checkout, rebuild it with: make -C guests/demo update-asset`,
          { cause: e },
        );
      }
      if (deniedByPermissions(e)) {
        throw new DemoGuestError(
          "PERMISSION_DENIED",
          url,
          `reading the demo guest ${url.pathname} needs --allow-read`,
          { cause: e },
        );
      }
      throw e;
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    if (deniedByPermissions(e)) {
      throw new DemoGuestError(
        "PERMISSION_DENIED",
        url,
        `fetching the demo guest from ${url.href} needs --allow-net=${url.host}`,
        { cause: e },
      );
    }
    throw new DemoGuestError(
      "FETCH_FAILED",
      url,
      `cannot fetch the demo guest from ${url.href}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DemoGuestError(
      response.status === 404 ? "NOT_FOUND" : "FETCH_FAILED",
      url,
      `cannot fetch the demo guest from ${url.href}: HTTP ${response.status}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

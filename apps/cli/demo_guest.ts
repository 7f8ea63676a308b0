/**
 * The built-in demo guest: a bare-metal program (source in the repository's
 * `guests/demo/`) built into an arm64 Image and shipped next to this module,
 * so running it needs no cross compiler.
 *
 * @module
 */

/** Where the demo guest's bytes live, relative to this module. */
export const DEMO_GUEST_URL: URL = new URL("./assets/demo.bin", import.meta.url);

/** Reads the demo guest (from disk when installed locally, over the network when not). */
export async function loadDemoGuest(url: URL = DEMO_GUEST_URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`cannot fetch the demo guest from ${url}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

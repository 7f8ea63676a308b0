/**
 * gzip kernels: `readKernelImage` and `gunzipLimited` with small caps either return bytes within
 * the cap or raise `LoaderError` (corrupt stream, too large, or the header checks after
 * inflating).
 *
 * @module
 */

import { gunzipLimited, isGzip, LoaderError, readKernelImage } from "@vmkit/loader";
import { gzip, makePeImage } from "../../packages/loader/testdata/images.ts";
import { type FuzzTarget, invariant, outcomeAsync, type SeedContext } from "../target.ts";
import { kernelSeeds } from "./kernel_seeds.ts";

const CAPS = [256 * 1024, 64 * 1024, 1024];

/** gzip output with the FNAME flag and a file name, as gzip(1) writes it. */
function withName(member: Uint8Array, name: string): Uint8Array {
  const field = new TextEncoder().encode(name + "\0");
  const out = new Uint8Array(member.length + field.length);
  out.set(member.subarray(0, 10));
  out[3] |= 0x08;
  out.set(field, 10);
  out.set(member.subarray(10), 10 + field.length);
  return out;
}

/** Creates the target. */
export function createGzipTarget(context: SeedContext): FuzzTarget {
  return {
    name: "gzip",
    description: "readKernelImage on gzip kernels, gunzipLimited with 1 KiB..256 KiB caps",
    maxLength: 96 * 1024,
    dictionary: [new Uint8Array([0x1f, 0x8b, 0x08]), new Uint8Array([0, 0, 0, 0])],
    async seeds(): Promise<Uint8Array[]> {
      const kernels = kernelSeeds(context);
      const dtb = Deno.readFileSync(new URL("packages/loader/testdata/virt.dtb", context.root));
      const seeds = [
        await gzip(new Uint8Array(0)),
        await gzip(dtb),
        await gzip(new Uint8Array(1024 * 1024)), // inflates far beyond every cap
        withName(await gzip(makePeImage()), "Image"),
      ];
      for (const k of kernels) seeds.push(await gzip(k));
      return seeds;
    },
    async run(input: Uint8Array): Promise<string> {
      // The cap comes from the stream's MTIME byte, which the seeds leave 0 (the largest cap).
      const cap = CAPS[(input[4] ?? 0) % CAPS.length];
      if (isGzip(input)) {
        let image: Uint8Array | undefined;
        const result = await outcomeAsync([LoaderError], async () => {
          image = await readKernelImage(input, { maxDecompressedSize: cap });
        });
        invariant(
          image === undefined || image.length <= cap,
          () => `readKernelImage returned ${image?.length} bytes past the ${cap}-byte cap`,
        );
        return `kernel ${result}`;
      }
      let out: Uint8Array | undefined;
      const result = await outcomeAsync([LoaderError], async () => {
        out = await gunzipLimited(input, cap);
      });
      invariant(
        out === undefined || out.length <= cap,
        () => `gunzipLimited returned ${out?.length} bytes past the ${cap}-byte cap`,
      );
      return `raw ${result}`;
    },
  };
}

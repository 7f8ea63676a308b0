/**
 * Kernel-shaped seeds: the head of Debian's real kernel (when it has been fetched), a copy of it
 * whose PE sections fit in the head (so mutations start from an accepted file), and synthetic
 * Images with and without the EFI stub's PE/COFF header.
 *
 * @module
 */

import { makeImage, makePeImage } from "../../packages/loader/testdata/images.ts";
import type { SeedContext } from "../target.ts";

/** How much of the real kernel the seeds take: its headers and the start of .text. */
export const KERNEL_HEAD = 64 * 1024;

/** The first {@linkcode KERNEL_HEAD} bytes of the real kernel, or undefined (with a note). */
export function realKernelHead(context: SeedContext): Uint8Array | undefined {
  const path = `${context.guestDir}/Image`;
  try {
    const file = Deno.openSync(path);
    try {
      const head = new Uint8Array(KERNEL_HEAD);
      let at = 0;
      while (at < head.length) {
        const n = file.readSync(head.subarray(at));
        if (n === null) break;
        at += n;
      }
      return head.slice(0, at);
    } finally {
      file.close();
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    context.notes.push(
      `${path} is missing (deno run -A scripts/fetch_guests.ts): kernel seeds are synthetic only`,
    );
    return undefined;
  }
}

/** The real head with its two sections moved inside it, so that it parses whole. */
function fittedHead(head: Uint8Array): Uint8Array | undefined {
  const out = head.slice();
  const view = new DataView(out.buffer);
  if (out.length < 0x1000 || view.getUint16(0, true) !== 0x5a4d) return undefined;
  const pe = view.getUint32(0x3c, true);
  const table = pe + 24 + view.getUint16(pe + 20, true);
  const count = view.getUint16(pe + 6, true);
  if (table + 40 * count > 0x1000) return undefined;
  const share = Math.floor((out.length - 0x1000) / count / 0x200) * 0x200;
  for (let i = 0; i < count; i++) {
    view.setUint32(table + 40 * i + 16, share, true);
    view.setUint32(table + 40 * i + 20, 0x1000 + i * share, true);
  }
  return out;
}

/** All kernel-shaped seeds. */
export function kernelSeeds(context: SeedContext): Uint8Array[] {
  const seeds = [
    makePeImage(),
    makePeImage({ textSize: 0x200, dataSize: 0x200 }),
    makeImage(),
    makeImage({ imageSize: 0n, length: 0x1000 }),
    makeImage({ flags: 0x4n, textOffset: 0x80000n }),
  ];
  const head = realKernelHead(context);
  if (head !== undefined) {
    seeds.push(head);
    const fitted = fittedHead(head);
    if (fitted !== undefined) seeds.push(fitted);
  }
  return seeds;
}

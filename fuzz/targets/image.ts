/**
 * The Image header and the EFI stub's PE/COFF header: every input is accepted or raises
 * `LoaderError`, and an accepted EFI-stub Image really holds every section's raw data.
 *
 * @module
 */

import {
  detectCompression,
  isGzip,
  LoaderError,
  parseImageHeader,
  parsePeHeader,
} from "@vmkit/loader";
import { type FuzzTarget, invariant, outcome, type SeedContext } from "../target.ts";
import { kernelSeeds } from "./kernel_seeds.ts";

const le32 = (...words: number[]): Uint8Array => {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
};

/** Creates the target. */
export function createImageTarget(context: SeedContext): FuzzTarget {
  return {
    name: "image",
    description: "parseImageHeader (with and without options), parsePeHeader, detectCompression",
    maxLength: 96 * 1024,
    dictionary: [
      le32(0x644d5241),
      le32(0x00004550),
      new Uint8Array([0x64, 0xaa]),
      new Uint8Array([0x0b, 0x02]),
      new Uint8Array([0x4d, 0x5a]),
      le32(0x40),
      le32(0x10000),
      le32(0x1aa0000),
      le32(0xa),
      new TextEncoder().encode(".text\0\0\0"),
    ],
    seeds(): Uint8Array[] {
      return kernelSeeds(context);
    },
    run(input: Uint8Array): string {
      detectCompression(input);
      isGzip(input);
      const pe = outcome([LoaderError], () => parsePeHeader(input));
      const relaxed = outcome(
        [LoaderError],
        () => parseImageHeader(input, { allowReserved: true, supportedPageSizes: [4096] }),
      );
      let header;
      const strict = outcome([LoaderError], () => {
        header = parseImageHeader(input);
      });
      if (header !== undefined) {
        const h = header as ReturnType<typeof parseImageHeader>;
        invariant(h.textOffset % 4096 === 0, () => `text_offset ${h.textOffset} accepted`);
        invariant(
          h.legacy || h.imageSize >= input.length,
          () => `image_size ${h.imageSize} below the ${input.length}-byte file accepted`,
        );
        invariant(
          h.efiStub === (h.pe !== undefined),
          () => `efiStub ${h.efiStub} but pe ${h.pe === undefined ? "absent" : "present"}`,
        );
        for (const s of h.pe?.sections ?? []) {
          invariant(
            s.sizeOfRawData === 0 || s.pointerToRawData + s.sizeOfRawData <= input.length,
            () => `section ${s.name} ends beyond the ${input.length}-byte file but was accepted`,
          );
        }
      }
      return `${strict}/${relaxed}/${pe}`;
    },
  };
}

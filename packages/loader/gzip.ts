/**
 * Reading a kernel that may be gzip-compressed (`Image.gz`, Debian's arm64 `vmlinuz`).
 *
 * @module
 */

import { hex, LoaderError } from "./errors.ts";
import { isGzip, parseImageHeader, type ParseImageHeaderOptions } from "./image_header.ts";

/**
 * Default cap on a decompressed kernel: 512 MiB, far above any real arm64 Image.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_DECOMPRESSED_SIZE, gunzipLimited } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const stream = new Blob(["hello"]).stream().pipeThrough(new CompressionStream("gzip"));
 * const gz = await new Response(stream).bytes();
 * const bytes = await gunzipLimited(gz, DEFAULT_MAX_DECOMPRESSED_SIZE);
 * assert.equal(new TextDecoder().decode(bytes), "hello");
 * assert.equal(DEFAULT_MAX_DECOMPRESSED_SIZE, 512 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE: number = 512 * 1024 * 1024;

/**
 * Compressed bytes handed to the decompressor at a time. Deno's `DecompressionStream` emits one
 * output chunk per input chunk, so small input chunks bound how far one chunk can overshoot the
 * cap (deflate expands at most ~1032:1, so about 4 MiB here).
 */
const INPUT_CHUNK = 4096;

/**
 * Knobs for {@linkcode readKernelImage}.
 *
 * @example A smaller cap
 * ```ts
 * import { readKernelImage, type ReadKernelImageOptions } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * // 1 MiB of zeros squeezes into about 1 KiB of gzip.
 * const stream = new Blob([new Uint8Array(1 << 20)]).stream()
 *   .pipeThrough(new CompressionStream("gzip"));
 * const bomb = await new Response(stream).bytes();
 * const options: ReadKernelImageOptions = { maxDecompressedSize: 64 * 1024 };
 * await assert.rejects(readKernelImage(bomb, options), { code: "GZIP_TOO_LARGE" });
 * ```
 */
export interface ReadKernelImageOptions extends ParseImageHeaderOptions {
  /**
   * Refuse a gzip stream that inflates beyond this many bytes (`GZIP_TOO_LARGE`). Default
   * {@linkcode DEFAULT_MAX_DECOMPRESSED_SIZE}.
   */
  readonly maxDecompressedSize?: number;
}

/**
 * Inflates a single-member gzip stream with the runtime's `DecompressionStream`, stopping as soon
 * as the output exceeds `maxSize` bytes.
 *
 * Throws {@linkcode LoaderError}: `GZIP_TOO_LARGE` past the cap, `GZIP_CORRUPT` for a bad or
 * truncated stream (including data after the gzip member, which Deno's decoder refuses),
 * `INVALID_ARGUMENT` for a bad cap.
 *
 * @example Usage
 * ```ts
 * import { gunzipLimited } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const stream = new Blob(["console=ttyAMA0"]).stream().pipeThrough(new CompressionStream("gzip"));
 * const gz = await new Response(stream).bytes();
 * assert.equal(new TextDecoder().decode(await gunzipLimited(gz, 1024)), "console=ttyAMA0");
 * await assert.rejects(gunzipLimited(gz, 8), { code: "GZIP_TOO_LARGE" });
 * await assert.rejects(gunzipLimited(gz.subarray(0, 10), 1024), { code: "GZIP_CORRUPT" });
 * ```
 */
export async function gunzipLimited(compressed: Uint8Array, maxSize: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new LoaderError("INVALID_ARGUMENT", `decompression cap ${maxSize} is not a byte count`);
  }
  let next = 0;
  const source = new ReadableStream<BufferSource>({
    pull(controller): void {
      if (next >= compressed.length) {
        controller.close();
        return;
      }
      // Copy so the decompressor never holds a view into the caller's buffer.
      controller.enqueue(compressed.slice(next, next + INPUT_CHUNK));
      next += INPUT_CHUNK;
    },
  });
  const reader = source.pipeThrough<Uint8Array>(new DecompressionStream("gzip")).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxSize) {
        await reader.cancel();
        throw new LoaderError(
          "GZIP_TOO_LARGE",
          `gzip kernel inflates beyond the ${maxSize}-byte cap (stopped at input offset ${
            hex(Math.min(next, compressed.length))
          })`,
          { offset: Math.min(next, compressed.length) },
        );
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof LoaderError) throw e;
    throw new LoaderError(
      "GZIP_CORRUPT",
      `gzip kernel is corrupt near input offset ${hex(Math.min(next, compressed.length))}: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { offset: Math.min(next, compressed.length), cause: e },
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Returns the uncompressed arm64 Image in `bytes`: gzip input is inflated (with a size cap),
 * anything else is returned as is. Either way the header is validated, so the result is ready for
 * {@linkcode setupLinuxImages}.
 *
 * Throws {@linkcode LoaderError} with the codes of {@linkcode gunzipLimited} and
 * {@linkcode parseImageHeader}.
 *
 * @example An `Image.gz`
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET, readKernelImage } from "@vmkit/loader";
 * import assert from "node:assert/strict";
 *
 * const image = new Uint8Array(0x1000);
 * new DataView(image.buffer).setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * const stream = new Blob([image]).stream().pipeThrough(new CompressionStream("gzip"));
 * const imageGz = await new Response(stream).bytes();
 * // Normally: await readKernelImage(await Deno.readFile("Image.gz")).
 * const kernel = await readKernelImage(imageGz);
 * assert.deepEqual(kernel, image);
 * assert.equal(await readKernelImage(image), image); // an uncompressed Image comes back as is
 * ```
 */
export async function readKernelImage(
  bytes: Uint8Array,
  options: ReadKernelImageOptions = {},
): Promise<Uint8Array> {
  const image = isGzip(bytes)
    ? await gunzipLimited(bytes, options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE)
    : bytes;
  parseImageHeader(image, options);
  return image;
}

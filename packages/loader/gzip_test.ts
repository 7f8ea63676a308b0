import assert from "node:assert/strict";
import { LoaderError } from "./errors.ts";
import { DEFAULT_MAX_DECOMPRESSED_SIZE, gunzipLimited, readKernelImage } from "./gzip.ts";
import { gzip, makeImage } from "./testdata/images.ts";

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<LoaderError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LoaderError, `expected LoaderError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

Deno.test("gzip: a gzip Image inflates to the same bytes", async () => {
  const image = makeImage({ length: 200_000, imageSize: 0x40000n });
  const out = await readKernelImage(await gzip(image));
  assert.deepEqual(out, image);
});

Deno.test("gzip: an uncompressed Image is returned as is, after validation", async () => {
  const image = makeImage();
  assert.equal(await readKernelImage(image), image);
  await rejectsWith(readKernelImage(makeImage({ magic: 0 })), "BAD_MAGIC");
});

Deno.test("gzip: the inflated header is validated with the caller's options", async () => {
  const bigEndian = await gzip(makeImage({ flags: 0x3n }));
  await rejectsWith(readKernelImage(bigEndian), "BIG_ENDIAN");
  const k16 = await gzip(makeImage({ flags: 0x4n }));
  await rejectsWith(readKernelImage(k16, { supportedPageSizes: [4096] }), "UNSUPPORTED_PAGE_SIZE");
  await rejectsWith(readKernelImage(await gzip(new Uint8Array(10))), "TRUNCATED");
});

Deno.test("gzip: a decompression bomb is refused at the cap", async () => {
  // 64 MiB of zeros compresses to ~64 KiB; refuse it at 1 MiB without inflating it all.
  const bomb = await gzip(new Uint8Array(64 * 1024 * 1024));
  assert.ok(bomb.length < 128 * 1024);
  const e = await rejectsWith(
    readKernelImage(bomb, { maxDecompressedSize: 1024 * 1024 }),
    "GZIP_TOO_LARGE",
  );
  assert.match(e.message, /1048576-byte cap/);
  assert.ok(e.offset !== undefined && e.offset < bomb.length);
  // Exactly at the cap is accepted.
  const exact = makeImage({ length: 4096, imageSize: 4096n });
  assert.equal((await gunzipLimited(await gzip(exact), 4096)).length, 4096);
  await rejectsWith(gunzipLimited(await gzip(exact), 4095), "GZIP_TOO_LARGE");
  assert.equal(DEFAULT_MAX_DECOMPRESSED_SIZE, 512 * 1024 * 1024);
});

Deno.test("gzip: corrupt, truncated and trailing-garbage streams are GZIP_CORRUPT", async () => {
  const z = await gzip(makeImage({ length: 100_000, imageSize: 0x20000n }));
  const flipped = z.slice();
  for (let i = 20; i < 60; i++) flipped[i] ^= 0x5a;
  let e = await rejectsWith(readKernelImage(flipped), "GZIP_CORRUPT");
  assert.ok(e.cause instanceof Error);
  await rejectsWith(readKernelImage(z.subarray(0, z.length - 6)), "GZIP_CORRUPT");
  await rejectsWith(readKernelImage(z.subarray(0, 2)), "GZIP_CORRUPT");
  const trailing = new Uint8Array(z.length + 8);
  trailing.set(z);
  e = await rejectsWith(readKernelImage(trailing), "GZIP_CORRUPT");
  assert.match(e.message, /offset/);
});

Deno.test("gzip: a bad cap is INVALID_ARGUMENT", async () => {
  await rejectsWith(gunzipLimited(new Uint8Array([0x1f, 0x8b]), -1), "INVALID_ARGUMENT");
  await rejectsWith(gunzipLimited(new Uint8Array([0x1f, 0x8b]), 1.5), "INVALID_ARGUMENT");
});

import assert from "node:assert/strict";
import { LoaderError, type LoaderErrorCode } from "./errors.ts";
import {
  detectCompression,
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  isGzip,
  LEGACY_TEXT_OFFSET,
  parseImageHeader,
  type ParseImageHeaderOptions,
} from "./image_header.ts";
import { makeImage, makePeImage } from "./testdata/images.ts";

function assertCode(
  image: Uint8Array,
  code: LoaderErrorCode,
  offset?: number,
  options?: ParseImageHeaderOptions,
): LoaderError {
  let caught: unknown;
  try {
    parseImageHeader(image, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LoaderError, `expected LoaderError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (offset !== undefined) assert.equal(caught.offset, offset);
  return caught;
}

Deno.test("header: a current 4 KiB-page kernel decodes field by field", () => {
  const image = makePeImage();
  new DataView(image.buffer).setBigUint64(0x10, 0x1aa0000n, true);
  const h = parseImageHeader(image);
  assert.deepEqual(h, {
    code0: 0xfa405a4d,
    code1: 0,
    textOffsetField: 0,
    textOffset: 0,
    imageSize: 0x1aa0000,
    flags: 0xa,
    littleEndian: true,
    pageSize: 4096,
    placeAnywhere: true,
    res2: 0,
    res3: 0,
    res4: 0,
    magic: IMAGE_MAGIC,
    res5: 0x40,
    efiStub: true,
    legacy: false,
    loadSize: 0x1aa0000,
    pe: {
      offset: 0x40,
      machine: 0xaa64,
      sectionTableOffset: 0xf8,
      sections: [
        {
          name: ".text",
          headerOffset: 0xf8,
          virtualSize: 0x3000,
          virtualAddress: 0x1000,
          sizeOfRawData: 0x3000,
          pointerToRawData: 0x1000,
        },
        {
          name: ".data",
          headerOffset: 0x120,
          virtualSize: 0x1000,
          virtualAddress: 0x4000,
          sizeOfRawData: 0x1000,
          pointerToRawData: 0x4000,
        },
      ],
      rawDataEnd: 0x5000,
    },
  });
});

Deno.test("header: page-size bits 2:1 map to unspecified, 4K, 16K, 64K", () => {
  const expected = [undefined, 4096, 16384, 65536];
  for (let bits = 0; bits < 4; bits++) {
    const h = parseImageHeader(makeImage({ flags: BigInt(bits << 1) }));
    assert.equal(h.pageSize, expected[bits]);
    assert.equal(h.placeAnywhere, false);
  }
});

Deno.test("header: a page size the guest CPU lacks is refused, unspecified always accepted", () => {
  const only4k: ParseImageHeaderOptions = { supportedPageSizes: [4096, 65536] };
  const e = assertCode(makeImage({ flags: 0x4n }), "UNSUPPORTED_PAGE_SIZE", 0x18, only4k);
  assert.match(e.message, /16 KiB/);
  assert.equal(parseImageHeader(makeImage({ flags: 0x6n }), only4k).pageSize, 65536);
  assert.equal(parseImageHeader(makeImage({ flags: 0x0n }), only4k).pageSize, undefined);
  assertCode(makeImage({ flags: 0x2n }), "UNSUPPORTED_PAGE_SIZE", 0x18, {
    supportedPageSizes: [],
  });
});

Deno.test("header: truncated below 64 bytes", () => {
  const image = makeImage().subarray(0, IMAGE_HEADER_SIZE - 1);
  const e = assertCode(image, "TRUNCATED", 63);
  assert.match(e.message, /63 bytes/);
  assertCode(new Uint8Array(0), "TRUNCATED", 0);
});

Deno.test("header: bad magic names the offset and the value", () => {
  const e = assertCode(makeImage({ magic: 0x12345678 }), "BAD_MAGIC", 0x38);
  assert.match(e.message, /0x12345678/);
  assert.match(e.message, /0x38/);
});

Deno.test("header: big-endian kernels are refused", () => {
  assertCode(makeImage({ flags: 0xbn }), "BIG_ENDIAN", 0x18);
});

Deno.test("header: reserved flag bits are an error unless allowed", () => {
  for (const flags of [0x10n, 0x8000_0000n, 1n << 32n, 1n << 63n]) {
    assertCode(makeImage({ flags: flags | 0x2n }), "RESERVED_FLAGS", 0x18);
  }
  const h = parseImageHeader(makeImage({ flags: 0x12n }), { allowReserved: true });
  assert.equal(h.flags, 0x12);
  assert.equal(h.pageSize, 4096);
  // Allowed reserved bits still have to fit a number.
  assertCode(makeImage({ flags: 1n << 63n }), "UNSAFE_INTEGER", 0x18, { allowReserved: true });
});

Deno.test("header: non-zero res2..res4 are an error unless allowed", () => {
  assertCode(makeImage({ res2: 1n }), "RESERVED_FIELD", 0x20);
  assertCode(makeImage({ res3: 1n << 40n }), "RESERVED_FIELD", 0x28);
  const e = assertCode(makeImage({ res4: 0xffn }), "RESERVED_FIELD", 0x30);
  assert.match(e.message, /res4/);
  const h = parseImageHeader(makeImage({ res2: 1n, res3: 2n, res4: 3n }), {
    allowReserved: true,
  });
  assert.deepEqual([h.res2, h.res3, h.res4], [1, 2, 3]);
});

Deno.test("header: u64 fields beyond 2^53 - 1 are typed errors", () => {
  const big = 1n << 53n;
  let e = assertCode(makeImage({ textOffset: big }), "UNSAFE_INTEGER", 0x08);
  assert.match(e.message, /text_offset/);
  e = assertCode(makeImage({ imageSize: big }), "UNSAFE_INTEGER", 0x10);
  assert.match(e.message, /image_size/);
  assertCode(makeImage({ res2: big }), "UNSAFE_INTEGER", 0x20, { allowReserved: true });
  // 2^53 - 1 itself is fine as far as integers go (4 KiB alignment fails instead).
  assertCode(
    makeImage({ textOffset: BigInt(Number.MAX_SAFE_INTEGER) }),
    "BAD_TEXT_OFFSET",
    0x08,
  );
});

Deno.test("header: text_offset must be a multiple of 4 KiB", () => {
  const e = assertCode(makeImage({ textOffset: 0x80100n }), "BAD_TEXT_OFFSET", 0x08);
  assert.match(e.message, /0x80100/);
  assert.equal(parseImageHeader(makeImage({ textOffset: 0x80000n })).textOffset, 0x80000);
});

Deno.test("header: image_size 0 is a legacy kernel at 0x80000 sized by its file", () => {
  const image = makeImage({ imageSize: 0n, textOffset: 0x1234n, flags: 0n, length: 0x5000 });
  const h = parseImageHeader(image);
  assert.equal(h.legacy, true);
  assert.equal(h.imageSize, 0);
  assert.equal(h.textOffsetField, 0x1234);
  assert.equal(h.textOffset, LEGACY_TEXT_OFFSET);
  assert.equal(h.loadSize, 0x5000);
});

Deno.test("header: image_size smaller than the file is refused", () => {
  assertCode(makeImage({ length: 0x3000, imageSize: 0x2000n }), "BAD_IMAGE_SIZE", 0x10);
  assert.equal(
    parseImageHeader(makeImage({ length: 0x3000, imageSize: 0x3000n })).loadSize,
    0x3000,
  );
});

Deno.test("header: compressed kernels get COMPRESSED_IMAGE, not BAD_MAGIC", () => {
  const cases: [number[], string][] = [
    [[0x1f, 0x8b, 8, 0], "gzip"],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"],
    [[0x28, 0xb5, 0x2f, 0xfd], "zstd"],
    [[0x42, 0x5a, 0x68, 0x39], "bzip2"],
    [[0x04, 0x22, 0x4d, 0x18], "lz4"],
    [[0x02, 0x21, 0x4c, 0x18], "lz4"],
    [[0x5d, 0x00, 0x00, 0x80], "lzma"],
    [[0x4d, 0x5a, 0, 0, 0x7a, 0x69, 0x6d, 0x67], "EFI zboot"],
  ];
  for (const [sig, name] of cases) {
    const bytes = new Uint8Array(200);
    bytes.set(sig);
    assert.equal(detectCompression(bytes), name);
    const e = assertCode(bytes, "COMPRESSED_IMAGE", 0);
    if (name === "gzip") assert.match(e.message, /readKernelImage/);
    else assert.match(e.message, new RegExp(name));
    // Short files are recognised too.
    assertCode(bytes.slice(0, sig.length), "COMPRESSED_IMAGE");
  }
  assert.equal(isGzip(new Uint8Array([0x1f, 0x8b])), true);
  assert.equal(isGzip(new Uint8Array([0x1f])), false);
  assert.equal(detectCompression(makeImage()), undefined);
});

Deno.test("header: works on a view into a larger buffer", () => {
  const image = makeImage({ textOffset: 0x80000n });
  const buffer = new Uint8Array(image.length + 16);
  buffer.set(image, 16);
  assert.equal(parseImageHeader(buffer.subarray(16)).textOffset, 0x80000);
});

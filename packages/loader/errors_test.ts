/**
 * One triggering input per LoaderErrorCode, through the public API. The table is a Record over the
 * union, so a code added without a case here is a type error and `deno test` refuses to run.
 */
import assert from "node:assert/strict";
import {
  checkGuestRam,
  guestBytes,
  gunzipLimited,
  linux_setup_images,
  LoaderError,
  type LoaderErrorCode,
  parseImageHeader,
  type PlacementRequest,
  planLinuxPlacement,
  setupLinuxImages,
} from "./mod.ts";
import { gzip, makeImage, makePeImage, PE_LAYOUT } from "./testdata/images.ts";
import { makeInitrd, makeRam, readDtbFixture } from "./testdata/load.ts";

const MiB = 0x10_0000;
const GiB = 0x4000_0000;
const kernel = makeImage({ length: 0x5000, imageSize: 0x20_0000n });

function plan(overrides: Partial<PlacementRequest>): unknown {
  return planLinuxPlacement({
    ramBase: GiB,
    ramSize: 256 * MiB,
    header: parseImageHeader(kernel),
    kernelLength: kernel.length,
    dtbSize: 0x1000,
    ...overrides,
  });
}

/** 64 MiB is plenty for these cases and keeps each fresh RAM bank cheap. */
const smallRam = () => makeRam(GiB, 64 * MiB);

const cases: Record<LoaderErrorCode, () => unknown> = {
  "TRUNCATED": () => parseImageHeader(kernel.subarray(0, 63)),
  "BAD_MAGIC": () => parseImageHeader(makeImage({ magic: 0x1234_5678 })),
  "COMPRESSED_IMAGE": () => parseImageHeader(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0])),
  "BIG_ENDIAN": () => parseImageHeader(makeImage({ flags: 0x1n })),
  "UNSUPPORTED_PAGE_SIZE": () =>
    parseImageHeader(makeImage({ flags: 0x6n }), { supportedPageSizes: [4096] }),
  "RESERVED_FLAGS": () => parseImageHeader(makeImage({ flags: 0x12n })),
  "RESERVED_FIELD": () => parseImageHeader(makeImage({ res4: 1n })),
  "UNSAFE_INTEGER": () => parseImageHeader(makeImage({ imageSize: 1n << 53n })),
  "BAD_TEXT_OFFSET": () => parseImageHeader(makeImage({ textOffset: 0x800n })),
  "BAD_IMAGE_SIZE": () => parseImageHeader(makeImage({ length: 0x3000, imageSize: 0x2000n })),
  "BAD_PE_HEADER": () => {
    const image = makePeImage();
    new DataView(image.buffer).setUint16(PE_LAYOUT.pe + 4, 0x8664, true); // x86-64
    return parseImageHeader(image);
  },
  "GZIP_CORRUPT": () => gunzipLimited(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), MiB),
  "GZIP_TOO_LARGE": async () => gunzipLimited(await gzip(new Uint8Array(8192)), 4096),
  "INVALID_ARGUMENT": () => guestBytes(smallRam(), GiB - 1, 2),
  "BAD_RAM": () => checkGuestRam({ base: -0x1000, bytes: new Uint8Array(16) }),
  "UNALIGNED_RAM_BASE": () => {
    let failure: LoaderError | undefined;
    const dtb = readDtbFixture("virt");
    const entry = linux_setup_images(
      makeRam(GiB + MiB, 64 * MiB),
      kernel,
      kernel.length,
      dtb,
      GiB + 32 * MiB,
      dtb.length,
      new Uint8Array(0),
      0,
      0,
      (e) => failure = e,
    );
    assert.equal(entry, -1);
    throw failure;
  },
  "KERNEL_OUTSIDE_RAM": () => plan({ ramSize: MiB }),
  "DTB_OUTSIDE_RAM": () => plan({ dtbAddress: GiB - 0x1000 }),
  "INITRD_OUTSIDE_RAM": () => plan({ initrdSize: 0x1000, initrdAddress: GiB + 256 * MiB }),
  "DTB_TOO_LARGE": () => plan({ dtbSize: 2 * MiB + 1 }),
  "DTB_MISALIGNED": () => plan({ dtbAddress: GiB + 64 * MiB + 4 }),
  "DTB_SLOT_OVERFLOW": () =>
    setupLinuxImages({
      ram: smallRam(),
      kernel,
      dtb: readDtbFixture("virt"),
      initrd: makeInitrd(64),
      dtbAddress: GiB + 32 * MiB,
      dtbHeadroom: 0,
      patchDtb: true,
    }),
  "INITRD_WINDOW": () =>
    plan({ ramSize: 40 * GiB, initrdSize: MiB, initrdAddress: 33 * GiB - MiB + 8 }),
  "OVERLAP": () => plan({ dtbAddress: GiB + MiB }),
  "NO_ROOM": () => plan({ ramSize: 0x20_0000 + 4 }),
  "BAD_DTB": () =>
    setupLinuxImages({ ram: smallRam(), kernel, dtb: new Uint8Array(64).fill(0xd0) }),
  "INITRD_MISMATCH": () =>
    setupLinuxImages({ ram: smallRam(), kernel, dtb: readDtbFixture("virt-initrd") }),
  "MEMORY_MISMATCH": () =>
    setupLinuxImages({ ram: smallRam(), kernel, dtb: readDtbFixture("no-memory") }),
};

for (const [code, run] of Object.entries(cases)) {
  Deno.test(`LoaderError ${code} is raised for its case`, async () => {
    let caught: unknown;
    try {
      await run();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof LoaderError, `expected LoaderError ${code}, got ${caught}`);
    assert.equal(caught.code, code, caught.message);
    assert.equal(caught.name, "LoaderError");
    assert.ok(caught.message.length > 10);
  });
}

Deno.test("LoaderError carries offset, address and cause", () => {
  const cause = new Error("inner");
  const e = new LoaderError("BAD_DTB", "DTB does not parse", { offset: 8, address: GiB, cause });
  assert.equal(e.offset, 8);
  assert.equal(e.address, GiB);
  assert.equal(e.cause, cause);
  assert.ok(e instanceof Error);
  const bare = new LoaderError("OVERLAP", "x");
  assert.equal(bare.offset, undefined);
  assert.equal(bare.address, undefined);
  assert.equal(bare.cause, undefined);
});

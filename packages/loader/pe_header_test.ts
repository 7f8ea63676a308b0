import assert from "node:assert/strict";
import { LoaderError, type LoaderErrorCode } from "./errors.ts";
import { readKernelImage } from "./gzip.ts";
import { parseImageHeader } from "./image_header.ts";
import { parsePeHeader } from "./pe_header.ts";
import { linux_setup_images } from "./reference.ts";
import { setupLinuxImages } from "./setup.ts";
import { gzip, makeImage, makePeImage, PE_LAYOUT } from "./testdata/images.ts";
import { makeRam, readDtbFixture } from "./testdata/load.ts";

const { pe, optional, sections } = PE_LAYOUT;

function caught(run: () => unknown): LoaderError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof LoaderError, `expected a LoaderError, got ${e}`);
    return e;
  }
  assert.fail("no error");
}

function assertCode(image: Uint8Array, code: LoaderErrorCode, offset: number): LoaderError {
  const e = caught(() => parseImageHeader(image));
  assert.equal(e.code, code, e.message);
  assert.equal(e.offset, offset, e.message);
  assert.match(e.message, new RegExp(`0x${offset.toString(16)}\\b`), "the message says where");
  // The function alone raises the same error.
  const alone = caught(() => parsePeHeader(image));
  assert.equal(alone.code, code);
  assert.equal(alone.offset, offset);
  return e;
}

/** A whole synthetic EFI-stub Image with `edit` applied to its header. */
function edited(edit: (view: DataView) => void): Uint8Array {
  const image = makePeImage();
  edit(new DataView(image.buffer));
  return image;
}

Deno.test("pe: a whole synthetic EFI-stub Image parses, its sections ending at the file's end", () => {
  const image = makePeImage({ textSize: 0x2000, dataSize: 0x800 });
  const header = parsePeHeader(image);
  assert.ok(header !== undefined);
  assert.equal(header.offset, pe);
  assert.deepEqual(header.sections.map((s) => s.name), [".text", ".data"]);
  assert.equal(header.rawDataEnd, image.length);
  assert.deepEqual(parseImageHeader(image).pe, header);
});

Deno.test('pe: an Image without "MZ" has no PE header and keeps the old checks', () => {
  // res5 holds garbage: without "MZ" nothing claims a PE header, so it is not read.
  const image = makeImage({ res5: 0xffff_ffff });
  assert.equal(parsePeHeader(image), undefined);
  assert.equal(parseImageHeader(image).pe, undefined);
  assert.equal(parsePeHeader(new Uint8Array(0)), undefined);
});

Deno.test("pe: data after the last section (an appended signature) is accepted", () => {
  const whole = makePeImage();
  const signed = new Uint8Array(whole.length + 0x800);
  signed.set(whole);
  assert.equal(parseImageHeader(signed).pe?.rawDataEnd, whole.length);
});

Deno.test("pe: a file cut anywhere before the end of the raw data is TRUNCATED", () => {
  const whole = makePeImage();
  // Inside the COFF header, the optional header, the section table, .text, between the sections,
  // inside .data, one byte short.
  const cuts = [0x48, 0x70, 0x100, 0x121, 0x800, 0x1800, 0x4000, 0x4800, whole.length - 1];
  for (const cut of cuts) {
    const e = assertCode(whole.slice(0, cut), "TRUNCATED", cut);
    assert.match(e.message, /truncated/, `cut at ${cut}`);
  }
  // A cut in .data names .data and how much the sections need.
  const e = assertCode(whole.slice(0, 0x4800), "TRUNCATED", 0x4800);
  assert.match(e.message, /"\.data"/);
  assert.match(e.message, /0x5000/);
  // Exactly at the end is whole.
  assert.equal(parseImageHeader(whole.slice(0, whole.length)).pe?.rawDataEnd, whole.length);
});

Deno.test('pe: an "MZ" file shorter than the Image header is TRUNCATED', () => {
  const short = makePeImage().slice(0, 0x3e);
  for (const run of [() => parseImageHeader(short), () => parsePeHeader(short)]) {
    const e = caught(run);
    assert.equal(e.code, "TRUNCATED");
    assert.equal(e.offset, 0x3e);
  }
});

Deno.test("pe: each malformed header field is BAD_PE_HEADER at its offset", () => {
  const cases: [string, (v: DataView) => void, number, RegExp][] = [
    ["res5 inside the Image header", (v) => v.setUint32(0x3c, 0x20, true), 0x3c, /res5/],
    ["res5 pointing at zeros", (v) => v.setUint32(0x3c, 0x800, true), 0x800, /signature/],
    ["wrong signature", (v) => v.setUint32(pe, 0x00004551, true), pe, /signature/],
    ["x86-64 machine", (v) => v.setUint16(pe + 4, 0x8664, true), pe + 4, /Machine is 0x8664/],
    ["no sections", (v) => v.setUint16(pe + 6, 0, true), pe + 6, /NumberOfSections is 0/],
    ["97 sections", (v) => v.setUint16(pe + 6, 97, true), pe + 6, /NumberOfSections is 97/],
    ["optional header too small", (v) => v.setUint16(pe + 20, 100, true), pe + 20, /100/],
    ["PE32, not PE32+", (v) => v.setUint16(optional, 0x10b, true), optional, /0x10b/],
    [
      "data directories beyond the optional header",
      (v) => v.setUint32(optional + 108, 7, true),
      optional + 108,
      /NumberOfRvaAndSizes is 7/,
    ],
    [
      "raw data wrapping past 2^32",
      (v) => {
        v.setUint32(sections + 20, 0xffff_f000, true);
        v.setUint32(sections + 16, 0x2000, true);
      },
      sections + 16,
      /overflows 32 bits/,
    ],
    [
      "raw data inside the headers",
      (v) => v.setUint32(sections + 40 + 20, 0x80, true),
      sections + 40 + 20,
      /"\.data".*inside the headers/,
    ],
  ];
  for (const [name, edit, offset, message] of cases) {
    const e = assertCode(edited(edit), "BAD_PE_HEADER", offset);
    assert.match(e.message, message, name);
    assert.match(e.message, /PE\/COFF/, name);
  }
});

Deno.test("pe: a section with no raw data may point anywhere", () => {
  const image = edited((v) => {
    v.setUint32(sections + 40 + 16, 0, true); // .data: SizeOfRawData 0 (a BSS)
    v.setUint32(sections + 40 + 20, 0, true);
  });
  assert.equal(parsePeHeader(image.slice(0, 0x4000))?.rawDataEnd, 0x4000);
});

Deno.test("pe: a gzip kernel is checked after decompression", async () => {
  const whole = makePeImage();
  assert.equal((await readKernelImage(await gzip(whole))).length, whole.length);
  await assert.rejects(
    readKernelImage(await gzip(whole.slice(0, 0x2000))),
    (e: unknown) => e instanceof LoaderError && e.code === "TRUNCATED" && e.offset === 0x2000,
  );
});

Deno.test("pe: the loaders refuse a truncated kernel and leave RAM untouched", () => {
  const kernel = makePeImage().slice(0, 0x2000);
  const dtb = readDtbFixture("virt");
  const ram = makeRam(0x4000_0000, 64 * 1024 * 1024);
  const e = caught(() => setupLinuxImages({ ram, kernel, dtb, patchDtb: true }));
  assert.equal(e.code, "TRUNCATED");
  let failure: LoaderError | undefined;
  const entry = linux_setup_images(
    ram,
    kernel,
    kernel.length,
    dtb,
    0x4200_0000,
    dtb.length,
    new Uint8Array(0),
    0,
    0,
    (f) => failure = f,
  );
  assert.equal(entry, -1);
  assert.equal(failure?.code, "TRUNCATED");
  assert.ok(ram.bytes.every((b) => b === 0), "nothing was copied");
});

// Debian's arm64 cloud kernel, fetched by `deno run -A scripts/fetch_guests.ts` from the repo root.
import assert from "node:assert/strict";
import { getBootargs, getInitrdRange, getMemoryRegions, parseFdt } from "@vmkit/fdt";
import { LoaderError } from "./errors.ts";
import { readKernelImage } from "./gzip.ts";
import { type ImageHeader, parseImageHeader } from "./image_header.ts";
import { linux_setup_images } from "./reference.ts";
import { setupLinuxImages } from "./setup.ts";
import { gzip, makeImage } from "./testdata/images.ts";
import { at, makeInitrd, makeRam, readDtbFixture } from "./testdata/load.ts";
import { fileRequirement, toolRequirement } from "../../testing/requirements.ts";

const guestDir = Deno.env.get("VMKIT_GUEST_DIR") ??
  new URL("../../.cache/guests", import.meta.url).pathname;
const imagePath = `${guestDir}/Image`;
const kernel = fileRequirement(
  imagePath,
  "deno run -A scripts/fetch_guests.ts (from the repository root)",
);
const file = toolRequirement("file", "sudo apt-get install file");
const ignore = kernel.ignore;
const suffix = kernel.label;

function readKernel(): Uint8Array {
  kernel.assert();
  return Deno.readFileSync(imagePath);
}

/** What the real file(1) says about `path`. */
function fileDescription(path: string): string {
  file.assert();
  const out = new Deno.Command("file", { args: ["-b", path], stdout: "piped", stderr: "piped" })
    .outputSync();
  assert.ok(out.success, `file -b ${path}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** The header as file(1)'s magic describes it. */
function describe(header: ImageHeader): string {
  const parts = ["Linux kernel ARM64 boot executable Image", "little-endian"];
  if (header.pageSize !== undefined) parts.push(`${header.pageSize / 1024}K pages`);
  return parts.join(", ");
}

Deno.test({
  name: `synthetic headers decode to what file(1) reports${file.label}`,
  ignore: file.ignore,
  fn() {
    // Flags values 3 << 1 (64 KiB pages) are left out: file 5.44's magic reads the field as
    // separate bits and prints "4K pages, 16K pages, 32K pages" for it.
    const cases = [0x0n, 0x2n, 0x4n, 0x8n, 0xan, 0xcn];
    const path = Deno.makeTempFileSync({ suffix: ".Image" });
    try {
      for (const flags of cases) {
        Deno.writeFileSync(path, makeImage({ flags }));
        const said = fileDescription(path);
        assert.equal(describe(parseImageHeader(Deno.readFileSync(path))), said, `flags ${flags}`);
      }
      // A big-endian kernel: file says so, and the parser refuses it for that reason.
      Deno.writeFileSync(path, makeImage({ flags: 0x3n }));
      assert.match(fileDescription(path), /^Linux kernel ARM64 boot executable Image, big-endian/);
      assert.throws(
        () => parseImageHeader(Deno.readFileSync(path)),
        (e: unknown) => e instanceof LoaderError && e.code === "BIG_ENDIAN",
      );
    } finally {
      Deno.removeSync(path);
    }
  },
});

Deno.test({
  name: `real kernel: header agrees with file(1)${suffix}${file.label}`,
  ignore: ignore || file.ignore,
  fn() {
    const image = readKernel();
    const header = parseImageHeader(image);
    const said = fileDescription(imagePath);
    assert.match(said, /^Linux kernel ARM64 boot executable Image/);
    assert.equal(describe(header), said);
    assert.equal(header.littleEndian, true);
    assert.equal(header.pageSize, 4096);
    assert.equal(header.textOffset, 0);
    assert.equal(header.legacy, false);
    assert.equal(header.efiStub, true); // Debian builds the EFI stub in: code0 starts "MZ".
    assert.equal(header.placeAnywhere, true);
    // image_size covers the file plus BSS: above the file, below 256 MiB, page aligned.
    assert.ok(header.imageSize > image.length && header.imageSize < 256 * 1024 * 1024);
    assert.equal(header.imageSize % 4096, 0);
    // The PE header is where res5 says.
    const pe = header.res5;
    assert.deepEqual([...image.subarray(pe, pe + 4)], [0x50, 0x45, 0, 0]);
  },
});

Deno.test({
  name: `real kernel: gzip round trip through readKernelImage${suffix}`,
  ignore,
  async fn() {
    const image = readKernel();
    const compressed = await gzip(image);
    assert.ok(compressed.length < image.length);
    const back = await readKernelImage(compressed);
    assert.equal(back.length, image.length);
    assert.deepEqual(back, image);
    assert.deepEqual(parseImageHeader(back), parseImageHeader(image));
    // A cap below the kernel's size refuses it.
    await assert.rejects(
      readKernelImage(compressed, { maxDecompressedSize: 1024 * 1024 }),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === "GZIP_TOO_LARGE",
    );
  },
});

Deno.test({
  name: `real kernel: setupLinuxImages into 256 MiB at 0x40000000${suffix}`,
  ignore,
  fn() {
    const kernel = readKernel();
    const ram = makeRam();
    const dtb = readDtbFixture("virt");
    const initrd = makeInitrd(1024 * 1024 + 123, 9);
    const plan = setupLinuxImages({ ram, kernel, dtb, initrd, patchDtb: true });

    const header = parseImageHeader(kernel);
    assert.equal(plan.entry, 0x4000_0000);
    assert.deepEqual(plan.kernel, {
      base: 0x4000_0000,
      start: 0x4000_0000,
      end: 0x4000_0000 + header.imageSize,
      fileEnd: 0x4000_0000 + kernel.length,
      imageSize: header.imageSize,
    });
    assert.equal(plan.dtbAddress, 0x4fe0_0000);
    assert.ok(plan.initrd !== undefined);
    // Right below the DTB's 2 MiB block, its start page aligned.
    assert.ok(plan.initrd.end <= 0x4fe0_0000 && plan.initrd.end > 0x4fe0_0000 - 4096);
    assert.equal(plan.initrd.start % 4096, 0);
    assert.ok(plan.initrd.start >= plan.kernel.end);

    assert.deepEqual(at(ram, plan.entry, kernel.length), kernel);
    assert.deepEqual(at(ram, plan.initrd.start, initrd.length), initrd);
    const placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
    assert.deepEqual(getInitrdRange(placed), {
      start: plan.initrd.start,
      end: plan.initrd.start + initrd.length,
    });
    assert.equal(getBootargs(placed), "console=ttyAMA0 earlycon");
    assert.deepEqual(getMemoryRegions(placed), [{ address: 0x4000_0000, size: 0x1000_0000 }]);
  },
});

Deno.test({
  name: `real kernel: linux_setup_images at the classic fixed addresses${suffix}`,
  ignore,
  fn() {
    const kernel = readKernel();
    const ram = makeRam();
    const dtb = readDtbFixture("virt-initrd");
    const initrd = makeInitrd(0x1_0000, 3);
    let failure: Error | undefined;
    const entry = linux_setup_images(
      ram,
      kernel,
      kernel.length,
      dtb,
      0x4f00_0000,
      dtb.length,
      initrd,
      0x4d00_0000,
      initrd.length,
      (e) => failure = e,
    );
    assert.equal(failure, undefined);
    assert.equal(entry, 0x4000_0000);
    assert.deepEqual(at(ram, entry, kernel.length), kernel);
    assert.deepEqual(at(ram, 0x4f00_0000, dtb.length), dtb);
    assert.deepEqual(at(ram, 0x4d00_0000, initrd.length), initrd);
  },
});

Deno.test({
  name: `real kernel: its PE/COFF sections end where its appended signature starts${suffix}`,
  ignore,
  fn() {
    const image = readKernel();
    const pe = parseImageHeader(image).pe;
    assert.ok(pe !== undefined, "Debian's kernel has the EFI stub");
    assert.equal(pe.offset, 0x40);
    assert.equal(pe.machine, 0xaa64);
    assert.deepEqual(pe.sections.map((s) => s.name), [".text", ".data"]);
    // Debian signs its kernels: the certificate table (data directory 4, a file offset and size)
    // follows the last section and ends the file.
    const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
    const certificates = pe.offset + 24 + 112 + 4 * 8;
    assert.equal(view.getUint32(certificates, true), pe.rawDataEnd);
    assert.equal(pe.rawDataEnd + view.getUint32(certificates + 4, true), image.length);
  },
});

Deno.test({
  name: `real kernel: cut short anywhere, it is TRUNCATED, plain or gzip${suffix}`,
  ignore,
  async fn() {
    const image = readKernel();
    const pe = parseImageHeader(image).pe!;
    const textEnd = pe.sections[0].pointerToRawData + pe.sections[0].sizeOfRawData;
    // Inside the section table, inside .text (100 KiB, the cut that used to boot and crash at pc
    // 0x200), exactly where .data starts, and one byte before the end of .data.
    const cuts = [0x100, 100 * 1024, textEnd, pe.rawDataEnd - 1];
    for (const cut of cuts) {
      assert.throws(
        () => parseImageHeader(image.subarray(0, cut)),
        (e: unknown) =>
          e instanceof LoaderError && e.code === "TRUNCATED" && e.offset === cut &&
          e.message.includes(`0x${cut.toString(16)}`),
        `cut at ${cut}`,
      );
    }
    assert.throws(
      () => parseImageHeader(image.subarray(0, textEnd)),
      (e: unknown) => e instanceof LoaderError && /"\.data"/.test(e.message),
    );
    // Cut exactly at the end of the raw data (the signature dropped), the kernel is whole.
    const unsigned = image.subarray(0, pe.rawDataEnd);
    assert.equal(parseImageHeader(unsigned).pe?.rawDataEnd, unsigned.length);
    await assert.rejects(
      readKernelImage(await gzip(image.subarray(0, 100 * 1024))),
      (e: unknown) => e instanceof LoaderError && e.code === "TRUNCATED" && e.offset === 100 * 1024,
    );
    assert.throws(
      () =>
        setupLinuxImages({
          ram: makeRam(),
          kernel: image.subarray(0, 100 * 1024),
          dtb: readDtbFixture("virt"),
          patchDtb: true,
        }),
      (e: unknown) => e instanceof LoaderError && e.code === "TRUNCATED",
    );
  },
});

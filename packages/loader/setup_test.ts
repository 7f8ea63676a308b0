import assert from "node:assert/strict";
import {
  FdtError,
  getBootargs,
  getInitrdRange,
  getMemoryRegions,
  parseFdt,
  serializeFdt,
  setMemoryRegions,
} from "@vmkit/fdt";
import { LoaderError, type LoaderErrorCode } from "./errors.ts";
import { setupLinuxImages, type SetupLinuxImagesOptions } from "./setup.ts";
import { gzip, makeImage } from "./testdata/images.ts";
import { at, failureRam, makeInitrd, makeRam, readDtbFixture, untouched } from "./testdata/load.ts";

const MiB = 0x10_0000;
const kernel = makeImage({ length: 0x5000, imageSize: 0x20_0000n });

function fails(options: SetupLinuxImagesOptions, code: LoaderErrorCode): LoaderError {
  let caught: unknown;
  try {
    setupLinuxImages(options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LoaderError, `expected ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(untouched(options.ram), "RAM must be left untouched on failure");
  return caught;
}

Deno.test("setup: default placement with a patched DTB; bytes land where the plan says", () => {
  const ram = makeRam();
  const dtb = readDtbFixture("virt");
  const initrd = makeInitrd(300_000);
  const plan = setupLinuxImages({ ram, kernel, dtb, initrd, patchDtb: true });

  assert.equal(plan.entry, 0x4000_0000);
  assert.deepEqual(plan.kernel, {
    base: 0x4000_0000,
    start: 0x4000_0000,
    end: 0x4020_0000,
    fileEnd: 0x4000_5000,
    imageSize: 0x20_0000,
  });
  assert.equal(plan.dtbAddress, 0x4fe0_0000);
  assert.equal(plan.dtb.start, 0x4fe0_0000);
  assert.equal(plan.dtb.slotEnd, 0x5000_0000);
  assert.equal(plan.dtb.patched, true);
  assert.deepEqual(plan.initrd, { start: 0x4fdb_6000, end: 0x4fdb_6000 + 300_000 });
  assert.equal(plan.header.pageSize, 4096);

  assert.deepEqual(at(ram, plan.entry, kernel.length), kernel);
  assert.deepEqual(at(ram, plan.initrd!.start, initrd.length), initrd);
  const placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
  assert.deepEqual(getInitrdRange(placed), plan.initrd);
  assert.equal(getBootargs(placed), "console=ttyAMA0 earlycon");
  assert.deepEqual(getMemoryRegions(placed), [{ address: 0x4000_0000, size: 0x1000_0000 }]);
  // The rest of the kernel's image_size is not written (the kernel clears its own BSS).
  assert.ok(
    at(ram, plan.kernel.fileEnd, plan.kernel.end - plan.kernel.fileEnd).every((b) => b === 0),
  );
});

Deno.test("setup: a DTB that already names the initrd is copied unchanged (64- and 32-bit cells)", () => {
  for (const name of ["virt-initrd", "virt-initrd32"]) {
    const ram = makeRam();
    const dtb = readDtbFixture(name);
    const initrd = makeInitrd(0x1_0000);
    const plan = setupLinuxImages({
      ram,
      kernel,
      dtb,
      initrd,
      initrdAddress: 0x4d00_0000,
      dtbAddress: 0x4c00_0000,
    });
    assert.equal(plan.dtb.patched, false);
    assert.deepEqual(plan.dtb, {
      start: 0x4c00_0000,
      end: 0x4c00_0000 + dtb.length,
      slotEnd: 0x4c00_0000 + dtb.length,
      patched: false,
    });
    assert.deepEqual(at(ram, 0x4c00_0000, dtb.length), dtb);
    assert.deepEqual(at(ram, 0x4d00_0000, initrd.length), initrd);
  }
});

Deno.test("setup: /chosen contradicting the placement is INITRD_MISMATCH", () => {
  const dtb = readDtbFixture("virt-initrd");
  let e = fails(
    { ram: failureRam(), kernel, dtb, initrd: makeInitrd(0x2_0000), initrdAddress: 0x4d00_0000 },
    "INITRD_MISMATCH",
  );
  assert.match(e.message, /0x4d000000\.\.0x4d010000/);
  assert.match(e.message, /0x4d000000\.\.0x4d020000/);
  fails(
    { ram: failureRam(), kernel, dtb, initrd: makeInitrd(0x1_0000), initrdAddress: 0x4d00_1000 },
    "INITRD_MISMATCH",
  );
  // The loader's own choice differs from what the DTB says.
  fails({ ram: failureRam(), kernel, dtb, initrd: makeInitrd(0x1_0000) }, "INITRD_MISMATCH");
  // The DTB names an initrd but none is given.
  e = fails({ ram: failureRam(), kernel, dtb }, "INITRD_MISMATCH");
  assert.match(e.message, /no initrd was given/);
  // An initrd is given but the DTB does not name one and patching is off.
  e = fails(
    { ram: failureRam(), kernel, dtb: readDtbFixture("virt"), initrd: makeInitrd(16) },
    "INITRD_MISMATCH",
  );
  assert.match(e.message, /patchDtb/);
});

Deno.test("setup: patchDtb rewrites a contradicting /chosen, and removes it when there is no initrd", () => {
  const dtb = readDtbFixture("virt-initrd");
  let ram = makeRam();
  let plan = setupLinuxImages({ ram, kernel, dtb, initrd: makeInitrd(0x2_0000), patchDtb: true });
  let placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
  assert.deepEqual(getInitrdRange(placed), plan.initrd);
  assert.equal(getBootargs(placed), "console=ttyAMA0 rdinit=/init");

  ram = makeRam();
  plan = setupLinuxImages({ ram, kernel, dtb, patchDtb: true });
  assert.equal(plan.initrd, undefined);
  placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
  assert.equal(getInitrdRange(placed), undefined);
  // An empty initrd counts as none.
  plan = setupLinuxImages({
    ram: makeRam(),
    kernel,
    dtb: readDtbFixture("virt"),
    initrd: new Uint8Array(0),
  });
  assert.equal(plan.initrd, undefined);
});

Deno.test("setup: /memory must lie in RAM and cover everything placed", () => {
  let e = fails(
    { ram: failureRam(), kernel, dtb: readDtbFixture("big-memory") },
    "MEMORY_MISMATCH",
  );
  assert.match(e.message, /0x40000000\.\.0x80000000 is outside RAM/);
  e = fails({ ram: failureRam(), kernel, dtb: readDtbFixture("no-memory") }, "MEMORY_MISMATCH");
  assert.match(e.message, /no \/memory/);
  // 128 MiB described: the DTB at the top of the 256 MiB bank is outside it.
  const fdt = parseFdt(readDtbFixture("virt"));
  setMemoryRegions(fdt, [{ address: 0x4000_0000, size: 128 * MiB }]);
  e = fails({ ram: failureRam(), kernel, dtb: serializeFdt(fdt) }, "MEMORY_MISMATCH");
  assert.equal(e.address, 0x4fe0_0000);
  assert.match(e.message, /DTB at 0x4fe00000/);
  // Adjacent banks merge: an initrd straddling them is fine.
  const plan = setupLinuxImages({
    ram: makeRam(),
    kernel,
    dtb: readDtbFixture("split-memory"),
    initrd: makeInitrd(2 * MiB),
    initrdAddress: 0x4800_0000 - MiB,
    patchDtb: true,
  });
  assert.deepEqual(plan.initrd, { start: 0x47f0_0000, end: 0x4810_0000 });
});

Deno.test("setup: patchMemory replaces /memory with the RAM bank", () => {
  for (const name of ["big-memory", "no-memory"]) {
    const ram = makeRam();
    const plan = setupLinuxImages({ ram, kernel, dtb: readDtbFixture(name), patchMemory: true });
    const placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
    assert.deepEqual(getMemoryRegions(placed), [{ address: 0x4000_0000, size: 256 * MiB }]);
    assert.equal(plan.dtb.patched, true);
  }
});

Deno.test("setup: bad, oversized and misplaced DTBs", () => {
  const ram = makeRam();
  let e = fails({ ram, kernel, dtb: new Uint8Array(64) }, "BAD_DTB");
  assert.ok(e.cause instanceof FdtError);
  assert.equal((e.cause as FdtError).code, "BAD_MAGIC");
  e = fails({ ram, kernel, dtb: readDtbFixture("virt").subarray(0, 100) }, "BAD_DTB");
  assert.ok(e.cause instanceof FdtError);
  fails({ ram, kernel, dtb: new Uint8Array(2 * MiB + 1) }, "DTB_TOO_LARGE");
  const dtb = readDtbFixture("virt");
  fails({ ram, kernel, dtb, dtbAddress: 0x4800_0004 }, "DTB_MISALIGNED");
  fails({ ram, kernel, dtb, dtbAddress: 0x4000_1000 }, "OVERLAP");
  fails({ ram, kernel, dtb, dtbAddress: 0x5000_0000 - 8 }, "DTB_OUTSIDE_RAM");
});

Deno.test("setup: a patched DTB must still fit its slot and 2 MiB", () => {
  const dtb = readDtbFixture("virt");
  const initrd = makeInitrd(64);
  const e = fails(
    {
      ram: makeRam(),
      kernel,
      dtb,
      initrd,
      dtbAddress: 0x4800_0000,
      patchDtb: true,
      dtbHeadroom: 0,
    },
    "DTB_SLOT_OVERFLOW",
  );
  assert.equal(e.address, 0x4800_0000);
  // Default headroom is enough.
  setupLinuxImages({
    ram: makeRam(),
    kernel,
    dtb,
    initrd,
    dtbAddress: 0x4800_0000,
    patchDtb: true,
  });
  // A DTB just under 2 MiB grows past it when patched.
  const fdt = parseFdt(dtb);
  fdt.root.setBytes("padding", new Uint8Array(2 * MiB - dtb.length - 64));
  const nearly = serializeFdt(fdt);
  assert.ok(nearly.length <= 2 * MiB);
  fails({ ram: failureRam(), kernel, dtb: nearly, initrd, patchDtb: true }, "DTB_TOO_LARGE");
  fails({ ram: failureRam(), kernel, dtb, patchDtb: true, dtbHeadroom: -1 }, "INVALID_ARGUMENT");
});

Deno.test("setup: initrd placement errors", () => {
  const dtb = readDtbFixture("virt");
  const initrd = makeInitrd(0x1000);
  fails({ ram: failureRam(), kernel, dtb, initrd, initrdAddress: 0x4010_0000 }, "OVERLAP");
  fails(
    { ram: failureRam(), kernel, dtb, initrd, initrdAddress: 0x4800_0000, dtbAddress: 0x4800_0800 },
    "OVERLAP",
  );
  fails(
    { ram: failureRam(), kernel, dtb, initrd, initrdAddress: 0x5000_0000 },
    "INITRD_OUTSIDE_RAM",
  );
});

Deno.test("setup: kernel problems", () => {
  const dtb = readDtbFixture("virt");
  fails({ ram: makeRam(0x4000_0000, MiB), kernel, dtb }, "KERNEL_OUTSIDE_RAM");
  fails({ ram: failureRam(), kernel: makeImage({ magic: 1 }), dtb }, "BAD_MAGIC");
  fails(
    { ram: failureRam(), kernel: makeImage({ flags: 0x4n }), dtb, supportedPageSizes: [4096] },
    "UNSUPPORTED_PAGE_SIZE",
  );
  fails({ ram: failureRam(), kernel: makeImage({ flags: 0x100n }), dtb }, "RESERVED_FLAGS");
});

Deno.test("setup: a gzip kernel is refused with a pointer to readKernelImage", async () => {
  const e = fails(
    { ram: failureRam(), kernel: await gzip(kernel), dtb: readDtbFixture("virt") },
    "COMPRESSED_IMAGE",
  );
  assert.match(e.message, /readKernelImage/);
});

Deno.test("setup: an unaligned RAM base moves the kernel up to the next 2 MiB line", () => {
  const ram = makeRam(0x4008_0000, 64 * MiB);
  const fdt = parseFdt(readDtbFixture("virt"));
  setMemoryRegions(fdt, [{ address: ram.base, size: ram.bytes.length }]);
  const plan = setupLinuxImages({ ram, kernel, dtb: serializeFdt(fdt) });
  assert.equal(plan.kernel.base, 0x4020_0000);
  assert.equal(plan.entry, 0x4020_0000);
  assert.deepEqual(at(ram, plan.entry, kernel.length), kernel);
});

Deno.test("setup: arguments of the wrong kind", () => {
  const dtb = readDtbFixture("virt");
  fails({ ram: failureRam(), kernel: [] as unknown as Uint8Array, dtb }, "INVALID_ARGUMENT");
  fails({ ram: failureRam(), kernel, dtb: "x" as unknown as Uint8Array }, "INVALID_ARGUMENT");
  fails(
    { ram: failureRam(), kernel, dtb, initrd: {} as unknown as Uint8Array },
    "INVALID_ARGUMENT",
  );
  fails({ ram: { base: -2, bytes: new Uint8Array(8) }, kernel, dtb }, "BAD_RAM");
  fails({ ram: failureRam(), kernel, dtb, dtbAddress: 0.5 }, "INVALID_ARGUMENT");
});

Deno.test("setup: patching /memory keeps a /chosen that also claims device_type memory", () => {
  // Found by the fuzzer: a bit flip made /chosen's bootargs swallow the memory node's properties;
  // patchMemory then deleted /chosen with the initrd range patchDtb had just written.
  const fdt = parseFdt(readDtbFixture("virt"));
  fdt.getNode("/chosen").setString("device_type", "memory");
  const ram = makeRam(0x4000_0000, 64 * MiB);
  const initrd = makeInitrd(0x1000);
  const plan = setupLinuxImages({
    ram,
    kernel,
    dtb: serializeFdt(fdt),
    initrd,
    patchDtb: true,
    patchMemory: true,
  });
  const placed = parseFdt(at(ram, plan.dtb.start, plan.dtb.end - plan.dtb.start));
  assert.deepEqual(getInitrdRange(placed), plan.initrd);
  assert.equal(getBootargs(placed), "console=ttyAMA0 earlycon");
  assert.deepEqual(getMemoryRegions(placed), [{ address: 0x4000_0000, size: 64 * MiB }]);
});

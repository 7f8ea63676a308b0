import assert from "node:assert/strict";
import { LoaderError, type LoaderErrorCode } from "./errors.ts";
import { parseImageHeader } from "./image_header.ts";
import {
  DTB_MAX_SIZE,
  inInitrdWindow,
  type Placement,
  type PlacementRequest,
  planLinuxPlacement,
} from "./placement.ts";
import { makeImage } from "./testdata/images.ts";

const MiB = 0x10_0000;
const GiB = 0x4000_0000;

/** A kernel whose header asks for `imageSize` bytes, from a 0x3000-byte file. */
function kernel(imageSize: number, extra: Parameters<typeof makeImage>[0] = {}) {
  return parseImageHeader(makeImage({ imageSize: BigInt(imageSize), ...extra }));
}

function request(overrides: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    ramBase: GiB,
    ramSize: 256 * MiB,
    header: kernel(0x1aa_0000),
    kernelLength: 0x3000,
    dtbSize: 0x2000,
    ...overrides,
  };
}

function fails(req: PlacementRequest, code: LoaderErrorCode): LoaderError {
  let caught: unknown;
  try {
    planLinuxPlacement(req);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LoaderError, `expected ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

function assertDisjoint(p: Placement): void {
  const ranges = [p.kernel, p.dtb, ...(p.initrd ? [p.initrd] : [])];
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i], b = ranges[j];
      assert.ok(a.end <= b.start || b.end <= a.start, `overlap ${i} ${j}`);
    }
  }
}

Deno.test("placement: defaults on 256 MiB at 0x40000000 (kernel low, DTB top block, initrd below)", () => {
  const p = planLinuxPlacement(request({ initrdSize: 0x12_3456 }));
  assert.deepEqual(p, {
    base: GiB,
    kernel: { start: GiB, end: GiB + 0x1aa_0000 },
    dtb: { start: 0x4fe0_0000, end: 0x5000_0000 },
    initrd: { start: 0x4fcd_c000, end: 0x4fcd_c000 + 0x12_3456 },
  });
  assertDisjoint(p);
  assert.equal(p.initrd!.start % 4096, 0);
});

Deno.test("placement: no initrd means no initrd range", () => {
  const p = planLinuxPlacement(request({ initrdSize: 0 }));
  assert.equal(p.initrd, undefined);
  assert.equal(planLinuxPlacement(request({ initrdAddress: 0x4800_0000 })).initrd, undefined);
});

Deno.test("placement: text_offset is added to the 2 MiB base", () => {
  const p = planLinuxPlacement(request({ header: kernel(0x100_0000, { textOffset: 0x80000n }) }));
  assert.deepEqual(p.kernel, { start: GiB + 0x80000, end: GiB + 0x108_0000 });
});

Deno.test("placement: an unaligned RAM base rounds the kernel base up to 2 MiB", () => {
  const p = planLinuxPlacement(request({ ramBase: GiB + 0x1000 }));
  assert.equal(p.base, GiB + 2 * MiB);
  assert.equal(p.kernel.start, GiB + 2 * MiB);
  // Rounding up can push a kernel that would fit out of RAM.
  const e = fails(
    request({ ramBase: GiB + 0x1000, ramSize: 0x1aa_0000 + 0x1000 }),
    "KERNEL_OUTSIDE_RAM",
  );
  assert.match(e.message, /base 0x40200000/);
});

Deno.test("placement: a kernel larger than RAM is KERNEL_OUTSIDE_RAM", () => {
  const e = fails(request({ ramSize: 16 * MiB }), "KERNEL_OUTSIDE_RAM");
  assert.equal(e.address, GiB);
  assert.match(e.message, /0x40000000\.\.0x41aa0000/);
  // The file length counts when it exceeds the header's size (a header from elsewhere).
  fails(request({ ramSize: 32 * MiB, kernelLength: 33 * MiB }), "KERNEL_OUTSIDE_RAM");
});

Deno.test("placement: a legacy kernel reserves its file length at 0x80000", () => {
  const header = parseImageHeader(makeImage({ imageSize: 0n, flags: 0n, length: 0x5000 }));
  const p = planLinuxPlacement(request({ header, kernelLength: 0x5000 }));
  assert.deepEqual(p.kernel, { start: GiB + 0x80000, end: GiB + 0x85000 });
});

Deno.test("placement: DTB over 2 MiB is DTB_TOO_LARGE", () => {
  fails(request({ dtbSize: DTB_MAX_SIZE + 1 }), "DTB_TOO_LARGE");
  planLinuxPlacement(request({ dtbSize: DTB_MAX_SIZE }));
});

Deno.test("placement: a given DTB address must be 8-byte aligned, in RAM, clear of the kernel", () => {
  const e = fails(request({ dtbAddress: 0x4800_0004 }), "DTB_MISALIGNED");
  assert.equal(e.address, 0x4800_0004);
  fails(request({ dtbAddress: 0x3fff_f000 }), "DTB_OUTSIDE_RAM");
  fails(request({ dtbAddress: 0x5000_0000 - 0x1000 }), "DTB_OUTSIDE_RAM");
  const o = fails(request({ dtbAddress: GiB + 0x1000 }), "OVERLAP");
  assert.match(o.message, /DTB .* overlaps the kernel/);
  const p = planLinuxPlacement(request({ dtbAddress: 0x4800_0008, dtbSize: 0x1001 }));
  assert.deepEqual(p.dtb, { start: 0x4800_0008, end: 0x4800_1009 });
});

Deno.test("placement: a given DTB may cross a 2 MiB line (the protocol allows it)", () => {
  const p = planLinuxPlacement(request({ dtbAddress: 0x481f_f000, dtbSize: 0x2000 }));
  assert.deepEqual(p.dtb, { start: 0x481f_f000, end: 0x4820_1000 });
});

Deno.test("placement: a given initrd must be in RAM and clear of kernel and DTB", () => {
  fails(request({ initrdSize: 0x1000, initrdAddress: 0x4fff_f001 }), "INITRD_OUTSIDE_RAM");
  fails(request({ initrdSize: 0x1000, initrdAddress: 0x3000_0000 }), "INITRD_OUTSIDE_RAM");
  let e = fails(request({ initrdSize: 0x1000, initrdAddress: 0x41a9_f800 }), "OVERLAP");
  assert.match(e.message, /initrd .* overlaps the kernel/);
  e = fails(
    request({ initrdSize: 0x1000, initrdAddress: 0x4800_0800, dtbAddress: 0x4800_0000 }),
    "OVERLAP",
  );
  assert.match(e.message, /initrd .* overlaps the DTB/);
  const p = planLinuxPlacement(request({ initrdSize: 0x1000, initrdAddress: 0x4800_0001 }));
  assert.deepEqual(p.initrd, { start: 0x4800_0001, end: 0x4800_1001 });
});

Deno.test("placement: the initrd must share a 1 GiB-aligned 32 GiB window with the kernel", () => {
  const big = { ramBase: GiB, ramSize: 40 * GiB };
  // Window [1 GiB, 33 GiB): an initrd ending exactly at 33 GiB is fine, one byte more is not.
  planLinuxPlacement(request({ ...big, initrdSize: MiB, initrdAddress: 33 * GiB - MiB }));
  const e = fails(
    request({ ...big, initrdSize: MiB, initrdAddress: 33 * GiB - MiB + 1 }),
    "INITRD_WINDOW",
  );
  assert.equal(e.address, 33 * GiB - MiB + 1);
  // The loader's own choice stays inside the window even when RAM goes beyond it.
  const p = planLinuxPlacement(request({ ...big, initrdSize: 3 * MiB }));
  assert.deepEqual(p.initrd, { start: 33 * GiB - 3 * MiB, end: 33 * GiB });
  assert.deepEqual(p.dtb, { start: 41 * GiB - 2 * MiB, end: 41 * GiB });
  // A kernel just below a 1 GiB line: the window starts at the line below it.
  const k = { start: 2 * GiB - 4 * MiB, end: 2 * GiB + 16 * MiB };
  assert.equal(inInitrdWindow(k, { start: 33 * GiB - 1, end: 33 * GiB }), true);
  assert.equal(inInitrdWindow(k, { start: 33 * GiB, end: 33 * GiB + 1 }), false);
  assert.equal(inInitrdWindow(k, { start: 0, end: 1 }), true);
  assert.equal(inInitrdWindow({ start: 33 * GiB, end: 33 * GiB + 1 }, { start: 0, end: 1 }), false);
  assert.equal(inInitrdWindow(k, { start: GiB, end: GiB + 1 }), true);
});

Deno.test("placement: the loader's DTB avoids a given initrd and its initrd avoids a given DTB", () => {
  let p = planLinuxPlacement(
    request({ initrdSize: 3 * MiB, initrdAddress: 0x5000_0000 - 3 * MiB }),
  );
  assert.deepEqual(p.dtb, { start: 0x4fa0_0000, end: 0x4fc0_0000 });
  p = planLinuxPlacement(request({ initrdSize: MiB, dtbAddress: 0x5000_0000 - 0x2000 }));
  assert.deepEqual(p.initrd, { start: 0x4fff_e000 - MiB, end: 0x4fff_e000 });
  assertDisjoint(p);
});

Deno.test("placement: a loader-placed initrd is aligned to the kernel's page size", () => {
  const p = planLinuxPlacement(
    request({ header: kernel(0x1aa_0000, { flags: 0x6n }), initrdSize: 0x1234 }),
  );
  assert.equal(p.initrd!.start % 0x10000, 0);
  assert.equal(p.initrd!.start, 0x4fe0_0000 - 0x10000);
});

Deno.test("placement: without a free 2 MiB block the DTB avoids crossing a 2 MiB line", () => {
  // Free gap 0x40100000..0x40210000 crosses 0x40200000.
  const base = { ramSize: 4 * MiB, header: kernel(MiB) };
  let p = planLinuxPlacement(
    request({ ...base, dtbSize: 0x2_0000, initrdSize: 0x1f_0000, initrdAddress: 0x4021_0000 }),
  );
  assert.deepEqual(p.dtb, { start: 0x401e_0000, end: 0x4020_0000 });
  // Too big to stay below the line: it crosses rather than fail.
  p = planLinuxPlacement(
    request({ ...base, dtbSize: 0x18_0000, initrdSize: 0x17_0000, initrdAddress: 0x4029_0000 }),
  );
  assert.deepEqual(p.dtb, { start: 0x4011_0000, end: 0x4029_0000 });
});

Deno.test("placement: NO_ROOM when RAM is too full for the DTB or the initrd", () => {
  let e = fails(request({ ramSize: 0x1aa_0000 + 4 }), "NO_ROOM");
  assert.match(e.message, /DTB/);
  e = fails(request({ ramSize: 28 * MiB, initrdSize: 2 * MiB }), "NO_ROOM");
  assert.match(e.message, /initrd/);
});

Deno.test("placement: bad numbers are INVALID_ARGUMENT or BAD_RAM", () => {
  fails(request({ kernelLength: -1 }), "INVALID_ARGUMENT");
  fails(request({ dtbSize: 1.5 }), "INVALID_ARGUMENT");
  fails(request({ initrdSize: NaN }), "INVALID_ARGUMENT");
  fails(request({ dtbAddress: -8 }), "INVALID_ARGUMENT");
  fails(request({ initrdSize: 1, initrdAddress: 2 ** 53 }), "INVALID_ARGUMENT");
  fails(request({ ramBase: -1 }), "BAD_RAM");
  fails(request({ ramSize: 2 ** 53 }), "BAD_RAM");
});

Deno.test("placement: a DTB of 0 bytes is INVALID_ARGUMENT, not an empty slot", () => {
  // Found by the fuzzer: an empty DTB range was placed at an arbitrary address.
  assert.throws(
    () =>
      planLinuxPlacement({
        ramBase: 0x4000_0000,
        ramSize: 256 * 0x10_0000,
        header: parseImageHeader(makeImage()),
        kernelLength: 0x3000,
        dtbSize: 0,
      }),
    (e: unknown) =>
      e instanceof LoaderError && e.code === "INVALID_ARGUMENT" && /DTB size 0/.test(e.message),
  );
});

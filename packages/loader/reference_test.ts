import assert from "node:assert/strict";
import { LoaderError, type LoaderErrorCode } from "./errors.ts";
import type { GuestRam } from "./guest_ram.ts";
import { linux_setup_images } from "./reference.ts";
import { gzip, makeImage } from "./testdata/images.ts";
import { at, failureRam, makeInitrd, makeRam, readDtbFixture, untouched } from "./testdata/load.ts";

const MiB = 0x10_0000;
const kernel = makeImage({ length: 0x5000, imageSize: 0x20_0000n, textOffset: 0x80000n });
const dtb = readDtbFixture("virt-initrd");
const initrd = makeInitrd(0x1_0000);
const none = new Uint8Array(0);

interface Call {
  ram?: GuestRam;
  kernel?: Uint8Array;
  kernelSize?: number;
  dtb?: Uint8Array;
  dtbDest?: number;
  dtbSize?: number;
  initrd?: Uint8Array;
  initrdDest?: number;
  initrdSize?: number;
}

/** Calls the reference function with the fixture defaults and collects its error. */
function call(c: Call = {}): { result: number; errors: LoaderError[]; ram: GuestRam } {
  const ram = c.ram ?? makeRam();
  const k = c.kernel ?? kernel;
  const d = c.dtb ?? dtb;
  const i = c.initrd ?? initrd;
  const errors: LoaderError[] = [];
  const result = linux_setup_images(
    ram,
    k,
    c.kernelSize ?? k.length,
    d,
    c.dtbDest ?? 0x4800_0000,
    c.dtbSize ?? d.length,
    i,
    c.initrdDest ?? 0x4d00_0000,
    c.initrdSize ?? i.length,
    (e) => errors.push(e),
  );
  return { result, errors, ram };
}

function failsWith(c: Call, code: LoaderErrorCode): LoaderError {
  const { result, errors, ram } = call({ ...c, ram: c.ram ?? failureRam() });
  assert.equal(result, -1);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof LoaderError);
  assert.equal(errors[0].code, code, errors[0].message);
  assert.ok(untouched(ram), "RAM must be left untouched on failure");
  return errors[0];
}

/** The reference function's parameters, in the reference order. */
const REFERENCE_PARAMETERS = [
  "ram_start",
  "kernel",
  "kernel_size",
  "dtb_src",
  "dtb_dest",
  "dtb_size",
  "initrd_src",
  "initrd_dest",
  "initrd_size",
];

type ReferenceParameters = [
  GuestRam,
  Uint8Array,
  number,
  Uint8Array,
  number,
  number,
  Uint8Array,
  number,
  number,
  ((error: LoaderError) => void)?,
];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

Deno.test("reference: the signature is the reference one, in names, order and types", () => {
  // Checked by the compiler: exactly the nine reference parameters, then only the optional
  // error sink (which packages/vmm uses), returning a plain number.
  const typesMatch: Same<Parameters<typeof linux_setup_images>, ReferenceParameters> = true;
  const returnsNumber: Same<ReturnType<typeof linux_setup_images>, number> = true;
  assert.ok(typesMatch && returnsNumber);
  const source = linux_setup_images.toString();
  const names = source.slice(source.indexOf("(") + 1, source.indexOf(")")).split(",")
    .map((p) => p.trim()).filter((p) => p !== "");
  assert.deepEqual(names, [...REFERENCE_PARAMETERS, "onError"]);
  // Called with the nine reference arguments alone, as C callers do.
  const ram = makeRam();
  const entry = linux_setup_images(
    ram,
    kernel,
    kernel.length,
    dtb,
    0x4800_0000,
    dtb.length,
    initrd,
    0x4d00_0000,
    initrd.length,
  );
  assert.equal(entry, 0x4008_0000);
  assert.deepEqual(at(ram, entry, kernel.length), kernel);
});

Deno.test("reference: copies kernel at RAM + text_offset, DTB and initrd where asked", () => {
  const { result, errors, ram } = call();
  assert.deepEqual(errors, []);
  assert.equal(result, 0x4008_0000);
  assert.deepEqual(at(ram, 0x4008_0000, kernel.length), kernel);
  assert.deepEqual(at(ram, 0x4800_0000, dtb.length), dtb);
  assert.deepEqual(at(ram, 0x4d00_0000, initrd.length), initrd);
  // Nothing below the kernel is written.
  assert.ok(at(ram, 0x4000_0000, 0x80000).every((b) => b === 0));
});

Deno.test("reference: no initrd (size 0) with a DTB that names none", () => {
  const { result, errors } = call({
    dtb: readDtbFixture("virt"),
    initrd: none,
    initrdSize: 0,
    initrdDest: 0,
  });
  assert.deepEqual(errors, []);
  assert.equal(result, 0x4008_0000);
});

Deno.test("reference: only *_size bytes of each source are used", () => {
  const padded = new Uint8Array(kernel.length + 100);
  padded.set(kernel);
  padded.fill(0xee, kernel.length);
  const { result, ram } = call({ kernel: padded, kernelSize: kernel.length });
  assert.equal(result, 0x4008_0000);
  assert.equal(at(ram, 0x4008_0000 + kernel.length, 1)[0], 0);
});

Deno.test("reference: kernel errors give -1 with the reason", () => {
  failsWith({ kernel: makeImage({ magic: 0x41524d65 }) }, "BAD_MAGIC");
  failsWith({ kernelSize: 10 }, "TRUNCATED");
  failsWith({ kernel: makeImage({ flags: 0x1n }) }, "BIG_ENDIAN");
  failsWith({ kernel: makeImage({ flags: 0x20n }) }, "RESERVED_FLAGS");
  failsWith({ kernel: makeImage({ res3: 4n }) }, "RESERVED_FIELD");
  failsWith({ kernel: makeImage({ textOffset: 0x80010n }) }, "BAD_TEXT_OFFSET");
  failsWith({ kernel: makeImage({ imageSize: 1n << 60n }) }, "UNSAFE_INTEGER");
  failsWith({ kernel: makeImage({ imageSize: 0x100n }) }, "BAD_IMAGE_SIZE");
  failsWith(
    { ram: makeRam(0x4000_0000, 2 * MiB), initrdSize: 0 },
    "KERNEL_OUTSIDE_RAM",
  );
});

Deno.test("reference: a gzip kernel gives COMPRESSED_IMAGE", async () => {
  failsWith({ kernel: await gzip(kernel) }, "COMPRESSED_IMAGE");
});

Deno.test("reference: RAM must start 2 MiB aligned", () => {
  const e = failsWith({ ram: makeRam(0x4010_0000) }, "UNALIGNED_RAM_BASE");
  assert.equal(e.address, 0x4010_0000);
});

Deno.test("reference: DTB errors", () => {
  let e = failsWith({ dtb: new Uint8Array(128).fill(0xab) }, "BAD_DTB");
  assert.match(e.message, /BAD_MAGIC/);
  failsWith({ dtbSize: 40 }, "BAD_DTB");
  failsWith({ dtb: new Uint8Array(2 * MiB + 8) }, "DTB_TOO_LARGE");
  failsWith({ dtbDest: 0x4800_0002 }, "DTB_MISALIGNED");
  failsWith({ dtbDest: 0x3800_0000 }, "DTB_OUTSIDE_RAM");
  failsWith({ dtbDest: 0x5000_0000 - 16 }, "DTB_OUTSIDE_RAM");
  e = failsWith({ dtbDest: 0x4010_0000 }, "OVERLAP");
  assert.match(e.message, /overlaps the kernel/);
});

Deno.test("reference: initrd errors", () => {
  failsWith({ initrdDest: 0x4d00_0000 - 0x1000 }, "INITRD_MISMATCH");
  failsWith({ initrdSize: 0x8000 }, "INITRD_MISMATCH");
  failsWith({ initrd: none, initrdSize: 0 }, "INITRD_MISMATCH");
  failsWith({ dtb: readDtbFixture("virt") }, "INITRD_MISMATCH");
  failsWith({ initrdDest: 0x4010_0000 }, "OVERLAP");
  failsWith({ initrdDest: 0x4800_0000 - 0x100 }, "OVERLAP");
  failsWith({ initrdDest: 0x5000_0000 - 0x100 }, "INITRD_OUTSIDE_RAM");
});

Deno.test("reference: /memory must agree with RAM", () => {
  failsWith({ dtb: readDtbFixture("big-memory"), initrdSize: 0 }, "MEMORY_MISMATCH");
  failsWith({ dtb: readDtbFixture("no-memory"), initrdSize: 0 }, "MEMORY_MISMATCH");
});

Deno.test("reference: sizes beyond their sources and bad addresses are INVALID_ARGUMENT", () => {
  failsWith({ kernelSize: kernel.length + 1 }, "INVALID_ARGUMENT");
  failsWith({ dtbSize: -1 }, "INVALID_ARGUMENT");
  failsWith({ initrdSize: initrd.length + 1 }, "INVALID_ARGUMENT");
  failsWith({ initrdSize: 1.5 }, "INVALID_ARGUMENT");
  failsWith({ dtbDest: NaN }, "INVALID_ARGUMENT");
  failsWith({ initrdDest: -4 }, "INVALID_ARGUMENT");
  failsWith({ ram: { base: 1.5, bytes: new Uint8Array(16) } }, "BAD_RAM");
});

Deno.test("reference: never throws, even on nonsense and without onError", () => {
  const nonsense = null as unknown as GuestRam;
  assert.equal(
    linux_setup_images(nonsense, kernel, kernel.length, dtb, 0, 0, none, 0, 0),
    -1,
  );
  let seen: LoaderError | undefined;
  const r = linux_setup_images(
    nonsense,
    kernel,
    kernel.length,
    dtb,
    0,
    0,
    none,
    0,
    0,
    (e) => seen = e,
  );
  assert.equal(r, -1);
  assert.ok(seen instanceof LoaderError);
  assert.ok(seen.cause instanceof TypeError);
  assert.equal(
    linux_setup_images(
      makeRam(),
      undefined as unknown as Uint8Array,
      0,
      dtb,
      0x4800_0000,
      dtb.length,
      none,
      0,
      0,
    ),
    -1,
  );
});

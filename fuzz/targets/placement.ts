/**
 * Placement: `setupLinuxImages` and `linux_setup_images` with random RAM banks, kernels, DTBs,
 * initrd sizes and addresses, and `planLinuxPlacement` on arbitrary numbers. Every call succeeds
 * with a placement that keeps the boot protocol's rules, or raises `LoaderError`
 * (`linux_setup_images` returns -1 with one).
 *
 * @module
 */

import { FdtError, getInitrdRange, parseFdt } from "@vmkit/fdt";
import {
  type GuestRam,
  type GuestRange,
  inInitrdWindow,
  linux_setup_images,
  LoaderError,
  parseImageHeader,
  planLinuxPlacement,
  setupLinuxImages,
} from "@vmkit/loader";
import { makeImage, makePeImage } from "../../packages/loader/testdata/images.ts";
import { ByteReader } from "../provider.ts";
import { type FuzzTarget, invariant, outcome, type SeedContext } from "../target.ts";

const MiB = 0x10_0000;
const RAM_MAX = 64 * MiB;
const INITRD_MAX = MiB;
const DTB_NAMES = ["virt", "virt-initrd", "virt-initrd32", "no-memory", "big-memory", "split"];

function hex(n: number): string {
  return Number.isFinite(n) ? `0x${n.toString(16)}` : String(n);
}

function describe(r: GuestRange | undefined): string {
  return r === undefined ? "none" : `${hex(r.start)}..${hex(r.end)}`;
}

/** Ranges inside `[lo, hi)`, pairwise disjoint, each non-empty. */
function checkRanges(lo: number, hi: number, ranges: [string, GuestRange | undefined][]): void {
  const present = ranges.filter((r): r is [string, GuestRange] => r[1] !== undefined);
  for (const [name, r] of present) {
    invariant(
      Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start < r.end &&
        r.start >= lo && r.end <= hi,
      () => `${name} ${describe(r)} is not a range inside RAM ${hex(lo)}..${hex(hi)}`,
    );
  }
  for (let i = 0; i < present.length; i++) {
    for (let j = i + 1; j < present.length; j++) {
      const [a, ra] = present[i];
      const [b, rb] = present[j];
      invariant(
        ra.end <= rb.start || rb.end <= ra.start,
        () => `${a} ${describe(ra)} overlaps ${b} ${describe(rb)}`,
      );
    }
  }
}

function kernelFrom(r: ByteReader): Uint8Array {
  if (r.bool()) {
    return makePeImage({ textSize: 0x200 * (1 + r.below(64)), dataSize: 0x200 * r.below(32) });
  }
  const length = 64 + r.below(0x4000);
  return makeImage({
    length,
    imageSize: r.pick([
      0n,
      BigInt(length),
      BigInt(length + r.u16() * 4096),
      BigInt(r.u32()) * 4096n,
    ]),
    textOffset: r.pick([0n, 0x80000n, BigInt(r.u16()) * 4096n, BigInt(r.u32())]),
    flags: BigInt(r.u8() & 0xf),
  });
}

/** Creates the target; it owns a 64 MiB RAM buffer reused by every input. */
export function createPlacementTarget(context: SeedContext): FuzzTarget {
  const ramBuffer = new Uint8Array(RAM_MAX);
  const initrdBuffer = new Uint8Array(INITRD_MAX).map((_, i) => i * 13);
  const dtbs = DTB_NAMES.map((n) =>
    Deno.readFileSync(
      new URL(`packages/loader/testdata/${n === "split" ? "split-memory" : n}.dtb`, context.root),
    )
  );

  function numbers(r: ByteReader): string {
    let header: ReturnType<typeof parseImageHeader> | undefined;
    const parsed = outcome([LoaderError], () => {
      header = parseImageHeader(kernelFrom(r));
    });
    if (header === undefined) return `plan header ${parsed}`;
    const ramBase = r.orOdd(() => r.pick([0x4000_0000, 0, 2 ** 40, r.u32() * 0x1000]));
    const ramSize = r.orOdd(() => r.pick([256 * MiB, 2 * MiB, 40 * 2 ** 30, r.u32() * 0x100]));
    const address = (): number | undefined =>
      r.bool() ? undefined : r.orOdd(() => ramBase + (r.u32() * 8) % Math.max(1, ramSize));
    const request = {
      ramBase,
      ramSize,
      header,
      kernelLength: r.orOdd(() => r.u16()),
      dtbSize: r.orOdd(() => r.pick([0x1000, 2 * MiB, r.u32() % (3 * MiB)])),
      initrdSize: r.orOdd(() => r.pick([0, 0x1000, r.u32()])),
      dtbAddress: address(),
      initrdAddress: address(),
    };
    let placement: ReturnType<typeof planLinuxPlacement> | undefined;
    const result = outcome([LoaderError], () => {
      placement = planLinuxPlacement(request);
    });
    if (placement !== undefined) {
      const p = placement;
      checkRanges(ramBase, ramBase + ramSize, [
        ["kernel", p.kernel],
        ["DTB", p.dtb],
        ["initrd", p.initrd],
      ]);
      invariant(p.base % (2 * MiB) === 0, () => `kernel base ${hex(p.base)} not 2 MiB aligned`);
      invariant(p.dtb.start % 8 === 0, () => `DTB at ${hex(p.dtb.start)} not 8-byte aligned`);
      invariant(
        p.initrd === undefined || inInitrdWindow(p.kernel, p.initrd),
        () => `initrd ${describe(p.initrd)} outside the kernel's 32 GiB window`,
      );
    }
    return `plan ${result}`;
  }

  function setup(r: ByteReader): string {
    const kernel = kernelFrom(r);
    let dtb = r.pick(dtbs);
    if (r.u8() < 32) {
      dtb = dtb.slice();
      dtb[r.below(dtb.length)] ^= 1 << r.below(8);
    }
    const ramBase = r.pick([0x4000_0000, 0, 0x4010_0000, 2 ** 40, 2 ** 53 - 16 * MiB]);
    const ramSize = r.pick([64 * MiB, 16 * MiB, 4 * MiB, 2 * MiB + 4, r.u32() % RAM_MAX, 0]);
    const ram: GuestRam = { base: ramBase, bytes: ramBuffer.subarray(0, ramSize) };
    const initrd = initrdBuffer.subarray(0, r.pick([0, 1, 0x1000, r.u32() % INITRD_MAX]));
    const address = (align: number): number | undefined =>
      r.bool()
        ? undefined
        : r.orOdd(() => ramBase + Math.floor((r.u32() % Math.max(1, ramSize)) / align) * align);
    const dtbAddress = address(8);
    const initrdAddress = address(0x1000);
    const patchDtb = r.bool();
    const patchMemory = r.bool();
    const dtbHeadroom = r.bool() ? undefined : r.orOdd(() => r.u16());

    let plan: ReturnType<typeof setupLinuxImages> | undefined;
    const result = outcome([LoaderError], () => {
      plan = setupLinuxImages({
        ram,
        kernel,
        dtb,
        initrd,
        dtbAddress,
        initrdAddress,
        patchDtb,
        patchMemory,
        dtbHeadroom,
      });
    });
    if (plan !== undefined) {
      const p = plan;
      const ramEnd = ramBase + ramSize;
      checkRanges(ramBase, ramEnd, [
        ["kernel", { start: p.kernel.start, end: p.kernel.end }],
        ["DTB slot", { start: p.dtb.start, end: p.dtb.slotEnd }],
        ["initrd", p.initrd],
      ]);
      invariant(p.entry === p.kernel.start, () => `entry ${hex(p.entry)} is not the kernel start`);
      invariant(
        p.kernel.start === p.kernel.base + p.header.textOffset && p.kernel.base % (2 * MiB) === 0,
        () => `kernel at ${hex(p.kernel.start)} from base ${hex(p.kernel.base)}`,
      );
      invariant(p.dtbAddress % 8 === 0, () => `DTB at ${hex(p.dtbAddress)} not 8-byte aligned`);
      invariant(
        (p.initrd === undefined) === (initrd.length === 0),
        () => `initrd of ${initrd.length} bytes placed at ${describe(p.initrd)}`,
      );
      const at = (address: number, length: number) =>
        ramBuffer.subarray(address - ramBase, address - ramBase + length);
      const copied = at(p.entry, kernel.length);
      invariant(
        copied[0] === kernel[0] && copied[kernel.length - 1] === kernel[kernel.length - 1],
        () => `kernel bytes not at ${hex(p.entry)}`,
      );
      let placed;
      try {
        placed = parseFdt(at(p.dtb.start, p.dtb.end - p.dtb.start));
      } catch (e) {
        throw new Error(`the DTB placed at ${hex(p.dtb.start)} does not parse: ${e}`, { cause: e });
      }
      if (patchDtb) {
        const range = getInitrdRange(placed);
        invariant(
          (range === undefined && p.initrd === undefined) ||
            (range?.start === p.initrd?.start && range?.end === p.initrd?.end),
          () => `patched /chosen says ${describe(range)}, initrd is at ${describe(p.initrd)}`,
        );
      }
    }

    // The classic entry point with the same images, at the addresses placed or asked for.
    let failure: unknown;
    const entry = linux_setup_images(
      ram,
      kernel,
      r.orOdd(() => kernel.length),
      dtb,
      dtbAddress ?? plan?.dtbAddress ?? ramBase + 8 * MiB,
      r.orOdd(() => dtb.length),
      initrd,
      initrdAddress ?? plan?.initrd?.start ?? 0,
      r.orOdd(() => initrd.length),
      (e) => failure = e,
    );
    invariant(
      entry === -1 ? failure instanceof LoaderError : failure === undefined && entry >= ramBase,
      () => `linux_setup_images returned ${entry} with ${failure}`,
    );
    // It wraps whatever it catches; a cause other than the packages' errors is a hidden crash.
    const cause = (failure as LoaderError | undefined)?.cause;
    if (cause !== undefined && !(cause instanceof LoaderError || cause instanceof FdtError)) {
      throw cause;
    }
    const classic = entry === -1 ? (failure as LoaderError).code : "ok";
    return `setup ${result} classic ${classic}`;
  }

  return {
    name: "placement",
    description: "setupLinuxImages, linux_setup_images and planLinuxPlacement on random sizes",
    maxLength: 256,
    seeds(): Uint8Array[] {
      // Inputs are choices, not files: a few fixed byte strings, then the mutator's work.
      return [
        new Uint8Array(32),
        new Uint8Array(32).fill(1),
        new Uint8Array(48).map((_, i) => i * 37),
        new Uint8Array(48).fill(0xff),
      ];
    },
    run(input: Uint8Array): string {
      const r = new ByteReader(input);
      return r.u8() % 4 === 0 ? numbers(r) : setup(r);
    },
  };
}

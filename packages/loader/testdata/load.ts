/**
 * Test fixtures: the committed DTBs and a fresh guest RAM bank.
 *
 * @module
 */

import type { GuestRam } from "../guest_ram.ts";

/** Reads `testdata/<name>.dtb` (built from `<name>.dts` by `build.sh`). */
export function readDtbFixture(name: string): Uint8Array {
  return Deno.readFileSync(new URL(`./${name}.dtb`, import.meta.url));
}

/** A zeroed RAM bank (256 MiB at 0x40000000 unless told otherwise). */
export function makeRam(base = 0x4000_0000, size = 256 * 1024 * 1024): GuestRam {
  return { base, bytes: new Uint8Array(size) };
}

/** A recognisable initrd of `size` bytes. */
export function makeInitrd(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

/** The bytes of `ram` at guest-physical `address`. */
export function at(ram: GuestRam, address: number, length: number): Uint8Array {
  return ram.bytes.subarray(address - ram.base, address - ram.base + length);
}

let spare: GuestRam | undefined;

/**
 * A zeroed 256 MiB bank at 0x40000000 for calls expected to fail without
 * writing anything. One buffer serves every such test: reading a fresh
 * 256 MiB buffer page-faults its way through most of a second, a warm one
 * takes milliseconds. {@link untouched} zeroes it again if a call did write.
 */
export function failureRam(): GuestRam {
  spare ??= makeRam();
  return spare;
}

/** True when no byte of `ram` has been written. */
export function untouched(ram: GuestRam): boolean {
  const clean = allZero(ram);
  // Keep the shared failure bank usable for the next test.
  if (!clean && ram === spare) spare.bytes.fill(0);
  return clean;
}

function allZero(ram: GuestRam): boolean {
  const { bytes } = ram;
  // Word-wise: a byte-wise every() over 256 MiB takes seconds.
  const words = Math.floor(bytes.length / 4);
  const u32 = bytes.byteOffset % 4 === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, words)
    : new Uint32Array(bytes.slice(0, words * 4).buffer);
  for (let i = 0; i < u32.length; i++) if (u32[i] !== 0) return false;
  for (let i = words * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

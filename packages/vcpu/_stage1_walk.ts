/**
 * The level at which the guest's own stage-1 table walk for a virtual
 * address reads a table entry from unbacked memory: what a synchronous
 * external abort on a table walk reports (FSC 0x14 + level). The engine only
 * says that a walk failed at stage 2, not at which stage-1 level, so the
 * VMM walks the guest's tables itself (EL1&0 regime, any granule).
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import { SYSREGS } from "./sysregs.ts";

const ADDRESS_MASK = 0x0000_ffff_ffff_fffen;

/**
 * Walks the tables for `va` through `readRam` (a 64-bit little-endian read of
 * guest RAM, `undefined` where there is none) and returns the level of the
 * first entry that cannot be read. Returns 0 when the walk never reaches
 * unbacked memory (the engine disagreed with the tables; level 0 is the
 * least wrong answer).
 */
export function stage1WalkLevel(
  engine: Engine,
  va: bigint,
  readRam: (address: number) => bigint | undefined,
): number {
  const tcr = engine.readSys(SYSREGS.TCR_EL1);
  const upper = ((va >> 55n) & 1n) === 1n;
  const tsz = Number((upper ? tcr >> 16n : tcr) & 0x3fn);
  const tg = Number((tcr >> (upper ? 30n : 14n)) & 3n);
  // TG0: 0 4 KiB, 1 64 KiB, 2 16 KiB. TG1: 1 16 KiB, 2 4 KiB, 3 64 KiB.
  const granuleBits = upper ? [12, 14, 12, 16][tg] : [12, 16, 14, 12][tg];
  const stride = granuleBits - 3;
  const inputBits = 64 - tsz;
  let level = 4 - Math.ceil((inputBits - granuleBits) / stride);
  let table = engine.readSys(upper ? SYSREGS.TTBR1_EL1 : SYSREGS.TTBR0_EL1) & ADDRESS_MASK;
  const granuleMask = BigInt((1 << granuleBits) - 1);
  for (; level <= 3; level++) {
    const shift = BigInt(granuleBits + stride * (3 - level));
    // The first level may index more than one granule's worth of entries.
    const bits = level === 4 - Math.ceil((inputBits - granuleBits) / stride)
      ? BigInt(inputBits) - shift
      : BigInt(stride);
    const index = (va >> shift) & ((1n << bits) - 1n);
    const address = Number((table & ~7n) + index * 8n);
    const desc = readRam(address);
    if (desc === undefined) return level;
    if ((desc & 3n) !== 3n || level === 3) return 0;
    table = desc & ADDRESS_MASK & ~granuleMask;
  }
  return 0;
}

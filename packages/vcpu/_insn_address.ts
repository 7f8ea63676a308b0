/**
 * The virtual address an A64 load or store accesses, from its encoding and
 * the registers before it executes.
 *
 * Why: on Unicorn 2.1 and later a memory hook is told the guest-physical
 * address of an access, but watchpoints match virtual addresses: an access
 * to the same physical page through another mapping (a kernel's linear map)
 * must not fire. The instruction at the hook's PC says which virtual address
 * it used. Only the first byte is computed; each access of the instruction
 * lies within its first 4 KiB, so the page offset of the physical address
 * places the access exactly.
 *
 * The encodings are those of ARMv8.0 to 8.4 (ARM ARM C4.1.66, "Loads and
 * Stores"): SIMD structures, exclusives and acquire/release, literal loads,
 * pairs, and single registers with every addressing mode, atomics included.
 *
 * @module
 */

/** What {@link accessAddress} returns for an instruction that is not a load or store it knows. */
export const NOT_AN_ACCESS = -1n;

const MASK64 = 0xffff_ffff_ffff_ffffn;

function signed(value: number, bits: number): number {
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

/**
 * The first virtual address instruction `insn` at `pc` accesses, given `x`
 * (register n's value before the instruction; 31 is the stack pointer), or
 * {@link NOT_AN_ACCESS}.
 */
export function accessAddress(insn: number, pc: bigint, x: (n: number) => bigint): bigint {
  if ((insn & 0x0a00_0000) !== 0x0800_0000) return NOT_AN_ACCESS;
  const rn = (insn >>> 5) & 31;
  const base = () => x(rn);
  const plus = (offset: number | bigint) => (base() + BigInt(offset)) & MASK64;
  // SIMD load/store multiple or single structures, with or without post-index.
  if ((insn & 0xbe00_0000) === 0x0c00_0000) return base();
  // Exclusives, acquire/release, compare-and-swap.
  if ((insn & 0x3f00_0000) === 0x0800_0000) return base();
  // LDAPR/STLR with an unscaled offset (RCpc).
  if ((insn & 0x3f20_0c00) === 0x1900_0000) return plus(signed((insn >>> 12) & 0x1ff, 9));
  // Load register (literal).
  if ((insn & 0x3b00_0000) === 0x1800_0000) {
    return (pc + BigInt(signed((insn >>> 5) & 0x7_ffff, 19) * 4)) & MASK64;
  }
  const vector = (insn & 0x0400_0000) !== 0;
  // Pairs: no-allocate, post-index, offset, pre-index.
  if ((insn & 0x3800_0000) === 0x2800_0000) {
    const opc = insn >>> 30;
    const scale = vector ? 2 + opc : 2 + (opc >>> 1);
    if (((insn >>> 23) & 3) === 1) return base();
    return plus(signed((insn >>> 15) & 0x7f, 7) * (1 << scale));
  }
  if ((insn & 0x3800_0000) !== 0x3800_0000) return NOT_AN_ACCESS;
  const size = insn >>> 30;
  const opc = (insn >>> 22) & 3;
  const scale = vector && (opc & 2) !== 0 ? 4 : size;
  // Unsigned 12-bit offset.
  if ((insn & 0x0100_0000) !== 0) return plus(((insn >>> 10) & 0xfff) * (1 << scale));
  if ((insn & 0x0020_0000) === 0) {
    // Unscaled, post-index, unprivileged, pre-index: a signed 9-bit offset.
    if (((insn >>> 10) & 3) === 1) return base();
    return plus(signed((insn >>> 12) & 0x1ff, 9));
  }
  switch ((insn >>> 10) & 3) {
    case 0: // atomic memory operations
      return base();
    case 2: { // register offset
      const rm = (insn >>> 16) & 31;
      const option = (insn >>> 13) & 7;
      let index = rm === 31 ? 0n : x(rm);
      if ((option & 3) === 2) {
        index = option === 6 ? BigInt.asIntN(32, index) : BigInt.asUintN(32, index);
      } else if (option !== 3 && option !== 7) {
        return NOT_AN_ACCESS;
      }
      const amount = (insn & 0x1000) !== 0 ? BigInt(scale) : 0n;
      return plus(index << amount);
    }
    default: // LDRAA/LDRAB: pointer authentication, not on the supported CPU models
      return NOT_AN_ACCESS;
  }
}

/**
 * Whether `insn` is an unprivileged load or store (LDTR/STTR and their
 * sizes), which watchpoints match as an access from EL0.
 */
export function isUnprivileged(insn: number): boolean {
  return (insn & 0x3b20_0c00) === 0x3800_0800;
}

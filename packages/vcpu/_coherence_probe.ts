/**
 * Start-up probe: does this engine drop translated code when the guest
 * stores to its page through another virtual address?
 *
 * 2.0.1 sends every store through its slow path, which drops the
 * translations of the page stored to, whatever the address used. 2.1.x lets
 * stores take the fast path after the first one through each virtual page
 * and re-arms the check only for the virtual page code ran at, so a store
 * through an alias (a kernel's linear map) leaves stale code behind. Rather
 * than trust a version number, a scratch engine is asked.
 *
 * @module
 */

import { Engine } from "./engine.ts";
import type { UnicornSymbols } from "./symbols.ts";
import { SYSREGS } from "./sysregs.ts";

const RAM = 0x4000_0000;
const TABLE = RAM + 0x8000;
const ALIAS = 0x8000_0000; // VA of the second 1 GiB block: the same RAM, never executable
const CODE = RAM + 0x2000;

const MOVZ_X0 = (imm: number) => 0xd280_0000 | (imm << 5);
const RET = 0xd65f_03c0;
const BLOCK = 0x701n; // 1 GiB block, AF, inner shareable, MAIR attribute 0
const XN = (1n << 53n) | (1n << 54n);

/**
 * Runs the probe on a scratch engine: code runs at one address, then is
 * rewritten through a non-executable alias and run again. Returns whether
 * the second run saw the new code.
 */
export function probeStoresInvalidateCode(uc: UnicornSymbols): boolean {
  const engine = Engine.open(uc, "cortex-a72");
  // RAM, then 64 KiB mapped at the alias (see below); both live until the engine is closed.
  const memory = new Uint8Array(0x20000);
  try {
    const ram = memory.subarray(0, 0x10000);
    const words = new Uint32Array(ram.buffer);
    const dv = new DataView(ram.buffer);
    // 39-bit VAs from level 1: entry 1 maps RAM executable, entry 2 the alias.
    dv.setBigUint64(TABLE - RAM + 8, BigInt(RAM) | BLOCK, true);
    dv.setBigUint64(TABLE - RAM + 16, BigInt(RAM) | BLOCK | XN, true);
    words.set([
      0xb900_0061, // str  w1, [x3]   new code through the alias
      0xd63f_0080, // blr  x4         run it
      0xaa00_03e5, // mov  x5, x0
      0xb900_0062, // str  w2, [x3]   newer code through the alias
      0xd63f_0080, // blr  x4         run it again
      0xd400_0002, // hvc  #0
    ]);
    words[(CODE - RAM) / 4 + 1] = RET;
    engine.mapPtr(RAM, ram);
    // 2.0.1 checks virtual addresses against its physical map before it
    // translates them (see address_space.ts); the alias needs something there.
    engine.mapPtr(ALIAS, memory.subarray(0x10000));
    engine.writeSys(SYSREGS.MAIR_EL1, 0xffn);
    // T0SZ 25, inner/outer write-back, inner shareable, 4 KiB granule, EPD1, 40-bit PA.
    engine.writeSys(
      SYSREGS.TCR_EL1,
      25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n),
    );
    engine.writeSys(SYSREGS.TTBR0_EL1, BigInt(TABLE));
    engine.writeSys(SYSREGS.SCTLR_EL1, engine.readSys(SYSREGS.SCTLR_EL1) | 0x1005n);
    engine.writeX(1, BigInt(MOVZ_X0(1)));
    engine.writeX(2, BigInt(MOVZ_X0(2)));
    engine.writeX(3, BigInt(ALIAS + (CODE - RAM)));
    engine.writeX(4, BigInt(CODE));
    // Ends at the HVC: without an interrupt hook the engine halts there.
    engine.start(BigInt(RAM), 100);
    return engine.readX(5) === 1n && engine.readX(0) === 2n;
  } finally {
    engine.close();
    memory.fill(0);
  }
}

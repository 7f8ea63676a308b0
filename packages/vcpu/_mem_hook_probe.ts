/**
 * Start-up probe: does this engine tell memory hooks the virtual address of
 * an access, or the physical one?
 *
 * Unicorn 2.0's load and store helpers call the hooks with the address the
 * guest used (`addr`); 2.1 calls them with the physical address the MMU
 * translated it to (`paddr`, in `qemu/accel/tcg/cputlb.c`). Watchpoints
 * match virtual addresses, so the vCPU must know which it gets; rather than
 * trust a version number, a scratch engine with the MMU on is asked.
 *
 * @module
 */

import { UC_HOOK_MEM_READ } from "./constants.ts";
import { Engine } from "./engine.ts";
import type { UnicornSymbols } from "./symbols.ts";
import { SYSREGS } from "./sysregs.ts";

const RAM = 0x4000_0000;
const TABLE = RAM + 0x8000;
/** VA of the second 1 GiB block: the same RAM, seen at another address. */
const ALIAS = 0x8000_0000;
const DATA = 0x1000;
const BLOCK = 0x701n; // 1 GiB block, AF, inner shareable, MAIR attribute 0

/**
 * Runs the probe: a load through the alias, with a read hook over every
 * address. Returns true when the hook saw the virtual address.
 */
export function probeMemoryHooksVirtual(uc: UnicornSymbols): boolean {
  const engine = Engine.open(uc, "cortex-a72");
  const ram = new Uint8Array(0x10000);
  // 2.0.1 checks virtual addresses against its physical map before it
  // translates them (see address_space.ts): the alias needs something there.
  const alias = new Uint8Array(0x10000);
  let seen = -1n;
  const hook = new Deno.UnsafeCallback(
    { parameters: ["pointer", "i32", "u64", "i32", "i64", "pointer"], result: "void" } as const,
    (_uc, _type, address) => {
      seen = address;
    },
  );
  try {
    const dv = new DataView(ram.buffer);
    // 39-bit VAs from level 1: entry 1 maps RAM at its own address, entry 2 at the alias.
    dv.setBigUint64(TABLE - RAM + 8, BigInt(RAM) | BLOCK, true);
    dv.setBigUint64(TABLE - RAM + 16, BigInt(RAM) | BLOCK, true);
    new Uint32Array(ram.buffer).set([
      0xf940_0020, // ldr x0, [x1]
      0xd400_0002, // hvc #0
    ]);
    engine.mapPtr(RAM, ram);
    engine.mapPtr(ALIAS, alias);
    engine.writeSys(SYSREGS.MAIR_EL1, 0xffn);
    // T0SZ 25, inner/outer write-back, inner shareable, 4 KiB granule, EPD1, 40-bit PA.
    engine.writeSys(
      SYSREGS.TCR_EL1,
      25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n),
    );
    engine.writeSys(SYSREGS.TTBR0_EL1, BigInt(TABLE));
    engine.writeSys(SYSREGS.SCTLR_EL1, engine.readSys(SYSREGS.SCTLR_EL1) | 0x1005n);
    engine.writeX(1, BigInt(ALIAS + DATA));
    engine.hookAdd(UC_HOOK_MEM_READ, hook.pointer, undefined, null, { begin: 1n, end: 0n });
    // Ends at the HVC: without an interrupt hook the engine halts there.
    engine.start(BigInt(RAM), 100);
    return seen === BigInt(ALIAS + DATA);
  } finally {
    engine.close();
    hook.close();
  }
}

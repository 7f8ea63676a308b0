/**
 * Makes Unicorn 2.0.1 recompute the CPU state it caches for translated code.
 *
 * Why: 2.0.1 computes that state (the exception level, security state and
 * MMU regime its memory accesses use) when the CPU is created, in Secure
 * EL1, and again only at exception entries, exception returns and guest
 * writes to system registers; register writes through the API do not
 * refresh it (2.1 does). Until the guest happens to do one of those, its
 * accesses would go through the Secure EL1 regime, which has no stage 2, so
 * an access to an unbacked address would read the catch-all covers instead
 * of faulting (`_stage2.ts`). Two instructions of guest code, a system
 * register read back into itself, make the engine recompute it; they run
 * once from a scratch page before anything else is mapped.
 *
 * @module
 */

import type { Engine } from "./engine.ts";
import { UC_ERR_FETCH_UNMAPPED } from "./constants.ts";
import { VcpuError } from "./errors.ts";

const SCRATCH = 0;
// mrs x0, tpidr_el1; msr tpidr_el1, x0: nothing changes but x0, which the
// reset state overwrites; then a branch off the page, which ends the run
// with an unmapped fetch. (WFI would leave the engine halted for the next
// run; counting instructions would leave the engine's count hook behind.)
const STUB = [0xd538d080, 0xd518d080, 0x14000400];

/** Runs the refresh on `engine`, which must have nothing mapped at 0 yet. */
export function refreshCachedState(engine: Engine): void {
  const page = new Uint8Array(0x1000);
  const view = new DataView(page.buffer);
  STUB.forEach((word, i) => view.setUint32(4 * i, word, true));
  engine.mapPtr(SCRATCH, page);
  try {
    const err = engine.start(BigInt(SCRATCH), 0);
    if (err !== UC_ERR_FETCH_UNMAPPED) {
      throw new VcpuError("ENGINE_ERROR", `the engine's state refresh stopped with error ${err}`);
    }
  } finally {
    // Nothing translated from the scratch page may outlive it (2.0.1 keeps
    // translations of unmapped memory); this drops just that page, while it
    // is still mapped and the MMU is off.
    engine.flushCode(SCRATCH, page.byteLength);
    engine.unmap(BigInt(SCRATCH), BigInt(page.byteLength));
  }
}

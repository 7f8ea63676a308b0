/**
 * Run by `hot_run_loop_test.ts` in a subprocess, because what it checks can
 * abort the whole process: a run loop that has become hot (optimized by V8)
 * on guests that never touch the virtual timer, then a fresh vCPU whose guest
 * writes CNTV_CTL_EL0. The write reaches the vCPU's MSR hook, a JavaScript
 * callback inside `uc_emu_start`; changing the timer's state there invalidates
 * what the optimized `Vcpu.run` assumed about it, and V8 cannot deoptimize a
 * frame that is inside a fast API call.
 *
 * Prints `<exit reason> <timer control>` and exits 0 when the process survives.
 *
 * @module
 */

import { UnicornLibrary } from "../library.ts";
import { Vcpu } from "../vcpu.ts";
import { SYSREGS } from "../sysregs.ts";
import { Asm } from "./a64.ts";

const RAM = 0x4000_0000;
const DEVICE = 0x0b00_0000;

using library = UnicornLibrary.open();

// 20 guests x 2000 short runs, each guest storing to a device in a loop.
for (let k = 0; k < 20; k++) {
  using vcpu = new Vcpu({ library, sliceInstructions: 1000 });
  const ram = new Uint8Array(0x1_0000);
  ram.set(
    new Asm(RAM).mov(2, DEVICE).label("loop").addi(1, 1, 1).strw(1, 2, 0).b("loop").assemble(),
  );
  vcpu.mapRam(RAM, ram);
  let writes = 0;
  vcpu.mapMmio(DEVICE, 0x1000, () => {
    writes++;
  });
  vcpu.setEntry(RAM, 0);
  for (let i = 0; i < 2000; i++) vcpu.run();
  if (writes === 0) throw new Error("the warm-up guest did not run");
}

using vcpu = new Vcpu({ library, onTimerLevel: () => {} });
const ram = new Uint8Array(0x1_0000);
ram.set(new Asm(RAM).mov(1, 1).msr(SYSREGS.CNTV_CTL_EL0, 1).hvc(0).assemble());
vcpu.mapRam(RAM, ram);
vcpu.setEntry(RAM, 0);
const exit = vcpu.run();
console.log(exit.reason, vcpu.timer.control);

// The debug registers are the vCPU's, never the engine's: a guest that arms a hardware breakpoint
// through them once crashed the host process inside the engine. What they make the guest take is
// proved by guests/vcpu/debug_*.c (guest_programs_test.ts).
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import { Vcpu } from "./vcpu.ts";
import type { SysReg } from "./sysregs.ts";
import { Asm } from "./testdata/a64.ts";

const library = UnicornLibrary.open();
const RAM = 0x4000_0000;

const dbg = (name: string, op1: number, crn: number, crm: number, op2: number): SysReg => ({
  name,
  op0: 2,
  op1,
  crn,
  crm,
  op2,
});
const OSLAR = dbg("OSLAR_EL1", 0, 1, 0, 4);
const OSLSR = dbg("OSLSR_EL1", 0, 1, 1, 4);
const MDSCR = dbg("MDSCR_EL1", 0, 0, 2, 2);
const DBGBVR0 = dbg("DBGBVR0_EL1", 0, 0, 0, 4);
const DBGBCR0 = dbg("DBGBCR0_EL1", 0, 0, 0, 5);
const DBGWVR1 = dbg("DBGWVR1_EL1", 0, 0, 1, 6);
const DBGWCR1 = dbg("DBGWCR1_EL1", 0, 0, 1, 7);
const KDE_MDE = (1n << 13n) | (1n << 15n);

Deno.test("debug registers: armed with PSTATE.D set, they read back and EL1 takes nothing", () => {
  const a = new Asm(RAM)
    .mrs(20, OSLSR) // reset: OS lock set
    .msr(OSLAR, 31) // OSLAR_EL1 = 0: unlock
    .mrs(21, OSLSR)
    .adr(1, "target")
    .msr(DBGBVR0, 1)
    .mov(2, 0x1e7)
    .msr(DBGBCR0, 2)
    .mov(3, KDE_MDE)
    .msr(MDSCR, 3)
    .mov(4, RAM + 0x8000)
    .msr(DBGWVR1, 4)
    .mov(5, 0x1ff7)
    .msr(DBGWCR1, 5)
    .isb() // PSTATE.D stays set: EL1 takes no breakpoint or watchpoint exception
    .mrs(22, DBGBVR0)
    .mrs(23, DBGBCR0)
    .mrs(24, MDSCR)
    .mrs(25, DBGWCR1)
    .label("target")
    .mov(0, 0x600d)
    .strw(0, 4, 0) // a write to the watched address
    .hvc(0);
  using vcpu = new Vcpu({ library });
  const ram = new Uint8Array(0x20_0000);
  ram.set(a.assemble());
  vcpu.mapRam(RAM, ram);
  vcpu.setEntry(RAM, 0);
  let exit = vcpu.run();
  while (exit.reason === "preempted") exit = vcpu.run();
  assert.equal(exit.reason, "hvc");
  assert.equal(vcpu.getX(0), 0x600dn, "the code at the breakpoint ran");
  assert.equal(vcpu.getX(20), 0b1010n, "OSLSR_EL1 at reset: lock implemented and set");
  assert.equal(vcpu.getX(21), 0b1000n, "OSLSR_EL1 after OSLAR_EL1 = 0: unlocked");
  assert.equal(vcpu.getX(22), vcpu.getX(1), "DBGBVR0_EL1 reads back");
  assert.equal(vcpu.getX(23), 0x1e7n, "DBGBCR0_EL1 reads back");
  assert.equal(vcpu.getX(24), KDE_MDE, "MDSCR_EL1 reads back");
  assert.equal(vcpu.getX(25), 0x1ff7n, "DBGWCR1_EL1 reads back");
  // A reset clears them and locks again.
  vcpu.reset();
  vcpu.setEntry(RAM, 0);
  exit = vcpu.run();
  while (exit.reason === "preempted") exit = vcpu.run();
  assert.equal(vcpu.getX(20), 0b1010n);
});

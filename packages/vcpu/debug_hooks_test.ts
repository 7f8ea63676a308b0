// The engine's debug instrumentation costs nothing while the guest debugs nothing: the memory
// hook every load and store would call exists only while the guest has enabled a watchpoint
// (and debug is on: MDSCR_EL1.MDE, the OS lock clear), and goes when debug is off again.
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import { Engine } from "./engine.ts";
import { DebugRegisters, MDSCR_EL1, OSLAR_EL1, slotKey } from "./_debug_registers.ts";
import { GuestDebug } from "./_guest_debug.ts";
import { DebugHooks, type DebugTenant } from "./_debug_hooks.ts";
import { HostDebugPoints } from "./debug_points.ts";

const MDE = 1n << 15n;
const KDE = 1n << 13n;
const WCR_STORE_EL0_EL1 = 0x1ff7n; // E, PAC EL0 and EL1, loads and stores, BAS 0xff
const BCR_EL0_EL1 = 0x1e7n;

function open() {
  const library = UnicornLibrary.open();
  const engine = Engine.open(library.symbols, "cortex-a72");
  const regs = new DebugRegisters();
  const guest = new GuestDebug(regs, engine);
  // deno-lint-ignore no-explicit-any
  const callbacks: Deno.UnsafeCallback<any>[] = [];
  const tenant: DebugTenant = {
    guest,
    stopForDebug: () => {},
    markForDebug: () => {},
    deliver: () => {},
    fail: (e) => {
      throw e;
    },
  };
  const hooks = new DebugHooks(new HostDebugPoints(), {
    engine,
    tenant: () => tenant,
    memoryHooksVirtual: () => library.memoryHooksVirtual,
    engineCounts: true,
    isRam: () => false,
    saveState: () => {},
    restoreState: () => {},
    budget: undefined,
    instructionCount: undefined,
    callbacks,
  });
  hooks.register(guest);
  return {
    regs,
    hooks,
    [Symbol.dispose]() {
      hooks.close();
      engine.close();
      for (const cb of callbacks) cb.close();
    },
  };
}

Deno.test("debug hooks: the memory hook only while a watchpoint is enabled and debug is on", () => {
  using t = open();
  const { regs, hooks } = t;
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "out of reset: no hook");

  // Enabled while the OS lock is set (reset state): nothing can fire, nothing is hooked.
  regs.write(slotKey(1, 6), 0x8000n);
  regs.write(slotKey(1, 7), WCR_STORE_EL0_EL1);
  regs.write(MDSCR_EL1, MDE | KDE);
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "OS lock set");

  regs.write(OSLAR_EL1, 0n);
  assert.equal(hooks.syncNeeded, true, "the run in progress must end to add the hook");
  hooks.prepare();
  assert.equal(hooks.watchHooked, true, "watchpoint enabled, MDE set, unlocked");

  // Linux turns E off and on around each hit: the hook stays while debug is on.
  regs.write(slotKey(1, 7), WCR_STORE_EL0_EL1 & ~1n);
  hooks.prepare();
  assert.equal(hooks.watchHooked, true, "E cleared while MDE stays set");

  regs.write(MDSCR_EL1, 0n);
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "MDE cleared: the hook goes");

  regs.write(MDSCR_EL1, MDE);
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "MDE set again, no watchpoint enabled");

  // Breakpoints need code hooks on their addresses only, never the memory hook.
  regs.write(slotKey(0, 4), 0x4000_0000n);
  regs.write(slotKey(0, 5), BCR_EL0_EL1);
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "a breakpoint alone");
  assert.equal(hooks.codeHookCount, 1, "one code hook, on the breakpoint's address");

  regs.write(slotKey(1, 7), WCR_STORE_EL0_EL1);
  hooks.prepare();
  assert.equal(hooks.watchHooked, true);
  regs.write(OSLAR_EL1, 1n);
  hooks.prepare();
  assert.equal(hooks.watchHooked, false, "OS lock set again: everything goes");
  assert.equal(hooks.codeHookCount, 0);
});

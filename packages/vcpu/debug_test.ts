// A host debugger on real vCPUs: breakpoints without patching memory, steps of exactly one
// instruction, watchpoints that stop before the access, and memory by virtual address — with
// each slice counter, on whichever engine VMKIT_UNICORN_PATH names.
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import { type SliceCounter, Vcpu } from "./vcpu.ts";
import { VcpuGroup } from "./vcpu_group.ts";
import { VcpuError } from "./errors.ts";
import { SYSREGS } from "./sysregs.ts";
import { Asm, COND } from "./testdata/a64.ts";

const library = UnicornLibrary.open();
const RAM = 0x4000_0000;
const DATA = RAM + 0x10000;
const DEVICE = 0x0900_0000;
const COUNTERS: SliceCounter[] = library.blockHook ? ["native", "engine"] : ["engine"];

const STP_X0_X1_X2 = 0xa900_0440; // stp x0, x1, [x2]
const LDP_X3_X4_X2 = 0xa940_1043; // ldp x3, x4, [x2]

function machine(code: Uint8Array, sliceCounter: SliceCounter) {
  const vcpu = new Vcpu({ library, sliceCounter });
  const ram = new Uint8Array(0x20_0000);
  ram.set(code);
  vcpu.mapRam(RAM, ram);
  vcpu.setEntry(RAM, 0);
  return { vcpu, ram, view: new DataView(ram.buffer) };
}

/** Runs until an exit other than `preempted`. */
function runOn(vcpu: Vcpu) {
  for (let i = 0; i < 1000; i++) {
    const exit = vcpu.run();
    if (exit.reason !== "preempted") return exit;
  }
  throw new Error("the guest never stopped");
}

// mov x0, #0; mov x1, #DATA; loop: add x0, x0, #1; str x0, [x1]; add x5, x5, #1;
// ldr x2, [x1]; subs x3, x3, #1; b.ne loop; hvc #0
function loopProgram() {
  return new Asm(RAM).mov(0, 0).mov(1, DATA).label("loop").addi(0, 0, 1).str(0, 1, 0)
    .addi(5, 5, 1).ldr(2, 1, 0).subsi(3, 3, 1).bcond(COND.ne, "loop").hvc(0);
}
const LOOP = RAM + 0xc;
const STORE = LOOP + 4;
const LOAD = LOOP + 12;

for (const counter of COUNTERS) {
  Deno.test(`host breakpoints (${counter} slices): before the instruction, memory untouched`, () => {
    const code = loopProgram().assemble();
    const { vcpu, ram } = machine(code, counter);
    try {
      vcpu.setX(3, 3);
      const points = vcpu.debug.points;
      points.addBreakpoint(BigInt(LOAD));
      let exit = runOn(vcpu);
      assert.equal(exit.reason, "debug");
      assert.deepEqual({ ...exit.debug }, {
        kind: "breakpoint",
        address: BigInt(LOAD),
        access: undefined,
      });
      assert.equal(vcpu.getPc(), BigInt(LOAD));
      assert.equal(vcpu.getX(5), 1n, "the instruction before ran");
      assert.equal(vcpu.getX(2), 0n, "the instruction at the breakpoint did not");
      assert.deepEqual(ram.subarray(0, code.length), code, "guest memory is not patched");
      // A run starting on a breakpoint stops at once: the debugger steps off it first.
      exit = runOn(vcpu);
      assert.equal(exit.reason, "debug");
      assert.equal(vcpu.getPc(), BigInt(LOAD));
      exit = vcpu.step();
      assert.equal(exit.reason, "debug");
      assert.equal(exit.debug.kind, "step");
      assert.equal(vcpu.getPc(), BigInt(LOAD + 4));
      assert.equal(vcpu.getX(2), 1n, "a step executes the instruction under a breakpoint");
      // Next time round the loop.
      exit = runOn(vcpu);
      assert.equal(exit.debug.kind, "breakpoint");
      assert.equal(vcpu.getX(5), 2n);
      assert.equal(points.removeBreakpoint(BigInt(LOAD)), true);
      exit = runOn(vcpu);
      assert.equal(exit.reason, "hvc");
      assert.equal(vcpu.getX(0), 3n);
      assert.throws(() => points.addBreakpoint(BigInt(LOAD + 1)), VcpuError);
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`host steps (${counter} slices): exactly one instruction, through branches`, () => {
    const { vcpu } = machine(loopProgram().assemble(), counter);
    try {
      vcpu.setX(3, 2);
      const pcs: bigint[] = [];
      for (;;) {
        const exit = vcpu.step();
        if (exit.reason === "hvc") break;
        assert.equal(exit.reason, "debug");
        assert.equal(exit.debug.kind, "step");
        assert.equal(exit.debug.address, vcpu.getPc());
        assert.equal(exit.instructions, 1);
        pcs.push(vcpu.getPc());
      }
      const body = [STORE, STORE + 4, LOAD, LOAD + 4, LOAD + 8].map(BigInt);
      assert.deepEqual(pcs, [
        ...[RAM + 4, RAM + 8, LOOP].map(BigInt),
        ...body,
        BigInt(LOOP),
        ...body,
        BigInt(LOAD + 12),
      ]);
      assert.equal(vcpu.getX(0), 2n);
      assert.equal(vcpu.stats.instructions, pcs.length + 1);
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`host steps (${counter} slices): an exception is one step, to its vector`, () => {
    const a = new Asm(RAM).adr(1, "vectors").msr(SYSREGS.VBAR_EL1, 1).isb().svc(7).hvc(0)
      .org(RAM + 0x800).label("vectors").org(RAM + 0xa00).mov(9, 0x99).hvc(1);
    const { vcpu } = machine(a.assemble(), counter);
    try {
      for (let i = 0; i < 3; i++) assert.equal(vcpu.step().reason, "debug");
      assert.equal(vcpu.getPc(), BigInt(RAM + 12), "at the svc");
      const exit = vcpu.step();
      assert.equal(exit.reason, "debug");
      assert.equal(exit.debug.kind, "step");
      assert.equal(vcpu.getPc(), BigInt(RAM + 0xa00), "at the EL1h synchronous vector");
      assert.equal(vcpu.readSysReg(SYSREGS.ELR_EL1), BigInt(RAM + 16));
      assert.equal(vcpu.readSysReg(SYSREGS.ESR_EL1), (0x15n << 26n) | (1n << 25n) | 7n);
      assert.equal(vcpu.getX(9), 0n, "nothing of the handler ran");
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`host steps (${counter} slices): a pending interrupt waits, then is taken`, () => {
    const a = new Asm(RAM).adr(1, "vectors").msr(SYSREGS.VBAR_EL1, 1).isb().daifclr(2)
      .label("spin").addi(4, 4, 1).b("spin")
      .org(RAM + 0x800).label("vectors").org(RAM + 0xa80).mov(9, 0x99).hvc(1);
    const { vcpu } = machine(a.assemble(), counter);
    try {
      for (let i = 0; i < 4; i++) vcpu.step();
      vcpu.setIrqLine(true);
      for (let i = 0; i < 6; i++) {
        const exit = vcpu.step();
        assert.equal(exit.reason, "debug");
        assert.ok(vcpu.getPc() < BigInt(RAM + 0x800), "no interrupt taken while stepping");
      }
      assert.equal(vcpu.getX(4), 3n);
      const exit = runOn(vcpu);
      assert.equal(exit.reason, "hvc", "the interrupt is taken when the guest runs");
      assert.equal(exit.imm, 1);
      assert.equal(vcpu.getX(9), 0x99n);
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`host watchpoints (${counter} slices): before the access, PC on it`, () => {
    const a = loopProgram();
    const { vcpu, view } = machine(a.assemble(), counter);
    try {
      vcpu.setX(3, 3);
      const points = vcpu.debug.points;
      points.addWatchpoint(BigInt(DATA), 8, "write");
      let exit = runOn(vcpu);
      assert.equal(exit.reason, "debug");
      assert.deepEqual({ ...exit.debug }, {
        kind: "watchpoint",
        address: BigInt(DATA),
        access: "write",
      });
      assert.equal(vcpu.getPc(), BigInt(STORE));
      assert.equal(vcpu.getX(0), 1n);
      assert.equal(view.getBigUint64(DATA - RAM, true), 0n, "the store has not happened");
      points.removeWatchpoint(BigInt(DATA), 8, "write");
      points.addWatchpoint(BigInt(DATA + 4), 2, "read");
      exit = runOn(vcpu);
      assert.equal(exit.debug.kind, "watchpoint");
      assert.equal(exit.debug.address, BigInt(DATA + 4), "the first watched byte accessed");
      assert.equal(exit.debug.access, "read");
      assert.equal(vcpu.getPc(), BigInt(LOAD));
      assert.equal(view.getBigUint64(DATA - RAM, true), 1n, "the store ran");
      assert.equal(vcpu.getX(2), 0n, "the load did not");
      points.clear();
      points.addWatchpoint(BigInt(DATA), 1, "access");
      exit = runOn(vcpu);
      assert.equal(exit.debug.kind, "watchpoint");
      assert.equal(vcpu.getPc(), BigInt(LOAD), "an access watchpoint sees the load too");
      points.clear();
      exit = runOn(vcpu);
      assert.equal(exit.reason, "hvc");
      assert.equal(vcpu.getX(0), 3n);
      assert.equal(vcpu.getX(2), 3n);
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`host watchpoints (${counter} slices): pairs, and the rest of the run undone`, () => {
    const a = new Asm(RAM).mov(0, 0x11).mov(1, 0x22).mov(2, DATA).word(STP_X0_X1_X2)
      .word(LDP_X3_X4_X2).addi(5, 5, 1).hvc(0);
    const { vcpu, view } = machine(a.assemble(), counter);
    try {
      vcpu.debug.points.addWatchpoint(BigInt(DATA + 8), 8, "write");
      let exit = runOn(vcpu);
      assert.equal(exit.debug.kind, "watchpoint");
      assert.equal(exit.debug.address, BigInt(DATA + 8));
      const stp = BigInt(RAM + 4 * 4);
      assert.equal(vcpu.getPc(), stp);
      assert.equal(view.getBigUint64(DATA - RAM + 8, true), 0n, "the watched half is not written");
      vcpu.debug.points.clear();
      vcpu.debug.points.addWatchpoint(BigInt(DATA + 8), 8, "read");
      exit = runOn(vcpu);
      assert.equal(exit.debug.kind, "watchpoint");
      assert.equal(vcpu.getPc(), stp + 4n);
      assert.deepEqual([vcpu.getX(3), vcpu.getX(4)], [0n, 0n], "neither register loaded");
      vcpu.debug.points.clear();
      assert.equal(runOn(vcpu).reason, "hvc");
      assert.deepEqual([vcpu.getX(3), vcpu.getX(4), vcpu.getX(5)], [0x11n, 0x22n, 1n]);
    } finally {
      vcpu.close();
    }
  });
}

/** Page tables: 39-bit VAs from level 1; VA 0 is Device, RAM at its own VA and at ALIAS. */
const TABLE = RAM + 0x1f_0000;
const ALIAS = 0x8000_0000;
function mmuOn(vcpu: Vcpu, view: DataView): void {
  view.setBigUint64(TABLE - RAM, 0x405n, true); // 1 GiB block at 0: AF, MAIR attribute 1
  view.setBigUint64(TABLE - RAM + 8, BigInt(RAM) | 0x701n, true);
  view.setBigUint64(TABLE - RAM + 16, BigInt(RAM) | 0x701n | (3n << 53n), true);
  vcpu.writeSysReg(SYSREGS.MAIR_EL1, 0x00ffn);
  vcpu.writeSysReg(
    SYSREGS.TCR_EL1,
    25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n),
  );
  vcpu.writeSysReg(SYSREGS.TTBR0_EL1, BigInt(TABLE));
  vcpu.writeSysReg(SYSREGS.SCTLR_EL1, vcpu.readSysReg(SYSREGS.SCTLR_EL1) | 0x1005n);
}

Deno.test("host watchpoints match virtual addresses: another mapping of the page does not fire", () => {
  // Stores through the alias, then through the watched address.
  const a = new Asm(RAM).mov(1, ALIAS + 0x10000).mov(2, DATA).mov(0, 5).str(0, 1, 0)
    .mov(0, 6).str(0, 2, 0).hvc(0);
  const { vcpu, view } = machine(a.assemble(), COUNTERS[0]);
  try {
    mmuOn(vcpu, view);
    vcpu.debug.points.addWatchpoint(BigInt(DATA), 8, "write");
    const exit = runOn(vcpu);
    assert.equal(exit.reason, "debug");
    assert.equal(exit.debug.address, BigInt(DATA));
    assert.equal(view.getBigUint64(DATA - RAM, true), 5n, "the store through the alias ran");
    assert.equal(vcpu.getX(0), 6n);
  } finally {
    vcpu.close();
  }
});

Deno.test("memory by virtual address: the vCPU's translation, devices refused, faults typed", () => {
  const { vcpu, view, ram } = machine(new Asm(RAM).hvc(0).assemble(), COUNTERS[0]);
  try {
    vcpu.mapMmio(DEVICE, 0x1000, () => assert.fail("a debugger read touched a device"));
    view.setUint32(DATA - RAM + 0xffc, 0x1234_5678, true);
    view.setUint32(DATA - RAM + 0x1000, 0x9abc_def0, true);
    mmuOn(vcpu, view);
    const debug = vcpu.debug;
    assert.equal(debug.translate(BigInt(ALIAS + 0x10000)), BigInt(DATA));
    const bytes = new Uint8Array(8);
    assert.deepEqual(debug.readMemory(BigInt(ALIAS + 0x10ffc), bytes), { ok: true });
    assert.deepEqual([...bytes], [0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a]);
    assert.deepEqual(debug.writeMemory(BigInt(ALIAS + 0x10ffe), Uint8Array.of(1, 2, 3)), {
      ok: true,
    });
    assert.deepEqual([...ram.subarray(DATA - RAM + 0xffe, DATA - RAM + 0x1001)], [1, 2, 3]);
    assert.deepEqual(debug.readMemory(BigInt(DEVICE), bytes), {
      ok: false,
      kind: "DEVICE",
      address: BigInt(DEVICE),
      done: 0,
    });
    assert.deepEqual(debug.readMemory(0x2000_0000n, bytes), {
      ok: false,
      kind: "UNMAPPED",
      address: 0x2000_0000n,
      done: 0,
    });
    // The tables map 3 GiB: the last byte of the RAM alias reads, the next has no translation.
    const last = BigInt(ALIAS + 0x3fff_fffc);
    assert.deepEqual(debug.readMemory(last, bytes), {
      ok: false,
      kind: "UNMAPPED",
      address: last,
      done: 0,
    });
    const edge = BigInt(RAM + 0x1f_fffc);
    assert.deepEqual(debug.readMemory(BigInt(ALIAS) + (edge - BigInt(RAM)), bytes), {
      ok: false,
      kind: "UNMAPPED",
      address: BigInt(ALIAS) + (edge - BigInt(RAM)) + 4n,
      done: 4,
    });
    assert.deepEqual(debug.readMemory(0xc000_0000n, bytes), {
      ok: false,
      kind: "NO_TRANSLATION",
      address: 0xc000_0000n,
      done: 0,
    });
    assert.equal(debug.translate(0xc000_0000n), undefined);
    assert.equal(vcpu.readSysReg(SYSREGS.PAR_EL1), 0n, "PAR_EL1 as the guest left it");
  } finally {
    vcpu.close();
  }
});

Deno.test("registers a debugger shows: SIMD&FP, FPSR, FPCR, SP, flags", () => {
  const { vcpu } = machine(new Asm(RAM).hvc(0).assemble(), COUNTERS[0]);
  try {
    const debug = vcpu.debug;
    const v = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
    debug.writeVector(31, v);
    const back = new Uint8Array(16);
    debug.readVector(31, back);
    assert.deepEqual(back, v);
    debug.fpcr = 0x0300_0000;
    debug.fpsr = 0x10;
    assert.equal(debug.fpcr, 0x0300_0000);
    assert.equal(debug.fpsr, 0x10);
    debug.setSp(0x4010_0000n);
    assert.equal(vcpu.getSp(), 0x4010_0000n);
    const pstate = vcpu.getPstate() & 0xffff_ffffn;
    debug.setFlags(0x6000_0000n | 0xcn);
    const now = vcpu.getPstate() & 0xffff_ffffn;
    assert.equal(now & 0xf000_0000n, 0x6000_0000n, "NZCV written");
    assert.equal(now & 0xfn, pstate & 0xfn, "the mode is not a debugger's to change");
    assert.throws(() => debug.readVector(32, back), RangeError);
  } finally {
    vcpu.close();
  }
});

Deno.test("host breakpoints apply to every vCPU of the engine", () => {
  using group = new VcpuGroup({ library, count: 2 });
  const ram = new Uint8Array(0x20_0000);
  ram.set(new Asm(RAM).addi(0, 0, 1).addi(0, 0, 1).hvc(0).assemble());
  group.mapRam(RAM, ram);
  const [a, b] = group.vcpus;
  for (const v of group.vcpus) v.setEntry(RAM, 0);
  a.debug.points.addBreakpoint(BigInt(RAM + 4));
  assert.equal(b.debug.points, a.debug.points);
  for (const v of [a, b]) {
    const exit = runOn(v);
    assert.equal(exit.reason, "debug");
    assert.equal(v.getPc(), BigInt(RAM + 4));
    assert.equal(v.getX(0), 1n);
  }
});

for (const counter of COUNTERS) {
  Deno.test(`host breakpoints (${counter} slices): interrupts raised mid-run return where they came from`, () => {
    // The loop stores a counter to a device, which raises the IRQ line at every seventh; the
    // handler acknowledges it and counts. A breakpoint that is never reached is set meanwhile.
    const N = 2000;
    const a = new Asm(RAM).adr(1, "vectors").msr(SYSREGS.VBAR_EL1, 1).isb().mov(3, DEVICE)
      .mov(5, N).daifclr(2)
      .label("loop").addi(4, 4, 1).strw(4, 3, 0).subsi(5, 5, 1).bcond(COND.ne, "loop")
      .daifset(2).hvc(0).label("never").nop().hvc(9)
      .org(RAM + 0x800).label("vectors").org(RAM + 0xa80)
      .strw(31, 3, 4).addi(6, 6, 1).eret();
    const { vcpu } = machine(a.assemble(), counter);
    try {
      vcpu.mapMmio(DEVICE, 0x1000, (access) => {
        if (!access.write) return void (access.value = 0);
        if (access.offset === 0 && access.value % 7 === 0) vcpu.setIrqLine(true);
        if (access.offset === 4) vcpu.setIrqLine(false);
      });
      vcpu.debug.points.addBreakpoint(BigInt(RAM + 0x7f0));
      const exit = runOn(vcpu);
      assert.equal(exit.reason, "hvc");
      assert.equal(exit.imm, 0);
      assert.equal(vcpu.getX(4), BigInt(N), "every iteration ran once");
      assert.equal(vcpu.getX(6), BigInt(Math.floor(N / 7)), "every interrupt was taken once");
    } finally {
      vcpu.close();
    }
  });
}

for (const counter of COUNTERS) {
  Deno.test(`host breakpoints (${counter} slices): a line raised just before a stop is taken once the points are gone`, () => {
    // The device raises the IRQ line while the breakpoint's code hooks hold it back; the
    // breakpoint on the very next instruction ends the run before it is applied. With the
    // breakpoint removed, the next run has no hooks, and must apply the line all the same:
    // the guest waits in WFI for it.
    const a = new Asm(RAM).adr(1, "vectors").msr(SYSREGS.VBAR_EL1, 1).isb().mov(3, DEVICE)
      .daifclr(2).strw(4, 3, 0).label("after").nop().label("wait").wfi().b("wait")
      .org(RAM + 0x800).label("vectors").org(RAM + 0xa80).hvc(7);
    const { vcpu } = machine(a.assemble(), counter);
    try {
      vcpu.mapMmio(DEVICE, 0x1000, (access) => {
        if (access.write) vcpu.setIrqLine(true);
        else access.value = 0;
      });
      const after = BigInt(RAM + 0x18);
      vcpu.debug.points.addBreakpoint(after);
      let exit = runOn(vcpu);
      assert.equal(exit.reason, "debug");
      assert.equal(vcpu.getPc(), after, "stopped at the breakpoint, the interrupt not yet taken");
      vcpu.debug.points.removeBreakpoint(after);
      for (let i = 0; i < 20 && (exit = vcpu.run()).reason !== "hvc"; i++);
      assert.equal(exit.reason, "hvc", "the interrupt was taken");
      assert.equal(exit.imm, 7);
    } finally {
      vcpu.close();
    }
  });
}

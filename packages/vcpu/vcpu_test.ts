import assert from "node:assert/strict";
import { UnicornLibrary, unsupportedPlatform } from "./library.ts";
import { COUNTER_FREQUENCY_HZ, type SliceCounter, Vcpu, type VcpuOptions } from "./vcpu.ts";
import { VcpuError } from "./errors.ts";
import type { MmioAccess } from "./exits.ts";
import { SYSREGS } from "./sysregs.ts";
import { Asm, COND } from "./testdata/a64.ts";

const RAM = 0x4000_0000;
const UART = 0x0900_0000;

const library = UnicornLibrary.open();

/** Both ways of counting slices, where this machine has them. */
const COUNTERS: SliceCounter[] = library.blockHook ? ["native", "engine"] : ["engine"];

/** A vCPU with 2 MiB of RAM at RAM holding `code` at its start. */
function machine(
  code: Uint8Array,
  opts: { slice?: number } & Omit<VcpuOptions, "library" | "sliceInstructions"> = {},
) {
  const { slice, ...options } = opts;
  const vcpu = new Vcpu({ library, sliceInstructions: slice, ...options });
  const ram = new Uint8Array(0x20_0000);
  ram.set(code);
  vcpu.mapRam(RAM, ram);
  vcpu.setEntry(RAM, 0);
  return { vcpu, ram, view: new DataView(ram.buffer) };
}

function runUntil(vcpu: Vcpu, reason: string, max = 1000) {
  for (let i = 0; i < max; i++) {
    const exit = vcpu.run();
    if (exit.reason === reason) return exit;
    if (exit.reason !== "preempted") {
      throw new Error(
        `expected ${reason}, got ${exit.reason} at pc 0x${vcpu.getPc().toString(16)}`,
      );
    }
  }
  throw new Error(`no ${reason} exit after ${max} runs`);
}

Deno.test("library: version and calibrated layout", () => {
  assert.ok(library.version.major >= 2);
  const layout = library.layout;
  assert.ok(layout.contextSize > 0);
  assert.ok(layout.syndromeOffset >= 0 && layout.syndromeOffset < layout.contextSize);
  assert.ok(layout.faultAddressOffset >= 0 && layout.faultAddressOffset < layout.contextSize);
  assert.notEqual(layout.instructionCounterOffset, undefined);
});

Deno.test("library: a missing library names what to install", () => {
  assert.throws(
    () => UnicornLibrary.open({ path: "/nonexistent/libunicorn.so.2" }),
    (e: unknown) =>
      e instanceof VcpuError && e.code === "LIBRARY_NOT_FOUND" &&
      /\/nonexistent\/libunicorn\.so\.2/.test(e.message) &&
      /apt-get install libunicorn2/.test(e.message) && /dnf install unicorn/.test(e.message) &&
      /brew install unicorn/.test(e.message),
  );
});

Deno.test("cpu model: max is refused with the reason, a53 runs", () => {
  assert.throws(
    () => new Vcpu({ library, cpuModel: "max" }),
    (e: unknown) =>
      e instanceof VcpuError && e.code === "UNSUPPORTED_CPU_MODEL" && /SVE/.test(e.message),
  );
  const code = new Asm(RAM).mrs(1, SYSREGS.MIDR_EL1).hvc(0).assemble();
  const { vcpu } = machine(code, { cpuModel: "cortex-a53" });
  try {
    runUntil(vcpu, "hvc");
    // MIDR part number 0xD03 is Cortex-A53.
    assert.equal((vcpu.getX(1) >> 4n) & 0xfffn, 0xd03n);
  } finally {
    vcpu.close();
  }
});

Deno.test("start state: EL1h with DAIF masked, non-secure EL2/EL3 set up, MPIDR from the id", () => {
  using vcpu = new Vcpu({ library, id: 3 });
  assert.equal(vcpu.getPstate() & 0x3cfn, 0x3c5n);
  // NS, HCE and RW; bits 5:4 are RES1 and read back set.
  assert.equal(vcpu.readSysReg(SYSREGS.SCR_EL3) & 0x50fn, 0x501n);
  // RW, IMO and VM (stage 2 catches unbacked addresses), and TPU and TID2
  // where the engine needs cache maintenance trapped.
  const tpu = library.storesInvalidateCode ? 0n : (1n << 24n) | (1n << 17n);
  assert.equal(vcpu.readSysReg(SYSREGS.HCR_EL2), 0x8000_0011n | tpu);
  assert.equal(vcpu.readSysReg(SYSREGS.VMPIDR_EL2) & 0xffn, 3n);
  assert.equal(vcpu.readSysReg(SYSREGS.CNTFRQ_EL0), BigInt(COUNTER_FREQUENCY_HZ));
  assert.equal(vcpu.readSysReg(SYSREGS.SCTLR_EL1) & 1n, 0n);
});

Deno.test("hvc and smc: immediate and x0-x7 reported, results returned in x0-x3", () => {
  const a = new Asm(RAM);
  for (let n = 0; n < 8; n++) a.mov(n, 0x1111_0000n * BigInt(n + 1) + BigInt(n));
  a.hvc(0x42).mov(9, 0).add(9, 9, 0).add(9, 9, 1).smc(7).add(9, 9, 0).hvc(0);
  const { vcpu } = machine(a.assemble());
  try {
    let exit = runUntil(vcpu, "hvc");
    assert.equal(exit.imm, 0x42);
    for (let n = 0; n < 8; n++) {
      assert.equal(exit.args[n], 0x1111_0000n * BigInt(n + 1) + BigInt(n));
    }
    vcpu.setX(0, 5);
    vcpu.setX(1, 6);
    exit = runUntil(vcpu, "smc");
    assert.equal(exit.imm, 7);
    vcpu.setX(0, 100);
    exit = runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(9), 111n);
    assert.equal(vcpu.stats.hvc, 2);
    assert.equal(vcpu.stats.smc, 1);
  } finally {
    vcpu.close();
  }
});

Deno.test("mmio: each access is decoded into one record; 8-byte accesses arrive as two", () => {
  const a = new Asm(RAM).mov(1, UART).mov(2, 0xdead_beefn).strw(2, 1, 0x10).strb(2, 1, 0x3)
    .ldrw(3, 1, 0x20).ldrb(4, 1, 0x24).mov(5, 0x0123_4567_89ab_cdefn).str(5, 1, 0x28)
    .ldr(6, 1, 0x30).hvc(0);
  const { vcpu } = machine(a.assemble());
  const seen: MmioAccess[] = [];
  vcpu.mapMmio(UART, 0x1000, (acc) => {
    if (!acc.write) acc.value = acc.offset === 0x24 ? 0x1ff : 0x8000_0000 + acc.offset;
    seen.push({ ...acc });
  });
  try {
    runUntil(vcpu, "hvc");
    const rec = seen.map((s) =>
      `${s.write ? "W" : "R"} ${s.address.toString(16)} +${s.offset.toString(16)} ${s.size} ${
        s.value.toString(16)
      }`
    );
    assert.deepEqual(rec, [
      "W 9000010 +10 4 deadbeef",
      "W 9000003 +3 1 ef",
      "R 9000020 +20 4 80000020",
      "R 9000024 +24 1 1ff",
      "W 9000028 +28 4 89abcdef",
      "W 900002c +2c 4 1234567",
      "R 9000030 +30 4 80000030",
      "R 9000034 +34 4 80000034",
    ]);
    assert.equal(vcpu.getX(3), 0x8000_0020n);
    assert.equal(vcpu.getX(4), 0xffn, "a byte read returns only the low byte");
    assert.equal(vcpu.getX(6), 0x8000_0034_8000_0030n);
    assert.equal(vcpu.stats.mmioReads, 4);
    assert.equal(vcpu.stats.mmioWrites, 4);
  } finally {
    vcpu.close();
  }
});

Deno.test("unbacked physical accesses are synchronous external aborts, counted and reported", () => {
  // A store, a load and a fetch at addresses with nothing behind them, with
  // the MMU off: each is an abort with FSC 0x10 at the access, FAR its address.
  const a = new Asm(RAM);
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).isb()
    .mov(1, 0x1_2345_6780n).mov(2, 77).mov(3, 99);
  const store = a.here;
  a.str(2, 1, 0).ldr(3, 1, 8)
    .mov(4, 0x0800_0000).adr(30, "back").word(0xd61f0080) // br x4
    .label("back").hvc(9);
  a.org(RAM + 0x800).label("vectors").org(RAM + 0x800 + 0x200)
    .mrs(10, SYSREGS.ESR_EL1).mrs(11, SYSREGS.FAR_EL1).mrs(12, SYSREGS.ELR_EL1).hvc(2).eret();
  const reports: string[] = [];
  const { vcpu } = machine(a.assemble(), {
    onUnbackedAccess: (acc) =>
      reports.push(`${acc.write ? "W" : "R"} ${acc.address.toString(16)} ${acc.size}`),
  });
  try {
    const seen: bigint[][] = [];
    for (;;) {
      const exit = runUntil(vcpu, "hvc");
      if (exit.imm === 9) break;
      const [esr, far, elr] = [vcpu.getX(10), vcpu.getX(11), vcpu.getX(12)];
      seen.push([esr, far, elr]);
      // Skip the access; a fetch returns to the caller.
      vcpu.writeSysReg(SYSREGS.ELR_EL1, esr >> 26n === 0x21n ? vcpu.getX(30) : elr + 4n);
    }
    assert.deepEqual(seen, [
      [0x9600_0050n, 0x1_2345_6780n, BigInt(store)],
      [0x9600_0010n, 0x1_2345_6788n, BigInt(store + 4)],
      [0x8600_0010n, 0x0800_0000n, 0x0800_0000n],
    ]);
    assert.equal(vcpu.getX(3), 99n, "the load wrote nothing");
    assert.equal(vcpu.stats.unbackedWrites, 1);
    assert.equal(vcpu.stats.unbackedReads, 2);
    assert.equal(vcpu.stats.lastUnbackedAddress, 0x0800_0000);
    assert.equal(vcpu.stats.exceptions, 3);
    // The size is known when the syndrome carries it (single-register accesses).
    assert.deepEqual(reports, ["W 123456780 8", "R 123456788 8", "R 8000000 0"]);
  } finally {
    vcpu.close();
  }
});

Deno.test("slice counter: native on x86-64 Linux, otherwise the engine's count with the reason", () => {
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") {
    assert.equal(library.sliceCounterUnavailable, undefined);
    using vcpu = new Vcpu({ library });
    assert.equal(vcpu.sliceCounter, "native");
  } else {
    assert.match(library.sliceCounterUnavailable ?? "", /\w/);
    assert.throws(
      () => new Vcpu({ library, sliceCounter: "native" }),
      (e) => e instanceof VcpuError && e.code === "INVALID_ARGUMENT",
    );
  }
  using engineCounted = new Vcpu({ library, sliceCounter: "engine" });
  assert.equal(engineCounted.sliceCounter, "engine");
});

for (const sliceCounter of COUNTERS) {
  Deno.test(`slices (${sliceCounter}): a guest spinning forever is preempted after the slice`, () => {
    // Two-instruction blocks: the native counter stops at a block boundary, so
    // with an even slice both counters stop after exactly the slice.
    const a = new Asm(RAM).label("spin").addi(1, 1, 1).b("spin");
    const { vcpu } = machine(a.assemble(), { slice: 10_000, sliceCounter });
    try {
      for (let i = 0; i < 5; i++) {
        const exit = vcpu.run();
        assert.equal(exit.reason, "preempted");
        assert.equal(exit.instructions, 10_000);
      }
      assert.equal(vcpu.getX(1), 25_000n);
      assert.equal(vcpu.stats.instructions, 50_000);
    } finally {
      vcpu.close();
    }
  });

  Deno.test(`stop requested from an MMIO handler (${sliceCounter}) ends the run without replaying code`, () => {
    // Each iteration bumps a counter in memory and one in a register, across
    // blocks, then writes the register to a device; a stop that re-ran part of
    // a block would make memory, register and device disagree.
    const a = new Asm(RAM).mov(1, RAM + 0x10000).mov(2, UART).label("loop")
      .ldr(3, 1, 0).addi(3, 3, 1).str(3, 1, 0).b("next").label("next")
      .addi(4, 4, 1).strw(4, 2, 0).b("loop");
    const { vcpu, view } = machine(a.assemble(), { slice: 50_000, sliceCounter });
    let writes = 0;
    let last = 0;
    vcpu.mapMmio(UART, 0x1000, (access) => {
      assert.equal(access.value, last + 1, "each device write carries the next count");
      last = access.value;
      if (++writes % 1000 === 0) vcpu.requestStop();
    });
    try {
      let stops = 0;
      for (let i = 0; i < 200 && stops < 20; i++) {
        const exit = vcpu.run();
        if (exit.reason === "stopped") {
          stops++;
          // The native counter stops at the next block boundary: the loop
          // block after the 1000th write. The engine's count only at the end
          // of the slice.
          if (sliceCounter === "native") assert.equal(writes, stops * 1000);
        } else {
          assert.equal(exit.reason, "preempted");
        }
      }
      assert.equal(stops, 20);
      const mem = view.getBigUint64(0x10000, true);
      const reg = vcpu.getX(4);
      assert.ok(mem - reg === 0n || mem - reg === 1n, `memory ${mem} vs register ${reg}`);
      assert.equal(reg, BigInt(writes));
    } finally {
      vcpu.close();
    }
  });
}

for (const sliceCounter of COUNTERS) {
  Deno.test(
    `irq line (${sliceCounter}): raised by a device while the guest computes, taken ${
      sliceCounter === "native" ? "at the next block" : "by the end of the slice"
    }`,
    () => {
      // The guest unmasks IRQs and counts in x4, telling the device each count;
      // the device raises the line at count 100. The handler saves the count.
      const a = new Asm(RAM);
      a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).isb().mov(2, UART).daifclr(2)
        .label("loop").addi(4, 4, 1).strw(4, 2, 0).b("loop");
      a.org(RAM + 0x800).label("vectors").org(RAM + 0x800 + 0x280).mov(9, 0).addi(9, 4, 0)
        .hvc(7);
      const { vcpu } = machine(a.assemble(), { slice: 1_000_000, sliceCounter });
      vcpu.mapMmio(UART, 0x1000, (access) => {
        if (access.write && access.value === 100) vcpu.setIrqLine(true);
      });
      try {
        // Without the block hook the engine notices the line only when the
        // slice ends; the next run takes it at once.
        const exit = sliceCounter === "native" ? vcpu.run() : runUntil(vcpu, "hvc", 2);
        assert.equal(exit.reason, "hvc");
        assert.equal(exit.imm, 7);
        const taken = Number(vcpu.getX(9));
        if (sliceCounter === "native") assert.equal(taken, 100, "taken before the next count");
        else assert.ok(taken > 100 && taken <= 1_000_000 / 3, `taken at count ${taken}`);
      } finally {
        vcpu.close();
      }
    },
  );
}

Deno.test("exceptions: SVC and UDF at EL1 land on the guest's vector with ESR, ELR and SPSR right", () => {
  const a = new Asm(RAM);
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).isb().svc(0x1234).label("after_svc").udf()
    .label("after_udf").hvc(1);
  a.org(RAM + 0x800).label("vectors").org(RAM + 0x800 + 0x200)
    // Current EL, SPx, synchronous: record and skip UDF / return after SVC.
    .mrs(10, SYSREGS.ESR_EL1).mrs(11, SYSREGS.ELR_EL1).mrs(12, SYSREGS.SPSR_EL1).hvc(2)
    .eret();
  const { vcpu } = machine(a.assemble());
  try {
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(10), 0x5600_1234n, "ESR of SVC #0x1234 from AArch64");
    const afterSvc = vcpu.getX(11);
    assert.equal(afterSvc, BigInt(RAM + 16), "ELR after SVC points past it");
    assert.equal(vcpu.getX(12) & 0x3cfn, 0x3c5n, "SPSR holds EL1h with DAIF masked");
    // Second exception: the UDF right after the SVC.
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(10), 0x0200_0000n, "ESR of an undefined instruction");
    assert.equal(vcpu.getX(11), BigInt(RAM + 16), "ELR at the undefined instruction");
    // Skip the UDF as a kernel emulating it would.
    vcpu.writeSysReg(SYSREGS.ELR_EL1, vcpu.getX(11) + 4n);
    const last = runUntil(vcpu, "hvc");
    assert.equal(last.imm, 1);
    assert.equal(vcpu.stats.exceptions, 2);
    assert.equal(vcpu.readSysReg(SYSREGS.VBAR_EL1), BigInt(RAM + 0x800), "VBAR restored");
  } finally {
    vcpu.close();
  }
});

Deno.test("exceptions: a guest without vectors is reported as an exception loop", () => {
  // VBAR_EL1 = 0 points at unbacked memory: fetching the vector is an
  // instruction abort (a synchronous external abort, IFSC 0x10), again and again.
  const a = new Asm(RAM).udf();
  const { vcpu } = machine(a.assemble());
  try {
    const exit = runUntil(vcpu, "exception-loop");
    assert.equal(exit.exception, 3);
    assert.equal(exit.syndrome, 0x8600_0010);
  } finally {
    vcpu.close();
  }
});

Deno.test("irq line: taken at the EL1h IRQ vector only when PSTATE.I is clear", () => {
  const a = new Asm(RAM);
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).isb().hvc(1) // host raises the line
    .mov(5, 0).mov(6, 1000).label("masked").subsi(6, 6, 1).bcond(COND.ne, "masked")
    .hvc(2) // x5 must still be 0
    .daifclr(2).nop().nop().hvc(3).label("hang").b("hang");
  a.org(RAM + 0x800).label("vectors").org(RAM + 0x800 + 0x280)
    .mov(5, 0x280).mrs(7, SYSREGS.ELR_EL1).hvc(4).eret();
  const { vcpu } = machine(a.assemble());
  try {
    runUntil(vcpu, "hvc");
    vcpu.setIrqLine(true);
    let exit = runUntil(vcpu, "hvc");
    assert.equal(exit.imm, 2);
    assert.equal(vcpu.getX(5), 0n, "not taken while masked");
    exit = runUntil(vcpu, "hvc");
    assert.equal(exit.imm, 4, "the IRQ handler ran");
    assert.equal(vcpu.getX(5), 0x280n);
    vcpu.setIrqLine(false);
    exit = runUntil(vcpu, "hvc");
    assert.equal(exit.imm, 3);
  } finally {
    vcpu.close();
  }
});

Deno.test("timer and WFI: the deadline is reported, the output rises, ISTATUS reads 1", () => {
  // Far enough ahead that a loaded host does not reach it before the WFI.
  const ticks = COUNTER_FREQUENCY_HZ * 10;
  const a = new Asm(RAM).mov(1, ticks).msr(SYSREGS.CNTV_TVAL_EL0, 1).mov(2, 1)
    .msr(SYSREGS.CNTV_CTL_EL0, 2).mrs(3, SYSREGS.CNTV_CVAL_EL0).wfi()
    .mrs(4, SYSREGS.CNTV_CTL_EL0).mrs(5, SYSREGS.CNTVCT_EL0).hvc(0);
  const levels: boolean[] = [];
  const { vcpu } = machine(a.assemble(), { onTimerLevel: (l) => levels.push(l) });
  try {
    const exit = runUntil(vcpu, "wfi");
    const cval = vcpu.getX(3);
    assert.equal(exit.deadline, cval);
    assert.ok(cval > 0n && cval < BigInt(ticks) * 2n, `compare ${cval} near the start of time`);
    // Jump guest time past the deadline instead of sleeping.
    const now = vcpu.counter();
    if (now < cval) vcpu.counterOffset -= cval - now;
    assert.ok(vcpu.counter() >= cval);
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(4), 5n, "CNTV_CTL reads ENABLE | ISTATUS");
    assert.ok(vcpu.getX(5) >= cval);
    assert.deepEqual(levels, [true]);
    assert.equal(vcpu.timerLevel, true);
  } finally {
    vcpu.close();
  }
});

Deno.test("physical timer and WFI: CNTP_* are emulated, the deadline in guest ticks, the output rises", async () => {
  const ticks = COUNTER_FREQUENCY_HZ / 1000; // 1 ms
  const a = new Asm(RAM).mov(1, ticks).msr(SYSREGS.CNTP_TVAL_EL0, 1).mov(2, 1)
    .msr(SYSREGS.CNTP_CTL_EL0, 2).mrs(3, SYSREGS.CNTP_CVAL_EL0).mrs(6, SYSREGS.CNTPCT_EL0)
    .wfi().mrs(4, SYSREGS.CNTP_CTL_EL0).mrs(5, SYSREGS.CNTPCT_EL0).hvc(0);
  const physical: boolean[] = [];
  const virtual: boolean[] = [];
  const { vcpu } = machine(a.assemble(), {
    onTimerLevel: (l) => virtual.push(l),
    onPhysicalTimerLevel: (l) => physical.push(l),
  });
  try {
    const exit = runUntil(vcpu, "wfi");
    const cval = vcpu.getX(3);
    const before = vcpu.getX(6);
    assert.ok(cval > before && cval - before <= BigInt(ticks), "TVAL set CVAL from CNTPCT");
    assert.equal(vcpu.physicalTimer.compare, cval);
    // The deadline is on the guest's (virtual) counter: CVAL - CNTVOFF.
    assert.equal(exit.deadline, cval - vcpu.counterOffset);
    // The physical counter cannot be moved: sleep through the millisecond.
    await new Promise((r) => setTimeout(r, 3));
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(4), 5n, "CNTP_CTL reads ENABLE | ISTATUS");
    assert.ok(vcpu.getX(5) >= cval);
    assert.deepEqual(physical, [true]);
    assert.deepEqual(virtual, [], "the virtual timer stayed quiet");
    assert.equal(vcpu.physicalTimerLevel, true);
    assert.equal(vcpu.timerDeadline(), undefined, "a timer already firing sets no deadline");
  } finally {
    vcpu.close();
  }
});

Deno.test("timer: ISTATUS as the guest reads it always agrees with the output, even for deadlines a few ticks away", () => {
  // Linux programs deadlines that can pass while the VMM handles the write;
  // a disagreement makes its handler ignore the interrupt forever.
  const a = new Asm(RAM).mov(7, 0).label("loop")
    .mrs(1, SYSREGS.CNTVCT_EL0).add(1, 1, 7).msr(SYSREGS.CNTV_CVAL_EL0, 1)
    .mov(2, 1).msr(SYSREGS.CNTV_CTL_EL0, 2).mrs(3, SYSREGS.CNTV_CTL_EL0).hvc(0)
    .mov(2, 3).msr(SYSREGS.CNTV_CTL_EL0, 2) // mask again
    .addi(7, 7, 1).subsi(8, 7, 400).bcond(COND.ne, "loop").mov(7, 0).b("loop");
  const { vcpu } = machine(a.assemble());
  try {
    let raised = 0;
    for (let i = 0; i < 4000; i++) {
      runUntil(vcpu, "hvc");
      // Both were set from one counter reading when the run ended.
      const ctl = vcpu.readSysReg(SYSREGS.CNTV_CTL_EL0);
      assert.equal(ctl & 3n, 1n, "enabled and unmasked");
      assert.equal((ctl & 4n) !== 0n, vcpu.timerLevel, `ISTATUS ${ctl & 4n} vs output`);
      if (vcpu.timerLevel) raised++;
    }
    assert.ok(raised > 0, "some deadlines passed");
  } finally {
    vcpu.close();
  }
});

Deno.test("callbacks that throw stop the run with CALLBACK_FAILED and the cause", () => {
  const a = new Asm(RAM).mov(1, UART).strw(1, 1, 0).hvc(0);
  const { vcpu } = machine(a.assemble());
  const boom = new Error("device exploded");
  vcpu.mapMmio(UART, 0x1000, () => {
    throw boom;
  });
  try {
    assert.throws(
      () => vcpu.run(),
      (e: unknown) => e instanceof VcpuError && e.code === "CALLBACK_FAILED" && e.cause === boom,
    );
  } finally {
    vcpu.close();
  }
});

Deno.test("regions: overlaps, misalignment and size limits are refused with BAD_REGION", () => {
  using vcpu = new Vcpu({ library });
  vcpu.mapRam(RAM, new Uint8Array(0x10_0000));
  const bad = (f: () => void) =>
    assert.throws(f, (e: unknown) => e instanceof VcpuError && e.code === "BAD_REGION");
  bad(() => vcpu.mapMmio(RAM + 0x8_0000, 0x1000, () => {}));
  bad(() => vcpu.mapMmio(UART + 1, 0x1000, () => {}));
  bad(() => vcpu.mapMmio(UART, 0, () => {}));
  bad(() => vcpu.mapMmio(2 ** 48 - 0x1000, 0x2000, () => {}));
  bad(() => vcpu.mapRam(RAM + 0x20_0000, new Uint8Array(0x1001)));
});

Deno.test("reset returns to the power-on state and keeps the memory map", () => {
  const a = new Asm(RAM).mov(1, 42).daifclr(0xf).hvc(0);
  const { vcpu } = machine(a.assemble());
  try {
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getPstate() & 0x3c0n, 0n);
    vcpu.reset();
    assert.equal(vcpu.getX(1), 0n);
    assert.equal(vcpu.getPstate() & 0x3cfn, 0x3c5n);
    vcpu.setEntry(RAM, 0);
    runUntil(vcpu, "hvc");
    assert.equal(vcpu.getX(1), 42n);
  } finally {
    vcpu.close();
  }
});

Deno.test("close is idempotent and use after close says CLOSED", () => {
  const vcpu = new Vcpu({ library });
  vcpu.close();
  vcpu.close();
  assert.throws(() => vcpu.run(), (e: unknown) => e instanceof VcpuError && e.code === "CLOSED");
  assert.throws(() => vcpu.getX(0), (e: unknown) => e instanceof VcpuError && e.code === "CLOSED");
});

Deno.test("a thousand vCPUs created and closed do not grow memory", () => {
  // Each vCPU runs a few instructions, so everything a run creates (the
  // address-space covers, the slice counter's record, translated code) exists
  // before it is closed.
  const code = new Asm(RAM).mov(2, UART).strw(1, 2, 0).hvc(0).assemble();
  const cycle = () => {
    const vcpu = new Vcpu({ library });
    const ram = new Uint8Array(0x1_0000);
    ram.set(code);
    vcpu.mapRam(RAM, ram);
    vcpu.mapMmio(UART, 0x1000, () => {});
    vcpu.setEntry(RAM, 0);
    assert.equal(vcpu.run().reason, "hvc");
    vcpu.close();
  };
  // The C allocator settles first: engine-sized blocks freed early raise
  // glibc's mmap threshold, and later ones come from a heap that grows for
  // a few thousand cycles before it levels off (about 100 MiB on 2.1).
  for (let i = 0; i < 1000; i++) cycle();
  const before = Deno.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) cycle();
  const grown = Deno.memoryUsage().rss - before;
  // An engine holds tens of MiB while open; a leak of even one per cycle
  // would show as gigabytes here. What does show is garbage V8 has not
  // collected yet: each cycle's RAM and stage-2 table buffers, about 100 KiB.
  assert.ok(grown < 192 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
});

Deno.test("cache geometry: with maintenance trapped, CTR_EL0 says IDC and page-sized I-lines", () => {
  const code = new Asm(RAM)
    .mrs(1, SYSREGS.CTR_EL0)
    .mrs(2, SYSREGS.CLIDR_EL1)
    .hvc(0)
    .assemble();
  const engineCtr = (() => {
    using v = new Vcpu({ library, trapCacheMaintenance: false });
    return v.readSysReg(SYSREGS.CTR_EL0);
  })();
  for (const trap of [true, false]) {
    const { vcpu } = machine(code, { trapCacheMaintenance: trap });
    try {
      runUntil(vcpu, "hvc");
      const ctr = vcpu.getX(1);
      if (trap) {
        assert.equal(ctr & (1n << 28n), 1n << 28n, "IDC");
        assert.equal(ctr & 0xfn, 10n, "IminLine: 4 KiB");
        // Everything else is the engine's own value.
        assert.equal(ctr & ~((1n << 28n) | 0xfn), engineCtr & ~((1n << 28n) | 0xfn));
      } else {
        assert.equal(ctr, engineCtr);
      }
      // CLIDR reads the engine's value either way.
      assert.equal(vcpu.getX(2), vcpu.readSysReg(SYSREGS.CLIDR_EL1));
    } finally {
      vcpu.close();
    }
  }
});

Deno.test("translation buffer: sized on 2.1, refused with the reason on 2.0, range checked", () => {
  assert.throws(
    () => new Vcpu({ library, translationBufferBytes: 1024 }),
    (e: unknown) =>
      e instanceof VcpuError && e.code === "INVALID_ARGUMENT" && /16 MiB/.test(e.message),
  );
  if (library.canSizeTranslationBuffer) {
    using vcpu = new Vcpu({ library, translationBufferBytes: 32 * 1024 * 1024 });
    vcpu.mapRam(RAM, new Uint8Array(0x1000));
    assert.equal(vcpu.run().reason !== undefined, true);
  } else {
    assert.throws(
      () => new Vcpu({ library, translationBufferBytes: 32 * 1024 * 1024 }),
      (e: unknown) =>
        e instanceof VcpuError && e.code === "INVALID_ARGUMENT" && /2\.1 or newer/.test(e.message),
    );
  }
});

Deno.test("platforms: Apple Silicon is refused with the reason; Linux and Intel Macs are not", () => {
  assert.match(unsupportedPlatform("darwin", "aarch64") ?? "", /Apple Silicon.*variadic/s);
  assert.equal(unsupportedPlatform("darwin", "x86_64"), undefined);
  assert.equal(unsupportedPlatform("linux", "aarch64"), undefined);
  assert.equal(unsupportedPlatform("linux", "x86_64"), undefined);
});

Deno.test("reset lowers a high timer output through its listener", () => {
  const code = new Asm(RAM)
    .mov(1, 0)
    .msr(SYSREGS.CNTV_CVAL_EL0, 1) // compare value 0: fires at once
    .mov(1, 1)
    .msr(SYSREGS.CNTV_CTL_EL0, 1) // enabled, unmasked
    .hvc(0)
    .assemble();
  const levels: boolean[] = [];
  const { vcpu } = machine(code, { onTimerLevel: (level) => levels.push(level) });
  try {
    runUntil(vcpu, "hvc");
    assert.deepEqual(levels, [true]);
    vcpu.reset();
    // The interrupt controller holds the level it was last told: it must hear the fall.
    assert.deepEqual(levels, [true, false]);
    assert.equal(vcpu.timerLevel, false);
  } finally {
    vcpu.close();
  }
});

Deno.test("close from inside the vCPU's own callback is refused, and works after the run", () => {
  const code = new Asm(RAM).mov(2, UART).strw(1, 2, 0).hvc(0).assemble();
  const vcpu = new Vcpu({ library });
  const ram = new Uint8Array(0x20_0000);
  ram.set(code);
  vcpu.mapRam(RAM, ram);
  let refused: unknown;
  vcpu.mapMmio(UART, 0x1000, () => {
    try {
      vcpu.close();
    } catch (e) {
      refused = e;
    }
  });
  vcpu.setEntry(RAM, 0);
  runUntil(vcpu, "hvc");
  assert.ok(refused instanceof VcpuError && refused.code === "INVALID_STATE", String(refused));
  assert.equal(vcpu.closed, false);
  vcpu.close();
  assert.equal(vcpu.closed, true);
});

Deno.test({
  name: "translated code is watched under the permissions the vmkit command runs with",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Deno refuses a program that lacks --allow-all a read of
    // /proc/self/maps: the watch must not depend on it.
    const script = `
      import { UnicornLibrary, Vcpu } from "${new URL("./mod.ts", import.meta.url).href}";
      const vcpu = new Vcpu({ library: UnicornLibrary.open() });
      console.log(JSON.stringify({ watched: vcpu.watchesTranslations }));
      vcpu.close();
    `;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--allow-read", "--allow-env", "--allow-ffi", file],
      stdout: "piped",
      stderr: "piped",
    }).output().finally(() => Deno.remove(file));
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), { watched: true });
  },
});

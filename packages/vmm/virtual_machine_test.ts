import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { VmmError } from "./errors.ts";
import { PSCI_FN, PSCI_RET } from "./psci.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import type { VmConfig } from "./config.ts";
import { COND, GICC, GICD, guest, LOAD, print, psci, SYSREGS, UART } from "./testdata/guest.ts";

const library = UnicornLibrary.open();

function vm(config: VmConfig = {}) {
  let out = "";
  const logs: string[] = [];
  const machine = new VirtualMachine({
    memorySize: 32 * 1024 * 1024,
    library,
    console: { write: (b) => out += new TextDecoder().decode(b) },
    onLog: (m) => logs.push(m),
    ...config,
  });
  return { machine, output: () => out, logs };
}

Deno.test("vm: a bare-metal guest prints on the UART, reads the PSCI version and powers off", async () => {
  const a = guest();
  print(a, "hello from the guest\n");
  psci(a, PSCI_FN.VERSION).mov(19, 0).add(19, 19, 0);
  psci(a, PSCI_FN.SYSTEM_OFF);
  a.label("hang").b("hang");
  const { machine, output } = vm();
  try {
    const plan = await machine.loadLinux({ kernel: a.assemble() });
    assert.equal(plan.entry, LOAD);
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff");
    assert.equal(output(), "hello from the guest\n");
    assert.equal(machine.vcpus[0].getX(19), 0x1_0001n, "PSCI 1.1");
    assert.ok(exit.instructions > 40);
  } finally {
    machine.close();
  }
});

Deno.test("vm: x0 holds the device tree the loader placed, and it describes this machine", async () => {
  const a = guest();
  a.mov(19, 0).add(19, 19, 0); // keep x0
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine } = vm();
  try {
    const plan = await machine.loadLinux({ kernel: a.assemble(), cmdline: "hello=world" });
    await machine.run({ timeoutMs: 10_000 });
    assert.equal(machine.vcpus[0].getX(19), BigInt(plan.dtbAddress));
    const dtb = machine.ram.bytes.subarray(plan.dtbAddress - LOAD, plan.dtb.end - LOAD);
    const text = new TextDecoder().decode(dtb);
    assert.ok(text.includes("hello=world"));
    assert.ok(text.includes("arm,cortex-a15-gic"));
  } finally {
    machine.close();
  }
});

Deno.test("vm: console input reaches the guest through the UART", async () => {
  // Echo every received byte until '!' arrives, then power off.
  const a = guest();
  a.mov(1, UART).label("poll").ldrw(2, 1, 0x18).mov(3, 0x10).word(0x8a030044) // and x4, x2, x3
    .cbz(4, "got").b("poll").label("got").ldrw(5, 1, 0).strw(5, 1, 0).subsi(6, 5, 0x21)
    .bcond(COND.ne, "poll");
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine, output } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const running = machine.run({ timeoutMs: 10_000 });
    setTimeout(() => machine.sendInput(new TextEncoder().encode("ping!")), 50);
    const exit = await running;
    assert.equal(exit.reason, "poweroff");
    assert.equal(output(), "ping!");
  } finally {
    machine.close();
  }
});

Deno.test("vm: CPU_ON starts a secondary with its context id, and every PSCI error code is given", async () => {
  const FLAGS = LOAD + 0x8000;
  const NEG = (code: number) => BigInt.asUintN(64, BigInt(code));
  const on = (a: ReturnType<typeof guest>, target: number, entry: string | number, reg: number) => {
    a.mov(0, PSCI_FN.CPU_ON_64).mov(1, target);
    if (typeof entry === "string") a.adr(2, entry);
    else a.mov(2, entry);
    return a.mov(3, 0x55).hvc(0).mov(reg, 0).add(reg, reg, 0);
  };
  const a = guest();
  a.mov(9, FLAGS);
  on(a, 1, "second", 19); // SUCCESS
  on(a, 1, "second", 20); // ON_PENDING: the secondary has not run yet
  psci(a, PSCI_FN.AFFINITY_INFO_64, 1, 0).mov(21, 0).add(21, 21, 0); // 2: on pending
  on(a, 7, "second", 22); // INVALID_PARAMETERS: no such MPIDR
  on(a, 2, 0x1000, 23); // INVALID_PARAMETERS: entry outside RAM
  a.label("wait").ldr(6, 9, 0).cbz(6, "wait");
  on(a, 1, "second", 24); // ALREADY_ON
  a.mov(6, 1).str(6, 9, 24); // let the secondary turn itself off
  a.label("off?");
  psci(a, PSCI_FN.AFFINITY_INFO_64, 1, 0).cbz(0, "off?");
  a.mov(25, 0).add(25, 25, 0);
  psci(a, PSCI_FN.SYSTEM_OFF);
  // The secondary: records x0 and its MPIDR, then waits for leave to go.
  a.label("second").mov(9, FLAGS).str(0, 9, 8).mrs(5, SYSREGS.MPIDR_EL1).str(5, 9, 16)
    .mov(6, 1).str(6, 9, 0);
  a.label("hold").ldr(6, 9, 24).cbz(6, "hold");
  psci(a, PSCI_FN.CPU_OFF);
  a.udf();
  const { machine } = vm({ cpus: 2 });
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff");
    const x = (n: number) => machine.vcpus[0].getX(n);
    assert.equal(x(19), 0n, "CPU_ON succeeds");
    assert.equal(x(20), NEG(PSCI_RET.ON_PENDING));
    assert.equal(x(21), 2n, "AFFINITY_INFO: on pending");
    assert.equal(x(22), NEG(PSCI_RET.INVALID_PARAMETERS));
    assert.equal(x(23), NEG(PSCI_RET.INVALID_PARAMETERS));
    assert.equal(x(24), NEG(PSCI_RET.ALREADY_ON));
    assert.equal(x(25), 1n, "AFFINITY_INFO: off after CPU_OFF");
    const view = new DataView(machine.ram.bytes.buffer, machine.ram.bytes.byteOffset + 0x8000);
    assert.equal(view.getBigUint64(8, true), 0x55n, "x0 is the context id");
    assert.equal(view.getBigUint64(16, true) & 0xff_ffffn, 1n, "MPIDR Aff0 is the vCPU index");
    assert.equal(view.getBigUint64(16, true) >> 31n & 1n, 1n, "MPIDR bit 31 (RES1)");
  } finally {
    machine.close();
  }
});

Deno.test("vm: unknown calls get NOT_SUPPORTED; onCall answers the embedder's own", async () => {
  const a = guest();
  psci(a, 0xc600_0001, 5).mov(19, 0).add(19, 19, 0);
  psci(a, 0xc600_0002).mov(20, 0).add(20, 20, 0);
  a.mov(0, PSCI_FN.VERSION).smc(0).mov(21, 0).add(21, 21, 0); // wrong conduit
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine } = vm({
    onCall: (call) => call.args[0] === 0xc600_0001n ? call.args[1] * 2n : undefined,
  });
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    await machine.run({ timeoutMs: 10_000 });
    const notSupported = BigInt.asUintN(64, -1n);
    assert.equal(machine.vcpus[0].getX(19), 10n);
    assert.equal(machine.vcpus[0].getX(20), notSupported);
    assert.equal(machine.vcpus[0].getX(21), notSupported);
  } finally {
    machine.close();
  }
});

Deno.test("vm: a guest without exception vectors ends the run as a crash", async () => {
  const a = guest().udf();
  const { machine } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "crash");
    assert.match(exit.message, /keeps faulting on its exception vector/);
  } finally {
    machine.close();
  }
});

Deno.test("vm: a run times out, and can be stopped from the host", async () => {
  const a = guest().label("spin").b("spin");
  const { machine } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    assert.equal((await machine.run({ timeoutMs: 200 })).reason, "timeout");
    const running = machine.run();
    setTimeout(() => machine.stop(), 100);
    assert.equal((await running).reason, "stopped");
  } finally {
    machine.close();
  }
});

/** A guest that enables the GIC and the virtual timer, waits for one tick and powers off. */
function timerGuest(ticks: number) {
  const a = guest();
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0);
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0) // GICD_CTLR
    .mov(2, 1 << 27).strw(2, 1, 0x100) // ISENABLER0: PPI 27
    .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0); // PMR, CTLR
  a.mrs(20, SYSREGS.CNTVCT_EL0).mov(2, ticks).msr(SYSREGS.CNTV_TVAL_EL0, 2)
    .mov(2, 1).msr(SYSREGS.CNTV_CTL_EL0, 2).daifclr(2).label("wait").wfi().b("wait");
  a.org(LOAD + 0x800).label("vectors").org(LOAD + 0x800 + 0x280)
    .mov(1, GICC).ldrw(3, 1, 0x0c).mov(2, 3).msr(SYSREGS.CNTV_CTL_EL0, 2) // ack; mask the timer
    .strw(3, 1, 0x10).mrs(21, SYSREGS.CNTVCT_EL0);
  psci(a, PSCI_FN.SYSTEM_OFF);
  return a.assemble();
}

Deno.test("vm: the virtual timer interrupts through the GIC; host time is slept, virtual time skipped", async () => {
  for (const clock of ["host", "virtual"] as const) {
    const seconds = clock === "host" ? 0.2 : 30;
    const { machine } = vm({ clock });
    try {
      await machine.loadLinux({ kernel: timerGuest(62_500_000 * seconds) });
      const exit = await machine.run({ timeoutMs: 20_000 });
      assert.equal(exit.reason, "poweroff", clock);
      const v = machine.vcpus[0];
      assert.equal(v.getX(3), 27n, "GICC_IAR returned the virtual timer's INTID");
      const elapsed = Number(v.getX(21) - v.getX(20)) / 62_500_000;
      assert.ok(elapsed >= seconds, `${clock}: the guest saw ${elapsed} s`);
      if (clock === "host") assert.ok(exit.seconds >= seconds * 0.9, "host time was slept");
      else assert.ok(exit.seconds < seconds / 3, `virtual time was skipped (${exit.seconds} s)`);
    } finally {
      machine.close();
    }
  }
});

Deno.test("vm: the EL1 physical timer interrupts through the GIC on PPI 30", async () => {
  const a = guest();
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0);
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0) // GICD_CTLR
    .mov(2, 1 << 30).strw(2, 1, 0x100) // ISENABLER0: PPI 30
    .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0); // PMR, CTLR
  a.mrs(20, SYSREGS.CNTPCT_EL0).mov(2, 62_500 * 20).msr(SYSREGS.CNTP_TVAL_EL0, 2)
    .mov(2, 1).msr(SYSREGS.CNTP_CTL_EL0, 2).daifclr(2).label("wait").wfi().b("wait");
  a.org(LOAD + 0x800).label("vectors").org(LOAD + 0x800 + 0x280)
    .mov(1, GICC).ldrw(3, 1, 0x0c).mov(2, 3).msr(SYSREGS.CNTP_CTL_EL0, 2) // ack; mask the timer
    .strw(3, 1, 0x10).mrs(21, SYSREGS.CNTPCT_EL0);
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff");
    const v = machine.vcpus[0];
    assert.equal(v.getX(3), 30n, "GICC_IAR returned the physical timer's INTID");
    const elapsed = Number(v.getX(21) - v.getX(20)) / 62_500_000;
    assert.ok(elapsed >= 0.02, `the guest saw ${elapsed} s`);
    assert.ok(exit.seconds >= 0.018, "host time was slept, not spun");
    assert.ok(v.stats.wfi < 10, `${v.stats.wfi} WFI exits`);
  } finally {
    machine.close();
  }
});

Deno.test("vm: PSCI CPU_SUSPEND to standby sleeps until the timer interrupt is pending, then returns SUCCESS", async () => {
  // IRQs stay masked: like WFI, standby ends when an interrupt is pending.
  const a = guest();
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0).mov(2, 1 << 27).strw(2, 1, 0x100)
    .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0)
    .mrs(20, SYSREGS.CNTVCT_EL0).mov(2, 62_500 * 20).msr(SYSREGS.CNTV_TVAL_EL0, 2)
    .mov(2, 1).msr(SYSREGS.CNTV_CTL_EL0, 2);
  psci(a, PSCI_FN.CPU_SUSPEND, 0).mov(19, 0).add(19, 19, 0).mrs(21, SYSREGS.CNTVCT_EL0)
    .mov(1, GICC).ldrw(3, 1, 0x0c);
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff");
    const v = machine.vcpus[0];
    assert.equal(v.getX(19), 0n, "CPU_SUSPEND returned SUCCESS");
    const slept = Number(v.getX(21) - v.getX(20)) / 62_500_000;
    assert.ok(slept >= 0.02, `the guest was suspended for ${slept} s`);
    assert.equal(v.getX(3), 27n, "the timer interrupt that ended it is pending");
    assert.ok(exit.seconds >= 0.018, "host time was slept");
  } finally {
    machine.close();
  }
});

Deno.test("vm: a fired timer the GIC does not deliver leaves the idle guest asleep instead of spinning", async () => {
  // The timer fires after 1 ms but PPI 27 is never enabled in the GIC, so
  // nothing may wake the WFI: the run sleeps until the host's timeout.
  const a = guest();
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0).mov(1, GICC).mov(2, 0xff).strw(2, 1, 4)
    .mov(2, 1).strw(2, 1, 0).mov(2, 62_500).msr(SYSREGS.CNTV_TVAL_EL0, 2).mov(2, 1)
    .msr(SYSREGS.CNTV_CTL_EL0, 2).label("wait").wfi().b("wait");
  const { machine } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 300 });
    assert.equal(exit.reason, "timeout");
    const v = machine.vcpus[0];
    assert.ok(v.timerLevel, "the timer fired");
    assert.equal(v.irqLine, false, "the GIC kept the IRQ line low");
    assert.ok(v.stats.wfi < 10, `${v.stats.wfi} WFI exits in 300 ms`);
  } finally {
    machine.close();
  }
});

Deno.test("vm: SYSTEM_RESET reboots the images 20 times without memory growth", async () => {
  // Each boot counts itself in a byte of RAM the reboot must clear, prints
  // it, and resets; the host stops after the 20th boot.
  const a = guest();
  a.mov(9, LOAD + 0x10_0000).ldrb(10, 9, 0).addi(10, 10, 1).strb(10, 9, 0);
  print(a, "boot ").mov(1, UART).addi(2, 10, 0x30).strb(2, 1, 0).mov(2, 10).strb(2, 1, 0);
  psci(a, PSCI_FN.SYSTEM_RESET);
  const { machine, output } = vm();
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    const boots = async (n: number) => {
      const before = output().length;
      const running = machine.run({ timeoutMs: 20_000 });
      while ((output().slice(before).match(/boot 1/g) ?? []).length < n) {
        await new Promise((r) => setTimeout(r, 1));
      }
      machine.stop();
      await running;
      return output().slice(before);
    };
    await boots(5);
    const rss = Deno.memoryUsage().rss;
    const text = await boots(20);
    const grown = Deno.memoryUsage().rss - rss;
    assert.ok((text.match(/boot 1/g) ?? []).length >= 20);
    assert.doesNotMatch(text, /boot 2/, "RAM is cleared on every reboot");
    assert.ok(grown < 16 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
  } finally {
    machine.close();
  }
});

Deno.test("vm: with onReset exit a guest reboot ends the run", async () => {
  const a = guest();
  psci(a, PSCI_FN.SYSTEM_RESET);
  const { machine } = vm({ onReset: "exit" });
  try {
    await machine.loadLinux({ kernel: a.assemble() });
    assert.equal((await machine.run({ timeoutMs: 10_000 })).reason, "reset");
  } finally {
    machine.close();
  }
});

Deno.test("vm: several VMs in one process run independently", async () => {
  const make = (text: string) => {
    const a = guest();
    for (let i = 0; i < 50; i++) print(a, text);
    psci(a, PSCI_FN.SYSTEM_OFF);
    return a.assemble();
  };
  const one = vm();
  const two = vm();
  try {
    await one.machine.loadLinux({ kernel: make("a") });
    await two.machine.loadLinux({ kernel: make("b") });
    const [x, y] = await Promise.all([one.machine.run(), two.machine.run()]);
    assert.equal(x.reason, "poweroff");
    assert.equal(y.reason, "poweroff");
    assert.equal(one.output(), "a".repeat(50));
    assert.equal(two.output(), "b".repeat(50));
  } finally {
    one.machine.close();
    two.machine.close();
  }
});

Deno.test("vm: bad configurations are refused with BAD_CONFIG", () => {
  const bad = (config: VmConfig, pattern: RegExp) =>
    assert.throws(
      () => new VirtualMachine({ library, ...config }),
      (e: unknown) => e instanceof VmmError && e.code === "BAD_CONFIG" && pattern.test(e.message),
    );
  bad({ memorySize: 1000 }, /multiple of 2 MiB/);
  bad({ memorySize: 8 * 1024 * 1024 }, /at least 16 MiB/);
  bad({ memoryBase: 0x1000_0000 }, /memory base/);
  bad({ cpus: 9 }, /cpus must be 1 to 8/);
  // deno-lint-ignore no-explicit-any
  bad({ cpuModel: "max" as any }, /"max" is refused: .*SVE/);
});

Deno.test("vm: loading bad images says what and where", async () => {
  const { machine } = vm();
  try {
    await assert.rejects(
      () => machine.loadLinux({ kernel: new Uint8Array(100) }),
      (e: unknown) => e instanceof VmmError && e.code === "LOAD_FAILED" && /magic/.test(e.message),
    );
    await assert.rejects(
      () => machine.loadLinux({ kernel: guest().assemble(), dtb: new Uint8Array(64) }),
      (e: unknown) =>
        e instanceof VmmError && e.code === "LOAD_FAILED" && /device tree/.test(e.message),
    );
    await assert.rejects(
      () => machine.run(),
      (e: unknown) => e instanceof VmmError && e.code === "INVALID_STATE",
    );
  } finally {
    machine.close();
  }
});

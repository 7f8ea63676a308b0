// Several vCPUs time-sharing one engine: each keeps its own registers, identity, timers, IRQ
// line and translations, while memory and translated code are shared.
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import { VcpuGroup } from "./vcpu_group.ts";
import { VcpuError } from "./errors.ts";
import { SYSREGS } from "./sysregs.ts";
import { Asm } from "./testdata/a64.ts";

const library = UnicornLibrary.open();
const RAM = 0x4000_0000;

function runTo(vcpu: { run(): { reason: string } }, reason: string): void {
  for (let i = 0; i < 1000; i++) {
    const r = vcpu.run().reason;
    if (r === reason) return;
    if (r !== "preempted") throw new Error(`expected ${reason}, got ${r}`);
  }
  throw new Error(`no ${reason}`);
}

Deno.test("vcpu group: registers and MPIDR are per vCPU, memory is shared", () => {
  // Each vCPU adds its x0 to a shared counter in RAM and reads MPIDR.
  const code = new Asm(RAM)
    .mrs(1, SYSREGS.MPIDR_EL1)
    .mov(2, RAM + 0x1000).ldr(3, 2, 0).add(3, 3, 0).str(3, 2, 0)
    .hvc(0)
    .assemble();
  using group = new VcpuGroup({ library, count: 3 });
  const ram = new Uint8Array(0x20_0000);
  ram.set(code);
  group.mapRam(RAM, ram);
  for (const v of group.vcpus) v.setEntry(RAM, 10 ** v.id);
  for (const v of group.vcpus) runTo(v, "hvc");
  for (const v of group.vcpus) {
    assert.equal(v.getX(1) & 0xffn, BigInt(v.id), `vCPU ${v.id} reads its own MPIDR`);
    assert.equal(v.getX(0), BigInt(10 ** v.id), "x0 kept across the others' runs");
  }
  assert.equal(new DataView(ram.buffer).getBigUint64(0x1000, true), 111n);
  assert.ok(group.vcpus[0].contextSwitches >= 3);
});

Deno.test("vcpu group: each vCPU keeps its own translation regime (the TLB is flushed at each switch)", () => {
  // VA 0x8000_0000 is RAM 1 (at 0x4000_0000) through vCPU 0's tables and RAM
  // 2 (at 0x8000_0000) through vCPU 1's; each loads from it in a loop.
  const TCR = 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n);
  const code = new Asm(RAM)
    .msr(SYSREGS.TTBR0_EL1, 0)
    .mov(1, 0xff).msr(SYSREGS.MAIR_EL1, 1)
    .mov(1, TCR).msr(SYSREGS.TCR_EL1, 1).isb()
    .mrs(1, SYSREGS.SCTLR_EL1).mov(2, 0x1005).add(1, 1, 2).msr(SYSREGS.SCTLR_EL1, 1).isb()
    .label("again").mov(3, 0x8000_0100).ldr(4, 3, 0).hvc(0).b("again")
    .assemble();
  using group = new VcpuGroup({ library, count: 2 });
  const ram1 = new Uint8Array(0x20_0000);
  const ram2 = new Uint8Array(0x20_0000);
  ram1.set(code);
  const dv = new DataView(ram1.buffer);
  const block = 0x701n;
  const tables = [0x10_0000, 0x11_0000];
  for (const [i, table] of tables.entries()) {
    dv.setBigUint64(table + 8, BigInt(RAM) | block, true); // VA 1 GiB: the code, identity
    dv.setBigUint64(table + 16, BigInt(i === 0 ? RAM : 0x8000_0000) | block, true);
  }
  dv.setBigUint64(0x100, 0x1111n, true);
  new DataView(ram2.buffer).setBigUint64(0x100, 0x2222n, true);
  group.mapRam(RAM, ram1);
  group.mapRam(0x8000_0000, ram2);
  const [a, b] = group.vcpus;
  a.setEntry(RAM, RAM + tables[0]);
  b.setEntry(RAM, RAM + tables[1]);
  for (let round = 0; round < 3; round++) {
    runTo(a, "hvc");
    assert.equal(a.getX(4) & 0xffffn, 0x1111n, `round ${round}: vCPU 0 reads RAM 1`);
    runTo(b, "hvc");
    assert.equal(b.getX(4) & 0xffffn, 0x2222n, `round ${round}: vCPU 1 reads RAM 2`);
  }
});

Deno.test("vcpu group: timers and IRQ lines are per vCPU, also while another vCPU is in the engine", () => {
  const code = new Asm(RAM)
    .mov(1, 0).msr(SYSREGS.CNTV_CVAL_EL0, 1).mov(1, 1).msr(SYSREGS.CNTV_CTL_EL0, 1)
    .hvc(0)
    .assemble();
  const levels: string[] = [];
  using group = new VcpuGroup({
    library,
    count: 2,
    onTimerLevel: (cpu, level) => levels.push(`${cpu}:${level}`),
  });
  const ram = new Uint8Array(0x20_0000);
  ram.set(code);
  group.mapRam(RAM, ram);
  const [a, b] = group.vcpus;
  a.setEntry(RAM, 0);
  runTo(a, "hvc");
  assert.deepEqual(levels, ["0:true"], "only vCPU 0 armed its timer");
  assert.equal(b.timerLevel, false);
  b.setIrqLine(true); // while vCPU 0 is in the engine
  assert.equal(b.irqLine, true);
  b.reset();
  assert.equal(b.irqLine, false);
  a.reset();
  assert.deepEqual(levels, ["0:true", "0:false"]);
});

Deno.test("vcpu group: a vCPU cannot be reached from another's callback while it runs", () => {
  using group = new VcpuGroup({ library, count: 2 });
  const [a, b] = group.vcpus;
  const ram = new Uint8Array(0x20_0000);
  ram.set(new Asm(RAM).mov(2, 0x0900_0000).strw(1, 2, 0).hvc(0).assemble());
  group.mapRam(RAM, ram);
  let refused: unknown;
  group.mapMmio(0x0900_0000, 0x1000, () => {
    try {
      b.getX(0);
    } catch (e) {
      refused = e;
    }
  });
  a.setEntry(RAM, 0);
  runTo(a, "hvc");
  assert.ok(refused instanceof VcpuError && refused.code === "INVALID_STATE", String(refused));
  assert.equal(b.getX(0), 0n, "and reachable after the run");
});

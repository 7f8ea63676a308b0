import assert from "node:assert/strict";
import {
  GICC_APR0,
  GICC_BPR,
  GICC_CTLR,
  GICC_EOIR,
  GICC_IIDR,
  GICC_PMR,
  GICD_CTLR,
  GICD_ICENABLER,
  GICD_ICFGR,
  GICD_IGROUPR,
  GICD_ISACTIVER,
  GICD_ISPENDR,
  GICD_SGIR,
  Gicv2,
  SPURIOUS_INTID,
  VgicError,
} from "./mod.ts";
import { Rig } from "./testdata/harness.ts";

Deno.test("IAR is spurious when nothing is pending, disabled or masked", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  assert.equal(rig.iar(), SPURIOUS_INTID, "nothing pending");
  rig.gic.setLevel(40, true);
  assert.equal(rig.irq(), true);
  rig.wd(GICD_ICENABLER + 4, 1 << 8);
  assert.equal(rig.irq(), false);
  assert.equal(rig.iar(), SPURIOUS_INTID, "interrupt disabled");
  rig.wd(0x100 + 4, 1 << 8);
  rig.wd(GICD_CTLR, 0);
  assert.equal(rig.irq(), false);
  assert.equal(rig.iar(), SPURIOUS_INTID, "distributor disabled");
  assert.equal(rig.hppir(), SPURIOUS_INTID);
  rig.wd(GICD_CTLR, 1);
  rig.wc(GICC_CTLR, 0);
  assert.equal(rig.iar(), SPURIOUS_INTID, "CPU interface disabled");
  rig.wc(GICC_CTLR, 1);
  rig.wc(GICC_PMR, 0xa0);
  assert.equal(rig.irq(), false);
  assert.equal(rig.iar(), SPURIOUS_INTID, "priority equal to PMR is masked");
  assert.equal(rig.hppir(), 40, "HPPIR ignores the mask");
  rig.wc(GICC_PMR, 0xa1);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 40);
  assert.equal(rig.gic.stats.spuriousAcks, 5);
  // Spurious EOIs complete nothing.
  rig.eoi(SPURIOUS_INTID);
  assert.equal(rig.gic.stats.ignoredEois, 1);
  assert.equal(rig.rpr(), 0xa0);
  assert.deepEqual(rig.deactivations, []);
});

Deno.test("group gating: each group needs both its distributor and CPU-interface enable", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  rig.wd(GICD_IGROUPR + 4, 1 << 8);
  rig.gic.pulse(40);
  assert.equal(rig.irq(), false, "group 1 not enabled");
  rig.wd(GICD_CTLR, 3);
  assert.equal(rig.irq(), false, "CPU interface group 1 still off");
  rig.wc(GICC_CTLR, 2);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 40);
});

Deno.test("preemption needs a higher group priority (BPR)", () => {
  const rig = new Rig();
  rig.enableAll();
  rig.enable(40, 0x80);
  rig.enable(41, 0x70);
  rig.enable(42, 0x60);
  rig.enable(43, 0x7c);
  // BPR 4: group priority bits [7:5]; 0x80 and 0x70/0x7c are in different groups (0x80/0x60).
  rig.wc(GICC_BPR, 4);
  assert.equal(rig.rc(GICC_BPR), 4);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  assert.equal(rig.rpr(), 0x80);
  assert.equal(rig.rc(GICC_APR0), 0);
  assert.equal(rig.rc(GICC_APR0 + 8), 1 << 0, "0x80 >> 1 = level 64 is APR2 bit 0");
  rig.gic.pulse(41);
  assert.equal(rig.irq(), true, "0x70 is in group 0x60, higher than 0x80");
  assert.equal(rig.iar(), 41);
  assert.equal(rig.rpr(), 0x60);
  rig.gic.pulse(43);
  rig.gic.pulse(42);
  assert.equal(rig.irq(), false, "0x60 and 0x7c share group 0x60 with the running one");
  assert.equal(rig.hppir(), 42);
  assert.equal(rig.iar(), SPURIOUS_INTID);
  assert.equal(rig.rc(GICC_APR0 + 4), 1 << (0x30 - 32), "group 0x60 is level 48");
  rig.eoi(41);
  assert.equal(rig.rpr(), 0x80);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 42);
  assert.equal(rig.irq(), false);
  rig.eoi(42);
  assert.equal(rig.iar(), 43);
  rig.eoi(43);
  rig.eoi(40);
  assert.equal(rig.rpr(), 0xff);
  assert.equal(rig.rc(GICC_APR0 + 8), 0);
  assert.deepEqual(rig.deactivations, ["0:41", "0:42", "0:43", "0:40"]);
  assert.equal(rig.irq(), false);
});

Deno.test("BPR 0 lets any numerically lower priority preempt; BPR 7 disables preemption", () => {
  const rig = new Rig();
  rig.enableAll();
  rig.enable(40, 0x82);
  rig.enable(41, 0x80);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  rig.gic.pulse(41);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 41);
  rig.eoi(41);
  rig.eoi(40);
  rig.wc(GICC_BPR, 7);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  assert.equal(rig.rpr(), 0, "no group-priority bits: everything is one group");
  rig.enable(42, 0x00);
  rig.gic.pulse(42);
  assert.equal(rig.irq(), false);
  rig.eoi(40);
  assert.equal(rig.iar(), 42);
});

Deno.test("the highest priority wins, ties go to the lowest INTID", () => {
  const rig = new Rig();
  rig.enableAll();
  rig.enable(50, 0x90);
  rig.enable(45, 0x90);
  rig.enable(60, 0x40);
  rig.enable(20, 0x90);
  for (const id of [50, 45, 60]) rig.gic.pulse(id);
  rig.gic.pulse(20, 0);
  const order: number[] = [];
  for (let v = rig.iar(); v !== SPURIOUS_INTID; v = rig.iar()) {
    order.push(v);
    rig.eoi(v);
  }
  assert.deepEqual(order, [60, 20, 45, 50]);
});

Deno.test("edge interrupt re-pends while active and is taken again after EOI", () => {
  const rig = new Rig();
  rig.enableAll([48]);
  rig.wd(GICD_ICFGR + 12, 0x2);
  rig.gic.setLevel(48, true);
  assert.equal(rig.iar(), 48);
  assert.equal(rig.gic.interruptState(48).pending, false, "the edge latch was consumed");
  rig.gic.setLevel(48, true);
  assert.equal(rig.gic.interruptState(48).pending, false, "no new edge while high");
  rig.gic.setLevel(48, false);
  rig.gic.setLevel(48, true);
  const s = rig.gic.interruptState(48);
  assert.equal(s.pending && s.active, true, "active and pending");
  assert.equal(rig.irq(), false);
  rig.gic.setLevel(48, false);
  rig.eoi(48);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 48);
  rig.eoi(48);
  assert.equal(rig.irq(), false);
  assert.equal(rig.iar(), SPURIOUS_INTID);
  assert.deepEqual(rig.deactivations, ["0:48", "0:48"]);
});

Deno.test("level interrupt: falling line cancels pending, ISPENDR latches until acknowledged", () => {
  const rig = new Rig();
  rig.enableAll([33]);
  rig.gic.setLevel(33, true);
  assert.equal(rig.irq(), true);
  rig.gic.setLevel(33, false);
  assert.equal(rig.irq(), false);
  rig.wd(GICD_ISPENDR + 4, 1 << 1);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 33);
  rig.eoi(33);
  assert.equal(rig.irq(), false, "software pending is consumed by the acknowledge");
});

Deno.test("SGIs pend per source; IAR reports each source in bits 12:10", () => {
  const rig = new Rig({ cpus: 4 });
  rig.enableAll();
  for (let cpu = 0; cpu < 4; cpu++) rig.enable(5, 0x80, cpu);
  rig.wd(GICD_SGIR, (1 << 16) | 5, 3);
  rig.wd(GICD_SGIR, (1 << 16) | 5, 1);
  rig.wd(GICD_SGIR, (1 << 16) | 5, 1); // coalesces with the pending one from CPU 1
  assert.equal(rig.rdb(0xf20 + 5), 0b1010);
  assert.equal(rig.hppir(), (1 << 10) | 5);
  const first = rig.iar();
  assert.equal(first, (1 << 10) | 5);
  assert.equal(rig.rdb(0xf20 + 5), 0b1000);
  assert.equal(rig.irq(), false, "active and pending from CPU 3");
  rig.eoi(first);
  assert.equal(rig.irq(), true);
  const second = rig.iar();
  assert.equal(second, (3 << 10) | 5);
  // EOIR must name the source that was acknowledged.
  rig.eoi(5);
  assert.equal(rig.gic.stats.ignoredEois, 1);
  assert.equal(rig.rpr(), 0x80);
  rig.eoi(second);
  assert.equal(rig.rpr(), 0xff);
  assert.equal(rig.iar(), SPURIOUS_INTID);
  assert.deepEqual(rig.deactivations, ["0:5", "0:5"]);
});

Deno.test("SGIR target filters: list, all but self, self; reserved filter ignored", () => {
  const rig = new Rig({ cpus: 4 });
  rig.enableAll();
  for (let cpu = 0; cpu < 4; cpu++) rig.enable(7, 0x80, cpu);
  const pend = () => [0, 1, 2, 3].map((cpu) => rig.rdb(0xf20 + 7, cpu));
  rig.wd(GICD_SGIR, (1 << 24) | 7, 2);
  assert.deepEqual(pend(), [4, 4, 0, 4]);
  rig.wd(GICD_SGIR, (2 << 24) | 7, 2);
  assert.deepEqual(pend(), [4, 4, 4, 4]);
  rig.wd(GICD_SGIR, (0xff << 16) | 7, 0);
  assert.deepEqual(pend(), [5, 5, 5, 5], "target list bits past the last CPU are ignored");
  rig.wd(GICD_SGIR, (3 << 24) | (0xff << 16) | 7, 1);
  assert.deepEqual(pend(), [5, 5, 5, 5]);
  assert.equal(rig.gic.stats.badWrites, 1);
  assert.deepEqual([0, 1, 2, 3].map((c) => rig.irq(c)), [true, true, true, true]);
  // CPENDSGIR clears sources for the accessing CPU only.
  rig.wdb(0xf10 + 7, 0xff, 1);
  assert.deepEqual(pend(), [5, 0, 5, 5]);
  assert.equal(rig.irq(1), false);
  rig.wd(0xf20 + 4, 0x02 << 24, 1);
  assert.deepEqual(pend(), [5, 2, 5, 5]);
  assert.equal(rig.iar(1), (1 << 10) | 7);
});

Deno.test("EOImode 1: EOIR only drops priority, DIR deactivates, DIR ignored in mode 0", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  rig.dir(40);
  assert.equal(rig.gic.stats.ignoredEois, 1, "DIR with EOImode 0");
  assert.equal(rig.gic.interruptState(40).active, true);
  rig.eoi(40);
  rig.wc(GICC_CTLR, 1 | (1 << 9));
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  rig.eoi(40);
  assert.equal(rig.rpr(), 0xff);
  assert.equal(rig.gic.interruptState(40).active, true);
  rig.gic.pulse(40);
  assert.equal(rig.irq(), false, "active and pending waits for DIR");
  rig.dir(40);
  assert.equal(rig.irq(), true);
  rig.dir(40);
  assert.equal(rig.gic.stats.ignoredEois, 2, "DIR of an inactive interrupt");
  assert.deepEqual(rig.deactivations, ["0:40", "0:40"]);
});

Deno.test("EOIs of interrupts that are not active are ignored and counted", () => {
  const rig = new Rig();
  rig.enableAll([40, 41]);
  rig.eoi(40);
  rig.eoi(1022);
  rig.eoi(900);
  assert.equal(rig.gic.stats.ignoredEois, 3);
  // Activated by ISACTIVER, never acknowledged: not on the running-priority stack.
  rig.wd(GICD_ISACTIVER + 4, 1 << 8);
  rig.eoi(40);
  assert.equal(rig.gic.stats.ignoredEois, 4);
  assert.deepEqual(rig.deactivations, []);
  // Out-of-order completion drops exactly the named entry.
  rig.enable(41, 0x80);
  rig.enable(42, 0x40);
  rig.gic.pulse(41);
  assert.equal(rig.iar(), 41);
  rig.gic.pulse(42);
  assert.equal(rig.iar(), 42);
  rig.eoi(41);
  assert.equal(rig.rpr(), 0x40);
  rig.eoi(42);
  assert.equal(rig.rpr(), 0xff);
  assert.deepEqual(rig.deactivations, ["0:41", "0:42"]);
});

Deno.test("ICACTIVER deactivates (reported once), a later EOIR only drops priority", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  rig.wd(0x380 + 4, 1 << 8);
  assert.deepEqual(rig.deactivations, ["0:40"]);
  rig.eoi(40);
  assert.equal(rig.rpr(), 0xff);
  assert.deepEqual(rig.deactivations, ["0:40"]);
  assert.equal(rig.gic.stats.ignoredEois, 0);
});

Deno.test("CPU interface access rules: word only, RO/WO registers counted", () => {
  const rig = new Rig();
  assert.equal(rig.rc(GICC_IIDR), 0x0202143b);
  assert.equal(rig.rc(GICC_EOIR), 0);
  assert.equal(rig.rc(0x1000), 0);
  assert.equal(rig.gic.stats.badReads, 2);
  rig.wc(0x0c, 5);
  rig.wc(0x14, 5);
  rig.wc(GICC_IIDR, 5);
  assert.equal(rig.gic.stats.badWrites, 3);
  assert.equal(rig.gic.cpuInterface.read(GICC_PMR, 1, 0), 0);
  rig.gic.cpuInterface.write(GICC_PMR, 2, 0xff, 0);
  assert.equal(rig.rc(GICC_PMR), 0);
  assert.equal(rig.rc(0x2000), 0);
  assert.equal(rig.rc(0x0a0), 0, "reserved");
  rig.wc(0x1c, 3); // ABPR is not implemented
  assert.equal(rig.rc(GICC_PMR, 1), 0, "no CPU 1");
  assert.equal(rig.gic.stats.badReads, 6);
  assert.equal(rig.gic.stats.badWrites, 5);
  assert.equal(rig.gic.stats.lastBadRegion, "cpu-interface");
  assert.equal(rig.gic.stats.lastBadCpu, 1);
  assert.equal(rig.gic.stats.lastBadOffset, GICC_PMR);
  // Only the implemented CTLR bits stick.
  rig.wc(GICC_CTLR, 0xffff_ffff);
  assert.equal(rig.rc(GICC_CTLR), 0x3e3);
  rig.wc(GICC_BPR, 0xff);
  assert.equal(rig.rc(GICC_BPR), 7);
});

Deno.test("PMR changes re-evaluate the output immediately", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  rig.wc(GICC_PMR, 0);
  rig.gic.pulse(40);
  assert.equal(rig.irq(), false);
  rig.wc(GICC_PMR, 0xa8);
  assert.equal(rig.irq(), true);
  rig.wc(GICC_PMR, 0x10);
  assert.equal(rig.irq(), false);
  assert.deepEqual(rig.irqEvents, [{ cpu: 0, asserted: true }, { cpu: 0, asserted: false }]);
});

Deno.test("APRn writes are accepted and ignored: the active priorities come from the stack", () => {
  const rig = new Rig();
  rig.enableAll();
  rig.wc(GICC_BPR, 3);
  rig.enable(40, 0x90);
  rig.gic.pulse(40);
  assert.equal(rig.iar(), 40);
  // BPR 3: group priority bits [7:4], so 0x90 runs at 0x90, level 0x48 = APR2 bit 8.
  const aprs = () => [0, 1, 2, 3].map((n) => rig.rc(GICC_APR0 + 4 * n));
  assert.deepEqual(aprs(), [0, 0, 1 << 8, 0]);
  // Linux's gic_cpu_if_up clears them; a careless guest might set them all.
  for (const value of [0, 0xffff_ffff]) {
    for (let n = 0; n < 4; n++) rig.wc(GICC_APR0 + 4 * n, value);
  }
  assert.deepEqual(aprs(), [0, 0, 1 << 8, 0]);
  assert.equal(rig.rpr(), 0x90);
  assert.equal(rig.rc(GICC_BPR), 3);
  assert.equal(rig.gic.stats.badWrites, 0, "APRn are architected writable registers");
  rig.eoi(40);
  assert.deepEqual(aprs(), [0, 0, 0, 0]);
  assert.deepEqual(rig.deactivations, ["0:40"]);
});

Deno.test("deactivation: several listeners observe EOIR and, with EOImode 1, DIR", () => {
  const gic = new Gicv2({ cpus: 1 });
  const seen: string[] = [];
  gic.onDeactivate = (cpu, intid) => seen.push(`hook ${cpu}:${intid}`);
  gic.addDeactivateListener((cpu, intid) => seen.push(`a ${cpu}:${intid}`));
  const removeB = gic.addDeactivateListener((cpu, intid) => seen.push(`b ${cpu}:${intid}`));
  const d = gic.distributor;
  const c = gic.cpuInterface;
  d.write(0x000, 4, 1, 0); // GICD_CTLR.Enable
  d.write(0x100, 4, 1 << 27, 0); // enable PPI 27
  c.write(0x004, 4, 0xf0, 0); // PMR
  c.write(0x000, 4, 1, 0); // GICC_CTLR.Enable, EOImode 0
  gic.pulse(27, 0);
  assert.equal(c.read(0x00c, 4, 0), 27);
  c.write(0x010, 4, 27, 0); // EOIR: drop and deactivate
  assert.deepEqual(seen, ["hook 0:27", "a 0:27", "b 0:27"]);
  removeB();
  seen.length = 0;
  c.write(0x000, 4, 1 | (1 << 9), 0); // EOImode 1: EOIR only drops priority
  gic.pulse(27, 0);
  assert.equal(c.read(0x00c, 4, 0), 27);
  c.write(0x010, 4, 27, 0);
  assert.deepEqual(seen, [], "EOIR with EOImode 1 does not deactivate");
  c.write(0x1000, 4, 27, 0); // GICC_DIR
  assert.deepEqual(seen, ["hook 0:27", "a 0:27"]);
});

Deno.test("resetCpu: one CPU interface and its banked interrupts to power-on, the rest kept", () => {
  const rig = new Rig({ cpus: 2 });
  rig.enableAll();
  rig.enable(40, 0x80, 0, 0x02);
  rig.enable(20, 0x80, 0);
  rig.enable(21, 0x80, 1);
  rig.gic.pulse(40);
  rig.gic.pulse(20, 0);
  assert.equal(rig.iar(1), 40, "CPU 1 has SPI 40 active");
  rig.gic.pulse(21, 1);
  rig.gic.resetCpu(1);
  assert.equal(rig.irq(1), false);
  assert.equal(rig.gic.interruptState(40).active, false, "an SPI CPU 1 held is inactive");
  assert.equal(rig.gic.interruptState(21, 1).enabled, false);
  assert.equal(rig.gic.interruptState(21, 1).pending, false);
  assert.equal(rig.rc(0x004, 1), 0, "CPU 1's PMR");
  assert.equal(rig.irq(0), true, "CPU 0 keeps its pending PPI");
  assert.equal(rig.iar(0), 20);
  assert.equal(rig.rd(0x000), 1, "the distributor stays enabled");
  assert.throws(
    () => rig.gic.resetCpu(2),
    (e: unknown) => e instanceof VgicError && e.code === "INVALID_CPU",
  );
});

Deno.test("sendSgi: an SGI pending on one CPU from a given source", () => {
  const rig = new Rig({ cpus: 3 });
  rig.enableAll();
  for (let cpu = 0; cpu < 3; cpu++) rig.enable(6, 0x80, cpu);
  rig.gic.sendSgi(6, 2, 1);
  rig.gic.sendSgi(6, 1);
  assert.equal(rig.irq(0), false);
  assert.equal(rig.iar(2), 6 | (1 << 10));
  assert.equal(rig.iar(1), 6 | (1 << 10), "the source defaults to the target itself");
  const code = (c: string) => (e: unknown) => e instanceof VgicError && e.code === c;
  assert.throws(() => rig.gic.sendSgi(16, 0), code("INVALID_IRQ"));
  assert.throws(() => rig.gic.sendSgi(-1, 0), code("INVALID_IRQ"));
  assert.throws(() => rig.gic.sendSgi(1, 3), code("INVALID_CPU"));
  assert.throws(() => rig.gic.sendSgi(1, 0, 3), code("INVALID_CPU"));
});

// Replays the register traffic of the Linux GICv2 driver (drivers/irqchip/irq-gic.c) at boot
// and per interrupt, asserting the model's state after every step.
import assert from "node:assert/strict";
import {
  GICC_APR0,
  GICC_CTLR,
  GICC_IIDR,
  GICC_PMR,
  GICD_CTLR,
  GICD_ICACTIVER,
  GICD_ICENABLER,
  GICD_ICFGR,
  GICD_IPRIORITYR,
  GICD_ISACTIVER,
  GICD_ISENABLER,
  GICD_ISPENDR,
  GICD_ITARGETSR,
  GICD_SGIR,
  GICD_TYPER,
  SPURIOUS_INTID,
} from "./mod.ts";
import { Rig } from "./testdata/harness.ts";

const DEF_PRI_X4 = 0xa0a0_a0a0;
const PRI_THRESHOLD = 0xf0;
const BYPASS_MASK = 0x1e0;
const EOIMODE_NS = 1 << 9;
const VTIMER = 27;
const UART = 33;
const VIRTIO0 = 48;

/** gic_get_cpumask: the first non-zero ITARGETSR0–7 word, folded to one byte. */
function cpumask(rig: Rig, cpu: number): number {
  let mask = 0;
  for (let i = 0; i < 32; i += 4) {
    mask = rig.rd(GICD_ITARGETSR + i, cpu);
    mask |= mask >>> 16;
    mask |= mask >>> 8;
    if (mask !== 0) break;
  }
  return mask & 0xff;
}

/** gic_dist_init as run by the boot CPU; asserts along the way. Returns the INTID count. */
function distInit(rig: Rig): number {
  rig.wd(GICD_CTLR, 0);
  assert.equal(rig.rd(GICD_CTLR), 0);
  const gicIrqs = Math.min(((rig.rd(GICD_TYPER) & 0x1f) + 1) * 32, 1020);
  assert.equal(gicIrqs, rig.gic.irqs);
  let mask = cpumask(rig, 0);
  // A uniprocessor GIC's targets read as zero; Linux then sends IPIs to no one, as on QEMU.
  assert.equal(mask, rig.gic.cpus === 1 ? 0 : 0x01);
  mask |= mask << 8;
  mask |= mask << 16;
  for (let i = 32; i < gicIrqs; i += 4) rig.wd(GICD_ITARGETSR + i, mask);
  for (let i = 32; i < gicIrqs; i += 4) {
    const expected = rig.gic.cpus === 1 ? 0 : mask;
    assert.equal(rig.rd(GICD_ITARGETSR + i), expected);
  }
  // gic_dist_config: SPIs level, default priority, inactive, disabled.
  for (let i = 32; i < gicIrqs; i += 16) rig.wd(GICD_ICFGR + i / 4, 0);
  for (let i = 32; i < gicIrqs; i += 4) rig.wd(GICD_IPRIORITYR + i, DEF_PRI_X4);
  for (let i = 32; i < gicIrqs; i += 32) {
    rig.wd(GICD_ICACTIVER + i / 8, 0xffff_ffff);
    rig.wd(GICD_ICENABLER + i / 8, 0xffff_ffff);
  }
  for (let i = 32; i < gicIrqs; i += 32) {
    assert.equal(rig.rd(GICD_ICFGR + i / 4), 0);
    assert.equal(rig.rd(GICD_ISENABLER + i / 8), 0);
    assert.equal(rig.rd(GICD_ISACTIVER + i / 8), 0);
    assert.equal(rig.rd(GICD_IPRIORITYR + i), DEF_PRI_X4);
  }
  rig.wd(GICD_CTLR, 1);
  assert.equal(rig.rd(GICD_CTLR), 1);
  assert.equal(rig.irq(0), false);
  return gicIrqs;
}

/** gic_cpu_init + gic_cpu_if_up for `cpu`. */
function cpuInit(rig: Rig, cpu: number, eoiMode1 = false, legacySgiEnable = true): void {
  assert.equal(cpumask(rig, cpu), rig.gic.cpus === 1 ? 0 : 1 << cpu);
  // gic_cpu_config: banked SGIs/PPIs inactive, disabled, default priority.
  rig.wd(GICD_ICACTIVER, 0xffff_ffff, cpu);
  rig.wd(GICD_ICENABLER, 0xffff_ffff, cpu);
  assert.equal(rig.rd(GICD_ISENABLER, cpu), 0);
  assert.equal(rig.rd(GICD_ISACTIVER, cpu), 0);
  for (let i = 0; i < 32; i += 4) rig.wd(GICD_IPRIORITYR + i, DEF_PRI_X4, cpu);
  for (let i = 0; i < 32; i += 4) assert.equal(rig.rd(GICD_IPRIORITYR + i, cpu), DEF_PRI_X4);
  // Older kernels enable all SGIs here; newer ones unmask each IPI through gic_poke_irq.
  if (legacySgiEnable) rig.wd(GICD_ISENABLER, 0x0000_ffff, cpu);
  else for (let sgi = 0; sgi < 8; sgi++) rig.wd(GICD_ISENABLER, 1 << sgi, cpu);
  assert.equal(rig.rd(GICD_ISENABLER, cpu), legacySgiEnable ? 0xffff : 0xff);
  rig.wc(GICC_PMR, PRI_THRESHOLD, cpu);
  assert.equal(rig.rc(GICC_PMR, cpu), PRI_THRESHOLD);
  // gic_cpu_if_up
  const bypass = rig.rc(GICC_CTLR, cpu) & BYPASS_MASK;
  assert.equal(bypass, 0);
  for (let i = 0; i < 4; i++) rig.wc(GICC_APR0 + 4 * i, 0, cpu);
  rig.wc(GICC_CTLR, bypass | (eoiMode1 ? EOIMODE_NS : 0) | 1, cpu);
  assert.equal(rig.rc(GICC_CTLR, cpu), (eoiMode1 ? EOIMODE_NS : 0) | 1);
  assert.equal(rig.rpr(cpu), 0xff);
  assert.equal(rig.hppir(cpu), SPURIOUS_INTID);
  assert.equal(rig.irq(cpu), false);
}

/** gic_configure_irq: read-modify-write of the 2-bit field; returns whether it stuck. */
function setType(rig: Rig, intid: number, edge: boolean, cpu = 0): boolean {
  const confmask = 0x2 << ((intid % 16) * 2);
  const confoff = GICD_ICFGR + Math.floor(intid / 16) * 4;
  const old = rig.rd(confoff, cpu);
  const val = edge ? old | confmask : old & ~confmask;
  if ((val >>> 0) === old) return true;
  rig.wd(confoff, val, cpu);
  return rig.rd(confoff, cpu) === (val >>> 0);
}

/** gic_poke_irq with ISENABLER / ICENABLER. */
function poke(rig: Rig, base: number, intid: number, cpu = 0): void {
  rig.wd(base + Math.floor(intid / 32) * 4, 1 << (intid % 32), cpu);
}

function enabledBit(rig: Rig, intid: number, cpu = 0): boolean {
  return ((rig.rd(GICD_ISENABLER + Math.floor(intid / 32) * 4, cpu) >>> (intid % 32)) & 1) === 1;
}

function activeBit(rig: Rig, intid: number, cpu = 0): boolean {
  return ((rig.rd(GICD_ISACTIVER + Math.floor(intid / 32) * 4, cpu) >>> (intid % 32)) & 1) === 1;
}

function pendingBit(rig: Rig, intid: number, cpu = 0): boolean {
  return ((rig.rd(GICD_ISPENDR + Math.floor(intid / 32) * 4, cpu) >>> (intid % 32)) & 1) === 1;
}

/**
 * One gic_handle_irq invocation with EOImode 0: acknowledge until spurious, running `handler`
 * between IAR and EOIR. Returns the IAR values handled.
 */
function handleIrq(rig: Rig, cpu: number, handler: (irqstat: number) => void): number[] {
  const seen: number[] = [];
  for (;;) {
    const irqstat = rig.iar(cpu);
    const irqnr = irqstat & 0x3ff;
    if (irqnr >= 1020) break;
    assert.equal(activeBit(rig, irqnr, cpu), true);
    seen.push(irqstat);
    handler(irqstat);
    rig.eoi(irqstat, cpu);
    assert.ok(seen.length < 16, "interrupt storm");
  }
  return seen;
}

Deno.test("linux boot: gic_dist_init and gic_cpu_init on one CPU", () => {
  const rig = new Rig();
  // gic_check_gicv2: the probe accepts a CPU interface whose IIDR names a GICv2 by Arm.
  assert.equal(rig.rc(GICC_IIDR) & 0xff0fff, 0x02043b);
  assert.equal(distInit(rig), 256);
  cpuInit(rig, 0);
  assert.equal(rig.irqEvents.length, 0);
  assert.equal(rig.gic.stats.badReads + rig.gic.stats.badWrites, 0);
});

Deno.test("linux boot: secondary CPUs see their own CPU-interface mask", () => {
  const rig = new Rig({ cpus: 4 });
  distInit(rig);
  for (let cpu = 0; cpu < 4; cpu++) cpuInit(rig, cpu, false, cpu % 2 === 0);
  assert.equal(rig.rd(GICD_TYPER) >>> 5 & 7, 3);
  assert.equal(rig.rd(GICD_ITARGETSR + 32), 0x01010101);
  assert.equal(rig.gic.stats.badReads + rig.gic.stats.badWrites, 0);
});

Deno.test("linux: gic_set_type keeps PPIs/SPIs level, switches virtio SPIs to edge", () => {
  const rig = new Rig();
  distInit(rig);
  cpuInit(rig, 0);
  assert.equal(setType(rig, VTIMER, false), true);
  assert.equal(setType(rig, UART, false), true);
  assert.equal(setType(rig, VIRTIO0, true), true);
  assert.equal(rig.rd(GICD_ICFGR + 12), 0x2);
  assert.equal(rig.gic.interruptState(VIRTIO0).edgeTriggered, true);
  // A PPI can be made edge-triggered too, on the writing CPU only.
  assert.equal(setType(rig, 20, true), true);
  assert.equal(rig.rd(GICD_ICFGR + 4), 0x2 << 8);
  // SGIs are fixed edge; the driver never writes ICFGR0, and writing it is ignored.
  assert.equal(rig.rd(GICD_ICFGR), 0xaaaa_aaaa);
  assert.equal(setType(rig, 3, false), false);
  assert.equal(rig.rd(GICD_ICFGR), 0xaaaa_aaaa);
  assert.equal(rig.gic.stats.badWrites, 1);
});

Deno.test("linux: timer PPI through gic_handle_irq, level re-trigger while still high", () => {
  const rig = new Rig();
  distInit(rig);
  cpuInit(rig, 0);
  poke(rig, GICD_ISENABLER, VTIMER);
  assert.equal(enabledBit(rig, VTIMER), true);
  assert.equal(rig.irq(), false);

  rig.gic.setLevel(VTIMER, true, 0);
  assert.equal(rig.irq(), true);
  assert.equal(pendingBit(rig, VTIMER), true);
  assert.equal(rig.hppir(), VTIMER);

  // First run: the handler leaves the timer condition asserted, so after EOI it fires again.
  let seen = handleIrq(rig, 0, () => {
    assert.equal(rig.irq(), false, "running priority masks the same priority");
    assert.equal(rig.rpr(), 0xa0);
    assert.equal(rig.hppir(), SPURIOUS_INTID, "active+pending is not a candidate");
    assert.equal(pendingBit(rig, VTIMER), true, "the level keeps it pending");
    if (rig.deactivations.length === 1) rig.gic.setLevel(VTIMER, false, 0);
  });
  assert.deepEqual(seen, [VTIMER, VTIMER]);
  assert.deepEqual(rig.deactivations, ["0:27", "0:27"]);
  assert.equal(rig.irq(), false);
  assert.equal(rig.rpr(), 0xff);
  assert.equal(activeBit(rig, VTIMER), false);
  assert.equal(pendingBit(rig, VTIMER), false);

  // Masked with gic_mask_irq (ICENABLER): the line can rise without an IRQ.
  poke(rig, GICD_ICENABLER, VTIMER);
  rig.gic.setLevel(VTIMER, true, 0);
  assert.equal(rig.irq(), false);
  assert.equal(pendingBit(rig, VTIMER), true);
  poke(rig, GICD_ISENABLER, VTIMER);
  assert.equal(rig.irq(), true);
  seen = handleIrq(rig, 0, () => rig.gic.setLevel(VTIMER, false, 0));
  assert.deepEqual(seen, [VTIMER]);
  assert.equal(rig.irq(), false);
});

Deno.test("linux: UART SPI routed by gic_set_affinity byte writes", () => {
  const rig = new Rig({ cpus: 2 });
  distInit(rig);
  cpuInit(rig, 0);
  cpuInit(rig, 1);
  poke(rig, GICD_ISENABLER, UART);
  rig.gic.setLevel(UART, true);
  assert.equal(rig.irq(0), true);
  assert.equal(rig.irq(1), false);
  // Move it to CPU 1 (gic_cpu_map[1] = 0x02) while pending: the output follows.
  rig.wdb(GICD_ITARGETSR + UART, 0x02);
  assert.equal(rig.rdb(GICD_ITARGETSR + UART), 0x02);
  assert.equal(rig.rd(GICD_ITARGETSR + 32), 0x01010201);
  assert.equal(rig.irq(0), false);
  assert.equal(rig.irq(1), true);
  assert.equal(rig.iar(0), SPURIOUS_INTID);
  const seen = handleIrq(rig, 1, () => {
    assert.equal(rig.irq(1), false);
    rig.gic.setLevel(UART, false);
  });
  assert.deepEqual(seen, [UART]);
  assert.deepEqual(rig.deactivations, ["1:33"]);
  assert.equal(rig.irq(1), false);
});

Deno.test("linux: gic_raise_softirq via GICD_SGIR, source CPU in IAR[12:10]", () => {
  const rig = new Rig({ cpus: 3 });
  distInit(rig);
  for (let cpu = 0; cpu < 3; cpu++) cpuInit(rig, cpu, false, false);
  // IPI 1 (reschedule) from CPU 0 to CPU 2: map << 16 | irq.
  rig.wd(GICD_SGIR, (0x04 << 16) | 1, 0);
  assert.deepEqual([rig.irq(0), rig.irq(1), rig.irq(2)], [false, false, true]);
  assert.equal(rig.hppir(2), 1);
  assert.deepEqual(handleIrq(rig, 2, () => {}), [1]);
  assert.equal(rig.irq(2), false);
  // CPU 2 to CPUs 0 and 1: each sees source 2.
  rig.wd(GICD_SGIR, (0x03 << 16) | 2, 2);
  assert.deepEqual(handleIrq(rig, 0, () => {}), [(2 << 10) | 2]);
  assert.deepEqual(handleIrq(rig, 1, () => {}), [(2 << 10) | 2]);
  assert.deepEqual(rig.deactivations, ["2:1", "0:2", "1:2"]);
  assert.equal(rig.gic.stats.ignoredEois, 0);
});

Deno.test("linux: EOImode 1 split priority drop (EOIR) and deactivation (DIR)", () => {
  const rig = new Rig();
  distInit(rig);
  cpuInit(rig, 0, true);
  poke(rig, GICD_ISENABLER, VTIMER);
  poke(rig, GICD_ISENABLER, UART);
  rig.gic.setLevel(VTIMER, true, 0);
  assert.equal(rig.irq(), true);

  const irqstat = rig.iar();
  assert.equal(irqstat, VTIMER);
  assert.equal(rig.rpr(), 0xa0);
  // Priority drop first (gic_handle_irq), so an equal-priority SPI can now be taken…
  rig.eoi(irqstat);
  assert.equal(rig.rpr(), 0xff);
  assert.equal(activeBit(rig, VTIMER), true);
  assert.deepEqual(rig.deactivations, []);
  assert.equal(rig.irq(), false, "still active, so the level does not re-signal");
  rig.gic.setLevel(UART, true);
  assert.equal(rig.irq(), true);
  const nested = rig.iar();
  assert.equal(nested, UART);
  rig.eoi(nested);
  rig.gic.setLevel(UART, false);
  rig.dir(UART);
  assert.deepEqual(rig.deactivations, ["0:33"]);
  // …then the timer handler finishes with a still-high line: DIR makes it pend again.
  rig.dir(VTIMER);
  assert.deepEqual(rig.deactivations, ["0:33", "0:27"]);
  assert.equal(activeBit(rig, VTIMER), false);
  assert.equal(rig.irq(), true);
  rig.gic.setLevel(VTIMER, false, 0);
  assert.equal(rig.irq(), false);
  assert.equal(rig.gic.stats.ignoredEois, 0);
});

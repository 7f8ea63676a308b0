import assert from "node:assert/strict";
import {
  GICD_CIDR0,
  GICD_CTLR,
  GICD_ICFGR,
  GICD_ICPENDR,
  GICD_IIDR,
  GICD_IPRIORITYR,
  GICD_ISENABLER,
  GICD_ISPENDR,
  GICD_ITARGETSR,
  GICD_PIDR0,
  GICD_PIDR2,
  GICD_SGIR,
  GICD_TYPER,
  Gicv2,
  VgicError,
} from "./mod.ts";
import { Rig } from "./testdata/harness.ts";

Deno.test("configuration: CPU and interrupt counts, GICD_TYPER agrees", () => {
  const cases: [number | undefined, number | undefined, number, number][] = [
    [undefined, undefined, 256, 0x07],
    [1, 100, 256, 0x07],
    [2, 257, 288, (1 << 5) | 0x08],
    [8, 512, 512, (7 << 5) | 0x0f],
    [3, 1020, 1020, (2 << 5) | 0x1f],
    [1, 1000, 1020, 0x1f],
  ];
  for (const [cpus, irqs, implemented, typer] of cases) {
    const gic = new Gicv2({ cpus, irqs });
    assert.equal(gic.irqs, implemented);
    assert.equal(gic.distributor.read(GICD_TYPER, 4, 0), typer);
    assert.equal(gic.cpus, cpus ?? 1);
  }
  for (const bad of [{ cpus: 0 }, { cpus: 9 }, { cpus: 1.5 }, { irqs: 1021 }, { irqs: -1 }]) {
    assert.throws(() => new Gicv2(bad), (e: unknown) => {
      return e instanceof VgicError && e.code === "BAD_CONFIG";
    });
  }
});

Deno.test("identification registers: IIDR and GICv2 PIDR2.ArchRev", () => {
  const rig = new Rig();
  assert.equal(rig.rd(GICD_IIDR), 0x0200143b);
  assert.equal((rig.rd(GICD_PIDR2) >>> 4) & 0xf, 2);
  assert.equal(rig.rd(GICD_PIDR0), 0x90);
  assert.deepEqual([0, 1, 2, 3].map((i) => rig.rd(GICD_CIDR0 + 4 * i)), [0x0d, 0xf0, 0x05, 0xb1]);
  rig.wd(GICD_PIDR2, 0);
  rig.wd(GICD_TYPER, 0);
  assert.equal(rig.gic.stats.badWrites, 2);
  assert.equal((rig.rd(GICD_PIDR2) >>> 4) & 0xf, 2);
});

Deno.test("IPRIORITYR: byte and word views agree, banked below 32", () => {
  const rig = new Rig({ cpus: 2 });
  rig.wd(GICD_IPRIORITYR + 40, 0x44332211);
  assert.deepEqual([40, 41, 42, 43].map((i) => rig.rdb(GICD_IPRIORITYR + i)), [
    0x11,
    0x22,
    0x33,
    0x44,
  ]);
  rig.wdb(GICD_IPRIORITYR + 42, 0xee);
  assert.equal(rig.rd(GICD_IPRIORITYR + 40), 0x44ee2211);
  assert.equal(rig.rd(GICD_IPRIORITYR + 40, 1), 0x44ee2211, "SPIs are shared");
  rig.wdb(GICD_IPRIORITYR + 27, 0x80, 1);
  assert.equal(rig.rdb(GICD_IPRIORITYR + 27, 1), 0x80);
  assert.equal(rig.rdb(GICD_IPRIORITYR + 27, 0), 0, "PPIs are banked");
  // Half-word accesses are not architected.
  rig.gic.distributor.write(GICD_IPRIORITYR + 40, 2, 0xffff, 0);
  assert.equal(rig.gic.distributor.read(GICD_IPRIORITYR + 40, 2, 0), 0);
  assert.equal(rig.rd(GICD_IPRIORITYR + 40), 0x44ee2211);
  assert.equal(rig.gic.stats.badReads, 1);
  assert.equal(rig.gic.stats.badWrites, 1);
  // Past the last implemented interrupt.
  assert.equal(rig.rdb(GICD_IPRIORITYR + 256), 0);
  rig.wd(GICD_IPRIORITYR + 256, -1);
  assert.equal(rig.gic.stats.badReads, 2);
  assert.equal(rig.gic.stats.badWrites, 2);
});

Deno.test("ITARGETSR: own CPU bit for 0–31 (read-only), SPI bytes masked to real CPUs", () => {
  const rig = new Rig({ cpus: 3 });
  for (let cpu = 0; cpu < 3; cpu++) {
    for (let i = 0; i < 32; i += 4) {
      assert.equal(rig.rd(GICD_ITARGETSR + i, cpu), 0x01010101 << cpu);
    }
    assert.equal(rig.rdb(GICD_ITARGETSR + 27, cpu), 1 << cpu);
  }
  rig.wd(GICD_ITARGETSR + 4, 0);
  rig.wdb(GICD_ITARGETSR + 5, 0);
  assert.equal(rig.gic.stats.badWrites, 2);
  assert.equal(rig.rd(GICD_ITARGETSR + 4), 0x01010101);
  rig.wd(GICD_ITARGETSR + 32, 0xff070402);
  assert.equal(rig.rd(GICD_ITARGETSR + 32), 0x07070402);
  rig.wdb(GICD_ITARGETSR + 35, 0x01);
  assert.equal(rig.rd(GICD_ITARGETSR + 32, 2), 0x01070402);
});

Deno.test("ITARGETSR with one CPU interface: RAZ/WI, and every SPI goes to CPU 0", () => {
  const rig = new Rig();
  rig.enableAll();
  for (const i of [0, 1, 27, 31, 32, 40, 255]) assert.equal(rig.rdb(GICD_ITARGETSR + i), 0);
  for (let i = 0; i < 256; i += 4) assert.equal(rig.rd(GICD_ITARGETSR + i), 0);
  rig.wdb(GICD_ITARGETSR + 40, 0xff);
  rig.wd(GICD_ITARGETSR + 44, 0x0101_0101);
  assert.equal(rig.rdb(GICD_ITARGETSR + 40), 0);
  assert.equal(rig.rd(GICD_ITARGETSR + 44), 0);
  rig.wdb(GICD_IPRIORITYR + 40, 0x10);
  rig.wd(GICD_ISENABLER + 4, 1 << 8);
  rig.gic.pulse(40);
  assert.equal(rig.irq(), true);
  assert.equal(rig.gic.stats.badWrites, 0);
});

Deno.test("ICFGR: SGIs fixed edge, PPIs banked and configurable, odd bits only", () => {
  const rig = new Rig({ cpus: 2 });
  assert.equal(rig.rd(GICD_ICFGR), 0xaaaaaaaa);
  assert.equal(rig.rd(GICD_ICFGR + 4), 0, "PPIs reset level-sensitive");
  rig.wd(GICD_ICFGR + 4, 0xffffffff, 1);
  assert.equal(rig.rd(GICD_ICFGR + 4, 1), 0xaaaaaaaa);
  assert.equal(rig.rd(GICD_ICFGR + 4, 0), 0);
  rig.wd(GICD_ICFGR + 8, 0x5555_0008);
  assert.equal(rig.rd(GICD_ICFGR + 8), 0x8);
  assert.equal(rig.gic.interruptState(33).edgeTriggered, true);
  assert.equal(rig.gic.interruptState(32).edgeTriggered, false);
  assert.equal(rig.rd(GICD_ICFGR + 0x40), 0, "past 256 INTIDs");
  assert.equal(rig.gic.stats.badReads, 1);
});

Deno.test("switching a high line from level to edge stops it pending until the next edge", () => {
  const rig = new Rig();
  rig.enableAll([40]);
  rig.gic.setLevel(40, true);
  assert.equal(rig.irq(), true);
  rig.wd(GICD_ICFGR + 8, 2 << 16);
  assert.equal(rig.irq(), false);
  rig.gic.setLevel(40, false);
  rig.gic.setLevel(40, true);
  assert.equal(rig.irq(), true);
});

Deno.test("ISPENDR/ICPENDR: SGI bits ignored, pending view includes SGI sources", () => {
  const rig = new Rig({ cpus: 2 });
  rig.wd(GICD_ISPENDR, 0xffff_ffff);
  assert.equal(rig.rd(GICD_ISPENDR), 0xffff_0000);
  assert.equal(rig.rd(GICD_ISPENDR, 1), 0, "banked");
  rig.wd(GICD_SGIR, (1 << 16) | 3, 1);
  assert.equal(rig.rd(GICD_ISPENDR), 0xffff_0008);
  assert.equal(rig.rd(GICD_ICPENDR), 0xffff_0008);
  rig.wd(GICD_ICPENDR, 0xffff_ffff);
  assert.equal(rig.rd(GICD_ISPENDR), 0x0000_0008, "SGI pending survives ICPENDR");
  // A high level line stays pending through ICPENDR.
  rig.gic.setLevel(33, true);
  rig.wd(GICD_ICPENDR + 4, 1 << 1);
  assert.equal(rig.rd(GICD_ISPENDR + 4), 1 << 1);
});

Deno.test("bad accesses are RAZ/WI and counted with where they happened", () => {
  const rig = new Rig({ cpus: 2 });
  const d = rig.gic.distributor;
  const reads: [number, number, number][] = [
    [GICD_SGIR, 4, 0], // write-only
    [0x00c, 4, 0], // reserved
    [0xd00, 4, 0], // reserved
    [0x102, 4, 0], // unaligned
    [GICD_CTLR, 1, 0], // byte access to a word register
    [GICD_CTLR, 8, 0], // the bus splits 8-byte accesses
    [0x1_0000, 4, 0], // past the region
    [-4, 4, 0],
    [0.5, 4, 0],
    [GICD_CTLR, 4, 2], // no CPU 2
    [GICD_CTLR, 4, -1],
    [0x120, 4, 0], // ISENABLER8: INTIDs 256+ not implemented
    [0x2000, 4, 1],
  ];
  for (const [offset, size, cpu] of reads) assert.equal(d.read(offset, size, cpu), 0);
  assert.equal(rig.gic.stats.badReads, reads.length);
  assert.equal(rig.gic.stats.lastBadOffset, 0x2000);
  assert.equal(rig.gic.stats.lastBadCpu, 1);
  assert.equal(rig.gic.stats.lastBadRegion, "distributor");
  for (const [offset, size, cpu] of reads) d.write(offset, size, 0xffff_ffff, cpu);
  // Including the SGIR write: all-ones selects the reserved target filter 3.
  assert.equal(rig.gic.stats.badWrites, reads.length);
  assert.equal(rig.rd(GICD_CTLR), 0);
  assert.equal(rig.rd(GICD_ISENABLER + 4), 0);
  // Garbage values never throw either.
  d.write(GICD_ISENABLER + 4, 4, Number.NaN, 0);
  d.write(GICD_ISENABLER + 4, 4, 2 ** 40 + 3, 0);
  assert.equal(rig.rd(GICD_ISENABLER + 4), 3);
});

Deno.test("1020 INTIDs: the last word's bits for 1020–1023 are not implemented", () => {
  const rig = new Rig({ irqs: 1020 });
  rig.wd(GICD_ISENABLER + 124, -1);
  assert.equal(rig.rd(GICD_ISENABLER + 124), 0x0fff_ffff);
  assert.equal(rig.rd(GICD_IPRIORITYR + 1016), 0);
  rig.wd(GICD_IPRIORITYR + 1016, -1);
  assert.equal(rig.rd(GICD_IPRIORITYR + 1016), 0xffff_ffff);
  assert.equal(rig.rd(GICD_IPRIORITYR + 1020), 0);
  assert.equal(rig.rdb(GICD_IPRIORITYR + 1021), 0);
  assert.equal(rig.gic.stats.badReads, 2);
  assert.throws(() => rig.gic.setLevel(1020, true), VgicError);
  rig.enableAll();
  rig.enable(1019, 0x10);
  rig.gic.pulse(1019);
  assert.equal(rig.iar(), 1019);
  rig.eoi(1019);
  assert.deepEqual(rig.deactivations, ["0:1019"]);
});

Deno.test("setLevel/pulse/line check their wiring and throw VgicError", () => {
  const gic = new Gicv2({ cpus: 2 });
  const code = (f: () => unknown, c: string) =>
    assert.throws(f, (e: unknown) => e instanceof VgicError && e.code === c);
  code(() => gic.setLevel(5, true), "INVALID_IRQ");
  code(() => gic.setLevel(256, true), "INVALID_IRQ");
  code(() => gic.setLevel(27, true), "INVALID_CPU");
  code(() => gic.setLevel(27, true, 2), "INVALID_CPU");
  code(() => gic.pulse(1.5), "INVALID_IRQ");
  code(() => gic.line(20), "INVALID_CPU");
  code(() => gic.interruptState(256), "INVALID_IRQ");
  code(() => gic.interruptState(3, 7), "INVALID_CPU");
  const line = gic.line(27, 1);
  assert.equal(line.intid, 27);
  assert.equal(line.cpu, 1);
  line.set(true);
  assert.equal(gic.interruptState(27, 1).lineHigh, true);
  assert.equal(gic.interruptState(27, 0).lineHigh, false);
  line.set(false);
  line.pulse();
  assert.equal(gic.interruptState(27, 1).pending, true);
});

Deno.test("several GIC instances are independent", () => {
  const a = new Rig();
  const b = new Rig({ cpus: 2 });
  a.enableAll([33]);
  b.enableAll([33]);
  a.gic.setLevel(33, true);
  assert.equal(a.irq(), true);
  assert.equal(b.irq(), false);
  assert.equal(b.iar(), 1023);
  assert.equal(a.iar(), 33);
  assert.equal(b.rpr(), 0xff);
  assert.equal(b.gic.stats.spuriousAcks, 1);
  assert.equal(a.gic.stats.spuriousAcks, 0);
  assert.equal(a.rd(GICD_TYPER), 0x07);
  assert.equal(b.rd(GICD_TYPER), 0x27);
});

Deno.test("reset returns to power-on state, keeps line levels and stats", () => {
  const rig = new Rig({ cpus: 2 });
  rig.enableAll([33]);
  rig.enable(40, 0x10);
  rig.wd(GICD_SGIR, (3 << 16) | 1, 0);
  rig.gic.setLevel(33, true);
  assert.equal(rig.iar(), 33);
  rig.gic.pulse(40);
  rig.rd(0x00c);
  assert.equal(rig.irq(0), true);
  rig.gic.reset();
  assert.equal(rig.irq(0), false);
  assert.equal(rig.irq(1), false);
  assert.deepEqual(rig.irqEvents.at(-1), { cpu: 0, asserted: false });
  assert.deepEqual(rig.deactivations, [], "reset is not a guest deactivation");
  for (let cpu = 0; cpu < 2; cpu++) {
    assert.equal(rig.rd(GICD_CTLR, cpu), 0);
    assert.equal(rig.rd(GICD_ISENABLER, cpu), 0);
    assert.equal(rig.rd(GICD_ISPENDR, cpu), 0);
    assert.equal(rig.rd(0x300, cpu), 0);
    assert.equal(rig.rc(0x000, cpu), 0);
    assert.equal(rig.rc(0x004, cpu), 0);
    assert.equal(rig.rpr(cpu), 0xff);
    assert.equal(rig.hppir(cpu), 1023);
  }
  assert.equal(rig.rd(GICD_ISENABLER + 4), 0);
  assert.equal(rig.rd(GICD_ITARGETSR + 32), 0);
  assert.equal(rig.rd(GICD_IPRIORITYR + 32), 0);
  assert.equal(rig.rd(GICD_ISPENDR + 4), 1 << 1, "UART line is still high");
  assert.equal(rig.gic.stats.badReads, 1);
  // It comes back up like a fresh GIC.
  rig.enableAll([33]);
  assert.equal(rig.irq(0), true);
  assert.equal(rig.iar(), 33);
});

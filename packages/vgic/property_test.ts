// Random guest register traffic and device line changes against invariants recomputed from
// scratch through the architected register view.
import assert from "node:assert/strict";
import fc from "fast-check";
import { Gicv2 } from "./mod.ts";

type Command =
  | { k: "dr"; offset: number; size: number; cpu: number }
  | { k: "dw"; offset: number; size: number; value: number; cpu: number }
  | { k: "cr"; offset: number; size: number; cpu: number }
  | { k: "cw"; offset: number; size: number; value: number; cpu: number }
  | { k: "sgi"; filter: number; list: number; id: number; cpu: number }
  | { k: "iar"; cpu: number }
  | { k: "eoi"; cpu: number; pick: number; dir: boolean }
  | { k: "ctlr"; cpu: number; value: number }
  | { k: "line"; intid: number; cpu: number; high: boolean }
  | { k: "pulse"; intid: number; cpu: number }
  | { k: "icactive"; cpu: number; pick: number; set: boolean }
  | { k: "reset" }
  | { k: "boot"; seed: number; groups: number };

interface Scenario {
  readonly cpus: number;
  readonly irqs: number;
  readonly commands: Command[];
}

const value32 = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.constantFrom(0, 1, 0xff, 0xffff_ffff, 0x0000_ffff, 0x8000_0000),
  fc.integer({ min: 0, max: 31 }).map((b) => 2 ** b),
);

function scenario(): fc.Arbitrary<Scenario> {
  return fc.record({
    cpus: fc.integer({ min: 1, max: 4 }),
    irqs: fc.constantFrom(256, 288),
  }).chain(({ cpus, irqs }) => {
    const cpu = fc.oneof(
      { weight: 30, arbitrary: fc.integer({ min: 0, max: cpus - 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, cpus, 8, 0.5, Number.NaN) },
    );
    const goodCpu = fc.integer({ min: 0, max: cpus - 1 });
    const size = fc.constantFrom(4, 4, 4, 4, 1, 1, 2, 8, 0);
    const distOffset = fc.oneof(
      fc.constantFrom(0x000, 0x004, 0x008, 0xf00, 0xfe8),
      fc.tuple(
        fc.constantFrom(0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380),
        fc.integer({ min: 0, max: 10 }),
      ).map(([base, i]) => base + 4 * i),
      fc.tuple(fc.constantFrom(0x400, 0x800), fc.integer({ min: 0, max: irqs + 4 }))
        .map(([base, i]) => base + i),
      fc.integer({ min: 0, max: 20 }).map((i) => 0xc00 + 4 * i),
      fc.integer({ min: 0xf10, max: 0xf2f }),
      fc.integer({ min: -8, max: 0x1_0010 }),
    );
    const cpuOffset = fc.oneof(
      fc.constantFrom(0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0xd0, 0xdc, 0xfc, 0x1000),
      fc.integer({ min: -4, max: 0x2004 }),
    );
    const intid = fc.oneof(
      fc.constantFrom(27, 30, 33, 40, 48, irqs - 1),
      fc.integer({ min: 16, max: irqs - 1 }),
    );
    const command: fc.Arbitrary<Command> = fc.oneof(
      { weight: 2, arbitrary: fc.record({ k: fc.constant("dr"), offset: distOffset, size, cpu }) },
      {
        weight: 6,
        arbitrary: fc.record({
          k: fc.constant("dw"),
          offset: distOffset,
          size,
          value: value32,
          cpu,
        }),
      },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("cr"), offset: cpuOffset, size, cpu }) },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant("cw"),
          offset: cpuOffset,
          size,
          value: value32,
          cpu,
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant("sgi"),
          filter: fc.integer({ min: 0, max: 3 }),
          list: fc.integer({ min: 0, max: 255 }),
          id: fc.integer({ min: 0, max: 15 }),
          cpu: goodCpu,
        }),
      },
      { weight: 6, arbitrary: fc.record({ k: fc.constant("iar"), cpu: goodCpu }) },
      {
        weight: 6,
        arbitrary: fc.record({
          k: fc.constant("eoi"),
          cpu: goodCpu,
          pick: fc.nat(),
          dir: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant("ctlr"),
          cpu: goodCpu,
          value: fc.constantFrom(0, 1, 2, 3, 0x201, 0x203),
        }),
      },
      {
        weight: 6,
        arbitrary: fc.record({ k: fc.constant("line"), intid, cpu: goodCpu, high: fc.boolean() }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant("pulse"), intid, cpu: goodCpu }) },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant("icactive"),
          cpu: goodCpu,
          pick: fc.nat(),
          set: fc.boolean(),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ k: "reset" } as const) },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant("boot"),
          seed: fc.integer({ min: 1, max: 0x7fff_ffff }),
          groups: fc.constantFrom(1, 1, 3),
        }),
      },
    );
    return fc.record({
      cpus: fc.constant(cpus),
      irqs: fc.constant(irqs),
      commands: fc.array(command, { minLength: 10, maxLength: 150, size: "max" }),
    });
  });
}

interface Expected {
  /** GICC_IAR/HPPIR value of the highest-priority candidate (1023 if none). */
  readonly key: number;
  readonly priority: number;
  readonly asserted: boolean;
}

/** The documented output formula, recomputed from register reads only. */
function oracle(gic: Gicv2, cpu: number): Expected {
  const d = gic.distributor;
  const c = gic.cpuInterface;
  const groups = d.read(0x000, 4, cpu) & c.read(0x000, 4, cpu) & 3;
  let best = 0x100;
  let bestId = 1023;
  if (groups !== 0) {
    for (let n = 0; n * 32 < gic.irqs; n++) {
      const enabled = d.read(0x100 + 4 * n, 4, cpu);
      const pending = d.read(0x200 + 4 * n, 4, cpu);
      const active = d.read(0x300 + 4 * n, 4, cpu);
      const group = d.read(0x080 + 4 * n, 4, cpu);
      for (let b = 0; b < 32; b++) {
        const id = n * 32 + b;
        if (((enabled & pending & ~active) >>> b & 1) === 0) continue;
        if (((groups >>> (group >>> b & 1)) & 1) === 0) continue;
        const targets = gic.cpus === 1 ? 1 : d.read(0x800 + id, 1, cpu);
        if (id >= 32 && ((targets >>> cpu) & 1) === 0) continue;
        const p = d.read(0x400 + id, 1, cpu);
        if (p < best) {
          best = p;
          bestId = id;
        }
      }
    }
  }
  let key = bestId;
  if (bestId < 16) {
    const sources = d.read(0xf20 + bestId, 1, cpu);
    key |= (31 - Math.clz32(sources & -sources)) << 10;
  }
  const rpr = c.read(0x014, 4, cpu);
  const running = rpr === 0xff ? 0x100 : rpr;
  return { key, priority: best, asserted: best < c.read(0x004, 4, cpu) && best < running };
}

/** Active bits of every bank, keyed so banked and shared interrupts are told apart. */
function activeSet(gic: Gicv2): Set<string> {
  const set = new Set<string>();
  for (let cpu = 0; cpu < gic.cpus; cpu++) {
    for (let n = 0; n * 32 < gic.irqs; n++) {
      if (n > 0 && cpu > 0) break;
      const bits = gic.distributor.read(0x300 + 4 * n, 4, cpu);
      for (let b = 0; b < 32; b++) {
        if ((bits >>> b & 1) === 1) set.add(key(cpu, n * 32 + b));
      }
    }
  }
  return set;
}

function key(cpu: number, intid: number): string {
  return intid < 32 ? `${cpu}:${intid}` : `spi:${intid}`;
}

/** How much interesting behaviour a batch of runs exercised. */
interface Coverage {
  commands: number;
  acks: number;
  deactivations: number;
  irqRaised: number;
}

function run(s: Scenario, cov: Coverage): void {
  const levels: boolean[][] = [];
  const deactivated: string[] = [];
  const gic = new Gicv2({
    cpus: s.cpus,
    irqs: s.irqs,
    onIrq: (cpu, asserted) => {
      const history = (levels[cpu] ??= []);
      assert.notEqual(history.at(-1) ?? false, asserted, "reported only on change");
      history.push(asserted);
      if (asserted) cov.irqRaised++;
    },
    onDeactivate: (cpu, intid) => deactivated.push(key(cpu, intid)),
  });
  const d = gic.distributor;
  const c = gic.cpuInterface;
  const acked: number[][] = Array.from({ length: s.cpus }, () => []);
  // Interrupts acknowledged and not deactivated since: none may be acknowledged again.
  const delivered = new Set<string>();
  /** Bring everything up with pseudo-random priorities and targets (a busy guest). */
  const boot = (seed: number, groups: number): void => {
    let x = seed;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16;
    d.write(0x000, 4, groups, 0);
    for (let cpu = 0; cpu < s.cpus; cpu++) {
      c.write(0x000, 4, groups, cpu);
      c.write(0x004, 4, 0xff, cpu);
      for (let id = 0; id < 32; id++) d.write(0x400 + id, 1, next() & 0xff, cpu);
      d.write(0x100, 4, 0xffff_ffff, cpu);
    }
    for (let id = 32; id < s.irqs; id++) {
      d.write(0x400 + id, 1, next() & 0xff, 0);
      d.write(0x800 + id, 1, next() & 0xff, 0);
    }
    for (let n = 1; n * 32 < s.irqs; n++) d.write(0x100 + 4 * n, 4, 0xffff_ffff, 0);
  };

  for (const cmd of s.commands) {
    const before = activeSet(gic);
    const statsBefore = { ...gic.stats };
    deactivated.length = 0;
    switch (cmd.k) {
      case "dr":
        d.read(cmd.offset, cmd.size, cmd.cpu);
        break;
      case "dw":
        d.write(cmd.offset, cmd.size, cmd.value, cmd.cpu);
        break;
      case "cr":
        if (cmd.offset === 0x00c && cmd.size === 4 && (cmd.cpu | 0) === cmd.cpu) {
          const v = c.read(cmd.offset, cmd.size, cmd.cpu);
          if (v !== 1023 && cmd.cpu < s.cpus && cmd.cpu >= 0) {
            assert.ok(!delivered.has(key(cmd.cpu, v & 0x3ff)), "not delivered twice");
            delivered.add(key(cmd.cpu, v & 0x3ff));
            acked[cmd.cpu].push(v);
          }
        } else {
          c.read(cmd.offset, cmd.size, cmd.cpu);
        }
        break;
      case "cw":
        c.write(cmd.offset, cmd.size, cmd.value, cmd.cpu);
        break;
      case "sgi":
        d.write(0xf00, 4, (cmd.filter << 24) | (cmd.list << 16) | cmd.id, cmd.cpu);
        break;
      case "iar": {
        const expected = oracle(gic, cmd.cpu);
        const pick = expected.key & 0x3ff;
        const bit = (offset: number): number =>
          d.read(offset + 4 * (pick >>> 5), 4, cmd.cpu) >>> (pick & 31) & 1;
        const wasEnabled = pick < 1020 ? bit(0x100) : 0;
        const wasPending = pick < 1020 ? bit(0x200) : 0;
        const wasActive = pick < 1020 ? bit(0x300) : 0;
        const bpr = c.read(0x008, 4, cmd.cpu);
        const pmr = c.read(0x004, 4, cmd.cpu);
        const rpr = c.read(0x014, 4, cmd.cpu);
        const v = c.read(0x00c, 4, cmd.cpu);
        assert.equal(v, expected.asserted ? expected.key : 1023, "IAR returns the oracle's pick");
        if (v !== 1023) {
          const id = v & 0x3ff;
          assert.equal(wasEnabled, 1, "never a disabled interrupt");
          assert.equal(wasPending, 1, "only a pending one (a new edge, level or injection)");
          assert.equal(wasActive, 0, "never one still active");
          // A uniprocessor GIC's targets read as zero: everything goes to its one CPU.
          const targets = s.cpus === 1 ? 1 : d.read(0x800 + id, 1, cmd.cpu);
          assert.ok(id < 32 || (targets >>> cmd.cpu & 1) === 1, "targeted");
          assert.ok(expected.priority < pmr, "not masked by PMR");
          assert.ok(rpr === 0xff || expected.priority < rpr, "preempts the running priority");
          assert.ok(!delivered.has(key(cmd.cpu, id)), "not delivered twice without deactivation");
          delivered.add(key(cmd.cpu, id));
          cov.acks++;
          acked[cmd.cpu].push(v);
          assert.equal(bit(0x300), 1, "acknowledged means active");
          const mask = (0xff << (bpr + 1)) & 0xff;
          assert.equal(c.read(0x014, 4, cmd.cpu), expected.priority & mask);
        }
        break;
      }
      case "eoi": {
        const list = acked[cmd.cpu];
        const value = list.length === 0 ? cmd.pick & 0x3ff : list[cmd.pick % list.length];
        // Mostly complete the most recent acknowledgement, as a well-behaved guest does.
        const pick = list.length === 0
          ? -1
          : cmd.pick % 3 === 0
          ? cmd.pick % list.length
          : list.length - 1;
        const v = pick >= 0 ? list[pick] : value;
        c.write(cmd.dir ? 0x1000 : 0x010, 4, v, cmd.cpu);
        if (pick >= 0 && !cmd.dir) list.splice(pick, 1);
        break;
      }
      case "ctlr":
        c.write(0x000, 4, cmd.value, cmd.cpu);
        break;
      case "line":
        gic.setLevel(cmd.intid, cmd.high, cmd.cpu);
        break;
      case "pulse":
        gic.pulse(cmd.intid, cmd.cpu);
        break;
      case "icactive": {
        // Clear (or set) the active bit of something acknowledged, bypassing EOIR.
        const list = acked[cmd.cpu];
        const id = list.length === 0 ? cmd.pick % s.irqs : list[cmd.pick % list.length] & 0x3ff;
        const base = cmd.set ? 0x300 : 0x380;
        d.write(base + 4 * (id >>> 5), 4, 1 << (id & 31), cmd.cpu);
        break;
      }
      case "boot":
        boot(cmd.seed, cmd.groups);
        break;
      case "reset":
        gic.reset();
        for (const list of acked) list.length = 0;
        break;
    }

    // Deactivation reports match the active bits that went from 1 to 0, once each.
    for (const k of deactivated) delivered.delete(k);
    if (cmd.k === "reset") delivered.clear();
    cov.commands++;
    cov.deactivations += deactivated.length;
    const after = activeSet(gic);
    const cleared = [...before].filter((k) => !after.has(k)).sort();
    if (cmd.k === "reset") assert.deepEqual(deactivated, []);
    else assert.deepEqual([...deactivated].sort(), cleared);
    for (const k of deactivated) assert.ok(before.has(k), "only active interrupts deactivate");

    for (let cpu = 0; cpu < s.cpus; cpu++) {
      const expected = oracle(gic, cpu);
      assert.equal(gic.irqAsserted(cpu), expected.asserted, "IRQ output matches the formula");
      assert.equal(levels[cpu]?.at(-1) ?? false, expected.asserted, "last report is current");
      assert.equal(c.read(0x018, 4, cpu), expected.key, "HPPIR matches");
    }
    for (const [name, n] of Object.entries(statsBefore)) {
      if (typeof n === "number" && name !== "lastBadOffset" && name !== "lastBadCpu") {
        assert.ok((gic.stats as unknown as Record<string, number>)[name] >= n);
      }
    }
  }
}

Deno.test("property: random register traffic and line changes keep every invariant", () => {
  const cov: Coverage = { commands: 0, acks: 0, deactivations: 0, irqRaised: 0 };
  fc.assert(fc.property(scenario(), (s) => run(s, cov)), { numRuns: 300 });
  // Guard against a generator that never reaches the interesting states.
  console.log(`property coverage: ${JSON.stringify(cov)}`);
  assert.ok(cov.acks > 200 && cov.deactivations > 100 && cov.irqRaised > 200);
});

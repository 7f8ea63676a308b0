import assert from "node:assert/strict";
import { Pmu, PMU_PMCEID0, PMU_PMCR_RESET } from "./pmu.ts";

const CYCLES = 1n << 31n;
const EL1 = 1;

function setUp() {
  const clock = { ticks: 1000n };
  const levels: boolean[] = [];
  const pmu = new Pmu({ counter: () => clock.ticks, onLevel: (l) => levels.push(l) });
  return { clock, levels, pmu };
}

Deno.test("pmu: the cycle counter counts 16 cycles a tick while enabled, and only then", () => {
  const { clock, pmu } = setUp();
  assert.equal(pmu.read("PMCR_EL0", EL1), PMU_PMCR_RESET);
  pmu.write("PMCNTENSET_EL0", CYCLES, EL1);
  clock.ticks += 10n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 0n, "PMCR_EL0.E clear");
  pmu.write("PMCR_EL0", 1n, EL1);
  clock.ticks += 10n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 160n);
  pmu.write("PMCNTENCLR_EL0", CYCLES, EL1);
  clock.ticks += 10n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 160n);
  // A counter that went back (it never should) adds nothing rather than wrapping.
  pmu.write("PMCNTENSET_EL0", CYCLES, EL1);
  clock.ticks -= 5n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 160n);
  clock.ticks += 6n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 176n);
  // PMCR_EL0.D: every 64th cycle.
  pmu.write("PMCR_EL0", 0b1001n | 4n, EL1);
  clock.ticks += 8n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 2n);
  // Filtered at EL1 (PMCCFILTR_EL0.P), counted at EL0.
  pmu.write("PMCCFILTR_EL0", 1n << 31n, EL1);
  clock.ticks += 8n;
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 2n);
  clock.ticks += 8n;
  assert.equal(pmu.read("PMCCNTR_EL0", 0), 4n);
});

Deno.test("pmu: SW_INCR counts PMSWINC writes of enabled counters; overflow flags and interrupts", () => {
  const { levels, pmu } = setUp();
  pmu.write("PMCR_EL0", 1n, EL1);
  pmu.write("PMCNTENSET_EL0", 0b101n, EL1);
  pmu.writeCounter(2, true, 0x11n, EL1);
  pmu.write("PMSWINC_EL0", 0b111n, EL1);
  assert.deepEqual([0, 1, 2].map((n) => pmu.readCounter(n, false, EL1)), [1n, 0n, 0n]);
  pmu.writeCounter(0, false, 0xffff_ffffn, EL1);
  pmu.write("PMSWINC_EL0", 1n, EL1);
  assert.equal(pmu.readCounter(0, false, EL1), 0n);
  assert.equal(pmu.read("PMOVSSET_EL0", EL1), 1n);
  assert.equal(pmu.level, false, "its interrupt is not enabled");
  pmu.write("PMINTENSET_EL1", 1n, EL1);
  assert.equal(pmu.level, true);
  pmu.write("PMOVSCLR_EL0", 1n, EL1);
  assert.equal(pmu.level, false);
  assert.deepEqual(levels, [true, false]);
});

Deno.test("pmu: an event PMCEID does not list never counts; CPU_CYCLES does", () => {
  const { clock, pmu } = setUp();
  assert.equal(pmu.read("PMCEID0_EL0", EL1), PMU_PMCEID0);
  assert.equal(pmu.read("PMCEID1_EL0", EL1), 0n);
  pmu.write("PMCR_EL0", 1n, EL1);
  pmu.write("PMCNTENSET_EL0", 0b11n, EL1);
  pmu.writeCounter(0, true, 0x08n, EL1); // INST_RETIRED: not counted here
  pmu.writeCounter(1, true, 0x11n, EL1);
  clock.ticks += 100n;
  pmu.write("PMSWINC_EL0", 0b11n, EL1);
  assert.equal(pmu.readCounter(0, false, EL1), 0n);
  assert.equal(pmu.readCounter(1, false, EL1), 1600n);
});

Deno.test("pmu: the deadline is the tick of the next enabled overflow", () => {
  const { clock, pmu } = setUp();
  pmu.write("PMCR_EL0", 1n, EL1);
  pmu.write("PMCNTENSET_EL0", CYCLES, EL1);
  pmu.write("PMCCNTR_EL0", 0xffff_ff00n, EL1);
  assert.equal(pmu.deadline(), undefined, "its interrupt is not enabled");
  pmu.write("PMINTENSET_EL1", CYCLES, EL1);
  assert.equal(pmu.deadline(), clock.ticks + 16n);
  clock.ticks += 15n;
  pmu.update();
  assert.equal(pmu.level, false);
  clock.ticks += 1n;
  pmu.update();
  assert.equal(pmu.level, true);
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 0x1_0000_0000n, "64 bits wide, overflow at 32");
  assert.equal(pmu.deadline(), undefined, "already high");
  pmu.reset();
  assert.equal(pmu.level, false);
  assert.equal(pmu.read("PMCCNTR_EL0", EL1), 0n);
});

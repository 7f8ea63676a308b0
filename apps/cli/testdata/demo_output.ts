/**
 * What a good run of the demo guest prints, as assertions shared by the
 * CLI's tests and the end-to-end tests in the repository's `tests/`.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Timer interrupts the demo takes (TICKS in guests/demo/platform.inc). */
export const DEMO_TICKS = 5;
/** Counter frequency VMKit gives the guest. */
export const COUNTER_HZ = 62_500_000;
/** Counter ticks between two timer deadlines (TICK_HZ = 20 in platform.inc). */
export const TICK_INTERVAL = COUNTER_HZ / 20;

/** One "tick" line of the demo's output. */
export interface DemoTick {
  /** 1-based tick number. */
  readonly n: number;
  /** INTID that GICC_IAR returned. */
  readonly intid: number;
  /** CNTVCT_EL0 when the handler ran. */
  readonly counter: number;
  /** How long after its deadline the handler ran, in microseconds. */
  readonly lateUs: number;
}

const TICK =
  /^ {2}tick (\d+)\/(\d+) {2}INTID (\d+) {2}CNTVCT (\d+) {2}t = (\d+)\.(\d{3}) ms {2}\((\d+) us after the deadline\)$/gm;

/**
 * Asserts that `output` (the guest's console output, CR LF or LF) is a
 * complete, successful demo run and returns its ticks.
 */
export function assertDemoOutput(output: string): DemoTick[] {
  const text = output.replaceAll("\r\n", "\n");
  assert.doesNotMatch(text, /!!/, `the demo reported a problem:\n${text}`);
  assert.match(text, /^VMKit demo guest: bare-metal AArch64/m);
  const entered = /exception level {2}EL1, entered with x0 = (0x[0-9a-f]+)/.exec(text);
  assert.ok(entered, `no EL1 line:\n${text}`);
  assert.match(
    text,
    new RegExp(`device tree {6}at ${entered[1]}: magic 0xd00dfeed \\(valid\\), \\d+ bytes`),
    "the device tree is where x0 points and has the FDT magic",
  );
  assert.match(text, /MPIDR_EL1 0x80000000 = CPU 0/);
  assert.match(text, new RegExp(`CNTFRQ_EL0 = ${COUNTER_HZ} Hz`));
  assert.match(text, /virtual timer {4}INTID 27 \(PPI 11\), priority 0xa0, enabled/);

  const ticks: DemoTick[] = [...text.matchAll(TICK)].map((m) => ({
    n: Number(m[1]),
    intid: Number(m[3]),
    counter: Number(m[4]),
    lateUs: Number(m[7]),
  }));
  assert.ok(ticks.length >= DEMO_TICKS, `expected ${DEMO_TICKS} ticks, got:\n${text}`);
  ticks.forEach((t, i) => {
    assert.equal(t.n, i + 1, "ticks are numbered in order");
    assert.equal(t.intid, 27, "GICC_IAR named the virtual timer");
    if (i > 0) assert.ok(t.counter > ticks[i - 1].counter, "the counter increases");
  });
  // The handler adds one interval to CNTV_CVAL_EL0 per tick, so the
  // deadlines (counter minus lateness) must be one interval apart, up to the
  // rounding of the microseconds printed.
  for (let i = 1; i < ticks.length; i++) {
    const deadline = (t: DemoTick) => t.counter - (t.lateUs * COUNTER_HZ) / 1e6;
    const spacing = deadline(ticks[i]) - deadline(ticks[i - 1]);
    assert.ok(
      Math.abs(spacing - TICK_INTERVAL) < 200,
      `deadlines ${spacing} ticks apart, expected ${TICK_INTERVAL}`,
    );
  }
  assert.match(text, new RegExp(`^ {2}${DEMO_TICKS} interrupts taken`, "m"));

  assert.match(text, /^PSCI over HVC$/m);
  assert.match(text, /PSCI_VERSION +-> 1\.1 \(0x10001\)/);
  assert.match(text, /PSCI_FEATURES\(CPU_ON\) +-> 0 \(SUCCESS\)/);
  assert.match(text, /PSCI_FEATURES\(CPU_SUSPEND\) +-> 0 \(SUCCESS\)/);
  assert.match(text, /PSCI_FEATURES\(SYSTEM_OFF\) +-> 0 \(SUCCESS\)/);
  assert.match(text, /AFFINITY_INFO\(0x0, 0\) +-> 0 \(ON\)/);
  assert.match(text, /MIGRATE_INFO_TYPE +-> 2 \(no trusted OS to migrate\)/);
  assert.match(text, /demo: all checks passed; powering off with PSCI SYSTEM_OFF\n$/);
  return ticks;
}

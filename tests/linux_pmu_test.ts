/**
 * The PMU as Debian's kernel uses it: the arm_pmu driver finds the device
 * tree's PMU (PPI 23) and its counters, and `guests/linux/perf_cycles.c`
 * counts cycles with perf_event_open, sees the count stand still while
 * disabled, is refused an event the PMU does not implement, and gets its
 * sampling event's overflow interrupts as signals.
 */
import assert from "node:assert/strict";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { runLinuxScript } from "./helpers/linux_script.ts";

const kernel = linuxKernel();
const box = busybox();
const perf = linuxGuestProgram("perf_cycles");

Deno.test({
  name: `linux: perf counts cycles on the PMU and takes its overflow interrupts${
    kernel.label + box.label + perf.label
  }`,
  ignore: kernel.ignore || box.ignore || perf.ignore,
  fn: async () => {
    kernel.assert();
    box.assert();
    perf.assert();
    const { exit, output } = await runLinuxScript(
      [
        "dmesg | grep 'hw perfevents'",
        `/bin/perf_cycles; echo "perf_cycles exit status $?"`,
        "grep arm-pmu /proc/interrupts",
        "poweroff -f",
      ].join("\n"),
      { perf_cycles: perf },
    );
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-3000)}`);
    // Six event counters and the cycle counter, as on QEMU's cortex-a72.
    assert.match(output, /hw perfevents: enabled with armv8_pmuv3 PMU driver, 7 counters/);
    for (
      const check of [
        "cycles count up while enabled",
        "cycles stand still while disabled",
        "instructions \\(not in PMCEID0\\) cannot be opened",
        "sampling cycles: overflows delivered as SIGIO",
        "sampling cycles: counted",
      ]
    ) {
      assert.match(output, new RegExp(`perf_cycles: ${check} \\(\\d+, \\d+\\): ok`), output);
    }
    assert.match(output, /perf_cycles exit status 0/);
    const irq = /^\s*\d+:\s+(\d+)\s+GIC-0\s+23 Level\s+arm-pmu/m.exec(output);
    assert.ok(irq, `no arm-pmu row in /proc/interrupts:\n${output.slice(-2000)}`);
    assert.ok(Number(irq[1]) >= 2, `PMU interrupts taken: ${irq[1]}`);
    console.log(output.split("\n").filter((l) => /perf_cycles:|arm-pmu/.test(l)).join("\n"));
  },
});

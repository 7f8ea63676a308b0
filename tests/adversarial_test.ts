/**
 * Guest isolation: no guest action may crash, end or bloat the VMKit
 * process. Each case boots a program of `guests/adversarial/` with the real
 * `vmkit` command, samples the process's RSS every 100 ms, and asserts how
 * the host ended (a `vmkit:` line, the expected exit status, never a signal
 * or a runtime error) and that it stayed under guest RAM + 300 MiB. The
 * endless guests the host must end itself are in
 * `adversarial_endless_test.ts`.
 */
import assert from "node:assert/strict";
import {
  adversarialGuest,
  assertAllPassed,
  assertHostEnded,
  assertRssBound,
  lines,
  WatchedVmkit,
} from "./helpers/adversarial.ts";

const MEM_MIB = 64;
const MEM = `${MEM_MIB}M`;

/** Programs that do a bounded amount of abuse, check the machine still works and power off. */
const BOUNDED: readonly { name: string; what: string }[] = [
  { name: "last_page", what: "loads and stores at the last virtual page fault in the guest" },
  { name: "hw_breakpoint", what: "hardware breakpoints and watchpoints armed and run" },
  { name: "exception_storm", what: "200,000 synchronous exceptions handled and returned" },
  { name: "gic_fuzz", what: "400,000 random GIC accesses, then an SGI still arrives" },
  { name: "uart_fuzz", what: "200,000 random PL011 accesses, then it still prints" },
  { name: "psci_fuzz", what: "200,000 random firmware calls over HVC and SMC" },
  { name: "timer_abuse", what: "both timers at their edges and toggled 100,000 times" },
  { name: "unbacked_storm", what: "accesses to guest-physical space with nothing behind it" },
];

for (const { name, what } of BOUNDED) {
  const guest = adversarialGuest(name);
  Deno.test({
    name: `adversarial ${name}: ${what}; powers off, exit 0, RSS bounded`,
    ignore: guest.ignore,
    fn: async () => {
      await using vm = await WatchedVmkit.start([
        "run",
        "--kernel",
        guest.path,
        "--mem",
        MEM,
        "--timeout",
        "120",
      ]);
      const status = await vm.exit(150_000);
      assertHostEnded(status, vm.process.stderr, { code: 0, line: /the guest powered off/ });
      assertAllPassed(vm.process.stdout);
      assertRssBound(vm, MEM_MIB);
      console.log(`${name}: peak RSS ${vm.rss.peakMiB.toFixed(1)} MiB`);
    },
  });
}

const churn = adversarialGuest("code_churn");
Deno.test({
  name: "adversarial code_churn: 1 MiB of code rewritten and run for 45 s; RSS bounded, no crash",
  ignore: churn.ignore,
  fn: async () => {
    await using vm = await WatchedVmkit.start([
      "run",
      "--kernel",
      churn.path,
      "--mem",
      MEM,
      "--timeout",
      "45",
    ]);
    const status = await vm.exit(120_000);
    assertHostEnded(status, vm.process.stderr, { code: 1, line: /timed out/ });
    const progress = lines(vm.process.stdout).filter((l) => l.startsWith("code_churn: pass "));
    assert.ok(progress.length > 0, `no progress line:\n${vm.process.stdout.slice(-2000)}`);
    const last = /^code_churn: pass (\d+), (\d+) wrong$/.exec(progress.at(-1)!);
    assert.ok(last, progress.at(-1));
    assert.equal(last[2], "0", "every pass ran the code just written");
    assertRssBound(vm, MEM_MIB);
    console.log(
      `code_churn: ${last[1]} passes of 1 MiB in 45 s, peak RSS ${vm.rss.peakMiB.toFixed(1)} MiB`,
    );
  },
});

const flood = adversarialGuest("cpu_on_flood");
Deno.test({
  name:
    "adversarial cpu_on_flood: PSCI CPU_ON for 5 s; stderr stays small and says what it left out",
  ignore: flood.ignore,
  fn: async () => {
    await using vm = await WatchedVmkit.start([
      "run",
      "--kernel",
      flood.path,
      "--mem",
      MEM,
      "--smp",
      "8",
      "--timeout",
      "5",
    ]);
    const status = await vm.exit(60_000);
    assertHostEnded(status, vm.process.stderr, { code: 1, line: /timed out/ });
    assert.match(
      vm.process.stdout,
      /cpu_on_flood: \d+00000 calls/,
      "the flood reached 100,000 calls",
    );
    const logged = lines(vm.process.stderr);
    assert.ok(
      logged.length < 100,
      `${logged.length} stderr lines; the first ones:\n${logged.slice(0, 5).join("\n")}`,
    );
    assert.ok(logged.some((l) => /CPU_ON/.test(l)), "the refused CPU_ON is reported");
    assert.ok(
      logged.some((l) => /suppressed/i.test(l)),
      `no line says how many were suppressed:\n${logged.join("\n")}`,
    );
    assertRssBound(vm, MEM_MIB);
  },
});

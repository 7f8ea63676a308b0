/**
 * Multi-vCPU guests on bare metal: guests/smp/smp.c runs on every vCPU of a
 * VM with 2, 4 and 8 of them and checks, from inside, PSCI CPU_ON and its
 * error codes, AFFINITY_INFO, CPU_OFF and CPU_ON again, CPU_SUSPEND,
 * distinct MPIDRs, SGIs between every ordered pair of CPUs with every target
 * filter, and each CPU's own virtual and physical timer; the run ends through
 * the exit-status device with 0 only when every check passed. Under the
 * virtual clock two runs print the same console output and retire the same
 * instructions on every vCPU.
 *
 * Engine-dependent: CI runs this file on Unicorn 2.1 and again on 2.0.1.
 */
import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { VirtualMachine, type VmExit } from "@vmkit/vmm";
import { bareMetalGuest } from "./helpers/assets.ts";

const program = bareMetalGuest("smp/smp");
const PHASES = [
  "PSCI errors",
  "CPU_ON",
  "SGIs",
  "timers",
  "CPU_SUSPEND",
  "CPU_OFF",
];

interface Run {
  readonly output: string;
  readonly exit: VmExit;
  /** Instructions each vCPU retired. */
  readonly perVcpu: number[];
  /** WFI exits of each vCPU. */
  readonly wfi: number[];
  readonly contextSwitches: number;
}

async function runSmp(
  library: UnicornLibrary,
  cpus: number,
  clock: "host" | "virtual",
  bootCpu = 0,
): Promise<Run> {
  const kernel = await Deno.readFile(program.path);
  let output = "";
  const decoder = new TextDecoder();
  using vm = new VirtualMachine({
    cpus,
    clock,
    memorySize: 64 * 1024 * 1024,
    library,
    console: { write: (b) => output += decoder.decode(b, { stream: true }) },
  });
  vm.setBootCpu(bootCpu);
  await vm.loadLinux({ kernel });
  // A run takes well under a second; a guest waiting for an interrupt that
  // went elsewhere waits for ever, and its last phase line says where.
  const exit = await vm.run({ timeoutMs: 30_000 });
  return {
    output,
    exit,
    perVcpu: vm.vcpus.map((v) => v.stats.instructions),
    wfi: vm.vcpus.map((v) => v.stats.wfi),
    contextSwitches: vm.vcpus[0].contextSwitches,
  };
}

/** Every check passed, on every CPU, in every phase. */
function assertPassed(run: Run, cpus: number, bootCpu = 0): void {
  const { output, exit } = run;
  const failures = output.split("\n").filter((l) => /FAIL|unexpected/.test(l));
  assert.deepEqual(failures, [], output);
  assert.equal(exit.reason, "poweroff", `${exit.message}\n${output}`);
  assert.equal(exit.status, 0, "the exit-status device reported a pass");
  assert.match(output, new RegExp(`^smp: ${cpus} CPUs, booted on CPU ${bootCpu}$`, "m"));
  for (const phase of PHASES) {
    assert.match(output, new RegExp(`^smp: ${phase}: `, "m"), `${phase} ran`);
  }
  // Every ordered pair (list of one), plus five more cases per sender.
  const sends = cpus * (cpus - 1 + 5);
  assert.match(output, new RegExp(`^smp: SGIs: ${sends} GICD_SGIR writes`, "m"));
  const done = /^smp: (\d+) checks passed, 0 failed$/m.exec(output);
  assert.ok(done, output);
  assert.ok(Number(done[1]) > 100 * cpus, `${done[1]} checks`);
  // Every vCPU ran and idled in WFI; they took turns on the engine.
  assert.equal(run.perVcpu.length, cpus);
  for (let i = 0; i < cpus; i++) {
    assert.ok(run.perVcpu[i] > 0, `vCPU ${i} ran`);
    assert.ok(run.wfi[i] > 0, `vCPU ${i} idled in WFI`);
  }
  assert.ok(run.contextSwitches > cpus, `${run.contextSwitches} context switches`);
}

for (const cpus of [2, 4, 8]) {
  Deno.test({
    name: `smp guest: ${cpus} vCPUs pass every PSCI, MPIDR, SGI and timer check${program.label}`,
    ignore: program.ignore,
    fn: async () => {
      program.assert();
      using library = UnicornLibrary.open();
      assertPassed(await runSmp(library, cpus, "host"), cpus);
    },
  });

  Deno.test({
    name: `smp guest: ${cpus} vCPUs with the virtual clock, twice: the same console output ` +
      `and the same instruction counts${program.label}`,
    ignore: program.ignore,
    fn: async () => {
      program.assert();
      using library = UnicornLibrary.open();
      const first = await runSmp(library, cpus, "virtual");
      assertPassed(first, cpus);
      const second = await runSmp(library, cpus, "virtual");
      assert.equal(second.output, first.output);
      assert.equal(second.exit.instructions, first.exit.instructions);
      assert.deepEqual(second.perVcpu, first.perVcpu, "per vCPU");
      assert.deepEqual(second.wfi, first.wfi, "WFI exits per vCPU");
    },
  });
}

Deno.test({
  name: `smp guest: booted on vCPU 3 of 4, it brings up 0-2 and passes${program.label}`,
  ignore: program.ignore,
  fn: async () => {
    program.assert();
    using library = UnicornLibrary.open();
    assertPassed(await runSmp(library, 4, "virtual", 3), 4, 3);
  },
});

/**
 * SMP figures for `bench/report.ts`: Debian's kernel booted to `/init` with
 * 1, 2 and 4 vCPUs (and 4 with the 1-vCPU slice, the scheduling policy's one
 * knob), QEMU's TCG with `-smp 1` and `-smp 4` on the same images, and what
 * one switch between two vCPUs of an engine costs (save, restore, TLB
 * flush). `deno run -A bench/smp.ts [RUNS]` on the engine VMKIT_UNICORN_PATH
 * names (or the system's).
 *
 * @module
 */

import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
import { type BootFigures, type BootOptions, bootToInit, qemuBootSeconds } from "./boot.ts";
import { median } from "./_stats.ts";

const runs = Number(Deno.args[0] ?? Deno.env.get("VMKIT_BOOT_RUNS") ?? 3);

/** Seconds per switch between two vCPUs sharing an engine, register access included. */
function switchSeconds(library: UnicornLibrary): number {
  using a = new Vcpu({ library, id: 0 });
  using b = new Vcpu({ library, id: 1, shareWith: a });
  a.mapRam(0x4000_0000, new Uint8Array(0x10_0000));
  const rounds = 20_000;
  for (let i = 0; i < 1000; i++) a.getX(0) + b.getX(0);
  const before = a.contextSwitches;
  const t = performance.now();
  for (let i = 0; i < rounds; i++) a.getX(0) + b.getX(0);
  const seconds = (performance.now() - t) / 1000;
  return seconds / (a.contextSwitches - before);
}

const library = UnicornLibrary.open();
try {
  const setups: [string, BootOptions][] = [
    ["--smp 1", { cpus: 1 }],
    ["--smp 2", { cpus: 2 }],
    ["--smp 4", { cpus: 4 }],
    ["--smp 4, 200k-instruction slices (one vCPU's)", { cpus: 4, sliceInstructions: 200_000 }],
  ];
  console.log(
    `SMP boot of Debian's kernel to /init on Unicorn ${library.versionString} (median of ${runs}):`,
  );
  let one: number | undefined;
  for (const [name, options] of setups) {
    const boots: BootFigures[] = [];
    for (let i = 0; i < runs; i++) boots.push(await bootToInit(library, options));
    const s = median(boots.map((b) => b.seconds));
    one ??= s;
    const cpu = median(boots.map((b) => b.cpuSeconds));
    const switches = median(boots.map((b) => b.switches));
    console.log(
      `  VMKit ${name}: ${s.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU, ${
        (s / one).toFixed(2)
      }× --smp 1, ${switches} vCPU switches (${boots.map((b) => b.seconds.toFixed(2)).join(", ")})`,
    );
  }
  for (const smp of [1, 4]) {
    const q: number[] = [];
    let problem: string | undefined;
    for (let i = 0; i < runs; i++) {
      const r = await qemuBootSeconds(smp);
      if (typeof r === "string") {
        problem = r;
        break;
      }
      q.push(r);
    }
    console.log(`  QEMU TCG -smp ${smp}: ${problem ?? `${median(q).toFixed(2)} s`}`);
  }
  console.log(
    `  one vCPU switch (save, restore, TLB flush): ${(switchSeconds(library) * 1e6).toFixed(1)} µs`,
  );
} finally {
  library.close();
}

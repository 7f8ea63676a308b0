/**
 * `deno task bench`'s summary: for every Unicorn build it finds, the compute
 * loops against the bare engine and the boot of Debian's kernel to `/init`,
 * and QEMU's boot of the same kernel and initramfs as the reference; then
 * SMP boots with 1, 2 and 4 vCPUs and the cost of a vCPU switch (`bench/smp.ts`),
 * virtio-blk throughput against QEMU's (`bench/disk.ts`) and VM-to-VM ping and TCP throughput
 * over virtio-net (`bench/net.ts`) and the cost of an attached debugger (`bench/gdb.ts`) on the
 * default engine. The
 * per-package `deno bench` runs print their own tables first.
 *
 * Engines: `$VMKIT_UNICORN_PATH`, the system's library, and every build
 * `./vmkit` keeps under `.cache/engines/`. `VMKIT_BOOT_RUNS` boots each that
 * many times (default 3) and reports the median.
 *
 * @module
 */

import { candidateLibraryNames } from "@vmkit/vcpu";
import { qemuBootSeconds } from "./boot.ts";
import { median } from "./_stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const runs = Number(Deno.env.get("VMKIT_BOOT_RUNS") ?? 3);

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/** Library files to try, each once. */
function engineCandidates(): string[] {
  const found = new Set<string>();
  const add = (p: string | undefined) => {
    const real = p === undefined ? undefined : realPath(p);
    if (real) found.add(real);
  };
  add(Deno.env.get("VMKIT_UNICORN_PATH"));
  for (const name of candidateLibraryNames()) if (name.startsWith("/")) add(name);
  try {
    for (const entry of Deno.readDirSync(`${ROOT}.cache/engines`)) {
      if (entry.isDirectory) add(`${ROOT}.cache/engines/${entry.name}/libunicorn.so.2`);
    }
  } catch {
    // No cached engines.
  }
  return [...found];
}

interface EngineReport {
  version: string;
  path: string;
  compute: string[];
  boots: { seconds: number; instructions: number }[];
  bootProblem?: string;
}

async function measure(path: string): Promise<EngineReport | string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/engine_report.ts`, String(runs)],
    env: { VMKIT_UNICORN_PATH: path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    return new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "failed";
  }
  return JSON.parse(text) as EngineReport;
}

console.log("\nVMKit benchmark summary");
const reports: EngineReport[] = [];
for (const path of engineCandidates()) {
  const r = await measure(path);
  if (typeof r === "string") {
    console.log(`  ${path}: not measured: ${r}`);
    continue;
  }
  reports.push(r);
  console.log(`  Unicorn ${r.version} (${r.path})`);
  for (const line of r.compute) console.log(`    ${line}`);
}
const qemu: number[] = [];
let qemuProblem: string | undefined;
for (let i = 0; i < runs; i++) {
  const q = await qemuBootSeconds();
  if (typeof q === "string") {
    qemuProblem = q;
    break;
  }
  qemu.push(q);
}
console.log(`  boot of Debian's kernel to /init (median of ${runs}):`);
const reference = qemu.length ? median(qemu) : undefined;
console.log(
  `    QEMU TCG (-cpu cortex-a72): ${
    reference === undefined ? qemuProblem : `${reference.toFixed(2)} s`
  }`,
);
for (const r of reports) {
  if (r.bootProblem || r.boots.length === 0) {
    console.log(`    VMKit on Unicorn ${r.version}: ${r.bootProblem ?? "no boot"}`);
    continue;
  }
  const s = median(r.boots.map((b) => b.seconds));
  const ratio = reference === undefined ? "" : `, ${(s / reference).toFixed(2)}× QEMU`;
  console.log(
    `    VMKit on Unicorn ${r.version}: ${s.toFixed(2)} s (${
      r.boots.map((b) => b.seconds.toFixed(2)).join(", ")
    })${ratio}`,
  );
}
// SMP boots and the vCPU switch on the engine ./vmkit chose, in a process of its own like the others.
const smp = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}bench/smp.ts`, String(runs)],
  stdout: "piped",
  stderr: "piped",
}).output();
const smpText = new TextDecoder().decode(smp.success ? smp.stdout : smp.stderr).trim();
for (const line of smpText.split("\n").slice(0, smp.success ? undefined : 1)) {
  console.log(`  ${smp.success ? "" : "SMP boot: not measured: "}${line}`);
}
// virtio-blk throughput on the engine ./vmkit chose, in a process of its own like the others.
const disk = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}bench/disk.ts`],
  stdout: "piped",
  stderr: "piped",
}).output();
const diskText = new TextDecoder().decode(disk.success ? disk.stdout : disk.stderr).trim();
for (const line of diskText.split("\n").slice(0, disk.success ? undefined : 1)) {
  console.log(`  ${disk.success ? "" : "virtio-blk dd: not measured: "}${line}`);
}
// VM-to-VM networking on the same engine, in a process of its own too.
const net = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}bench/net.ts`],
  stdout: "piped",
  stderr: "piped",
}).output();
const netText = new TextDecoder().decode(net.success ? net.stdout : net.stderr).trim();
for (const line of netText.split("\n").slice(0, net.success ? undefined : 1)) {
  console.log(`  ${net.success ? "" : "virtio-net VM to VM: not measured: "}${line}`);
}
// What an attached debugger without breakpoints costs a boot, on the same engine.
const gdb = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}bench/gdb.ts`, String(runs)],
  stdout: "piped",
  stderr: "piped",
}).output();
const gdbText = new TextDecoder().decode(gdb.success ? gdb.stdout : gdb.stderr).trim();
console.log(`  gdb stub: ${gdb.success ? "" : "not measured: "}${gdbText.split("\n")[0]}`);
Deno.exit(0);

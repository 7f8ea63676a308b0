/**
 * Debian's kernel on four vCPUs. One interactive boot through the `vmkit`
 * command: all four CPUs come up and take timer interrupts and IPIs, threads
 * on four CPUs count exactly through fetch-add, a mutex and an LDXR/STXR
 * spinlock (`guests/linux/atomics.c`), eight shell jobs on four CPUs agree on
 * a checksum the host computes too, CPUs 1-3 go offline and come back ten
 * times and still count exactly, and `poweroff -f` ends the run with status 0
 * while the other three CPUs spin in busy loops. Then input piped into
 * `vmkit` before the guest is up, and two runs under the virtual clock that
 * must print and retire exactly the same.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { busybox, linuxGuestProgram, linuxKernel, ROOT } from "./helpers/assets.ts";
import { CliProcess } from "./helpers/cli.ts";
import { SHELL_PROMPT } from "./helpers/vm_console.ts";
import type { VirtualClockRequest, VirtualClockResult } from "./helpers/virtual_clock_worker.ts";
import { busyboxInitramfs, type CpioEntry } from "../scripts/_initramfs.ts";

const kernel = linuxKernel();
const box = busybox();
const atomics = linuxGuestProgram("atomics");
const needs = kernel.label + box.label + atomics.label;
const ignore = kernel.ignore || box.ignore || atomics.ignore;

const CPUS = 4;
const UNTIL_PROMPT = new RegExp(`([\\s\\S]*?)${SHELL_PROMPT.source}`, "m");
/** The prompt, or a kernel panic: the guest will not come back from one, so the test stops waiting. */
const PROMPT_OR_PANIC = new RegExp(`${UNTIL_PROMPT.source}|(Kernel panic - not syncing.*)`, "m");

/** CPUs 1-3 offline and back online `$1` times; says how many rounds saw exactly CPU 0, then 0-3. */
const HOTPLUG = `#!/bin/sh
n=$1 i=0 ok=0
while [ $i -lt $n ]; do
  i=$((i + 1))
  for c in 1 2 3; do
    echo 0 > /sys/devices/system/cpu/cpu$c/online || echo "hotplug: round $i: cpu$c stayed online"
  done
  off=$(cat /sys/devices/system/cpu/online)
  for c in 1 2 3; do
    echo 1 > /sys/devices/system/cpu/cpu$c/online || echo "hotplug: round $i: cpu$c stayed offline"
  done
  on=$(cat /sys/devices/system/cpu/online)
  if [ "$off" = 0 ] && [ "$on" = 0-3 ]; then ok=$((ok + 1)); else echo "hotplug: round $i: $off, then $on"; fi
done
echo "hotplug: $ok of $n rounds"
`;

/** Eight jobs, two pinned to each CPU, each checksumming \`seq 1 $1\`. */
const SUMS = `#!/bin/sh
rm -f /tmp/sum.*
for i in 1 2 3 4 5 6 7 8; do
  taskset $((1 << (i % 4))) sh -c "seq 1 $1 | md5sum > /tmp/sum.$i" &
done
wait
cat /tmp/sum.*
`;

/** A busy loop pinned to each of CPUs 1-3. */
const SPIN = `#!/bin/sh
for c in 1 2 3; do taskset $((1 << c)) sh -c 'while :; do :; done' & done
`;

async function guestFiles(): Promise<CpioEntry[]> {
  return [
    { type: "file", path: "bin/atomics", data: await Deno.readFile(atomics.path), mode: 0o755 },
    { type: "file", path: "bin/hotplug", data: HOTPLUG, mode: 0o755 },
    { type: "file", path: "bin/sums", data: SUMS, mode: 0o755 },
    { type: "file", path: "bin/spin", data: SPIN, mode: 0o755 },
  ];
}

/** The rows of /proc/interrupts: per-CPU counts by the row's description (`arch_timer`, `Rescheduling interrupts`, ...). */
function interrupts(text: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  const cols = `${"\\s+(\\d+)".repeat(CPUS)}`;
  for (const m of text.matchAll(new RegExp(`^\\s*\\w+:${cols}\\s+(.+?)\\r?$`, "gm"))) {
    const counts = m.slice(1, 1 + CPUS).map(Number);
    const what = m[1 + CPUS];
    rows.set(/arch_timer/.test(what) ? "arch_timer" : what.trim(), counts);
  }
  return rows;
}

function row(rows: Map<string, number[]>, name: string, text: string): number[] {
  const counts = rows.get(name);
  assert.ok(counts, `no "${name}" row in /proc/interrupts:\n${text}`);
  return counts;
}

/** Checks that every mode of the atomics program counted exactly; returns how often its spinlock was found taken. */
function checkAtomics(text: string, where: string): number {
  for (const mode of ["atomic", "mutex", "spinlock"]) {
    assert.match(
      text,
      new RegExp(
        `^atomics: ${mode} threads 4 adds 1000000 total 4000000 expected 4000000 ok `,
        "m",
      ),
      `${where}: ${mode}:\n${text}`,
    );
  }
  assert.match(text, /^atomics: all ok\r?$/m, `${where}:\n${text}`);
  const m = /stxr-fail \d+ busy (\d+)/.exec(text);
  assert.ok(m, text);
  return Number(m[1]);
}

/** User-mode ticks (USER_HZ) each CPU has spent, from /proc/stat. */
function userTicks(text: string): number[] {
  return Array.from({ length: CPUS }, (_, cpu) => {
    const m = new RegExp(`^cpu${cpu} (\\d+) (\\d+)`, "m").exec(text);
    assert.ok(m, `no cpu${cpu} line in /proc/stat:\n${text}`);
    return Number(m[1]) + Number(m[2]);
  });
}

Deno.test({
  name:
    "linux smp: 4 vCPUs boot, count exactly, agree on checksums, survive hotplug, power off busy" +
    needs,
  ignore,
  sanitizeResources: false,
  fn: async (t) => {
    kernel.assert();
    box.assert();
    atomics.assert();
    const dir = await Deno.makeTempDir();
    try {
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(
        initrd,
        busyboxInitramfs(await Deno.readFile(box.path), "", await guestFiles()),
      );
      await using vm = new CliProcess([
        "run",
        "--kernel",
        kernel.path,
        "--initrd",
        initrd,
        "--smp",
        String(CPUS),
        "--append",
        "console=ttyAMA0",
        "--timeout",
        "900",
      ]);
      let at = (await vm.expect(SHELL_PROMPT, 300_000)).end;
      // The command's output, without its echo.
      const sh = async (command: string, timeoutMs = 60_000) => {
        await vm.type(command + "\n");
        const r = await vm.expect(PROMPT_OR_PANIC, timeoutMs, at);
        if (r.match[2] !== undefined) {
          // Let the rest of the panic report arrive before failing with it.
          await new Promise((resolve) => setTimeout(resolve, 2000));
          assert.fail(
            `the guest panicked during "${command}":\n${vm.stdout.slice(at).slice(-8000)}`,
          );
        }
        at = r.end;
        return r.match[1].slice(r.match[1].indexOf("\n") + 1);
      };

      let before: Map<string, number[]> = new Map();
      await t.step("all four CPUs are up", async () => {
        assert.match(vm.stdout, /smp: Brought up 1 node, 4 CPUs/);
        assert.match(await sh("nproc"), /^4\r?$/m);
        assert.match(await sh("cat /sys/devices/system/cpu/online"), /^0-3\r?$/m);
        const text = await sh("cat /proc/interrupts");
        before = interrupts(text);
        for (const name of ["arch_timer", "Rescheduling interrupts", "Function call interrupts"]) {
          row(before, name, text);
        }
      });

      await t.step(
        "threads on four CPUs count exactly (fetch-add, mutex, LDXR/STXR spinlock)",
        async () => {
          // -p pins thread i to CPU i and fails unless each ran there.
          const text = await sh("/bin/atomics -p", 300_000);
          const busy = checkAtomics(text, "after boot");
          // The lock was found taken: the four threads did contend for it.
          assert.ok(busy > 0, `the spinlock was never contended:\n${text}`);
        },
      );

      await t.step("every CPU takes timer ticks, and the IPI rows count", async () => {
        const text = await sh("cat /proc/interrupts");
        const after = interrupts(text);
        const timer = row(after, "arch_timer", text);
        const first = row(before, "arch_timer", text);
        for (let cpu = 0; cpu < CPUS; cpu++) {
          assert.ok(
            timer[cpu] > first[cpu],
            `CPU ${cpu}'s arch timer did not count while it ran (${first[cpu]} then ${
              timer[cpu]
            }):\n${text}`,
          );
        }
        for (const name of ["Rescheduling interrupts", "Function call interrupts"]) {
          const counts = row(after, name, text);
          for (let cpu = 0; cpu < CPUS; cpu++) {
            assert.ok(counts[cpu] > 0, `no ${name} on CPU ${cpu}:\n${text}`);
          }
        }
      });

      await t.step("eight shell jobs on four CPUs agree on a checksum", async () => {
        const n = 20_000;
        let seq = "";
        for (let i = 1; i <= n; i++) seq += `${i}\n`;
        const expected = createHash("md5").update(seq).digest("hex");
        const text = await sh(`/bin/sums ${n}`, 120_000);
        const sums = [...text.matchAll(/^([0-9a-f]{32}) {2}-\r?$/gm)].map((m) => m[1]);
        assert.equal(sums.length, 8, text);
        for (const sum of sums) assert.equal(sum, expected, text);
      });

      await t.step(
        "CPUs 1-3 go offline and online 10 times, and the counts stay exact",
        async () => {
          const text = await sh("/bin/hotplug 10", 600_000);
          assert.match(text, /^hotplug: 10 of 10 rounds\r?$/m, text);
          assert.match(await sh("nproc"), /^4\r?$/m);
          checkAtomics(await sh("/bin/atomics -p", 300_000), "after hotplug");
        },
      );

      await t.step("poweroff -f exits 0 while CPUs 1-3 spin", async () => {
        await sh("/bin/spin");
        // The loops run: CPUs 1-3 gain user time between two looks.
        const ticks = await sh("head -5 /proc/stat; sleep 1; head -5 /proc/stat");
        const [first, second] = ticks.split(/^cpu0 /m).slice(1).map((s) => userTicks(`cpu0 ${s}`));
        for (let cpu = 1; cpu < CPUS; cpu++) {
          assert.ok(second[cpu] - first[cpu] >= 30, `CPU ${cpu} is not busy:\n${ticks}`);
        }
        await vm.type("poweroff -f\n");
        const code = await vm.exit(120_000);
        assert.equal(code, 0, `${vm.stderr}\n${vm.stdout.slice(-2000)}`);
        assert.match(vm.stderr, /the guest powered off/);
        assert.doesNotMatch(vm.stdout, /failed to stop secondary CPUs/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "linux smp: input piped into vmkit before the guest is up reaches its shell" + needs,
  ignore,
  sanitizeResources: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    const dir = await Deno.makeTempDir();
    try {
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(initrd, busyboxInitramfs(await Deno.readFile(box.path)));
      // printf writes both lines and closes the pipe before vmkit has even loaded the kernel.
      const out = await new Deno.Command("sh", {
        args: [
          "-c",
          `printf 'echo hi\\npoweroff -f\\n' | "$@"`,
          "sh",
          Deno.execPath(),
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-ffi",
          `${ROOT}apps/cli/main.ts`,
          "run",
          "--kernel",
          kernel.path,
          "--initrd",
          initrd,
          "--smp",
          String(CPUS),
          "--timeout",
          "300",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${stderr}\n${stdout.slice(-2000)}`);
      assert.match(stdout, /^hi\r?$/m, stdout.slice(-2000));
      assert.match(stderr, /the guest powered off/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Boots in a worker of its own (`helpers/virtual_clock_worker.ts`) and waits for its report. */
function virtualClockRun(request: VirtualClockRequest): Promise<VirtualClockResult> {
  const worker = new Worker(new URL("./helpers/virtual_clock_worker.ts", import.meta.url).href, {
    type: "module",
  });
  return new Promise<VirtualClockResult>((resolve) => {
    worker.onmessage = (event: MessageEvent<VirtualClockResult>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      worker.terminate();
      resolve({ ok: false, error: `${event.message} at ${event.filename}:${event.lineno}` });
    };
    worker.postMessage(request);
  });
}

Deno.test({
  name: "linux smp: two runs under the virtual clock print the same and retire the same" + needs,
  ignore,
  fn: async () => {
    kernel.assert();
    box.assert();
    atomics.assert();
    const script = "nproc\n/bin/atomics -p -n 20000\ncat /proc/interrupts\npoweroff -f";
    const request: VirtualClockRequest = {
      kernel: kernel.path,
      initrd: busyboxInitramfs(await Deno.readFile(box.path), script, await guestFiles()),
      cpus: CPUS,
      cmdline: "console=ttyAMA0",
      timeoutMs: 600_000,
    };
    // Two runs at once: nothing is shared between them but the host.
    const [first, second] = await Promise.all([virtualClockRun(request), virtualClockRun(request)]);
    if (!first.ok) assert.fail(first.error);
    if (!second.ok) assert.fail(second.error);
    assert.equal(first.reason, "poweroff", `${first.message}\n${first.output.slice(-3000)}`);
    // The runs did use four CPUs, so their sameness covers the interleaving.
    assert.match(first.output, /smp: Brought up 1 node, 4 CPUs/);
    assert.match(first.output, /^4\r?$/m);
    assert.match(first.output, /^atomics: all ok\r?$/m, first.output.slice(-3000));
    for (const [cpu, n] of first.perCpu.entries()) {
      assert.ok(n > 1_000_000, `CPU ${cpu} retired only ${n} instructions`);
    }
    assert.ok(first.switches > 1000, `only ${first.switches} vCPU switches`);
    assert.equal(second.output, first.output);
    assert.equal(second.instructions, first.instructions);
    assert.deepEqual(second.perCpu, first.perCpu);
    assert.equal(second.switches, first.switches);
  },
});

/**
 * The real gdb client against Debian's arm64 kernel under `vmkit run --gdb --gdb-wait`, booted
 * with `nokaslr` so that the kernel runs at its link addresses: a breakpoint at `start_kernel`,
 * its address resolved from the kernel package's System.map, stops there; `continue` then
 * boots to the busybox shell with gdb still attached, and the guest's poweroff ends both. With two
 * vCPUs, the second is thread 2 and stops at `secondary_start_kernel`.
 */
import assert from "node:assert/strict";
import { busybox, linuxKernel, systemMap } from "./helpers/assets.ts";
import { gdbClient, spawnGdbBatch, startWithGdb } from "./helpers/gdb_vm.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";

const kernel = linuxKernel();
const box = busybox();
const map = systemMap();

// Busybox's line editor asks the terminal for the cursor position (ESC [6n) after its prompt.
const ESC = "\\x1b";
const PROMPT = new RegExp(`/ # (?:${ESC}\\[6n)?$`, "m");

/** The kernel's link address of `name` (a text symbol), from System.map. */
async function kernelSymbol(name: string): Promise<bigint> {
  const symbols = await Deno.readTextFile(map.path);
  const entry = new RegExp(`^([0-9a-f]{16}) T ${name}$`, "m").exec(symbols);
  assert.ok(entry, `no ${name} in ${map.path}`);
  return BigInt(`0x${entry[1]}`);
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "gdb on Linux: break at start_kernel from System.map, stop there, continue to the shell" +
    kernel.label + box.label + map.label + gdbClient.label,
  ignore: kernel.ignore || box.ignore || map.ignore || gdbClient.ignore,
  sanitizeResources: false,
  async fn() {
    kernel.assert();
    box.assert();
    map.assert();
    gdbClient.assert();
    const startKernel = await kernelSymbol("start_kernel");

    const dir = await Deno.makeTempDir();
    try {
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(initrd, busyboxInitramfs(await Deno.readFile(box.path)));
      const { vm, port } = await startWithGdb([
        "run",
        "--kernel",
        kernel.path,
        "--initrd",
        initrd,
        "--append",
        "console=ttyAMA0 nokaslr",
        "--timeout",
        "400",
        "--gdb-wait",
      ]);
      await using _vm = vm;
      const gdb = spawnGdbBatch(port, [
        `break *0x${startKernel.toString(16)}`,
        "continue",
        "echo ==stopped\\n",
        "p/x $pc",
        "monitor info vcpus",
        "delete",
        "continue",
      ]);
      try {
        await until(() => gdb.output().includes("==stopped"), "the stop at start_kernel", 240_000);
        // gdb prints as it goes: wait for the monitor command's answer, the last before the boot.
        await until(() => /^cpu0: /m.test(gdb.output()), "monitor info vcpus", 30_000);
        const out = gdb.output();
        assert.match(
          out,
          new RegExp(`^Breakpoint 1, 0x0*${startKernel.toString(16)} in \\?\\? \\(\\)$`, "m"),
          out,
        );
        assert.match(out, new RegExp(`^\\$1 = 0x${startKernel.toString(16)}$`, "m"), out);
        // At start_kernel the kernel runs at EL1 with its own translation on.
        assert.match(out, /^cpu0: on pc=0x[0-9a-f]+ EL1$/m, out);
        assert.doesNotMatch(vm.stdout, /Run \/init/, "the guest was stopped before userspace");

        // gdb stays attached (its last continue) while the kernel boots to the shell.
        await until(() => PROMPT.test(vm.stdout), "the shell prompt", 300_000);
        assert.match(vm.stdout, /Linux version 6\.\d+/);
        await vm.type("poweroff -f\n");
        assert.equal(await vm.exit(120_000), 0, vm.stderr);
        const status = await gdb.done;
        assert.match(gdb.output(), /^\[Inferior 1 \(Remote target\) exited normally\]$/m);
        assert.equal(status.code, 0, gdb.output());
      } finally {
        try {
          gdb.child.kill("SIGKILL");
        } catch {
          // ended already
        }
        await gdb.done;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "gdb on Linux with 2 vCPUs: the second CPU is thread 2 and stops at secondary_start_kernel" +
    kernel.label + box.label + map.label + gdbClient.label,
  ignore: kernel.ignore || box.ignore || map.ignore || gdbClient.ignore,
  sanitizeResources: false,
  async fn() {
    kernel.assert();
    box.assert();
    map.assert();
    gdbClient.assert();
    const at = (await kernelSymbol("secondary_start_kernel")).toString(16);
    const dir = await Deno.makeTempDir();
    try {
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(initrd, busyboxInitramfs(await Deno.readFile(box.path)));
      const { vm, port } = await startWithGdb([
        "run",
        "--kernel",
        kernel.path,
        "--initrd",
        initrd,
        "--smp",
        "2",
        "--append",
        "console=ttyAMA0 nokaslr",
        "--timeout",
        "400",
        "--gdb-wait",
      ]);
      await using _vm = vm;
      const gdb = spawnGdbBatch(port, [
        "info threads",
        `break *0x${at}`,
        "continue",
        "info threads",
        "p/x $pc",
        "thread 1",
        "p/x $pc",
        "monitor info vcpus",
        "kill",
      ]);
      const status = await gdb.done;
      const out = gdb.output();
      assert.equal(status.code, 0, out);
      // Before the boot only the first vCPU is on; PSCI CPU_ON starts the second.
      assert.match(out, /^\s+2\s+Thread 2 "cpu1" \(stopped\)/m, out);
      assert.match(
        out,
        new RegExp(`^Thread 2 "cpu1" hit Breakpoint 1, 0x0*${at} in \\?\\? \\(\\)$`, "m"),
      );
      assert.match(out, new RegExp(`^\\$1 = 0x${at}$`, "m"));
      // Thread 1 is elsewhere: the threads' registers are their own.
      const other = /^\$2 = (0x[0-9a-f]+)$/m.exec(out);
      assert.ok(other && other[1] !== `0x${at}`, out);
      assert.match(out, /^cpu0: on.* EL1\ncpu1: on pc=0x[0-9a-f]+ EL1$/m);
      assert.match(out, /^\[Inferior 1 \(Remote target\) killed\]$/m);
      // kill ends the run the way a stop does.
      assert.equal(await vm.exit(60_000), 1, vm.stderr);
      assert.match(vm.stderr, /vmkit: stopped after/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

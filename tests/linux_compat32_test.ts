/**
 * A 32-bit ARM program under Debian's arm64 kernel: AArch32 at EL0 through
 * the kernel's compat layer (`guests/linux/compat32.c`, built with
 * gcc-arm-linux-gnueabihf). It prints, makes system calls, computes in VFP,
 * takes a raised signal, a timer signal, SIGILL and SIGSEGV, and exits 0.
 * Every exception it takes (system calls, page faults, the undefined
 * instruction, interrupts) goes to the kernel's vectors for a lower EL using
 * AArch32. Then two copies at once on two vCPUs, so that context switches
 * between vCPUs happen while one runs AArch32 code.
 */
import assert from "node:assert/strict";
import type { VmConfig } from "@vmkit/vmm";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { runLinuxScript } from "./helpers/linux_script.ts";

const kernel = linuxKernel();
const box = busybox();
const compat32 = linuxGuestProgram("compat32");
const needs = kernel.label + box.label + compat32.label;
const ignore = kernel.ignore || box.ignore || compat32.ignore;

const CHECKS = [
  "uname under PER_LINUX32",
  "getpid",
  "pipe, write, read",
  "open, read /proc/self/status",
  "nanosleep 20 ms, clock_gettime",
  "VFP: sqrt(2) by Newton",
  "SIGUSR1 raised and handled",
  "SIGALRM interrupts a busy loop",
  "SIGILL for an undefined instruction",
  "SIGSEGV for a load from page 0",
];

/** Boots Debian's kernel with compat32 in /bin, runs `script`, returns the console output at power-off. */
async function boot(config: VmConfig, script: string): Promise<string> {
  kernel.assert();
  box.assert();
  compat32.assert();
  const { exit, output } = await runLinuxScript(`${script}; poweroff -f`, { compat32 }, config);
  assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-2000)}`);
  return output;
}

/** Every check of one run passed, in `text` (one run's lines, each optionally prefixed with `prefix`). */
function assertAllPassed(text: string, prefix = ""): void {
  const p = escape(prefix);
  assert.match(text, new RegExp(`${p}compat32: hello from 32-bit user space`), text.slice(-2000));
  // Without PER_LINUX32 a 32-bit task sees the kernel's machine, as on arm64 hardware.
  assert.match(text, new RegExp(`${p}compat32: uname machine aarch64`));
  for (const check of CHECKS) {
    assert.match(text, new RegExp(`${p}compat32: ${escape(check)}: ok`), text.slice(-2000));
  }
  assert.match(text, new RegExp(`${p}compat32: 0 failed`));
}

Deno.test({
  name: `linux: a static 32-bit ARM program runs at AArch32 EL0, takes signals and exits 0${needs}`,
  ignore,
  fn: async () => {
    const output = await boot({}, `/bin/compat32; echo "compat32 exit status $?"`);
    assertAllPassed(output);
    assert.match(output, /compat32 exit status 0/);
  },
});

Deno.test({
  name: `linux: two 32-bit ARM programs at once on two vCPUs both pass${needs}`,
  ignore,
  fn: async () => {
    const output = await boot(
      { cpus: 2 },
      // Each copy pinned to a CPU of its own; its lines, and its exit status, prefixed with the CPU.
      'for c in 0 1; do taskset $((1 << c)) sh -c \'{ /bin/compat32; echo "exit status $?"; } | sed "s/^/cpu$0: /"\' $c > /tmp/out.$c & done; wait; cat /tmp/out.0 /tmp/out.1',
    );
    for (const cpu of ["cpu0: ", "cpu1: "]) {
      assertAllPassed(output, cpu);
      assert.match(output, new RegExp(`${cpu}exit status 0`));
    }
  },
});

/**
 * Known gap, kept visible: under a VMM clock the kernel reads the VMM's
 * time (an MRS hook), but the 32-bit vDSO reads the counter with MRRC,
 * which no Unicorn hook sees, so it gets the engine's host-time counter and
 * a 20 ms nanosleep measures as a few ms. The vCPU README says what fixes it.
 */
Deno.test({
  name:
    `linux: a 32-bit ARM program under the virtual clock (ignored: AArch32 counter reads bypass the VMM clock)${needs}`,
  ignore: true,
  fn: async () => {
    const output = await boot(
      { clock: "virtual" },
      `/bin/compat32; echo "compat32 exit status $?"`,
    );
    assertAllPassed(output);
    assert.match(output, /compat32 exit status 0/);
  },
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A 32-bit ARM program under Debian's arm64 kernel: AArch32 at EL0 through
 * the kernel's compat layer (`guests/linux/compat32.c`, built with
 * gcc-arm-linux-gnueabihf). It prints, makes system calls, computes in VFP,
 * takes a raised signal, a timer signal, SIGILL and SIGSEGV, and exits 0.
 * Every exception it takes (system calls, page faults, the undefined
 * instruction) goes to the kernel's vector for a lower EL using AArch32.
 */
import assert from "node:assert/strict";
import { VirtualMachine } from "@vmkit/vmm";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";

const kernel = linuxKernel();
const box = busybox();
const compat32 = linuxGuestProgram("compat32");

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

Deno.test({
  name: `linux: a static 32-bit ARM program runs at AArch32 EL0, takes signals and exits 0${
    kernel.label + box.label + compat32.label
  }`,
  ignore: kernel.ignore || box.ignore || compat32.ignore,
  fn: async () => {
    kernel.assert();
    box.assert();
    compat32.assert();
    const initrd = busyboxInitramfs(
      await Deno.readFile(box.path),
      `/bin/compat32; echo "compat32 exit status $?"; poweroff -f`,
      [{
        type: "file",
        path: "bin/compat32",
        data: await Deno.readFile(compat32.path),
        mode: 0o755,
      }],
    );
    let output = "";
    const decoder = new TextDecoder();
    using vm = new VirtualMachine({
      console: { write: (bytes) => output += decoder.decode(bytes, { stream: true }) },
    });
    await vm.loadLinux({
      kernel: await Deno.readFile(kernel.path),
      initrd,
      cmdline: "console=ttyAMA0 quiet",
    });
    const exit = await vm.run({ timeoutMs: 300_000 });
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-2000)}`);
    assert.match(output, /compat32: hello from 32-bit user space/, output.slice(-2000));
    assert.match(output, /compat32: uname machine aarch64/);
    for (const check of CHECKS) {
      assert.match(output, new RegExp(`compat32: ${escape(check)}: ok`), output.slice(-2000));
    }
    assert.match(output, /compat32: 0 failed/);
    assert.match(output, /compat32 exit status 0/);
  },
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

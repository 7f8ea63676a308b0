/**
 * Debian's kernel booted with a busybox initramfs that runs one shell
 * script, with static test programs in `/bin`: what most Linux tests do
 * before they read the console.
 *
 * @module
 */

import { VirtualMachine, type VmConfig, type VmExit } from "@vmkit/vmm";
import { busyboxInitramfs } from "../../scripts/_initramfs.ts";
import { type Asset, busybox, linuxKernel } from "./assets.ts";

/** How one boot ended, and what the console printed. */
export interface ScriptRun {
  readonly exit: VmExit;
  readonly output: string;
}

/**
 * Boots the kernel with `programs` (name in `/bin` → its asset), runs
 * `script` as the initramfs's job, and returns at the end of the run
 * (the script powers off) or after `timeoutMs`.
 */
export async function runLinuxScript(
  script: string,
  programs: Readonly<Record<string, Asset>>,
  config: VmConfig = {},
  timeoutMs = 300_000,
): Promise<ScriptRun> {
  const kernel = linuxKernel();
  const box = busybox();
  const files = [];
  for (const [name, program] of Object.entries(programs)) {
    files.push({
      type: "file" as const,
      path: `bin/${name}`,
      data: await Deno.readFile(program.path),
      mode: 0o755,
    });
  }
  const initrd = busyboxInitramfs(await Deno.readFile(box.path), script, files);
  let output = "";
  const decoder = new TextDecoder();
  using vm = new VirtualMachine({
    ...config,
    console: { write: (bytes) => output += decoder.decode(bytes, { stream: true }) },
  });
  await vm.loadLinux({
    kernel: await Deno.readFile(kernel.path),
    initrd,
    cmdline: "console=ttyAMA0 quiet",
  });
  const exit = await vm.run({ timeoutMs });
  return { exit, output };
}

/**
 * Wall time from start to the initramfs `/init` of Debian's arm64 kernel, for
 * VMKit and for `qemu-system-aarch64 -M virt -cpu cortex-a72` with the same
 * kernel and initramfs, measured in one run. Run with `deno run -A bench/boot.ts [runs]`.
 *
 * @module
 */

import { VirtualMachine } from "@vmkit/vmm";
import { UnicornLibrary } from "@vmkit/vcpu";
import { busybox, linuxKernel } from "../tests/helpers/assets.ts";
import { busyboxInitramfs, INIT_MARKER } from "../scripts/_initramfs.ts";

async function vmkitToInit(library: UnicornLibrary, kernel: Uint8Array, initrd: Uint8Array) {
  const t = performance.now();
  let seen = "";
  let reached = 0;
  const vm = new VirtualMachine({
    library,
    memorySize: 256 * 1024 * 1024,
    console: {
      write: (bytes) => {
        seen = (seen + new TextDecoder().decode(bytes)).slice(-200);
        if (!reached && seen.includes(INIT_MARKER)) {
          reached = performance.now() - t;
          vm.stop();
        }
      },
    },
  });
  try {
    await vm.loadLinux({ kernel, initrd, cmdline: "console=ttyAMA0" });
    const exit = await vm.run({ timeoutMs: 180_000 });
    if (!reached) throw new Error(`VMKit did not reach /init: ${exit.message}`);
    return { seconds: reached / 1000, instructions: exit.instructions };
  } finally {
    vm.close();
  }
}

async function qemuToInit(kernelPath: string, initrdPath: string): Promise<number> {
  const t = performance.now();
  const child = new Deno.Command("qemu-system-aarch64", {
    args: [
      "-M",
      "virt",
      "-cpu",
      "cortex-a72",
      "-m",
      "256M",
      "-nographic",
      "-no-reboot",
      "-nic",
      "none",
      "-kernel",
      kernelPath,
      "-initrd",
      initrdPath,
      "-append",
      "console=ttyAMA0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let seen = "";
  let reached = 0;
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  for await (const chunk of child.stdout) {
    seen = (seen + new TextDecoder().decode(chunk)).slice(-200);
    if (seen.includes(INIT_MARKER)) {
      reached = performance.now() - t;
      child.kill("SIGKILL");
      break;
    }
  }
  clearTimeout(timer);
  await child.status;
  if (!reached) throw new Error("QEMU did not reach /init");
  return reached / 1000;
}

export async function bootReport(runs = 1): Promise<string[]> {
  const kernel = linuxKernel();
  const box = busybox();
  if (!kernel.present || !box.present) {
    return ["boot to /init: skipped (run `deno run -A scripts/fetch_guests.ts` first)"];
  }
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  try {
    const initrd = busyboxInitramfs(await Deno.readFile(box.path));
    await Deno.writeFile(`${dir}/initrd`, initrd);
    const image = await Deno.readFile(kernel.path);
    using library = UnicornLibrary.open();
    const haveQemu = await new Deno.Command("qemu-system-aarch64", {
      args: ["--version"],
      stdout: "null",
    })
      .output().then((o) => o.success, () => false);
    for (let i = 0; i < runs; i++) {
      const v = await vmkitToInit(library, image, initrd);
      let line = `boot to /init: VMKit ${v.seconds.toFixed(1)} s (${
        (v.instructions / 1e6).toFixed(0)
      } M instructions, ${(v.instructions / v.seconds / 1e6).toFixed(0)} M instr/s)`;
      if (haveQemu) {
        const q = await qemuToInit(kernel.path, `${dir}/initrd`);
        line += `, QEMU ${q.toFixed(1)} s, ratio ${(v.seconds / q).toFixed(1)}×`;
      } else {
        line += ", QEMU not installed (sudo apt-get install qemu-system-arm)";
      }
      lines.push(line);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

if (import.meta.main) {
  for (const line of await bootReport(Number(Deno.args[0] ?? 1))) console.log(line);
}

/**
 * Wall time from start to the initramfs `/init` of Debian's arm64 kernel, for
 * VMKit and for `qemu-system-aarch64 -M virt -cpu cortex-a72` with the same
 * kernel and initramfs, measured in one run. Run with `deno run -A bench/boot.ts [runs]`.
 *
 * @module
 */

import process from "node:process";
import { VirtualMachine } from "@vmkit/vmm";
import { UnicornLibrary } from "@vmkit/vcpu";
import { busybox, linuxKernel } from "../tests/helpers/assets.ts";
import { busyboxInitramfs, INIT_MARKER } from "../scripts/_initramfs.ts";

/** How a VMKit boot is set up: vCPUs and slice length (the VM's defaults when left out). */
export interface BootOptions {
  readonly cpus?: number;
  readonly sliceInstructions?: number;
}

/** One boot to `/init`. */
export interface BootFigures {
  /** Wall time. */
  readonly seconds: number;
  /** Host CPU time of this process (every thread) over the same span. */
  readonly cpuSeconds: number;
  readonly instructions: number;
  /** Context switches between vCPUs. */
  readonly switches: number;
}

async function vmkitToInit(
  library: UnicornLibrary,
  kernel: Uint8Array,
  initrd: Uint8Array,
  options: BootOptions = {},
): Promise<BootFigures> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  let seen = "";
  let reached = 0;
  let cpuSeconds = 0;
  const vm = new VirtualMachine({
    library,
    memorySize: 256 * 1024 * 1024,
    cpus: options.cpus,
    sliceInstructions: options.sliceInstructions,
    console: {
      write: (bytes) => {
        seen = (seen + new TextDecoder().decode(bytes)).slice(-200);
        if (!reached && seen.includes(INIT_MARKER)) {
          reached = performance.now() - t;
          const used = process.cpuUsage(cpu);
          cpuSeconds = (used.user + used.system) / 1e6;
          vm.stop();
        }
      },
    },
  });
  try {
    await vm.loadLinux({ kernel, initrd, cmdline: "console=ttyAMA0" });
    const exit = await vm.run({ timeoutMs: 180_000 });
    if (!reached) throw new Error(`VMKit did not reach /init: ${exit.message}`);
    return {
      seconds: reached / 1000,
      cpuSeconds,
      instructions: exit.instructions,
      switches: vm.vcpus[0].contextSwitches,
    };
  } finally {
    vm.close();
  }
}

async function qemuToInit(kernelPath: string, initrdPath: string, smp: number): Promise<number> {
  const t = performance.now();
  const child = new Deno.Command("qemu-system-aarch64", {
    args: [
      "-M",
      "virt",
      "-cpu",
      "cortex-a72",
      "-smp",
      String(smp),
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

/** The kernel and initramfs the boots use, or why they are missing. */
async function images(): Promise<{ kernel: string; initrd: Uint8Array } | string> {
  const kernel = linuxKernel();
  const box = busybox();
  if (!kernel.present || !box.present) {
    return "skipped (run `deno run -A scripts/fetch_guests.ts` first)";
  }
  return { kernel: kernel.path, initrd: busyboxInitramfs(await Deno.readFile(box.path)) };
}

/**
 * One boot to `/init` on `library`.
 *
 * @throws {Error} when the guest images are missing or the boot fails.
 */
export async function bootToInit(
  library: UnicornLibrary,
  options: BootOptions = {},
): Promise<BootFigures> {
  const found = await images();
  if (typeof found === "string") throw new Error(found);
  return await vmkitToInit(library, await Deno.readFile(found.kernel), found.initrd, options);
}

/**
 * Seconds QEMU (TCG, `-smp smp`) takes to `/init` with the same kernel and
 * initramfs, or why it cannot run.
 */
export async function qemuBootSeconds(smp = 1): Promise<number | string> {
  const found = await images();
  if (typeof found === "string") return found;
  const haveQemu = await new Deno.Command("qemu-system-aarch64", {
    args: ["--version"],
    stdout: "null",
  }).output().then((o) => o.success, () => false);
  if (!haveQemu) return "not installed (sudo apt-get install qemu-system-arm)";
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/initrd`, found.initrd);
    return await qemuToInit(found.kernel, `${dir}/initrd`, smp);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  using library = UnicornLibrary.open();
  const v = await bootToInit(library);
  const q = await qemuBootSeconds();
  console.log(
    `boot to /init: VMKit on Unicorn ${library.versionString} ${v.seconds.toFixed(2)} s, QEMU ${
      typeof q === "number" ? `${q.toFixed(2)} s, ratio ${(v.seconds / q).toFixed(2)}×` : q
    }`,
  );
}

/**
 * virtio-blk throughput: Debian's kernel runs `dd` with 1 MiB blocks and
 * direct I/O (oflag/iflag=direct, so the guest's page cache is out of the
 * way) over 64 MiB of a raw image, writing then reading, in
 * VMKit and in `qemu-system-aarch64 -M virt` with `-device
 * virtio-blk-device` on the same kind of image, with the same kernel and
 * initramfs. The guest times each `dd` with its own clock (both guests'
 * clocks follow the host's), five times. Reports the median MB/s (10^6
 * bytes) of each and VMKit's ratio to QEMU.
 *
 * `deno run -A bench/disk.ts` prints the table; `--json` one JSON object
 * (what `bench/report.ts` reads).
 *
 * @module
 */

import { VirtualMachine } from "@vmkit/vmm";
import { FileBlockBackend } from "@vmkit/virtio";
import { busybox, GUEST_DIR, kernelModules, linuxKernel } from "../tests/helpers/assets.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";
import { initramfsModules } from "../scripts/_kernel_modules.ts";
import { median } from "./_stats.ts";

const MIB = 1 << 20;
const SIZE_MIB = 64;
const ROUNDS = 5;
const TIMEOUT_MS = 600_000;

/**
 * The guest's side: each transfer between two readings of the kernel's clock (the "now at"
 * line of /proc/timer_list, nanoseconds, read by shell builtins so no process starts in
 * between), then power off.
 */
const SCRIPT = `
stamp() { { read -r _; read -r _; read -r _ _ T _; } < /proc/timer_list; }
r=1
while [ $r -le ${ROUNDS} ]; do
  stamp; a=$T
  dd if=/dev/zero of=/dev/vda bs=1M count=${SIZE_MIB} oflag=direct 2>/dev/null || echo "BENCH-FAIL write"
  stamp; echo "BENCH write $a $T"
  stamp; a=$T
  dd if=/dev/vda of=/dev/null bs=1M count=${SIZE_MIB} iflag=direct 2>/dev/null || echo "BENCH-FAIL read"
  stamp; echo "BENCH read $a $T"
  r=$((r + 1))
done
echo "BENCH-DONE"
poweroff -f
`;

/** Median MB/s of the writes and the reads. */
export interface DiskFigures {
  readonly writeMBps: number;
  readonly readMBps: number;
}

function figures(console: string, who: string): DiskFigures {
  if (/BENCH-FAIL/.test(console)) throw new Error(`${who}: dd failed:\n${console.slice(-2000)}`);
  const rates = { write: [] as number[], read: [] as number[] };
  for (const m of console.matchAll(/^BENCH (write|read) ([\d.]+) ([\d.]+)\r?$/gm)) {
    const seconds = (Number(m[3]) - Number(m[2])) / 1e9;
    rates[m[1] as "write" | "read"].push((SIZE_MIB * MIB) / 1e6 / seconds);
  }
  if (rates.write.length !== ROUNDS || rates.read.length !== ROUNDS) {
    throw new Error(`${who}: the guest did not finish its transfers:\n${console.slice(-2000)}`);
  }
  return { writeMBps: median(rates.write), readMBps: median(rates.read) };
}

async function scratchImage(dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}`;
  // Written out, not sparse: both VMMs read back what the writes put there anyway.
  await Deno.writeFile(path, new Uint8Array((SIZE_MIB + 16) * MIB));
  return path;
}

async function vmkit(kernel: Uint8Array, initrd: Uint8Array, image: string): Promise<DiskFigures> {
  let out = "";
  const decoder = new TextDecoder();
  const vm = new VirtualMachine({
    console: { write: (b) => out += decoder.decode(b, { stream: true }) },
    disks: [{ backend: await FileBlockBackend.open(image) }],
  });
  try {
    await vm.loadLinux({ kernel, initrd, cmdline: "console=ttyAMA0 quiet" });
    const exit = await vm.run({ timeoutMs: TIMEOUT_MS });
    if (exit.reason !== "poweroff") throw new Error(`VMKit: ${exit.message}\n${out.slice(-2000)}`);
  } finally {
    vm.close();
  }
  return figures(out, "VMKit");
}

async function qemu(kernel: string, initrd: string, image: string): Promise<DiskFigures> {
  const child = new Deno.Command("qemu-system-aarch64", {
    args: [
      ...["-M", "virt", "-cpu", "cortex-a72", "-m", "256M", "-nographic", "-no-reboot"],
      ...["-nic", "none", "-kernel", kernel, "-initrd", initrd],
      ...["-append", "console=ttyAMA0 quiet"],
      ...["-drive", `file=${image},if=none,format=raw,id=disk0`],
      ...["-device", "virtio-blk-device,drive=disk0"],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`QEMU exited ${out.code}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return figures(text, "QEMU");
}

/** Both measurements, or why they cannot run. */
export async function diskBench(): Promise<
  { vmkit: DiskFigures; qemu: DiskFigures | string } | string
> {
  for (const asset of [linuxKernel(), busybox(), kernelModules()]) {
    if (!asset.present) return `skipped: ${asset.problem}`;
  }
  const initrd = busyboxInitramfs(
    await Deno.readFile(busybox().path),
    SCRIPT,
    [],
    await initramfsModules(GUEST_DIR),
  );
  const dir = await Deno.makeTempDir();
  try {
    const ours = await vmkit(
      await Deno.readFile(linuxKernel().path),
      initrd,
      await scratchImage(dir, "vmkit.img"),
    );
    let theirs: DiskFigures | string;
    try {
      await Deno.writeFile(`${dir}/initrd`, initrd);
      theirs = await qemu(linuxKernel().path, `${dir}/initrd`, await scratchImage(dir, "qemu.img"));
    } catch (e) {
      theirs = e instanceof Deno.errors.NotFound
        ? "not installed (sudo apt-get install qemu-system-arm)"
        : (e as Error).message;
    }
    return { vmkit: ours, qemu: theirs };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The report's lines. */
export function diskLines(result: Awaited<ReturnType<typeof diskBench>>): string[] {
  if (typeof result === "string") return [`virtio-blk dd: ${result}`];
  const q = result.qemu;
  const line = (what: "write" | "read") => {
    const key = what === "write" ? "writeMBps" : "readMBps";
    const v = result.vmkit[key];
    const ref = typeof q === "string"
      ? q
      : `QEMU ${q[key].toFixed(0)} MB/s, ratio ${(v / q[key]).toFixed(2)}×`;
    return `  ${what} ${SIZE_MIB} MiB, bs=1M, direct: VMKit ${v.toFixed(0)} MB/s; ${ref}`;
  };
  return [`virtio-blk dd (median of ${ROUNDS}):`, line("write"), line("read")];
}

if (import.meta.main) {
  const result = await diskBench();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(result));
  else for (const l of diskLines(result)) console.log(l);
}

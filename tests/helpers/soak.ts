/**
 * A Linux guest under mixed load for a while, with the `vmkit` process's
 * resident memory sampled from outside: the core of `deno task soak`
 * (bench/soak.ts, 30 minutes) and of tests/soak_test.ts (2 minutes).
 *
 * The guest's `/init` first touches most of its RAM once (a file in tmpfs,
 * then removed), so guest pages becoming resident for the first time do not
 * look like host growth later; then it runs, in the background, program
 * churn (`guests/linux/rewrite` writing and running new programs), file
 * writes to tmpfs, sleep loops and console output, and powers off after the
 * given time. The RSS slope after the warm-up is a least-squares line
 * through the samples.
 *
 * @module
 */

import { type Asset, busybox, linuxGuestProgram, linuxKernel } from "./assets.ts";
import { CliProcess } from "./cli.ts";
import { busyboxInitramfs, INIT_MARKER } from "../../scripts/_initramfs.ts";
import { RssSampler, slope } from "./process_watch.ts";

/** The slope a soak may not reach: 1 MB (10^6 bytes) a minute, in MiB a minute. */
export const SOAK_SLOPE_LIMIT_MIB_PER_MIN: number = 1e6 / 2 ** 20;

/** What to run. */
export interface SoakOptions {
  /** Minutes of load (after `/init` has touched the guest's RAM). */
  minutes: number;
  /** Minutes of load left out of the slope. */
  warmupMinutes: number;
  /** Seconds between RSS samples. */
  sampleSeconds: number;
  /** Guest RAM in MiB. */
  memMiB: number;
  /** Called with each sample: minutes of load, RSS and translated code in MiB. */
  onSample?: (minutes: number, mib: number, codeMiB: number) => void;
}

/** What a soak saw. */
export interface SoakResult {
  /** Exit status of `vmkit` and its stderr. */
  status: Deno.CommandStatus;
  stderr: string;
  /** The guest console. */
  console: string;
  /** Samples: minutes of load, RSS and the translated code within it in MiB. */
  samples: { minutes: number; mib: number; codeMiB: number }[];
  /** Slope of the samples after the warm-up, MiB per minute. */
  slopeMiBPerMinute: number;
  /**
   * The same without the translated code: the engine's buffer fills and is
   * emptied in a sawtooth of up to ~100 MiB that a short run cannot average
   * out, while its size is bounded by the vCPU anyway.
   */
  slopeWithoutCodeMiBPerMinute: number;
  /** Samples the slope is computed from. */
  slopeSamples: number;
  /** Ticks the console loop printed, programs rewritten and run, failures of either. */
  ticks: number;
  rewrites: number;
  failures: string[];
}

/** The assets a soak needs, and whether one is missing. */
export function soakAssets(): Record<"kernel" | "busybox" | "rewrite" | "variant", Asset> & {
  ignore: boolean;
} {
  const assets = {
    kernel: linuxKernel(),
    busybox: busybox(),
    rewrite: linuxGuestProgram("rewrite"),
    variant: linuxGuestProgram("variant"),
  };
  return { ...assets, ignore: Object.values(assets).some((a) => a.ignore) };
}

function initScript(seconds: number, fillMiB: number): string {
  return `
mkdir -p /fill /tmp/churn /tmp/files
mount -t tmpfs -o size=${fillMiB + 8}m tmpfs /fill
head -c ${fillMiB}m /dev/zero > /fill/ram && rm /fill/ram
umount /fill
echo "soak: RAM touched; load starts"
( while :; do /bin/rewrite /bin/variant /tmp/churn/prog 20 > /tmp/churn/log ||
    echo "soak: FAILED rewrite"; echo "soak: rewrote 20"; done ) &
( i=0; while :; do i=$(( (i + 1) % 8 ));
    dd if=/dev/zero of=/tmp/files/f$i bs=64k count=16 2>/dev/null || echo "soak: FAILED write";
    cat /tmp/files/f$i > /dev/null; done ) &
( while :; do sleep 0.1; done ) &
( while :; do usleep 30000; done ) &
( n=0; while :; do n=$((n + 1)); echo "soak: tick $n $(seq -s ' ' 1 24)"; sleep 1; done ) &
sleep ${seconds}
echo "soak: done"
poweroff -f
`;
}

/** Runs the soak; resolves when `vmkit` has ended. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const assets = soakAssets();
  const seconds = Math.round(options.minutes * 60);
  const initrd = busyboxInitramfs(
    await Deno.readFile(assets.busybox.path),
    initScript(seconds, Math.floor(options.memMiB * 0.6)),
    [
      {
        type: "file",
        path: "bin/rewrite",
        data: await Deno.readFile(assets.rewrite.path),
        mode: 0o755,
      },
      {
        type: "file",
        path: "bin/variant",
        data: await Deno.readFile(assets.variant.path),
        mode: 0o755,
      },
    ],
  );
  const initrdPath = await Deno.makeTempFile({ prefix: "vmkit-soak-", suffix: ".cpio" });
  try {
    await Deno.writeFile(initrdPath, initrd);
    await using vm = new CliProcess([
      "run",
      "--kernel",
      assets.kernel.path,
      "--initrd",
      initrdPath,
      "--mem",
      `${options.memMiB}M`,
      "--append",
      "console=ttyAMA0 quiet",
      // A safety net: the guest powers off by itself.
      "--timeout",
      String(seconds + 600),
    ]);
    using rss = new RssSampler(vm.pid, options.sampleSeconds * 1000, { executable: true });
    const init = await vm.expect(new RegExp(INIT_MARKER), 300_000);
    // Time counts from the start of the load, after the guest has touched its RAM.
    const { end } = await vm.expect(/soak: RAM touched; load starts/, 300_000, init.end);
    const loadMs = rss.sample()?.ms ?? 0;
    let seen = 0;
    const report = setInterval(() => {
      for (; seen < rss.samples.length; seen++) {
        const s = rss.samples[seen];
        if (s.ms >= loadMs) {
          options.onSample?.((s.ms - loadMs) / 60_000, s.kib / 1024, (s.executableKib ?? 0) / 1024);
        }
      }
    }, 1000);
    let doneMs = Infinity;
    try {
      // A guest kernel that panicked never gets there: fail now, not at the timeout.
      const { match } = await vm.expect(
        /soak: done|Kernel panic - not syncing/,
        (seconds + 300) * 1000,
        end,
      );
      if (match[0] !== "soak: done") {
        throw new Error(`the guest kernel panicked:\n${vm.stdout.slice(-4000)}`);
      }
      doneMs = rss.sample()?.ms ?? Infinity;
      await vm.exit(120_000);
    } finally {
      clearInterval(report);
      rss.stop();
    }
    // The load, not the shutdown after it.
    const samples = rss.samples.filter((s) => s.ms >= loadMs && s.ms <= doneMs).map((s) => ({
      minutes: (s.ms - loadMs) / 60_000,
      mib: s.kib / 1024,
      codeMiB: (s.executableKib ?? 0) / 1024,
    }));
    const measured = samples.filter((s) => s.minutes >= options.warmupMinutes);
    const text = vm.stdout;
    return {
      status: vm.status!,
      stderr: vm.stderr,
      console: text,
      samples,
      slopeMiBPerMinute: slope(measured.map((s) => ({ x: s.minutes, y: s.mib }))),
      slopeWithoutCodeMiBPerMinute: slope(
        measured.map((s) => ({ x: s.minutes, y: s.mib - s.codeMiB })),
      ),
      slopeSamples: measured.length,
      ticks: text.split("soak: tick ").length - 1,
      rewrites: 20 * (text.split("soak: rewrote 20").length - 1),
      failures: text.split("\n").filter((l) => l.includes("soak: FAILED")),
    };
  } finally {
    await Deno.remove(initrdPath).catch(() => {});
  }
}

/**
 * VM-to-VM networking: two Debian guests in this one process on an
 * in-process switch. The guests measure, with their own clocks (which follow
 * the host's): ping round-trip time (50 pings, 0.1 s apart) and TCP
 * throughput (`tcpblast` from guests/linux sends 64 MiB in 256 KiB writes,
 * the receiver times it from first byte to end, three times; busybox `nc`
 * would measure its own 1 KiB system calls instead). Reports ping's
 * min/avg/max and the median MB/s (10^6 bytes).
 *
 * `deno run -A bench/net.ts` prints the lines; `--json` one JSON object
 * (what `bench/report.ts` reads).
 *
 * @module
 */

import { EthernetSwitch } from "@vmkit/net";
import { VirtualMachine } from "@vmkit/vmm";
import { busybox, kernelModules, linuxGuestProgram, linuxKernel } from "../tests/helpers/assets.ts";
import { netInitramfs } from "../tests/helpers/net_guest.ts";

const MIB = 1 << 20;
const SIZE_MIB = 64;
const ROUNDS = 3;
const PINGS = 50;
const TIMEOUT_MS = 900_000;

const SENDER = `until ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; do sleep 0.2; done
ping -c ${PINGS} -i 0.1 10.0.0.2 | sed -n 's/^round-trip min\\/avg\\/max = /BENCH ping /p'
r=1
while [ $r -le ${ROUNDS} ]; do
  tcpblast send 10.0.0.2 5001 ${SIZE_MIB} || echo "BENCH-FAIL send"
  sleep 1
  r=$((r + 1))
done
sleep 1
poweroff -f
`;

const RECEIVER = `r=1
while [ $r -le ${ROUNDS} ]; do
  tcpblast recv 5001 | sed -n 's/^tcpblast: received \\([0-9]*\\) bytes in /BENCH tcp \\1 /p'
  r=$((r + 1))
done
echo BENCH-DONE
sleep 1
poweroff -f
`;

/** What the guests measured. */
export interface NetFigures {
  /** Ping round-trip time in ms. */
  readonly pingMs: { readonly min: number; readonly avg: number; readonly max: number };
  /** Median TCP throughput, MB/s. */
  readonly tcpMBps: number;
  /** Every round's MB/s. */
  readonly tcpRounds: readonly number[];
}

function figures(out: string): NetFigures {
  if (/BENCH-FAIL/.test(out) || !/BENCH-DONE/.test(out)) {
    throw new Error(`the guests did not finish:\n${out.slice(-2000)}`);
  }
  const ping = /^BENCH ping ([\d.]+)\/([\d.]+)\/([\d.]+) ms\r?$/m.exec(out);
  if (!ping) throw new Error(`no ping figures:\n${out.slice(-2000)}`);
  const rounds = [...out.matchAll(/^BENCH tcp (\d+) ([\d.]+) s\r?$/gm)].map((m) => {
    if (Number(m[1]) !== SIZE_MIB * MIB) {
      throw new Error(`received ${m[1]} bytes, not ${SIZE_MIB} MiB`);
    }
    return Number(m[1]) / 1e6 / Number(m[2]);
  });
  if (rounds.length !== ROUNDS) throw new Error(`not every round finished:\n${out.slice(-2000)}`);
  const sorted = [...rounds].sort((a, b) => a - b);
  return {
    pingMs: { min: Number(ping[1]), avg: Number(ping[2]), max: Number(ping[3]) },
    tcpMBps: sorted[Math.floor(sorted.length / 2)],
    tcpRounds: rounds,
  };
}

/** The measurement, or why it cannot run. */
export async function netBench(): Promise<NetFigures | string> {
  for (const asset of [linuxKernel(), busybox(), kernelModules(), linuxGuestProgram("tcpblast")]) {
    if (!asset.present) return `skipped: ${asset.problem}`;
  }
  const kernel = await Deno.readFile(linuxKernel().path);
  const lan = new EthernetSwitch();
  let out = "";
  const decoder = new TextDecoder();
  const console = { write: (b: Uint8Array) => out += decoder.decode(b, { stream: true }) };
  const sender = new VirtualMachine({ console, nets: [{ backend: lan.port("sender") }] });
  const receiver = new VirtualMachine({ console, nets: [{ backend: lan.port("receiver") }] });
  try {
    const boot = async (vm: VirtualMachine, address: string, script: string) => {
      await vm.loadLinux({
        kernel,
        initrd: await netInitramfs({ address, script, programs: ["tcpblast"] }),
        cmdline: "console=ttyAMA0 quiet",
      });
      return vm.run({ timeoutMs: TIMEOUT_MS });
    };
    const exits = await Promise.all([
      boot(sender, "10.0.0.1/24", SENDER),
      boot(receiver, "10.0.0.2/24", RECEIVER),
    ]);
    for (const e of exits) {
      if (e.reason !== "poweroff") throw new Error(`${e.message}\n${out.slice(-2000)}`);
    }
  } finally {
    sender.close();
    receiver.close();
  }
  return figures(out);
}

/** The report's lines. */
export function netLines(result: NetFigures | string): string[] {
  if (typeof result === "string") return [`virtio-net VM to VM: ${result}`];
  const p = result.pingMs;
  return [
    "virtio-net, two VMs in one process on one switch:",
    `  ping round trip (${PINGS} pings): min ${p.min.toFixed(2)} / avg ${p.avg.toFixed(2)} / max ${
      p.max.toFixed(2)
    } ms`,
    `  TCP ${SIZE_MIB} MiB, 256 KiB writes (median of ${ROUNDS}): ${
      result.tcpMBps.toFixed(1)
    } MB/s (${result.tcpRounds.map((r) => r.toFixed(1)).join(", ")})`,
  ];
}

if (import.meta.main) {
  const result = await netBench();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(result));
  else for (const l of netLines(result)) console.log(l);
}

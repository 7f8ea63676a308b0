/**
 * Fairness between VMs in one process: one VM floods the other with UDP as
 * fast as its network card goes, and the flooded VM's timer and console keep
 * working all the while — a program that sleeps on 50 ms deadlines and prints
 * a line at each finishes all its ticks before the flood ends — and memory
 * stays bounded: the frames the victim cannot take are dropped and counted,
 * never queued beyond the device's fixed backlog. The measured lateness and
 * console gaps are printed.
 */
import assert from "node:assert/strict";
import { EthernetSwitch } from "@vmkit/net";
import { busybox, kernelModules, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { netInitramfs } from "./helpers/net_guest.ts";
import { VmConsole } from "./helpers/vm_console.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const programs = [linuxGuestProgram("udpflood"), linuxGuestProgram("ticker")];

const FLOOD_SECONDS = 20;
const TICKS = 100;
const BACKLOG = 256 * 1024;

Deno.test({
  name:
    "fairness: a VM flooding its network card does not starve the other VM's timer or console, " +
    "and memory stays bounded" + kernel.label + box.label + modules.label + programs[0].label +
    programs[1].label,
  ignore: kernel.ignore || box.ignore || modules.ignore || programs.some((p) => p.ignore),
  sanitizeResources: false,
  fn: async () => {
    for (const a of [kernel, box, modules, ...programs]) a.assert();
    const image = await Deno.readFile(kernel.path);
    const lan = new EthernetSwitch();
    // What happened, in host order.
    const events: string[] = [];
    const tickTimes: number[] = [];
    const flooder = new VmConsole({ nets: [{ backend: lan.port("flooder") }] });
    const victim = new VmConsole({ nets: [{ backend: lan.port("victim") }] });
    try {
      await flooder.vm.loadLinux({
        kernel: image,
        initrd: await netInitramfs({
          address: "10.0.0.1/24",
          programs: ["udpflood"],
          script: `until ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; do sleep 0.2; done
udpflood 10.0.0.2 9 ${FLOOD_SECONDS} 1400
echo FLOOD-DONE
poweroff -f
`,
        }),
        cmdline: "console=ttyAMA0 quiet",
      });
      await victim.vm.loadLinux({
        kernel: image,
        initrd: await netInitramfs({
          address: "10.0.0.2/24",
          programs: ["ticker"],
          // The ticks start once the flood is well under way.
          script:
            `while [ "$(cat /sys/class/net/eth0/statistics/rx_packets)" -lt 3000 ]; do sleep 0.1; done
echo FLOODED
ticker ${TICKS} 50
poweroff -f
`,
        }),
        cmdline: "console=ttyAMA0 quiet",
      });
      const memoryBefore = Deno.memoryUsage();
      let heapPeak = memoryBefore.heapUsed;
      let rssPeak = memoryBefore.rss;
      const sampler = setInterval(() => {
        const m = Deno.memoryUsage();
        heapPeak = Math.max(heapPeak, m.heapUsed);
        rssPeak = Math.max(rssPeak, m.rss);
      }, 100);
      flooder.start(600_000);
      victim.start(600_000);
      const watch = async (vm: VmConsole, pattern: RegExp, event: string) => {
        await vm.expect(pattern, 600_000);
        events.push(event);
      };
      const ticks = (async () => {
        for (let i = 1; i <= TICKS; i++) {
          await victim.expect(new RegExp(`^tick ${i} late_us \\d+\\r?$`, "m"), 600_000);
          tickTimes.push(performance.now());
        }
      })();
      await Promise.all([
        watch(flooder, /^udpflood: sent \d+ datagrams\r?$/m, "flood ended"),
        watch(victim, /^FLOODED\r?$/m, "victim flooded"),
        watch(victim, /^ticker: \d+ ticks, .*\r?$/m, "ticks done"),
        ticks,
      ]);
      const exits = await Promise.all([flooder.exited(), victim.exited()]);
      clearInterval(sampler);
      for (const e of exits) assert.equal(e.reason, "poweroff", e.message);

      // The victim's timer and console ran to the end while the flood went on.
      assert.deepEqual(events, ["victim flooded", "ticks done", "flood ended"]);
      const summary = /^ticker: (\d+) ticks, max late_us (\d+), total_ms (\d+)\r?$/m.exec(
        victim.output,
      )!;
      assert.equal(Number(summary[1]), TICKS);
      const sent = Number(/udpflood: sent (\d+) datagrams/.exec(flooder.output)![1]);
      const v = victim.vm.virtio.nets[0].net.stats;
      const f = flooder.vm.virtio.nets[0].net.stats;
      // The flood was more than the victim could take: the rest was dropped, not queued.
      assert.ok(f.txFrames > 10_000, `the flood sent ${f.txFrames} frames`);
      assert.ok(v.rxDropped > 0, "frames the victim could not take were dropped");
      assert.ok(v.rxBacklogPeak <= BACKLOG, `backlog peak ${v.rxBacklogPeak}`);
      const heapGrowth = (heapPeak - memoryBefore.heapUsed) / 2 ** 20;
      assert.ok(heapGrowth < 64, `the host's heap grew by ${heapGrowth.toFixed(1)} MiB`);
      let gap = 0;
      for (let i = 1; i < tickTimes.length; i++) {
        gap = Math.max(gap, tickTimes[i] - tickTimes[i - 1]);
      }
      console.log(
        `flood: ${sent} datagrams of 1400 bytes in ${FLOOD_SECONDS} s; victim took ${v.rxFrames} ` +
          `frames, dropped ${v.rxDropped}, backlog peak ${v.rxBacklogPeak} bytes`,
      );
      console.log(
        `victim under the flood: ${TICKS} ticks of 50 ms in ${summary[3]} ms, max ${
          (Number(summary[2]) / 1000).toFixed(1)
        } ms late; longest gap between tick lines on the host ${gap.toFixed(0)} ms`,
      );
      console.log(
        `host memory: heap +${heapGrowth.toFixed(1)} MiB, RSS ${
          (memoryBefore.rss / 2 ** 20).toFixed(0)
        } → peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB (guest RAM being touched included)`,
      );
    } finally {
      flooder.vm.close();
      victim.vm.close();
    }
  },
});

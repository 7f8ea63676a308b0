/**
 * Malformed rings on virtio-net, against a real vCPU, with a bystander:
 * guests/virtio/net_malformed.c posts zero-length, header-only, short,
 * oversized and 64 KiB frames, frames asking for segmentation or a checksum
 * outside themselves, bursts of them, descriptor loops, buffers outside RAM
 * and unusable receive buffers, while a Linux VM on the same switch pings a
 * host endpoint. The bare-metal guest's every check passes, exactly its good
 * frames leave its card, the host keeps running, and the Linux VM's pings
 * are all answered.
 */
import assert from "node:assert/strict";
import { EthernetSwitch, PingResponder, type SwitchPort } from "@vmkit/net";
import { VirtualMachine } from "@vmkit/vmm";
import { bareMetalGuest, busybox, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { netInitramfs } from "./helpers/net_guest.ts";
import { VmConsole } from "./helpers/vm_console.ts";

const program = bareMetalGuest("virtio/net_malformed");
const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();

const GROUPS = [
  "probe",
  "good frames",
  "zero-length frame",
  "header only",
  "shorter than an Ethernet header",
  "oversized frame",
  "64 KiB frame",
  "segmentation asked for",
  "checksum outside the frame",
  "burst of malformed frames",
  "descriptor loop",
  "buffer outside RAM",
  "buffer wrapping the address space",
  "receive buffers",
];
/** Frames the guest gets wrong one at a time, and in its bursts (40 of 16). */
const MALFORMED = 7 + 40 * 16;
const PINGS = 40;

Deno.test({
  name:
    "virtio-net: malformed transmit chains and receive buffers cost the guest that makes them, " +
    "not the host or the other VM on the switch" + program.label + kernel.label + box.label +
    modules.label,
  ignore: program.ignore || kernel.ignore || box.ignore || modules.ignore,
  sanitizeResources: false,
  fn: async () => {
    for (const a of [program, kernel, box, modules]) a.assert();
    const lan = new EthernetSwitch({ name: "lan" });
    const responder = new PingResponder({
      ip: "10.0.0.1",
      mac: "02:00:00:00:00:01",
      backend: lan.port("host"),
    });
    // Captures the bare-metal guest's good frames and echoes what it asks to have echoed.
    const good: string[] = [];
    const echo: SwitchPort = lan.connect({
      receive: (f) => {
        const type = (f[12] << 8) | f[13];
        if (type === 0x88b5) good.push(new TextDecoder().decode(f.subarray(14, 31)));
        if (type === 0x88b6) {
          const back = f.slice();
          back.copyWithin(0, 6, 12);
          back.set([2, 0, 0, 0, 0xec, 0], 6);
          echo.send(back);
        }
        return true;
      },
    }, "capture");

    const linux = new VmConsole({ nets: [{ backend: lan.port("linux") }] });
    let out = "";
    const bare = new VirtualMachine({
      rng: false,
      nets: [{ backend: lan.port("bare"), mac: "52:54:00:00:00:0b" }],
      console: { write: (b) => out += new TextDecoder().decode(b) },
    });
    try {
      await linux.vm.loadLinux({
        kernel: await Deno.readFile(kernel.path),
        initrd: await netInitramfs({
          address: "10.0.0.2/24",
          script: `echo PINGING\nping -c ${PINGS} -i 0.1 10.0.0.1 | tail -2\npoweroff -f\n`,
        }),
        cmdline: "console=ttyAMA0 quiet",
      });
      await bare.loadLinux({ kernel: await Deno.readFile(program.path) });
      linux.start(300_000);
      // The attack starts while the other VM is pinging.
      await linux.expect(/^PINGING\r?$/m, 240_000);
      const exit = await bare.run({ timeoutMs: 120_000 });
      assert.equal(exit.reason, "poweroff", `${exit.message}\n${out.slice(-3000)}`);
      const failures = out.split("\n").filter((l) => / FAIL /.test(l));
      assert.deepEqual(failures, [], "every check passed");
      const done = /^done: (\d+) passed, (\d+) failed\r?$/m.exec(out);
      assert.ok(done, out.slice(-2000));
      assert.equal(done[2], "0");
      for (const g of GROUPS) assert.match(out, new RegExp(`^check ${g}: `, "m"), g);

      // Exactly the good frames left the card, in order; nothing of the malformed ones.
      const sent = Number(/^good frames sent: (0x[0-9a-f]+)\r?$/m.exec(out)?.[1]);
      assert.ok(sent >= 7);
      assert.deepEqual(
        good,
        Array.from({ length: sent }, (_, i) => `vmkit-net good ${String(i + 1).padStart(2, "0")}`),
      );
      const nic = bare.virtio.nets[0];
      assert.equal(nic.net.stats.txMalformed, MALFORMED);
      assert.equal(nic.net.stats.rxTooLong, 2, "the two unusable receive buffers");
      assert.equal(nic.transport.stats.deviceErrors, 3, "loop, outside RAM, wrapping");
      assert.equal(lan.stats.malformed, 0, "nothing malformed reached the switch");

      // The other VM kept working throughout.
      const pinged = await linux.exited();
      assert.equal(pinged.reason, "poweroff", pinged.message);
      assert.match(
        linux.output,
        new RegExp(`${PINGS} packets transmitted, ${PINGS} packets received, 0% packet loss`),
      );
      assert.equal(responder.stats.echoReplies, PINGS);
    } finally {
      linux.vm.close();
      bare.close();
    }
  },
});

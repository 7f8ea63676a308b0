/**
 * Host code on the switch: a PingResponder answers a Linux guest's ARP
 * request and its pings, and a capture endpoint written in the test sees the
 * guest's ARP broadcast — all inside this process.
 */
import assert from "node:assert/strict";
import { EthernetSwitch, PingResponder } from "@vmkit/net";
import { busybox, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { netInitramfs } from "./helpers/net_guest.ts";
import { VmConsole } from "./helpers/vm_console.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();

Deno.test({
  name: "host endpoint: host code on the switch answers a guest's ARP and ping" + kernel.label +
    box.label + modules.label,
  ignore: kernel.ignore || box.ignore || modules.ignore,
  sanitizeResources: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    const lan = new EthernetSwitch();
    const host = new PingResponder({
      ip: "10.0.0.1",
      mac: "02:00:00:00:00:01",
      backend: lan.port("host"),
    });
    // A capture endpoint: ARP requests the guest broadcast, as "sender IP -> target IP".
    const arp: string[] = [];
    lan.connect({
      receive: (f) => {
        if (f[12] === 0x08 && f[13] === 0x06 && f[21] === 1) {
          arp.push(`${f.subarray(28, 32).join(".")} -> ${f.subarray(38, 42).join(".")}`);
        }
        return true;
      },
    }, "capture");
    const vm = new VmConsole({ nets: [{ backend: lan.port("guest"), mac: "52:54:00:00:00:02" }] });
    try {
      await vm.vm.loadLinux({
        kernel: await Deno.readFile(kernel.path),
        initrd: await netInitramfs({
          address: "10.0.0.2/24",
          script: "ping -c 10 -i 0.2 10.0.0.1 | tail -2\nip neigh show 10.0.0.1\npoweroff -f\n",
        }),
        cmdline: "console=ttyAMA0 quiet",
      });
      vm.start(300_000);
      const exit = await vm.exited();
      assert.equal(exit.reason, "poweroff", exit.message);
      assert.match(vm.output, /10 packets transmitted, 10 packets received, 0% packet loss/);
      // The guest learned the endpoint's address from its ARP reply.
      assert.match(vm.output, /^10\.0\.0\.1 dev eth0 lladdr 02:00:00:00:00:01 /m);
      assert.ok(host.stats.arpReplies >= 1);
      assert.equal(host.stats.echoReplies, 10);
      assert.ok(arp.includes("10.0.0.2 -> 10.0.0.1"), arp.join(", "));
    } finally {
      vm.vm.close();
    }
  },
});

/**
 * Two Linux VMs in this one process, on one in-process switch: both load
 * virtio_net (with failover and net_failover) from the kernel package and
 * configure their addresses with busybox ip; ping -c 100 is answered both
 * ways with 0% loss; busybox httpd on one serves a 4 MiB random file that
 * wget on the other fetches intact; a 64 MiB nc stream arrives intact, and
 * its throughput is printed.
 */
import assert from "node:assert/strict";
import { EthernetSwitch } from "@vmkit/net";
import { MemoryBlockBackend } from "@vmkit/virtio";
import { busybox, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { randomBytes, sha256 } from "./helpers/ext4.ts";
import { netInitramfs, STAMP } from "./helpers/net_guest.ts";
import { SHELL_PROMPT, VmConsole } from "./helpers/vm_console.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();

const MIB = 1 << 20;
const PINGS = 100;

/** A VM's shell: types a command and returns what it printed up to the next prompt. */
class Shell {
  at = 0;
  constructor(readonly vm: VmConsole) {}
  async ready(timeoutMs: number): Promise<void> {
    this.at = (await this.vm.expect(SHELL_PROMPT, timeoutMs)).end;
  }
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    this.vm.type(command + "\n");
    return await this.wait(timeoutMs);
  }
  /** What the command running now prints up to the next prompt. */
  async wait(timeoutMs: number): Promise<string> {
    const r = await this.vm.expect(
      new RegExp(`([\\s\\S]*?)${SHELL_PROMPT.source}`, "m"),
      timeoutMs,
      this.at,
    );
    this.at = r.end;
    return r.match[1];
  }
}

Deno.test({
  name:
    "two Linux VMs in one process on one switch: ping both ways, httpd and wget, a 64 MiB nc stream" +
    kernel.label + box.label + modules.label,
  ignore: kernel.ignore || box.ignore || modules.ignore,
  sanitizeResources: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    const image = await Deno.readFile(kernel.path);
    const blob = randomBytes(4 * MIB);
    const stream = randomBytes(64 * MIB);
    const disk = new MemoryBlockBackend(stream.length);
    await disk.write(0, stream);
    const lan = new EthernetSwitch({ name: "lan" });
    const make = async (name: string, address: string, mac: string, extra: object) => {
      const vm = new VmConsole({ nets: [{ backend: lan.port(name), mac }], ...extra });
      await vm.vm.loadLinux({
        kernel: image,
        initrd: await netInitramfs({
          address,
          files: name === "a"
            ? [{ type: "dir", path: "www" }, {
              type: "file",
              path: "www/blob",
              data: blob,
            }]
            : [],
        }),
        cmdline: "console=ttyAMA0 quiet",
      });
      return vm;
    };
    const a = await make("a", "10.0.0.1/24", "52:54:00:00:00:0a", { disks: [{ backend: disk }] });
    const b = await make("b", "10.0.0.2/24", "52:54:00:00:00:0b", {});
    try {
      a.start(600_000);
      b.start(600_000);
      const [sa, sb] = [new Shell(a), new Shell(b)];
      await Promise.all([sa.ready(300_000), sb.ready(300_000)]);

      // The driver and its helpers came from the kernel package; busybox ip configured eth0.
      for (const [s, address, mac] of [[sa, "10.0.0.1", "0a"], [sb, "10.0.0.2", "0b"]] as const) {
        const mods = await s.run("lsmod | grep -E '^(virtio_net|net_failover|failover) '");
        for (const m of ["virtio_net", "net_failover", "failover"]) {
          assert.match(mods, new RegExp(`^${m} `, "m"));
        }
        const eth = await s.run("ip addr show eth0; cat /sys/class/net/eth0/carrier");
        assert.match(eth, new RegExp(`link/ether 52:54:00:00:00:${mac} `));
        assert.match(eth, new RegExp(`inet ${address.replaceAll(".", "\\.")}/24 `));
        // Carrier: the link status the device reports.
        assert.match(eth, /<[A-Z_,-]*\bLOWER_UP\b[A-Z_,-]*>/);
        assert.match(eth, /^1\r?$/m);
      }

      // ping -c 100 both ways at once.
      const pings = await Promise.all([
        sa.run(`ping -c ${PINGS} -i 0.2 10.0.0.2 | tail -2`, 300_000),
        sb.run(`ping -c ${PINGS} -i 0.2 10.0.0.1 | tail -2`, 300_000),
      ]);
      for (const p of pings) {
        assert.match(
          p,
          new RegExp(`${PINGS} packets transmitted, ${PINGS} packets received, 0% packet loss`),
        );
      }
      console.log(`ping a→b: ${pings[0].match(/round-trip .*/)?.[0]}`);
      console.log(`ping b→a: ${pings[1].match(/round-trip .*/)?.[0]}`);

      // httpd on a, wget on b.
      await sa.run("httpd -p 80 -h /www && echo httpd started");
      const got = await sb.run("wget -q -O - http://10.0.0.1/blob | sha256sum", 300_000);
      assert.match(got, new RegExp(`^${await sha256(blob)}  -\\r?$`, "m"));

      // 64 MiB from a's disk through nc into sha256sum on b.
      b.type("nc -l -p 5001 | sha256sum\n");
      await b.expect(/nc -l -p 5001 \| sha256sum\r?\n/, 30_000, sb.at);
      await sa.run(STAMP);
      const sent = await sa.run(
        'stamp; s=$T; nc 10.0.0.2 5001 < /dev/vda; stamp; echo "sent $s $T"',
        600_000,
      );
      const sums = await sb.wait(600_000);
      assert.match(
        sums,
        new RegExp(`^${await sha256(stream)}  -\\r?$`, "m"),
        "the stream is intact",
      );
      const t = /^sent (\d+) (\d+)\r?$/m.exec(sent);
      assert.ok(t, sent);
      const seconds = (Number(t[2]) - Number(t[1])) / 1e9;
      console.log(
        `nc 64 MiB a→b: ${seconds.toFixed(2)} s, ${(64 * MIB / 1e6 / seconds).toFixed(1)} MB/s`,
      );

      const [na, nb] = [a.vm.virtio.nets[0].net.stats, b.vm.virtio.nets[0].net.stats];
      assert.equal(na.txMalformed + nb.txMalformed, 0);
      assert.ok(na.txBytes > 64 * MIB && nb.rxBytes > 64 * MIB);
      assert.equal(lan.stats.malformed, 0);
      a.type("poweroff -f\n");
      b.type("poweroff -f\n");
      const exits = await Promise.all([a.exited(), b.exited()]);
      for (const e of exits) assert.equal(e.reason, "poweroff", e.message);
    } finally {
      a.vm.close();
      b.vm.close();
    }
  },
});

/**
 * A VM on a TAP device, with `vmkit up`, entirely inside a network namespace
 * the test makes (root only; ignored otherwise, visibly): the guest fetches a
 * file from a Deno.serve server bound to the TAP address, and the host pings
 * the guest. The TAP device exists only in the namespace, so no traffic
 * reaches any other address.
 */
import assert from "node:assert/strict";
import {
  ipRequirement,
  NetNamespace,
  pingRequirement,
  rootRequirement,
  run,
} from "../testing/netns.ts";
import { busybox, kernelModules, linuxKernel, ROOT } from "./helpers/assets.ts";
import { CliProcess } from "./helpers/cli.ts";
import { randomBytes, sha256 } from "./helpers/ext4.ts";
import { netInitramfs } from "./helpers/net_guest.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const root = rootRequirement();
const ipTool = ipRequirement();
const ping = pingRequirement();

const TAP = "vmktap0";
const PINGS = 10;

/** Waits for a line matching `pattern` on a child's stdout; returns everything read so far. */
async function lineMatching(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen = "",
): Promise<string> {
  while (!pattern.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before ${pattern}: ${seen}`);
    seen += value;
  }
  return seen;
}

Deno.test({
  name: "TAP: vmkit up puts a guest on a TAP device in a namespace; it fetches from Deno.serve " +
    "and the host pings it" + kernel.label + box.label + modules.label + root.label +
    ipTool.label + ping.label,
  ignore: kernel.ignore || box.ignore || modules.ignore || root.ignore || ipTool.ignore ||
    ping.ignore,
  sanitizeResources: false,
  fn: async () => {
    for (const r of [kernel, box, modules, root, ipTool, ping]) r.assert();
    const dir = await Deno.makeTempDir();
    await using ns = await NetNamespace.create("tap");
    let server: Deno.ChildProcess | undefined;
    try {
      await ns.ip("tuntap", "add", "dev", TAP, "mode", "tap");
      await ns.ip("addr", "add", "10.0.2.1/24", "dev", TAP);
      await ns.ip("link", "set", TAP, "up");
      const blob = randomBytes(2 << 20);
      await Deno.writeFile(`${dir}/blob`, blob);
      server = new Deno.Command("ip", {
        args: ns.exec(
          Deno.execPath(),
          "run",
          "--allow-net",
          "--allow-read",
          `${ROOT}tests/helpers/serve_file.ts`,
          "10.0.2.1",
          "8080",
          `${dir}/blob`,
        ),
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const served = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      await lineMatching(served, /^listening$/m);

      await Deno.writeFile(
        `${dir}/guest.cpio`,
        await netInitramfs({
          address: "10.0.2.2/24",
          script: `wget -q -O /tmp/blob http://10.0.2.1:8080/blob && sha256sum /tmp/blob
echos() { awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }' /proc/net/snmp; }
echo READY-FOR-PING
while [ "$(echos)" -lt ${PINGS} ]; do sleep 0.2; done
echo "PINGED $(echos)"
poweroff -f
`,
        }),
      );
      await Deno.writeTextFile(
        `${dir}/up.json`,
        JSON.stringify({
          vms: [{
            name: "guest",
            kernel: kernel.path,
            initrd: "guest.cpio",
            cmdline: "console=ttyAMA0 quiet",
            nets: [{ tap: TAP, mac: "52:54:00:00:02:02" }],
          }],
        }),
      );
      await using vm = new CliProcess(
        ["up", `${dir}/up.json`, "--timeout", "300"],
        { wrap: ["ip", "netns", "exec", ns.name] },
      );
      await vm.expect(/^\[guest\] READY-FOR-PING$/m, 240_000);
      assert.match(vm.stdout, new RegExp(`^\\[guest\\] ${await sha256(blob)}  /tmp/blob$`, "m"));

      const pinged = await ns.run("ping", "-c", String(PINGS), "-i", "0.2", "-W", "5", "10.0.2.2");
      assert.equal(pinged.code, 0, pinged.stdout + pinged.stderr);
      assert.match(pinged.stdout, new RegExp(`${PINGS} received, 0% packet loss`));
      assert.equal(await vm.exit(120_000), 0, vm.stderr);
      assert.match(vm.stdout, /^\[guest\] PINGED \d+$/m);
      assert.match(vm.stderr, /^vmkit: \[guest\] the guest powered off /m);

      // The device was only ever in the namespace.
      assert.notEqual((await run("ip", ["link", "show", TAP])).code, 0);
      await server.stdin.close();
      assert.match(await lineMatching(served, /^requests \d+$/m), /^requests 1$/m);
    } finally {
      try {
        server?.kill("SIGKILL");
      } catch {
        // already ended
      }
      await server?.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

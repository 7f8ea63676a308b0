/**
 * `vmkit up` end to end: two Linux VMs from one file, in one process, ping
 * each other over a switch and power off (exit 0, every console line with
 * its VM's name); a VM that powers off with a failing status stops the
 * others and is named (exit 1); a bad file, a missing kernel and a TAP device
 * without CAP_NET_ADMIN are each one line and exit 2.
 */
import assert from "node:assert/strict";
import { busybox, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { CliProcess, runVmkit } from "./helpers/cli.ts";
import { netInitramfs } from "./helpers/net_guest.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const linux = kernel.label + box.label + modules.label;
const noLinux = kernel.ignore || box.ignore || modules.ignore;

/** Writes the file (and the initramfs files given) into a new folder; returns the file's path. */
async function upFile(vms: object[], initrds: Record<string, Uint8Array> = {}): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, data] of Object.entries(initrds)) await Deno.writeFile(`${dir}/${name}`, data);
  await Deno.writeTextFile(`${dir}/up.json`, JSON.stringify({ vms }, null, 2));
  return `${dir}/up.json`;
}

async function removeFolder(file: string): Promise<void> {
  await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
}

/** A guest that waits for its peer to answer, pings it, and powers off. */
function pinger(me: string, peer: string): Promise<Uint8Array> {
  return netInitramfs({
    address: `${me}/24`,
    script: `until ping -c 1 -W 1 ${peer} >/dev/null 2>&1; do sleep 0.2; done
ping -c 3 -i 0.2 ${peer} | grep 'packets transmitted'
sleep 2
poweroff -f
`,
  });
}

Deno.test({
  name: "vmkit up: two VMs from one file ping each other on a switch, each line prefixed; exit 0" +
    linux,
  ignore: noLinux,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    const vm = (name: string) => ({
      name,
      kernel: kernel.path,
      initrd: `${name}.cpio`,
      cmdline: "console=ttyAMA0 quiet",
      mem: "128M",
      nets: [{ switch: "lan" }],
    });
    const file = await upFile([vm("alpha"), vm("beta")], {
      "alpha.cpio": await pinger("10.0.0.1", "10.0.0.2"),
      "beta.cpio": await pinger("10.0.0.2", "10.0.0.1"),
    });
    try {
      const r = await runVmkit(["up", file, "--timeout", "300"], 360_000);
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
      for (const name of ["alpha", "beta"]) {
        assert.match(
          r.stdout,
          new RegExp(
            `^\\[${name}\\] 3 packets transmitted, 3 packets received, 0% packet loss$`,
            "m",
          ),
        );
        assert.match(r.stdout, new RegExp(`^\\[${name}\\] vmkit-init: userspace is up$`, "m"));
        assert.match(
          r.stderr,
          new RegExp(`^vmkit: \\[${name}\\] the guest powered off after `, "m"),
        );
      }
      const unprefixed = r.stdout.split("\n").filter((l) =>
        l !== "" && !/^\[(alpha|beta)\] /.test(l)
      );
      assert.deepEqual(unprefixed, [], "every console line carries its VM's name");
    } finally {
      await removeFolder(file);
    }
  },
});

Deno.test({
  name:
    "vmkit up: a VM that powers off with a failing status stops the others and is named; exit 1" +
    linux,
  ignore: noLinux,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    const file = await upFile([
      {
        name: "waiter",
        kernel: kernel.path,
        initrd: "waiter.cpio",
        cmdline: "console=ttyAMA0 quiet",
        mem: "64M",
      },
      {
        name: "failing",
        kernel: kernel.path,
        initrd: "failing.cpio",
        cmdline: "console=ttyAMA0 quiet",
        mem: "64M",
      },
    ], {
      "waiter.cpio": await netInitramfs({
        script: "echo waiting forever\nwhile :; do sleep 1; done\n",
      }),
      // Status 3 through VMKit's exit-status device (0x090c0000: (status << 16) | 0x3333).
      "failing.cpio": await netInitramfs({ script: "sleep 1\ndevmem 0x090c0000 32 0x00033333\n" }),
    });
    try {
      const r = await runVmkit(["up", file, "--timeout", "300"], 360_000);
      assert.equal(r.code, 1, `${r.stderr}\n${r.stdout.slice(-3000)}`);
      const lines = r.stderr.trim().split("\n");
      assert.match(
        lines.at(-1)!,
        /^vmkit: \[failing\] the guest powered off with exit status 3 after \d+\.\d s$/,
      );
      assert.match(r.stdout, /^\[waiter\] waiting forever$/m);
      assert.doesNotMatch(r.stderr, /\[waiter\] the guest powered off/);
    } finally {
      await removeFolder(file);
    }
  },
});

Deno.test("vmkit up: a bad file, a missing kernel, a TAP device without CAP_NET_ADMIN: one line each, exit 2", async () => {
  const bad = await upFile([{ name: "a", kernel: "Image", smp: 9 }]);
  const missing = await upFile([{ name: "a", kernel: "no-such-Image" }]);
  const tap = await upFile([{ name: "a", kernel: "Image", nets: [{ tap: "vmkno0" }] }], {
    Image: new Uint8Array(64),
  });
  try {
    const one = async (args: string[], wrap: string[] = []) => {
      await using p = new CliProcess(args, { wrap });
      const code = await p.exit(60_000);
      assert.equal(code, 2, p.stderr);
      assert.equal(p.stderr.trim().split("\n").length, 1, p.stderr);
      return p.stderr.trim();
    };
    assert.equal(
      await one(["up", bad]),
      "vmkit: up.json: vms[0].smp: expected a whole number from 1 to 8, got 9",
    );
    assert.match(
      await one(["up", missing]),
      /^vmkit: up\.json: vms\[0\]\.kernel: cannot read ".*\/no-such-Image": no such file$/,
    );
    // Root without the capability is what an unprivileged user gets.
    const wrap = Deno.uid() === 0
      ? ["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin"]
      : [];
    assert.equal(
      await one(["up", tap], wrap),
      'vmkit: up.json: vms[0].nets[0].tap: cannot open the TAP device "vmkno0": it needs ' +
        "CAP_NET_ADMIN (run as root, or create it for your user first: sudo ip tuntap add dev " +
        "vmkno0 mode tap user $USER)",
    );
    assert.match(await one(["up"]), /^vmkit: up: FILE\.json is required/);
  } finally {
    for (const f of [bad, missing, tap]) await removeFolder(f);
  }
});

/**
 * Runs the README's examples as written: the host-code one in this process, comparing what it
 * prints with its `// → ` comments; the two-VM one as a program of its own, booting Debian's
 * kernel twice with initramfs images that ping each other (ignored without the Linux assets).
 */
import assert from "node:assert/strict";
import { busybox, kernelModules, linuxKernel } from "../../tests/helpers/assets.ts";
import { netInitramfs } from "../../tests/helpers/net_guest.ts";

const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const modules: Record<string, string> = {
  "@vmkit/net": new URL("./mod.ts", import.meta.url).href,
  "@vmkit/vmm": new URL("../vmm/mod.ts", import.meta.url).href,
};

function resolved(code: string): string {
  for (const [name, url] of Object.entries(modules)) {
    code = code.replaceAll(JSON.stringify(name), JSON.stringify(url));
  }
  return code;
}

Deno.test("the README has its two examples", () => {
  assert.equal(blocks.length, 2);
});

Deno.test("README: host code on the switch prints what it says", async () => {
  const code = blocks[1];
  const expected = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  const printed: string[] = [];
  const log = console.log;
  try {
    await Deno.writeTextFile(file, resolved(code));
    console.log = (...args: unknown[]) => printed.push(args.join(" "));
    await import(`file://${file}`);
  } finally {
    console.log = log;
    await Deno.remove(file);
  }
  assert.deepEqual(printed, expected);
});

const kernel = linuxKernel();
const box = busybox();
const mods = kernelModules();

Deno.test({
  name: "README: two VMs on one switch ping each other and power off" + kernel.label + box.label +
    mods.label,
  ignore: kernel.ignore || box.ignore || mods.ignore,
  fn: async () => {
    kernel.assert();
    box.assert();
    mods.assert();
    const dir = await Deno.makeTempDir();
    try {
      const pinger = (me: string, peer: string) =>
        netInitramfs({
          address: `${me}/24`,
          script: `until ping -c 1 -W 1 ${peer} >/dev/null 2>&1; do sleep 0.2; done
ping -c 2 ${peer} >/dev/null && echo "reached ${peer}"
sleep 1
poweroff -f
`,
        });
      await Deno.writeFile(`${dir}/a.cpio`, await pinger("10.0.0.1", "10.0.0.2"));
      await Deno.writeFile(`${dir}/b.cpio`, await pinger("10.0.0.2", "10.0.0.1"));
      await Deno.writeTextFile(`${dir}/example.ts`, resolved(blocks[0]));
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-ffi",
          "--allow-env",
          "--allow-read",
          "--config",
          new URL("../../deno.json", import.meta.url).pathname,
          `${dir}/example.ts`,
          kernel.path,
          `${dir}/a.cpio`,
          `${dir}/b.cpio`,
        ],
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /^reached 10\.0\.0\.2\r?$/m);
      assert.match(stdout, /^reached 10\.0\.0\.1\r?$/m);
      assert.match(stdout, /\npoweroff poweroff\ntrue\n$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

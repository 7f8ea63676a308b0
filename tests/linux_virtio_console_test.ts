/**
 * One boot of Debian's kernel with `vmkit run --console virtio`, an entropy
 * device (there by default) and a read-only disk: the login shell runs on
 * hvc0 (typed commands, typed input, Ctrl-C), /dev/hwrng is virtio's and
 * gives data, and the read-only disk reads but cannot be mounted
 * read-write or written, down to the image file's bytes.
 */
import assert from "node:assert/strict";
import { busybox, GUEST_DIR, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { CliProcess } from "./helpers/cli.ts";
import { e2fsprogs, mkfsExt4, randomBytes, sha256 } from "./helpers/ext4.ts";
import { SHELL_PROMPT } from "./helpers/vm_console.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";
import { initramfsModules } from "../scripts/_kernel_modules.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const tools = e2fsprogs();

/** The output between `from` and the next prompt. */
const UNTIL_PROMPT = new RegExp(`([\\s\\S]*?)${SHELL_PROMPT.source}`, "m");

Deno.test({
  name:
    "linux --console virtio: a shell session on hvc0, entropy from virtio-rng, a read-only disk" +
    kernel.label + box.label + modules.label + tools.label,
  ignore: kernel.ignore || box.ignore || modules.ignore || tools.ignore,
  sanitizeResources: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    tools.assert();
    const dir = await Deno.makeTempDir();
    try {
      const data = randomBytes(300_000);
      await Deno.mkdir(`${dir}/src`);
      await Deno.writeFile(`${dir}/src/data.bin`, data);
      const image = `${dir}/ro.img`;
      await mkfsExt4(image, 16 << 20, `${dir}/src`);
      const imageBefore = await sha256(await Deno.readFile(image));
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(
        initrd,
        busyboxInitramfs(await Deno.readFile(box.path), "", [], await initramfsModules(GUEST_DIR)),
      );

      // No --append: the default command line is console=hvc0.
      await using vm = new CliProcess([
        "run",
        "--kernel",
        kernel.path,
        "--initrd",
        initrd,
        "--console",
        "virtio",
        "--disk",
        `${image},ro`,
        "--timeout",
        "300",
      ]);
      let at = (await vm.expect(SHELL_PROMPT, 240_000)).end;
      const run = async (command: string) => {
        await vm.type(command + "\n");
        const r = await vm.expect(UNTIL_PROMPT, 60_000, at);
        at = r.end;
        return r.match[1];
      };

      // The session: commands typed on hvc0, answers read back.
      assert.match(await run("echo $((6*7))"), /\r?\n42\r?\n/);
      const where = await run("tty; cat /sys/class/tty/console/active; cat /proc/consoles");
      assert.match(where, /^\/dev\/hvc0\r?$/m);
      assert.match(where, /^hvc0\r?$/m);
      assert.match(where, /^hvc0 +-W- /m);
      assert.doesNotMatch(where, /ttyAMA0/);
      assert.match(await run("cat /proc/cmdline"), /^console=hvc0\r?$/m);
      await vm.type('read line; echo "got [$line]"\n');
      await vm.type("typed on hvc0\n");
      at = (await vm.expect(/got \[typed on hvc0\][\s\S]*?\/ # /, 30_000, at)).end;
      // Ctrl-C reaches the foreground job: the console is the shell's controlling terminal.
      await vm.type("sleep 100; echo slept\n");
      await new Promise((r) => setTimeout(r, 500));
      await vm.type("\x03");
      const interrupted = await vm.expect(UNTIL_PROMPT, 30_000, at);
      at = interrupted.end;
      assert.match(interrupted.match[1], /\^C/);
      assert.doesNotMatch(interrupted.match[1], /^slept\r?$/m, "the sleep was interrupted");

      // Entropy: the kernel's hardware RNG is virtio's, and it gives bytes.
      const rng = await run(
        "cat /sys/class/misc/hw_random/rng_current; head -c 65536 /dev/hwrng | wc -c; " +
          "head -c 32 /dev/hwrng | od -An -tx1",
      );
      assert.match(rng, /^virtio_rng\.0\r?$/m);
      assert.match(rng, /^\s*65536\r?$/m);
      const hex = [...rng.matchAll(/^(?: [0-9a-f]{2})+\r?$/gm)].flatMap((m) =>
        m[0].trim().split(" ")
      );
      assert.equal(hex.length, 32, rng);
      assert.ok(new Set(hex).size > 8, `32 bytes of /dev/hwrng look random: ${hex.join(" ")}`);

      // The read-only disk: the kernel refuses to open it for writing.
      assert.match(await run("cat /sys/block/vda/ro"), /^1\r?$/m);
      const rw = await run("mount -t ext4 -o rw /dev/vda /mnt; grep /dev/vda /proc/mounts");
      assert.match(rw, /Can't open blockdev/, "the read-write open was refused");
      assert.match(rw, /^\/dev\/vda \/mnt ext4 ro[, ]/m, "what mounted is read-only");
      assert.match(await run("touch /mnt/new; echo rc=$?"), /Read-only file system[\s\S]*rc=1/);
      assert.match(
        await run("dd if=/dev/zero of=/dev/vda count=1; echo rc=$?"),
        /Operation not permitted[\s\S]*rc=1/,
      );
      const sum = await run("sha256sum /mnt/data.bin; umount /mnt");
      assert.match(sum, new RegExp(`^${await sha256(data)}  /mnt/data.bin\\r?$`, "m"));

      await vm.type("poweroff -f\n");
      assert.equal(await vm.exit(60_000), 0, vm.stderr);
      assert.equal(await sha256(await Deno.readFile(image)), imageBefore, "the image is unchanged");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

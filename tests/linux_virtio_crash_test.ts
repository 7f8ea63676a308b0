/**
 * Crash consistency on virtio-blk: the guest writes a file, syncs it, and
 * keeps writing other files; the host kills the vmkit process with SIGKILL
 * in the middle of that. e2fsck then recovers a consistent filesystem (the
 * journal replayed), and the synced file is intact.
 */
import assert from "node:assert/strict";
import { busybox, GUEST_DIR, kernelModules, linuxKernel } from "./helpers/assets.ts";
import { CliProcess } from "./helpers/cli.ts";
import { debugfsDump, e2, e2fsprogs, mkfsExt4, parseSha256sum, sha256 } from "./helpers/ext4.ts";
import { SHELL_PROMPT } from "./helpers/vm_console.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";
import { initramfsModules } from "../scripts/_kernel_modules.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const tools = e2fsprogs();

/**
 * The marker is computed by the shell, so the command's echo on the console
 * cannot be mistaken for it.
 */
const CRASH = `set -u
fail() { echo "FAIL: $*"; exit 1; }
mount -t ext4 /dev/vda /mnt || fail mount
mkdir -p /mnt/keep || fail mkdir
head -c 3000000 /dev/urandom > /mnt/keep/synced.bin || fail write
sync || fail sync
(cd /mnt && sha256sum keep/synced.bin)
# Work in flight when the host dies: new files, overwritten files, directories.
(
  i=0
  while :; do
    mkdir -p /mnt/busy/d$((i % 16))
    head -c 200000 /dev/urandom > /mnt/busy/d$((i % 16))/f$((i % 5))
    i=$((i + 1))
  done
) &
sleep 2
echo "SYNCED-$((6 * 7))"
`;

Deno.test({
  name:
    "linux virtio-blk: after SIGKILL mid-write, e2fsck recovers a consistent filesystem and the synced file is intact" +
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
      const image = `${dir}/disk.img`;
      await mkfsExt4(image, 64 << 20);
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(
        initrd,
        busyboxInitramfs(await Deno.readFile(box.path), "", [
          { type: "dir", path: "t" },
          { type: "file", path: "t/crash.sh", data: CRASH },
        ], await initramfsModules(GUEST_DIR)),
      );
      let synced: string | undefined;
      {
        await using vm = new CliProcess([
          "run",
          "--kernel",
          kernel.path,
          "--initrd",
          initrd,
          "--disk",
          image,
          "--append",
          "console=ttyAMA0 quiet",
          "--timeout",
          "300",
        ]);
        const at = (await vm.expect(SHELL_PROMPT, 240_000)).end;
        await vm.type("sh /t/crash.sh\n");
        const r = await vm.expect(/SYNCED-42|FAIL: .*/, 240_000, at);
        assert.equal(r.match[0], "SYNCED-42", vm.stdout.slice(at));
        vm.kill("SIGKILL");
        const code = await vm.exit(30_000);
        assert.equal(code, 128 + 9, "vmkit died of SIGKILL");
        synced = parseSha256sum(vm.stdout.slice(at, r.end)).get("keep/synced.bin");
        assert.ok(synced, vm.stdout.slice(at, r.end));
      }

      // The image as the dead process left it: a journal to replay, then consistency.
      const repair = await e2("e2fsck", ["-fy", image]);
      assert.ok(
        repair.code <= 1,
        `e2fsck -fy exit ${repair.code}:\n${repair.stdout}${repair.stderr}`,
      );
      // The filesystem was still mounted when the process died.
      assert.match(repair.stdout, /recovering journal/);
      const check = await e2("e2fsck", ["-fn", image]);
      assert.equal(check.code, 0, `e2fsck -fn after recovery:\n${check.stdout}${check.stderr}`);
      await Deno.mkdir(`${dir}/out`);
      await debugfsDump(image, ["/keep"], `${dir}/out`);
      const bytes = await Deno.readFile(`${dir}/out/keep/synced.bin`);
      assert.equal(bytes.length, 3_000_000);
      assert.equal(await sha256(bytes), synced, "the synced file as debugfs reads it");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * virtio-blk under Debian's kernel, end to end with real files: the guest
 * reads a filesystem the host made, writes 100 directories and about 7 MB
 * twice (sync, drop caches, every byte compared), sees the data again after
 * the host restarts the VM, and after power-off the host finds the image
 * clean with e2fsck and reads the guest's files back with debugfs.
 */
import assert from "node:assert/strict";
import { FileBlockBackend } from "@vmkit/virtio";
import { busybox, kernelModules, linuxKernel } from "./helpers/assets.ts";
import {
  debugfsDump,
  e2,
  e2fsprogs,
  mkfsExt4,
  parseSha256sum,
  randomBytes,
  sha256,
} from "./helpers/ext4.ts";
import { SHELL_PROMPT, VmConsole } from "./helpers/vm_console.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";
import { initramfsModules } from "../scripts/_kernel_modules.ts";
import { GUEST_DIR } from "./helpers/assets.ts";

const kernel = linuxKernel();
const box = busybox();
const modules = kernelModules();
const tools = e2fsprogs();

const PROMPT = SHELL_PROMPT;

const COMMON = `set -u
fail() { echo "FAIL: $*"; exit 1; }
mount -t ext4 /dev/vda /mnt || fail "mount /dev/vda"
`;

/**
 * Boot 1: the host's file and the serial, then twice: 100 directories of
 * about 70 KB each written, synced, caches dropped, every byte compared.
 */
const PHASE1 = `${COMMON}
echo "serial=$(cat /sys/block/vda/serial)"
sha256sum /mnt/host/random.bin
for r in 1 2; do
  i=1
  while [ $i -le 100 ]; do
    mkdir -p /tmp/src/r$r/d$i /mnt/r$r/d$i || fail "mkdir d$i"
    # Sizes that end inside a block, and differ from file to file.
    head -c $((70000 + i * 37)) /dev/urandom > /tmp/src/r$r/d$i/f || fail urandom
    cp /tmp/src/r$r/d$i/f /mnt/r$r/d$i/f || fail "write r$r/d$i"
    i=$((i + 1))
  done
  sync || fail sync
  echo 3 > /proc/sys/vm/drop_caches || fail drop_caches
  i=1
  while [ $i -le 100 ]; do
    cmp /tmp/src/r$r/d$i/f /mnt/r$r/d$i/f || fail "round $r: d$i differs"
    i=$((i + 1))
  done
  echo "round $r: $(du -sk /mnt/r$r | cut -f1) KiB in $(ls /mnt/r$r | wc -l) directories verified"
done
(cd /mnt && sha256sum r1/d*/f r2/d*/f)
umount /mnt || fail umount
echo "PHASE1-DONE"
`;

/** Boot 2, after the host restarted the VM: everything is still there. */
const PHASE2 = `${COMMON}
sha256sum /mnt/host/random.bin
(cd /mnt && sha256sum r1/d*/f r2/d*/f)
umount /mnt || fail umount
echo "PHASE2-DONE"
`;

Deno.test({
  name: "linux virtio-blk: reads the host's ext4, writes 2×7 MB, keeps it across a restart, " +
    "and leaves an image e2fsck finds clean and debugfs reads back" + kernel.label + box.label +
    modules.label + tools.label,
  ignore: kernel.ignore || box.ignore || modules.ignore || tools.ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    modules.assert();
    tools.assert();
    const dir = await Deno.makeTempDir();
    try {
      // The host's filesystem: one random file, made into the image by mkfs.ext4 -d.
      const hostFile = randomBytes(1 << 20);
      await Deno.mkdir(`${dir}/src/host`, { recursive: true });
      await Deno.writeFile(`${dir}/src/host/random.bin`, hostFile);
      const image = `${dir}/disk.img`;
      await mkfsExt4(image, 64 << 20, `${dir}/src`);

      const initrd = busyboxInitramfs(await Deno.readFile(box.path), "", [
        { type: "dir", path: "t" },
        { type: "file", path: "t/phase1.sh", data: PHASE1 },
        { type: "file", path: "t/phase2.sh", data: PHASE2 },
      ], await initramfsModules(GUEST_DIR));
      const machine = new VmConsole({
        disks: [{ backend: await FileBlockBackend.open(image), serial: "vmkit-data" }],
      });
      let guestSums: Map<string, string>;
      try {
        await machine.vm.loadLinux({
          kernel: await Deno.readFile(kernel.path),
          initrd,
          cmdline: "console=ttyAMA0 quiet",
        });
        machine.start(400_000);

        let at = (await machine.expect(PROMPT, 240_000)).end;
        machine.type("sh /t/phase1.sh\n");
        let r = await machine.expect(/PHASE1-DONE|FAIL: .*/, 300_000, at);
        assert.equal(r.match[0], "PHASE1-DONE", machine.output.slice(at));
        const phase1 = machine.output.slice(at, r.end);
        at = r.end;
        assert.match(phase1, /serial=vmkit-data/);
        assert.match(phase1, /round 1: \d+ KiB in 100 directories verified/);
        assert.match(phase1, /round 2: \d+ KiB in 100 directories verified/);
        const kib = Number(/round 2: (\d+) KiB/.exec(phase1)![1]);
        assert.ok(kib >= 6800 && kib < 8000, `round 2 wrote ${kib} KiB`);
        const hostSum = await sha256(hostFile);
        assert.equal(parseSha256sum(phase1).get("/mnt/host/random.bin"), hostSum);
        guestSums = parseSha256sum(phase1);
        guestSums.delete("/mnt/host/random.bin");
        assert.equal(guestSums.size, 200);

        // The host restarts the machine; the second boot sees the same data.
        const blk = machine.vm.virtio.disks[0].blk;
        const written = blk.stats.bytesWritten;
        assert.ok(written >= 14_000_000, `the device wrote ${written} bytes`);
        assert.ok(blk.stats.flushes > 0, "the guest flushed");
        machine.vm.restart();
        at = (await machine.expect(/vmkit-init: userspace is up/, 240_000, at)).end;
        at = (await machine.expect(PROMPT, 60_000, at)).end;
        machine.type("sh /t/phase2.sh\n");
        r = await machine.expect(/PHASE2-DONE|FAIL: .*/, 300_000, at);
        assert.equal(r.match[0], "PHASE2-DONE", machine.output.slice(at));
        const phase2 = parseSha256sum(machine.output.slice(at, r.end));
        assert.equal(phase2.get("/mnt/host/random.bin"), hostSum);
        phase2.delete("/mnt/host/random.bin");
        assert.deepEqual(phase2, guestSums, "the second boot read what the first wrote");

        machine.type("poweroff -f\n");
        const exit = await machine.exited();
        assert.equal(exit.reason, "poweroff", exit.message);
      } finally {
        machine.vm.close();
      }

      // Back on the host, with the VM closed (and the image with it).
      const fsck = await e2("e2fsck", ["-fn", image]);
      assert.equal(fsck.code, 0, `e2fsck -fn:\n${fsck.stdout}${fsck.stderr}`);
      await Deno.mkdir(`${dir}/out`);
      await debugfsDump(image, ["/r1", "/r2", "/host"], `${dir}/out`);
      assert.equal(
        await sha256(await Deno.readFile(`${dir}/out/host/random.bin`)),
        await sha256(hostFile),
      );
      for (const [path, sum] of guestSums) {
        const bytes = await Deno.readFile(`${dir}/out/${path}`);
        assert.equal(await sha256(bytes), sum, `${path} as debugfs reads it`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

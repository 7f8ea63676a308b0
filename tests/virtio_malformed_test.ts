/**
 * The untrusted-values list against a real vCPU: guests/virtio/malformed.c,
 * booted by `vmkit run --kernel` with a disk, drives VMKit's virtio-blk
 * through every malformed case (queue sizes, descriptor loops, chains longer
 * than the queue, addresses outside RAM, lengths that overflow, buffers in
 * the wrong direction, notifications before DRIVER_OK) and checks the
 * device's reaction each time; the host stays up and the run ends with exit
 * status 0, and the image holds exactly what the good requests wrote.
 */
import assert from "node:assert/strict";
import { bareMetalGuest } from "./helpers/assets.ts";
import { runVmkit } from "./helpers/cli.ts";

const program = bareMetalGuest("virtio/malformed");
const encoder = new TextEncoder();

/** Every mistake the guest makes, as its check groups name them. */
const GROUPS = [
  "queue setup",
  "notify before DRIVER_OK",
  "descriptor loop",
  "chain longer than the queue",
  "indirect table longer than QueueNumMax",
  "head index beyond the queue",
  "available index more than a queue ahead",
  "buffer below RAM",
  "buffer far above RAM",
  "buffer length wrapping the address space",
  "buffer length running past the end of RAM",
  "indirect table outside RAM",
  "header device-writable",
  "write data device-writable",
  "read data device-readable",
  "readable after writable",
  "no status byte",
  "requests out of range",
];

Deno.test({
  name: "virtio-blk: a bare-metal driver's every malformed queue gets the documented reaction, " +
    "and the host finishes the run with exit 0" + program.label,
  ignore: program.ignore,
  fn: async () => {
    program.assert();
    const dir = await Deno.makeTempDir();
    try {
      const image = new Uint8Array(1 << 20);
      image.set(encoder.encode("VMKit virtio-blk proof disk, sector 0"), 0);
      image.set(encoder.encode("sector 2 must never be written"), 1024);
      const path = `${dir}/proof.img`;
      await Deno.writeFile(path, image);

      const r = await runVmkit([
        "run",
        "--kernel",
        program.path,
        "--disk",
        `${path},serial=virtio-proof`,
        "--no-rng",
        "--timeout",
        "120",
      ], 180_000);
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
      assert.match(r.stderr, /the guest powered off/);
      const failures = r.stdout.split("\n").filter((l) =>
        / FAIL /.test(l) || /FAIL observed/.test(l)
      );
      assert.deepEqual(failures, [], "every check passed");
      const done = /^done: (\d+) passed, (\d+) failed$/m.exec(r.stdout);
      assert.ok(done, r.stdout.slice(-2000));
      assert.equal(done[2], "0");
      assert.ok(Number(done[1]) >= 150, `${done[1]} checks ran`);
      for (const group of GROUPS) {
        assert.match(r.stdout, new RegExp(`^check ${group}: `, "m"), `${group} was exercised`);
      }
      // The malformed cases that must stop the device did, each time.
      const resets = r.stdout.match(/^check [^:]+: DEVICE_NEEDS_RESET: pass$/gm) ?? [];
      assert.equal(resets.length, 12);
      assert.equal(
        (r.stdout.match(/^check [^:]+: IOERR: pass$/gm) ?? []).length,
        3,
        "the wrong-direction requests got IOERR",
      );
      assert.equal(
        (r.stdout.match(/^check requests out of range: .*IOERR: pass$/gm) ?? []).length,
        4,
      );

      // On the host: sector 1 written by the good requests, sectors 0 and 2 untouched.
      const after = await Deno.readFile(path);
      const text = (sector: number) =>
        new TextDecoder().decode(after.subarray(sector * 512, sector * 512 + 64)).replace(
          /\0.*$/s,
          "",
        );
      assert.equal(text(0), "VMKit virtio-blk proof disk, sector 0");
      assert.equal(text(1), "written by the malformed-queue guest");
      assert.equal(text(2), "sector 2 must never be written");
      assert.equal(after.length, 1 << 20);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

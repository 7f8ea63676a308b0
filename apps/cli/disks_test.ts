// --disk: the flag's syntax, and every way an image can be unusable, each one line and status 2,
// against real files (and files the kernel refuses even to root).
import assert from "node:assert/strict";
import { type CliHost, EXIT, runCli } from "./cli.ts";
import { CliError } from "./errors.ts";
import { openDisks, parseDiskSpec } from "./disks.ts";
import { FileBlockBackend } from "@vmkit/virtio";

function host() {
  const err: string[] = [];
  const h: CliHost = {
    interactive: false,
    setRaw: () => {},
    read: () => new Promise(() => {}),
    message: () => {},
    stdout: () => {},
    stderr: (line) => err.push(line),
    // A kernel that is not an Image: a run that gets past the disks fails loading it.
    readFile: () => Promise.resolve(new Uint8Array(4096)),
  };
  return { h, err };
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("--disk: FILE, FILE,ro and serial=ID parse; anything else is a usage error", () => {
  assert.deepEqual(parseDiskSpec("a.img"), { path: "a.img", readOnly: false, serial: undefined });
  assert.deepEqual(parseDiskSpec("a.img,ro"), { path: "a.img", readOnly: true, serial: undefined });
  assert.deepEqual(parseDiskSpec("/x/a.img,serial=root,ro"), {
    path: "/x/a.img",
    readOnly: true,
    serial: "root",
  });
  for (
    const [spec, pattern] of [
      ["a.img,rw", /unknown option "rw" \(options: ro, serial=ID\)/],
      [",ro", /no file name/],
      ["a.img,serial=123456789012345678901", /serial is over 20 bytes/],
    ] as const
  ) {
    assert.throws(
      () => parseDiskSpec(spec),
      (e) => e instanceof CliError && e.code === "USAGE" && pattern.test(e.message),
    );
  }
});

Deno.test("--disk: an unusable image is one line naming the file and why, exit status 2", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/tiny.img`, new Uint8Array(100));
    await Deno.writeFile(`${dir}/good.img`, new Uint8Array(4096));
    for (
      const [disk, pattern] of [
        [`${dir}/missing.img`, /^vmkit: cannot open the disk ".*missing.img": no such file$/],
        [`${dir}/missing.img,ro`, /^vmkit: cannot open the disk ".*missing.img": no such file$/],
        [dir, /^vmkit: cannot open the disk ".*": it is a directory$/],
        [`${dir},ro`, /^vmkit: cannot open the disk ".*": .*it is a directory$/],
        // Mode 0444 to everyone, root included (sysctl files check their own mode).
        [
          "/proc/sys/kernel/version",
          /^vmkit: cannot open the disk "\/proc\/sys\/kernel\/version": it is not writable \(add ,ro to attach it read-only\)$/,
        ],
        // Mode 0200: not readable, by root either.
        [
          "/proc/sys/vm/drop_caches,ro",
          /^vmkit: cannot open the disk "\/proc\/sys\/vm\/drop_caches": permission denied \(it is not readable\)$/,
        ],
        [
          `${dir}/tiny.img`,
          /^vmkit: cannot use the disk ".*tiny.img": it is 100 bytes, less than one 512-byte sector$/,
        ],
        [`${dir}/good.img,bogus`, /^vmkit: --disk .*: unknown option "bogus"/],
      ] as const
    ) {
      const t = host();
      const status = await runCli(t.h, [
        "run",
        "-k",
        "Image",
        "--disk",
        `${dir}/good.img`,
        "--disk",
        disk,
      ]);
      assert.equal(status, EXIT.BAD_INPUT, disk);
      assert.equal(t.err.length, 1, `${disk}: ${t.err.join("\n")}`);
      assert.match(t.err[0], pattern);
    }
  });
});

Deno.test("--disk: the same image twice is refused when either is writable, allowed read-only", async () => {
  await withDir(async (dir) => {
    const img = `${dir}/disk.img`;
    await Deno.writeFile(img, new Uint8Array(4096));
    for (const [a, b] of [["", ""], ["", ",ro"], [",ro", ""]]) {
      const t = host();
      assert.equal(
        await runCli(t.h, [
          "run",
          "-k",
          "Image",
          "--disk",
          img + a,
          "--disk",
          `${dir}/./disk.img${b}`,
        ]),
        EXIT.BAD_INPUT,
      );
      assert.match(t.err[0], /it is given twice and written through one of them/);
    }
    const both = await openDisks([parseDiskSpec(`${img},ro`), parseDiskSpec(`${img},ro`)]);
    assert.equal(both.length, 2);
    for (const d of both) (d.backend as FileBlockBackend).close();
  });
});

Deno.test("--disk: the images are opened as asked, and the ones open are closed when a later one fails", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/a.img`, new Uint8Array(8192));
    const disks = await openDisks([parseDiskSpec(`${dir}/a.img,ro,serial=A`)]);
    const a = disks[0].backend as FileBlockBackend;
    assert.equal(a.readOnly, true);
    assert.equal(a.size, 8192);
    assert.equal(disks[0].serial, "A");
    a.close();

    const opened: FileBlockBackend[] = [];
    const realOpen = FileBlockBackend.open;
    FileBlockBackend.open = async (path, options) => {
      const b = await realOpen.call(FileBlockBackend, path, options);
      opened.push(b);
      return b;
    };
    try {
      await assert.rejects(
        openDisks([parseDiskSpec(`${dir}/a.img`), parseDiskSpec(`${dir}/none.img`)]),
        /no such file/,
      );
    } finally {
      FileBlockBackend.open = realOpen;
    }
    assert.equal(opened.length, 1);
    await assert.rejects(opened[0].read(0, new Uint8Array(512)), /closed/);
  });
});

Deno.test("--console and --no-rng: bad values are usage errors; good ones reach the kernel load", async () => {
  const bad = host();
  assert.equal(await runCli(bad.h, ["run", "-k", "Image", "--console", "hvc"]), EXIT.BAD_INPUT);
  assert.match(bad.err[0], /--console: expected pl011 or virtio, got "hvc"/);
  const good = host();
  assert.equal(
    await runCli(good.h, ["run", "-k", "Image", "--console", "virtio", "--no-rng"]),
    EXIT.BAD_INPUT,
  );
  assert.match(good.err[0], /cannot load the kernel/);
});

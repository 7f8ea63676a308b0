/**
 * Bad input to `vmkit run`: each case ends with one line on stderr that says
 * what is wrong, exit status 2, and no stack trace.
 */
import assert from "node:assert/strict";
import { linuxKernel } from "./helpers/assets.ts";
import { runVmkit } from "./helpers/cli.ts";

/** A minimal arm64 Image: a header and a few instructions. */
function syntheticImage(imageSize: number, fileSize = 4096): Uint8Array {
  const bytes = new Uint8Array(fileSize);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0x14000010, true); // b +64
  dv.setBigUint64(8, 0n, true); // text_offset
  dv.setBigUint64(16, BigInt(imageSize), true);
  dv.setBigUint64(24, 0xan, true); // LE, 4K pages, anywhere
  dv.setUint32(56, 0x644d5241, true); // "ARM\x64"
  return bytes;
}

async function withFiles<T>(files: Record<string, Uint8Array>, fn: (dir: string) => Promise<T>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, data] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, data);
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertOneLineError(result: { code: number; stderr: string }, pattern: RegExp) {
  const lines = result.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^vmkit: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
  assert.equal(result.code, 2);
}

Deno.test("bad input: a truncated kernel", async () => {
  const kernel = linuxKernel();
  const image = kernel.present
    ? (await Deno.readFile(kernel.path)).subarray(0, 40)
    : syntheticImage(0x10000).subarray(0, 40);
  await withFiles({ Image: image }, async (dir) => {
    assertOneLineError(
      await runVmkit(["run", "--kernel", `${dir}/Image`]),
      /truncated|too short|64/i,
    );
  });
});

Deno.test("bad input: a file that is not an arm64 Image", async () => {
  const elf = new Uint8Array(8192);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  await withFiles({ "vmlinux": elf }, async (dir) => {
    assertOneLineError(
      await runVmkit(["run", "--kernel", `${dir}/vmlinux`]),
      /magic|not an arm64/i,
    );
  });
});

Deno.test("bad input: a device tree with a bad magic number", async () => {
  const dtb = new Uint8Array(256).fill(0x42);
  await withFiles({ Image: syntheticImage(0x10000), "bad.dtb": dtb }, async (dir) => {
    assertOneLineError(
      await runVmkit(["run", "--kernel", `${dir}/Image`, "--dtb", `${dir}/bad.dtb`]),
      /magic/i,
    );
  });
});

Deno.test("bad input: RAM too small for the kernel", async () => {
  await withFiles({ Image: syntheticImage(64 * 1024 * 1024) }, async (dir) => {
    assertOneLineError(
      await runVmkit(["run", "--kernel", `${dir}/Image`, "--mem", "16M"]),
      /RAM|memory|fit|room/i,
    );
  });
});

Deno.test("bad input: missing files, unknown flags and bad values", async () => {
  assertOneLineError(await runVmkit(["run", "--kernel", "/nonexistent/Image"]), /no such file/);
  assertOneLineError(await runVmkit(["run"]), /--kernel FILE is required/);
  assertOneLineError(await runVmkit(["run", "--kernel", "x", "--frobnicate"]), /frobnicate/);
  assertOneLineError(await runVmkit(["run", "--kernel", "x", "--mem", "lots"]), /memory size/);
  assertOneLineError(
    await runVmkit(["run", "--kernel", "x", "--clock", "fast"]),
    /host or virtual/,
  );
  for (const smp of ["0", "9", "x"]) {
    assertOneLineError(
      await runVmkit(["run", "--kernel", "x", "--smp", smp]),
      new RegExp(`--smp: expected a number of vCPUs from 1 to 8 .*"${smp}"`),
    );
  }
  assertOneLineError(await runVmkit(["launch"]), /unknown command/);
});

Deno.test("help: every command has --help", async () => {
  for (
    const args of [["--help"], ["help"], ["run", "--help"], ["demo", "--help"], ["help", "run"]]
  ) {
    const r = await runVmkit(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(r.stdout, /Usage:/);
  }
  const run = await runVmkit(["run", "--help"]);
  for (const flag of ["--kernel", "--initrd", "--dtb", "--append", "--mem", "--cpu", "--timeout"]) {
    assert.ok(run.stdout.includes(flag), flag);
  }
});

// Runs the README's example as a program, so the documentation cannot drift from the code.
import assert from "node:assert/strict";
import { makeImage } from "./testdata/images.ts";
import { makeInitrd } from "./testdata/load.ts";

const packageDir = new URL(".", import.meta.url).pathname;

function readmeExample(): string {
  const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, "README.md has a ts code block");
  return match[1];
}

function kernelPath(): { path: string; temporary: boolean } {
  const dir = Deno.env.get("VMKIT_GUEST_DIR") ??
    new URL("../../.cache/guests", import.meta.url).pathname;
  try {
    if (Deno.statSync(`${dir}/Image`).isFile) return { path: `${dir}/Image`, temporary: false };
  } catch {
    // No real kernel here: the example runs just as well on a synthetic one.
  }
  const path = Deno.makeTempFileSync({ suffix: ".Image" });
  Deno.writeFileSync(path, makeImage({ length: 0x10000, imageSize: 0x40_0000n }));
  return { path, temporary: true };
}

Deno.test("README example runs and prints the boot registers", async () => {
  const kernel = kernelPath();
  const initrd = Deno.makeTempFileSync({ suffix: ".cpio" });
  try {
    Deno.writeFileSync(initrd, makeInitrd(70_000));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-", kernel.path, initrd],
      cwd: packageDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(readmeExample()));
    await writer.close();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.equal(new TextDecoder().decode(out.stdout), "pc=0x40000000 x0=0x4fe00000\n");
  } finally {
    Deno.removeSync(initrd);
    if (kernel.temporary) Deno.removeSync(kernel.path);
  }
});

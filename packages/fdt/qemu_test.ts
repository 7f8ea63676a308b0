/**
 * The QEMU golden against a live QEMU: the committed blob must be what QEMU really emits, and a
 * fresh dump must go through the parser and serialiser unchanged. QEMU is not one of the test
 * tools, so these tests are ignored (with the command that installs it) when it is missing.
 */
import assert from "node:assert/strict";
import { parseFdt, serializeFdt, toDts } from "./mod.ts";
import { dtbToDts, hasDtc } from "./testdata/dtc.ts";
import { goldenBlob } from "./testdata/goldens.ts";

const QEMU = "qemu-system-aarch64";

/** QEMU's version as `major.minor`, or undefined when it does not run. */
function qemuVersion(): string | undefined {
  try {
    const out = new Deno.Command(QEMU, { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    if (!out.success) return undefined;
    return /version (\d+\.\d+)/.exec(new TextDecoder().decode(out.stdout))?.[1];
  } catch {
    return undefined;
  }
}

const version = qemuVersion();
if (version === undefined) {
  console.warn(
    `ignoring the live QEMU checks: ${QEMU} not found. Install it with: sudo apt-get install qemu-system-arm`,
  );
}
/** The release testdata/qemu-virt.dtb was dumped with (testdata/README.md). */
const GOLDEN_QEMU = "7.2";

/** Dumps the virt board's tree the way testdata/make.sh does. */
async function dumpVirt(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/virt.dtb`;
    const out = await new Deno.Command(QEMU, {
      args: ["-M", `virt,dumpdtb=${path}`, "-cpu", "cortex-a72", "-nographic", "-nic", "none"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return await Deno.readFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "a fresh QEMU virt dump parses and serialises byte-identical",
  ignore: version === undefined,
  async fn() {
    const blob = await dumpVirt();
    const fdt = parseFdt(blob);
    assert.deepEqual(serializeFdt(fdt), blob);
    assert.equal(fdt.getNode("/cpus/cpu@0").getString("compatible"), "arm,cortex-a72");
    assert.deepEqual(fdt.getNode("/intc@8000000").getReg(), [
      { address: 0x0800_0000, size: 0x1_0000 },
      { address: 0x0801_0000, size: 0x1_0000 },
    ]);
    if (hasDtc()) assert.equal(toDts(fdt, { style: "dtc" }), await dtbToDts(blob));
  },
});

Deno.test({
  name: `qemu-virt.dtb is what QEMU ${GOLDEN_QEMU} dumps, apart from random seeds and padding`,
  // Other QEMU releases describe the board differently; only the recorded one must match.
  ignore: version !== GOLDEN_QEMU,
  async fn() {
    const golden = parseFdt(goldenBlob("qemu-virt.dtb"));
    const live = parseFdt(await dumpVirt());
    const chosen = live.getNode("/chosen");
    const recorded = golden.getNode("/chosen");
    // QEMU draws both seeds afresh on every run.
    for (const seed of ["rng-seed", "kaslr-seed"]) {
      const value = recorded.getBytes(seed);
      assert.ok(value !== undefined, `${seed} is in the golden`);
      assert.equal(chosen.getBytes(seed)?.length, value.length, seed);
      chosen.setBytes(seed, value);
    }
    // QEMU leaves stale heap bytes in the alignment padding after some values (after
    // stdout-path, for one), and those differ from run to run too.
    assert.ok(live.layout !== undefined && golden.layout !== undefined);
    live.layout.valuePadding.clear();
    golden.layout.valuePadding.clear();
    assert.deepEqual(serializeFdt(live), serializeFdt(golden));
  },
});

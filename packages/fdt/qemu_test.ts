/**
 * The QEMU golden against a live QEMU: the committed blob must be what QEMU really emits, and a
 * fresh dump must go through the parser and serialiser unchanged. QEMU is one of the test tools
 * (`./vmkit test` installs it); without it these tests are ignored with the command that installs
 * it, and with VMKIT_REQUIRE_ASSETS=1 they fail. QEMU describes the board differently from one
 * release to the next, so the golden records the release it was dumped with
 * (testdata/qemu-virt.json) and the comparison requires that release.
 */
import assert from "node:assert/strict";
import { requirement, toolRequirement } from "../../testing/requirements.ts";
import { parseFdt, serializeFdt, toDts } from "./mod.ts";
import { dtbToDts, dtcRequirement } from "./testdata/dtc.ts";
import { goldenBlob } from "./testdata/goldens.ts";

const QEMU = "qemu-system-aarch64";
const qemu = toolRequirement(
  QEMU,
  "sudo apt-get install --no-install-recommends qemu-system-arm",
);
const dtc = dtcRequirement();

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
/** The release testdata/qemu-virt.dtb was dumped with, as `major.minor`. */
const GOLDEN_QEMU: string = JSON.parse(
  Deno.readTextFileSync(new URL("./testdata/qemu-virt.json", import.meta.url)),
).qemuRelease;
const sameRelease = requirement(
  `QEMU ${GOLDEN_QEMU} (installed: ${version})`,
  // Without QEMU at all the tests are ignored or fail for that reason alone.
  version === undefined || version === GOLDEN_QEMU,
  `QEMU ${GOLDEN_QEMU}, which testdata/qemu-virt.dtb was dumped with, or a golden for the ` +
    "installed release: testdata/make.sh --qemu redumps it and records the release in " +
    "testdata/qemu-virt.json",
);

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
  name: `a fresh QEMU virt dump parses and serialises byte-identical${qemu.label}${dtc.label}`,
  ignore: qemu.ignore || dtc.ignore,
  async fn() {
    qemu.assert();
    dtc.assert();
    const blob = await dumpVirt();
    const fdt = parseFdt(blob);
    assert.deepEqual(serializeFdt(fdt), blob);
    assert.equal(fdt.getNode("/cpus/cpu@0").getString("compatible"), "arm,cortex-a72");
    assert.deepEqual(fdt.getNode("/intc@8000000").getReg(), [
      { address: 0x0800_0000, size: 0x1_0000 },
      { address: 0x0801_0000, size: 0x1_0000 },
    ]);
    assert.equal(toDts(fdt, { style: "dtc" }), await dtbToDts(blob));
  },
});

Deno.test({
  name: `qemu-virt.dtb is what QEMU ${GOLDEN_QEMU} dumps, apart from random seeds and padding${
    qemu.label || sameRelease.label
  }`,
  ignore: qemu.ignore || sameRelease.ignore,
  async fn() {
    qemu.assert();
    assert.equal(
      version,
      GOLDEN_QEMU,
      sameRelease.problem,
    );
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

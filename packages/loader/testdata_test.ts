import assert from "node:assert/strict";

function hasDtc(): boolean {
  try {
    return new Deno.Command("dtc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const dir = new URL("./testdata/", import.meta.url);
const present = hasDtc();
// CI provides dtc and sets this, so a missing dtc there is a failure rather than a skipped check.
const required = Deno.env.get("VMKIT_REQUIRE_ASSETS") === "1";
if (!present && !required) {
  console.warn(
    "ignoring the testdata check: dtc not found. Install it with: sudo apt-get install device-tree-compiler",
  );
}

Deno.test({
  name: "testdata: committed DTBs are what dtc builds from their sources" +
    (present ? "" : " [dtc not installed]"),
  ignore: !present && !required,
  fn() {
    assert.ok(
      present,
      "VMKIT_REQUIRE_ASSETS=1 but dtc is missing: sudo apt-get install device-tree-compiler",
    );
    const sources = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".dts"));
    assert.ok(sources.length > 0);
    for (const { name } of sources) {
      const out = new Deno.Command("dtc", {
        args: ["-q", "-I", "dts", "-O", "dtb", "-o", "-", new URL(name, dir).pathname],
        stdout: "piped",
      }).outputSync();
      assert.ok(out.success, `dtc failed on ${name}`);
      const committed = Deno.readFileSync(new URL(name.replace(/\.dts$/, ".dtb"), dir));
      assert.deepEqual(out.stdout, committed, `${name}: run testdata/build.sh`);
    }
  },
});

import assert from "node:assert/strict";
import { toolRequirement } from "../../testing/requirements.ts";

const dir = new URL("./testdata/", import.meta.url);
const dtc = toolRequirement("dtc", "sudo apt-get install device-tree-compiler");

Deno.test({
  name: `testdata: committed DTBs are what dtc builds from their sources${dtc.label}`,
  ignore: dtc.ignore,
  fn() {
    dtc.assert();
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

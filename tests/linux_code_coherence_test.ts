/**
 * Translated-code coherence under Linux: one path rewritten with a different
 * static program 200 times (through the page cache, the kernel's
 * non-executable linear map), each version run and its output checked
 * inside the guest by `guests/linux/rewrite.c`, and every run's line checked
 * here.
 */
import assert from "node:assert/strict";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { runLinuxScript } from "./helpers/linux_script.ts";

const kernel = linuxKernel();
const box = busybox();
const rewrite = linuxGuestProgram("rewrite");
const variant = linuxGuestProgram("variant");
const RUNS = 200;

Deno.test({
  name: `linux: a program rewritten at the same path ${RUNS} times runs as written each time`,
  ignore: kernel.ignore || box.ignore || rewrite.ignore || variant.ignore,
  fn: async () => {
    const { exit, output } = await runLinuxScript(
      `/bin/rewrite /bin/variant /tmp/prog ${RUNS}; echo "rewrite exit status $?"; poweroff -f`,
      { rewrite, variant },
    );
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-2000)}`);
    for (let i = 1; i <= RUNS; i++) {
      assert.match(
        output,
        new RegExp(`rewrite: run ${i} printed "variant ${i}": ok`),
        `run ${i}:\n${output.slice(-3000)}`,
      );
    }
    assert.match(output, new RegExp(`rewrite: ${RUNS} of ${RUNS} runs printed their own number`));
    assert.match(output, /rewrite exit status 0/);
  },
});

/**
 * Self-hosted debug as a Linux guest uses it (`guests/linux/debug_counts.c`): ptrace
 * single-steps a child through a region of eight instructions in exactly eight steps, and
 * perf_event_open's execution breakpoint and write watchpoint each count exactly their 1000
 * hits, on Debian's kernel.
 */
import assert from "node:assert/strict";
import { runLinuxScript } from "./helpers/linux_script.ts";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";

const kernel = linuxKernel();
const box = busybox();
const program = linuxGuestProgram("debug_counts");

Deno.test({
  name: `linux: ptrace single steps and perf breakpoints and watchpoints count exactly${
    kernel.label + box.label + program.label
  }`,
  ignore: kernel.ignore || box.ignore || program.ignore,
  fn: async () => {
    kernel.assert();
    box.assert();
    program.assert();
    const { exit, output } = await runLinuxScript(
      `/bin/debug_counts; echo "debug_counts exit status $?"; poweroff -f`,
      { debug_counts: program },
    );
    const report = output.split("\n").filter((l) => l.startsWith("debug_counts")).join("\n");
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-3000)}`);
    assert.match(report, /ptrace stepped the region in 8 steps \(want 8\), \d+ steps in all/);
    assert.match(report, /execution breakpoint counted 1000 \(want 1000\)/);
    assert.match(report, /write watchpoint counted 1000 \(want 1000\)/);
    assert.match(report, /the code computed (\d+) \(want \1\)/);
    assert.match(report, /debug_counts exit status 0/);
    console.log(report);
  },
});

/**
 * Guest isolation as a Linux guest sees it: an unprivileged process loading,
 * storing and jumping at 0xffff_ffff_ffff_f000 gets SIGSEGV, and a root
 * process arming hardware breakpoints and watchpoints with perf_event_open
 * runs to the end; the VM keeps running and powers off normally. The
 * programs are `guests/linux/last_page_user.c` and `perf_breakpoint.c`.
 */
import assert from "node:assert/strict";
import { busybox, linuxGuestProgram, linuxKernel } from "./helpers/assets.ts";
import { runLinuxScript } from "./helpers/linux_script.ts";

const kernel = linuxKernel();
const box = busybox();
const lastPage = linuxGuestProgram("last_page_user");
const perf = linuxGuestProgram("perf_breakpoint");

Deno.test({
  name: "linux: the last page faults a nobody process, perf breakpoints leave the VM running",
  ignore: kernel.ignore || box.ignore || lastPage.ignore || perf.ignore,
  fn: async () => {
    const { exit, output } = await runLinuxScript(
      [
        `/bin/last_page_user; echo "last_page_user exit status $?"`,
        `/bin/perf_breakpoint; echo "perf_breakpoint exit status $?"`,
        `echo "the VM is still running"; poweroff -f`,
      ].join("\n"),
      { last_page_user: lastPage, perf_breakpoint: perf },
    );
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-3000)}`);
    for (const what of ["load", "store", "jump"]) {
      assert.match(
        output,
        new RegExp(`last_page_user: ${what} as uid 65534: killed by signal 11 .*: ok`),
        output.slice(-3000),
      );
    }
    assert.match(output, /last_page_user exit status 0/);
    // The counts are the VMM's business (0 while debug exceptions do not fire); the calls and
    // the code must run.
    assert.match(
      output,
      /perf_breakpoint: execution breakpoint: (counted \d+ of 1000|perf_event_open failed: .+)/,
    );
    assert.match(
      output,
      /perf_breakpoint: write watchpoint: (counted \d+ of 1000|perf_event_open failed: .+)/,
    );
    assert.match(output, /perf_breakpoint: the code computed \d+ \(want \d+\): ok/);
    assert.match(output, /perf_breakpoint exit status 0/);
    assert.match(output, /the VM is still running/);
    console.log(output.split("\n").filter((l) => l.startsWith("perf_breakpoint:")).join("\n"));
  },
});

/**
 * A guest that never gives anything back: guests/smp/spin.S turns on every
 * vCPU and has each spin in a tight loop with interrupts masked, for ever.
 * `vmkit run` must still end it when asked: at `--timeout`, and on Ctrl-A x
 * typed at its console (a real pseudo-terminal, so raw mode and the escape
 * keys apply).
 */
import assert from "node:assert/strict";
import { bareMetalGuest } from "./helpers/assets.ts";
import { CliProcess, runVmkit, terminalRequirement } from "./helpers/cli.ts";

const spin = bareMetalGuest("smp/spin");
const terminal = terminalRequirement();

Deno.test({
  name:
    `vmkit run: every vCPU spinning with interrupts masked still ends at --timeout${spin.label}`,
  ignore: spin.ignore,
  fn: async () => {
    spin.assert();
    for (const [cpus, clock] of [[8, "host"], [4, "virtual"]] as const) {
      const r = await runVmkit([
        "run",
        "--kernel",
        spin.path,
        "--smp",
        String(cpus),
        "--clock",
        clock,
        "--timeout",
        "1.5",
      ], 60_000);
      assert.equal(r.code, 1, `--smp ${cpus} --clock ${clock}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`spinning on ${cpus} CPUs`));
      const lines = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      const m = /^vmkit: timed out after ([\d.]+) s, \d+ M guest instructions$/.exec(lines[0]);
      assert.ok(m, lines[0]);
      assert.ok(Number(m[1]) >= 1.5, "it ran until the timeout");
    }
  },
});

Deno.test({
  name: `vmkit run: Ctrl-A x quits while every vCPU spins${spin.label}${terminal.label}`,
  ignore: spin.ignore || terminal.ignore,
  fn: async () => {
    spin.assert();
    terminal.assert();
    await using vmkit = new CliProcess(["run", "--kernel", spin.path, "--smp", "8"], {
      terminal: true,
    });
    const { end } = await vmkit.expect(/spinning on 8 CPUs/, 30_000);
    await vmkit.type("\x01x");
    assert.equal(await vmkit.exit(30_000), 0, vmkit.stdout);
    assert.match(vmkit.stdout.slice(end), /vmkit: quit after [\d.]+ s, \d+ M guest instructions/);
  },
});

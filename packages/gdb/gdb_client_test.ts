/**
 * The stub against the real gdb client (`gdb-multiarch`) over TCP, with the fake machine as
 * the target: registers by name, disassembly, stepping, breakpoints, watchpoints with their
 * old and new values, monitor commands, threads, Ctrl-C, kill, detach and a client that dies
 * while the machine is stopped. Ignored with the install command when gdb-multiarch is
 * missing; failing under VMKIT_REQUIRE_ASSETS=1.
 */
import assert from "node:assert/strict";
import { GdbServer } from "./mod.ts";
import { FakeMachine, program, RAM_BASE } from "./testdata/fake_machine.ts";
import { gdbRequirement, runGdb, spawnGdb, until } from "./testdata/gdb.ts";

const gdb = gdbRequirement;

function serve(fake: FakeMachine): GdbServer {
  return GdbServer.listen(fake, { port: 0 });
}

/** The code the fake machine runs, as it is at power-on. */
function codeUnchanged(fake: FakeMachine): boolean {
  const pristine = new FakeMachine().memory;
  return [...program().keys()].every((a) =>
    fake.memory.subarray(a - RAM_BASE, a - RAM_BASE + 4).every((b, i) =>
      b === pristine[a - RAM_BASE + i]
    )
  );
}

Deno.test({
  name: `gdb: registers, disassembly, stepi, break, watch, monitor, threads, kill${gdb.label}`,
  ignore: gdb.ignore,
  async fn() {
    gdb.assert();
    const fake = new FakeMachine();
    await using server = serve(fake);
    const { out } = await runGdb(server.addr.port, [
      "info registers",
      "info registers v0",
      "x/4i $pc",
      "stepi",
      "stepi",
      "info registers pc x1",
      "break *0x400014",
      "continue",
      "watch *(int*)0x401000",
      "continue",
      "monitor info vcpus",
      "info threads",
      "kill",
    ]);
    // Every register of the description, by name, in order, with the fake's values.
    const names = [...out.matchAll(/^([a-z0-9]+)\s+0x[0-9a-f]+\s/gm)].map((m) => m[1]);
    const expected = [
      ...Array.from({ length: 31 }, (_, i) => `x${i}`),
      "sp",
      "pc",
      "cpsr",
      "fpsr",
      "fpcr",
    ];
    assert.deepEqual(names.slice(0, expected.length), expected, out);
    assert.match(out, /^x29\s+0x1d1d1d1d\s+488447261$/m);
    assert.match(out, /^sp\s+0x402000\s+0x402000$/m);
    assert.match(out, /^pc\s+0x400000\s+0x400000$/m);
    assert.match(out, /^cpsr\s+0x3c5\s+\[ SP EL=1 F I A D \]$/m);
    assert.match(out, /^fpsr\s+0x10\s+16$/m);
    assert.match(out, /^fpcr\s+0x3000000\s+50331648$/m);
    assert.match(out, /^v0\s+\{d = \{f = .*q = \{u = \{0x1f1e1d1c1b1a19181716151413121110\}/m);
    // The guest's own instructions, read through m packets.
    assert.match(out, /^=> 0x400000:\s+mov\s+x0, #0x1/m);
    assert.match(out, /^\s+0x400004:\s+mov\s+x1, #0x400000/m);
    assert.match(out, /^\s+0x400008:\s+add\s+x1, x1, #0x1, lsl #12/m);
    assert.match(out, /^\s+0x40000c:\s+mov\s+x2, #0x2a/m);
    // Two single steps, then the registers they changed.
    assert.match(out, /^0x0000000000400004 in \?\? \(\)\n0x0000000000400008 in \?\? \(\)$/m);
    assert.match(out, /^pc\s+0x400008\s+0x400008\nx1\s+0x400000\s+4194304$/m);
    // A software breakpoint, then a write watchpoint with the values before and after.
    assert.match(out, /^Breakpoint 1 at 0x400014$/m);
    assert.match(out, /^Thread 1 "cpu0" hit Breakpoint 1, 0x0000000000400014 in \?\? \(\)$/m);
    assert.match(out, /^Hardware watchpoint 2: \*\(int\*\)0x401000$/m);
    assert.match(
      out,
      /^Thread 1 "cpu0" hit Hardware watchpoint 2: \*\(int\*\)0x401000\n\nOld value = 0\nNew value = 42\n0x000000000040001c in \?\? \(\)$/m,
    );
    // The monitor's text, and both vCPUs as threads.
    assert.match(
      out,
      /^cpu0: running pc=0x40001c EL1 retired=\d+\ncpu1: running pc=0x4001[0-9a-f]+ EL1/m,
    );
    assert.match(out, /^\* 1\s+Thread 1 "cpu0" \(running\) 0x000000000040001c in \?\? \(\)$/m);
    assert.match(
      out,
      /^ {2}2\s+Thread 2 "cpu1" \(running\) 0x00000000004001[0-9a-f]+ in \?\? \(\)$/m,
    );
    assert.match(out, /^\[Inferior 1 \(Remote target\) killed\]$/m);
    assert.ok(fake.killed);
    assert.deepEqual(fake.monitorCommands, ["info vcpus"]);
    assert.ok(codeUnchanged(fake), "breakpoints never patched guest memory");
    assert.ok(fake.calls.includes("insertPoint"));
    assert.deepEqual(fake.violations, []);
  },
});

Deno.test({
  name: `gdb: hbreak, rwatch, register and memory writes, detach${gdb.label}`,
  ignore: gdb.ignore,
  async fn() {
    gdb.assert();
    const fake = new FakeMachine();
    await using server = serve(fake);
    const { out } = await runGdb(server.addr.port, [
      "hbreak *0x400024",
      "continue",
      "delete",
      "rwatch *(int*)0x401000",
      "continue",
      "delete",
      "set $x5 = 0x1234",
      "set {int}0x401004 = 7",
      "p/x $x5",
      "x/2wx 0x401000",
      "p $v0.b.u[15]",
      "monitor info mmio",
      "monitor bogus",
      "detach",
    ]);
    assert.match(out, /^Hardware assisted breakpoint 1 at 0x400024$/m);
    assert.match(out, /^Thread 1 "cpu0" hit Breakpoint 1, 0x0000000000400024 in \?\? \(\)$/m);
    assert.match(out, /^Hardware read watchpoint 2: \*\(int\*\)0x401000$/m);
    assert.match(
      out,
      /^Thread 1 "cpu0" hit Hardware read watchpoint 2: \*\(int\*\)0x401000\n\nValue = 43$/m,
    );
    assert.match(out, /^\$1 = 0x1234$/m);
    assert.match(out, /^0x401000:\s+0x0000002b\s+0x00000007$/m);
    assert.match(out, /^\$2 = 31$/m);
    assert.match(out, /^0x09000000-0x09000fff pl011$/m);
    assert.match(out, /^unknown command 'bogus'; try 'help'$/m);
    assert.match(out, /^\[Inferior 1 \(Remote target\) detached\]$/m);
    assert.equal(fake.regs[0].x[5], 0x1234n);
    assert.ok(fake.detached);
    assert.equal(fake.points.size, 0);
    const retired = fake.retired[0];
    await until(() => fake.retired[0] > retired + 100, "the guest to run on after detach");
    await server.close();
    await fake.shutdown();
    assert.deepEqual(fake.violations, []);
  },
});

Deno.test({
  name: `gdb: Ctrl-C stops a running machine${gdb.label}`,
  ignore: gdb.ignore,
  async fn() {
    gdb.assert();
    const fake = new FakeMachine();
    await using server = serve(fake);
    const gdbRun = spawnGdb(server.addr.port, ["continue", "info registers pc", "kill"]);
    await until(() => fake.running && fake.retired[0] > 1000, "the machine to run");
    gdbRun.child.kill("SIGINT");
    const status = await gdbRun.done;
    const out = gdbRun.output();
    assert.ok(status.success, out);
    assert.match(out, /^Thread 1 "cpu0" received signal SIGINT, Interrupt\.$/m);
    assert.match(out, /^pc\s+0x4000[0-2][0-9a-f]\s/m);
    assert.ok(fake.calls.includes("interrupt"));
    assert.ok(fake.killed);
    assert.deepEqual(fake.violations, []);
  },
});

Deno.test({
  name:
    `gdb: a client that dies while stopped leaves the guest running without its points; a second client is refused${gdb.label}`,
  ignore: gdb.ignore,
  async fn() {
    gdb.assert();
    const fake = new FakeMachine();
    await using server = serve(fake);
    // Breakpoints stay inserted while gdb looks, as they do in non-stop debugging.
    const gdbRun = spawnGdb(server.addr.port, [
      "set breakpoint always-inserted on",
      "break *0x400014",
      "watch *(int*)0x401000",
      "continue",
    ], true);
    try {
      await until(
        () => fake.regs[0].pc === 0x400014n && fake.points.size === 2 && !fake.running,
        "gdb to stop at the breakpoint with both points inserted",
      );
      assert.equal(
        await refusal(server.addr.port),
        "vmkit gdb stub: another debugger is attached; connection refused\n",
      );
      assert.equal(server.refused, 1);
      assert.ok(server.session !== undefined, "the first client is still attached");

      gdbRun.child.kill("SIGKILL");
      await gdbRun.done;
      await until(() => server.session === undefined, "the stub to notice the client is gone");
      assert.equal(fake.points.size, 0, "breakpoint and watchpoint removed");
      assert.ok(fake.detached);
      const retired = fake.retired[0];
      await until(() => fake.retired[0] > retired + 100, "the guest to run on");
      assert.ok(codeUnchanged(fake));
      await server.close();
      await fake.shutdown();
      assert.deepEqual(fake.violations, []);
    } finally {
      try {
        gdbRun.child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await gdbRun.done;
      await fake.shutdown();
    }
  },
});

/** What a second client reads before the stub closes its connection. */
async function refusal(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  const buffer = new Uint8Array(256);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  conn.close();
  return text;
}

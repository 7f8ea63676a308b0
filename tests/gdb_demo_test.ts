/**
 * The real gdb client (`gdb-multiarch`, batch mode) against `vmkit demo --gdb`: a breakpoint
 * by symbol from the committed demo.elf, the registers, the disassembly, ten single steps
 * that each move the PC where the instruction says, a watchpoint on the demo's `ticks`
 * counter with its old and new values, the monitor commands, and a demo that then powers off
 * with exit status 0. Then bad input over a raw TCP connection to the live stub: garbage,
 * bad checksums, malformed and oversized packets, a second client, Ctrl-C, and a client that
 * disconnects while the guest is stopped (the guest then runs on, as documented).
 *
 * The time the guest spends stopped in the debugger is hidden from its virtual counter, so the
 * demo's own timing checks still pass.
 */
import assert from "node:assert/strict";
import { assertDemoOutput, DEMO_TICKS } from "../apps/cli/testdata/demo_output.ts";
import { ROOT } from "./helpers/assets.ts";
import { gdbClient, RawGdbClient, runGdbBatch, startWithGdb } from "./helpers/gdb_vm.ts";

const DEMO_ELF = `${ROOT}apps/cli/assets/demo.elf`;
const DEMO = ["demo", "--gdb-wait"];

/** The address of a symbol of demo.elf, from its symbol table. */
async function symbol(name: string): Promise<bigint> {
  const out = await new Deno.Command("gdb-multiarch", {
    args: ["-batch", "-nx", "-ex", `info address ${name}`, DEMO_ELF],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /is at (0x[0-9a-f]+)/.exec(text);
  assert.ok(m, `no address for ${name}: ${text}`);
  return BigInt(m[1]);
}

interface Insn {
  pc: bigint;
  mnemonic: string;
  operands: string;
}

/** The `=> ADDR <sym+off>:  mnemonic operands` lines `x/i $pc` prints. */
function currentInsns(text: string): Insn[] {
  return [...text.matchAll(/^=> (0x[0-9a-f]+) <[^>]+>:\s+(\S+)\s*(.*)$/gm)].map((m) => ({
    pc: BigInt(m[1]),
    mnemonic: m[2],
    operands: m[3].trim(),
  }));
}

/** Where the PC may go after `insn`, as its disassembly says. */
function successors(insn: Insn): bigint[] | "any" {
  const next = insn.pc + 4n;
  const target = /^(0x[0-9a-f]+)\b/.exec(insn.operands.split(", ").at(-1) ?? "");
  if (insn.mnemonic === "b" || insn.mnemonic === "bl") return [BigInt(target![1])];
  if (/^(b\.|cbn?z|tbn?z)/.test(insn.mnemonic)) return [BigInt(target![1]), next];
  // Indirect branches and exception returns go where a register says.
  if (/^(br|blr|ret|eret)$/.test(insn.mnemonic)) return "any";
  return [next];
}

Deno.test({
  name:
    `gdb on the demo: break, registers, x/4i, stepi ×10, watch ticks, monitor, poweroff${gdbClient.label}`,
  ignore: gdbClient.ignore,
  sanitizeResources: false,
  async fn() {
    gdbClient.assert();
    const handleIrq = await symbol("handle_irq");
    const { vm, port } = await startWithGdb(DEMO);
    await using _vm = vm;
    const steps = Array.from({ length: 10 }, () => ["x/i $pc", "stepi"]).flat();
    const { out, code } = await runGdbBatch(port, [
      "break handle_irq",
      "continue",
      "info registers",
      "set $v31.d.u[0] = 0x1122334455667788",
      "p/x $v31.d.u",
      "x/4i $pc",
      "echo ==steps\\n",
      ...steps,
      "x/i $pc",
      "echo ==watch\\n",
      "watch *(unsigned long *)&ticks",
      "continue",
      "monitor info vcpus",
      "monitor info mmio",
      "info threads",
      "delete",
      "continue",
    ], { file: DEMO_ELF });
    assert.equal(code, 0, out);

    // The breakpoint by name stops in handle_irq (after its prologue, as gdb places it).
    const hit = /^Breakpoint 1, (0x[0-9a-f]+) in handle_irq \(\)$/m.exec(out);
    assert.ok(hit, out);
    const stop = BigInt(hit[1]);
    assert.ok(stop >= handleIrq && stop < handleIrq + 0x100n, `stop at ${hit[1]}`);

    // Every register by name, the PC where the breakpoint is, EL1 with interrupts masked.
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
    assert.match(
      out,
      new RegExp(
        `^pc\\s+${hit[1].replace(/^0x0*/, "0x")}\\s+${
          hit[1].replace(/^0x0*/, "0x")
        } <handle_irq\\+\\d+>$`,
        "m",
      ),
    );
    assert.match(out, /^cpsr\s+0x[0-9a-f]+\s+\[ .*EL=1.*I.* \]$/m);
    assert.match(out, /^\$1 = \{0x1122334455667788, 0x0\}$/m, "V31 written and read back");

    // x/4i: four instructions of the guest's own code from the PC on.
    const x4 = out.slice(out.indexOf("$1 = "), out.indexOf("==steps"));
    assert.equal(
      [...x4.matchAll(/^(=> | {3})0x[0-9a-f]+ <handle_irq\+\d+>:\s+\S+/gm)].length,
      4,
      x4,
    );

    // Ten steps: each lands where the instruction before it says.
    const trace = currentInsns(out.slice(out.indexOf("==steps"), out.indexOf("==watch")));
    assert.equal(trace.length, 11, out);
    assert.equal(trace[0].pc, stop);
    let branches = 0;
    for (let k = 0; k < 10; k++) {
      const may = successors(trace[k]);
      if (may !== "any") {
        assert.ok(
          may.includes(trace[k + 1].pc),
          `step ${k + 1}: ${trace[k].mnemonic} ${trace[k].operands} at 0x${
            trace[k].pc.toString(16)
          } went to 0x${trace[k + 1].pc.toString(16)}`,
        );
      }
      if (trace[k + 1].pc !== trace[k].pc + 4n) branches++;
    }
    assert.ok(branches >= 1, "the ten steps include a taken branch");

    // The watchpoint on ticks reports the counter before and after the guest's store.
    const watched =
      /^Hardware watchpoint 2: \*\(unsigned long \*\)&ticks\n\nOld value = (\d+)\nNew value = (\d+)$/m
        .exec(out);
    assert.ok(watched, out);
    assert.equal(Number(watched[2]), Number(watched[1]) + 1);

    assert.match(out, /^cpu0: on pc=0x[0-9a-f]+ EL1$/m);
    assert.match(out, /^0x09000000-0x09000fff pl011 spi 1 \(intid 33\)$/m);
    assert.match(out, /^0x08000000-0x08000fff gic-distributor$/m);
    assert.match(out, /^\* 1\s+Thread 1 "cpu0"/m);
    assert.match(out, /^\[Inferior 1 \(Remote target\) exited normally\]$/m);

    // With every point deleted the demo finishes its run and passes its own checks.
    assert.equal(await vm.exit(60_000), 0, vm.stderr);
    assert.equal(assertDemoOutput(vm.stdout).length, DEMO_TICKS);
    assert.match(vm.stderr, /the guest powered off after/);
  },
});

Deno.test({
  name: "gdb stub on the demo: bad input over TCP, a second client, Ctrl-C, disconnect mid-stop" +
    gdbClient.label,
  // gdb only reads demo.elf's symbols here; the client is a raw socket.
  ignore: gdbClient.ignore,
  sanitizeResources: false,
  async fn() {
    gdbClient.assert();
    const handleIrq = await symbol("handle_irq");
    const { vm, port } = await startWithGdb(DEMO);
    await using _vm = vm;
    const client = await RawGdbClient.connect(port);
    let at = 0;

    // Garbage between packets is skipped; a bad checksum is NAKed.
    await client.sendRaw("hello, stub\r\n");
    await client.sendRaw("$g#00");
    at = (await client.expect(/-/, at)).end;
    // Malformed packets get an error reply, not a crash.
    for (const bad of ["m", "mzz,4", "m40000000", "Z0,zz,4", "P999=00", "Hgzz", "vCont;q"]) {
      await client.send(bad);
      at = (await client.expect(/\+\$(E[0-9a-f]{2})?#[0-9a-f]{2}/, at)).end;
    }
    // Oversized: more than the packet size announced in qSupported.
    await client.sendRaw(`$${"A".repeat(0x10000)}#00`);
    at = (await client.expect(/\$E07#[0-9a-f]{2}/, at)).end;
    // Unmapped memory is an error reply; RAM reads back the guest's own bytes.
    await client.send("m0,4");
    at = (await client.expect(/\$E[0-9a-f]{2}#/, at)).end;
    await client.send(`m${handleIrq.toString(16)},4`);
    const code = await client.expect(/\$([0-9a-f]{8})#/, at);
    at = code.end;
    // The stub still answers a well-formed packet: the guest is held at its first instruction.
    await client.send("?");
    at = (await client.expect(/\$T05[^#]*#/, at)).end;

    // A second client is turned away while one is attached.
    const second = await RawGdbClient.connect(port);
    await second.expect(/another debugger is attached/);
    for (let i = 0; i < 100 && !second.closed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(second.closed, "the second client was disconnected");
    await second[Symbol.asyncDispose]();

    // Continue, then Ctrl-C: the stop reply says SIGINT.
    await client.send("c");
    await new Promise((r) => setTimeout(r, 30));
    await client.sendRaw("\x03");
    at = (await client.expect(/\$T02[^#]*#/, at)).end;

    // A breakpoint, then the client dies while the guest is stopped: the stub removes the
    // breakpoint and the guest runs on to its end.
    await client.send(`Z0,${handleIrq.toString(16)},4`);
    at = (await client.expect(/\$OK#/, at)).end;
    await client[Symbol.asyncDispose]();

    assert.equal(await vm.exit(60_000), 0, vm.stderr);
    assert.equal(assertDemoOutput(vm.stdout).length, DEMO_TICKS);
    // The guest's code was never patched: what the client read is what the ELF holds.
    const bytes = await Deno.readFile(`${ROOT}apps/cli/assets/demo.bin`);
    const off = Number(handleIrq - 0x4000_0000n);
    const hex = [...bytes.subarray(off, off + 4)].map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    assert.equal(code.match[1], hex);
    assert.match(vm.stderr, /disconnected/);
  },
});

// The VM's gdb stub over a real TCP socket, with a small guest on the real engine: a guest held
// at its first instruction, exact steps, breakpoints and watchpoints that stop where they
// should, Ctrl-C, the monitor commands, kill and detach; and a VM without the option has no stub.
import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { VirtualMachine } from "./virtual_machine.ts";
import type { VmConfig } from "./config.ts";
import { guest, LOAD, SYSREGS } from "./testdata/guest.ts";

const library = UnicornLibrary.open();
const DATA = LOAD + 0x8000;

/** x0 = 0, x1 = DATA; loop: x0 += 1; str x0, [x1]; b loop. Returns the loop's and the store's addresses. */
function counter() {
  const a = guest();
  const entry = a.here;
  a.mov(0, 0).mov(1, DATA).label("loop");
  const loop = a.here;
  a.addi(0, 0, 1);
  const store = a.here;
  a.str(0, 1, 0).b("loop");
  return { image: a.assemble(), entry, loop, store };
}

function checksum(payload: string): string {
  let sum = 0;
  for (const c of payload) sum = (sum + c.charCodeAt(0)) & 0xff;
  return sum.toString(16).padStart(2, "0");
}

const hex = (text: string) =>
  [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
const le64 = (hexText: string) => BigInt(`0x${hexText.match(/../g)!.reverse().join("")}`);

/** A protocol client that waits for each reply packet. */
class Client {
  #buffer = "";
  #reading: Promise<void>;
  constructor(readonly conn: Deno.TcpConn) {
    this.#reading = (async () => {
      const b = new Uint8Array(65536);
      for (;;) {
        const n = await conn.read(b).catch(() => null);
        if (n === null) return;
        this.#buffer += new TextDecoder("latin1").decode(b.subarray(0, n));
      }
    })();
  }
  async raw(text: string) {
    await this.conn.write(new TextEncoder().encode(text));
  }
  /** Sends a packet; returns the next reply's payload (skipping `O` console packets). */
  async ask(payload: string): Promise<string> {
    await this.raw(`$${payload}#${checksum(payload)}`);
    return await this.reply();
  }
  async reply(timeoutMs = 20_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = /\$([^#]*)#[0-9a-f]{2}/.exec(this.#buffer);
      if (m) {
        this.#buffer = this.#buffer.slice(m.index + m[0].length);
        await this.raw("+");
        // Run-length encoding: `X*N` is X and N - 29 more of it.
        const payload = m[1].replace(/(.)\*(.)/g, (_, c, n) => c.repeat(n.charCodeAt(0) - 28));
        if (payload.startsWith("O") && payload !== "OK") continue;
        return payload;
      }
      if (performance.now() > deadline) throw new Error(`no reply; have ${this.#buffer}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async close() {
    try {
      this.conn.close();
    } catch {
      // closed
    }
    await this.#reading;
  }
}

async function machine(gdb: VmConfig["gdb"]) {
  const { image, entry, loop, store } = counter();
  const vm = new VirtualMachine({ memorySize: 32 * 1024 * 1024, library, gdb });
  await vm.loadLinux({ kernel: image });
  const client = new Client(await Deno.connect({ hostname: "127.0.0.1", port: vm.gdb!.addr.port }));
  return { vm, client, entry, loop, store };
}

Deno.test("vm gdb: held at the first instruction, exact steps, break, watch, Ctrl-C, monitor, kill", async () => {
  const { vm, client, entry, loop, store } = await machine({ port: 0, wait: true });
  try {
    const run = vm.run({ timeoutMs: 60_000 });
    assert.equal(await client.ask("?"), "T05thread:1;");
    assert.equal(
      le64(await client.ask("p20")),
      BigInt(LOAD),
      "held at the image's first instruction",
    );
    // Each step is one instruction: the header's branch, then the program.
    assert.equal(await client.ask("s"), "T05thread:1;");
    assert.equal(le64(await client.ask("p20")), BigInt(entry));
    // A breakpoint at the store stops before it: the counter in memory is one behind x0.
    assert.equal(await client.ask(`Z0,${store.toString(16)},4`), "OK");
    assert.match(await client.ask("c"), /^T05thread:1;/);
    assert.equal(le64(await client.ask("p20")), BigInt(store));
    const x0 = le64(await client.ask("p0"));
    assert.equal(x0, 1n);
    assert.equal(await client.ask(`m${DATA.toString(16)},8`), "0000000000000000");
    // Guest memory holds the guest's own instruction at the breakpoint.
    assert.equal(await client.ask(`m${store.toString(16)},4`), "200000f9");
    assert.equal(await client.ask(`z0,${store.toString(16)},4`), "OK");
    // A write watchpoint on the counter reports its address, the store not done yet.
    assert.equal(await client.ask(`Z2,${DATA.toString(16)},8`), "OK");
    assert.equal(await client.ask("s"), "T05thread:1;watch:" + DATA.toString(16) + ";");
    assert.equal(le64(await client.ask("p20")), BigInt(store));
    assert.equal(await client.ask(`z2,${DATA.toString(16)},8`), "OK");
    // Run, then Ctrl-C.
    await client.raw(`$c#${checksum("c")}`);
    await new Promise((r) => setTimeout(r, 50));
    await client.raw("\x03");
    assert.equal(await client.reply(), "T02thread:1;");
    const pc = le64(await client.ask("p20"));
    assert.ok(pc >= BigInt(loop) && pc <= BigInt(store) + 4n, `pc 0x${pc.toString(16)}`);
    assert.ok(le64(await client.ask("p0")) > 100n, "the guest ran between continue and Ctrl-C");
    // Monitor commands answer in O packets (skipped here; gdb shows them), then OK.
    assert.equal(await client.ask(`qRcmd,${hex("info vcpus")}`), "OK");
    assert.equal(await client.ask(`qRcmd,${hex("info mmio")}`), "OK");
    // reset: the guest reboots at its entry, still stopped.
    assert.equal(await client.ask(`qRcmd,${hex("reset")}`), "OK");
    assert.equal(le64(await client.ask("p20")), BigInt(LOAD));
    assert.equal(le64(await client.ask("p0")), BigInt(vm.bootPlan!.dtbAddress), "x0: the DTB");
    // kill ends the run.
    await client.raw(`$k#${checksum("k")}`);
    const exit = await run;
    assert.equal(exit.reason, "stopped");
    assert.match(exit.message, /killed by the debugger/);
  } finally {
    await client.close();
    vm.close();
  }
});

Deno.test("vm gdb: a client that detaches lets the guest run on; a VM without the option has none", async () => {
  const { vm, client, store } = await machine({ port: 0 });
  try {
    const run = vm.run({ timeoutMs: 2_000 });
    assert.equal(await client.ask("?"), "T05thread:1;");
    assert.equal(await client.ask(`Z0,${store.toString(16)},4`), "OK");
    assert.equal(await client.ask("D"), "OK");
    // Detached: the breakpoint is gone and the guest runs until the timeout.
    const exit = await run;
    assert.equal(exit.reason, "timeout");
    assert.ok(vm.vcpus[0].getX(0) > 1000n);
  } finally {
    await client.close();
    vm.close();
  }
  using plain = new VirtualMachine({ memorySize: 32 * 1024 * 1024, library });
  assert.equal(plain.gdb, undefined);
});

Deno.test("vm gdb: stop and close are carried out while the debugger holds the guest", async () => {
  const { vm, client } = await machine({ port: 0, wait: true });
  try {
    const run = vm.run({ timeoutMs: 60_000 });
    assert.equal(await client.ask("?"), "T05thread:1;");
    vm.stop("stopped by the host");
    const exit = await run;
    assert.equal(exit.reason, "stopped");
    // The client learns that the machine is gone at its next resume.
    assert.equal(await client.ask("c"), "X09");
  } finally {
    await client.close();
    vm.close();
  }
});

Deno.test("vm gdb: a reboot asked for by the host while stopped is carried out, then resume works", async () => {
  const { vm, client } = await machine({ port: 0, wait: true });
  try {
    const run = vm.run({ timeoutMs: 60_000 });
    assert.equal(await client.ask("?"), "T05thread:1;");
    vm.restart();
    // The continue is not answered by a stale stop: the guest runs until Ctrl-C.
    await client.raw(`$c#${checksum("c")}`);
    await new Promise((r) => setTimeout(r, 100));
    await client.raw("\x03");
    assert.equal(await client.reply(), "T02thread:1;");
    assert.ok(le64(await client.ask("p0")) > 100n, "the rebooted guest ran");
    await client.raw(`$k#${checksum("k")}`);
    assert.equal((await run).reason, "stopped");
  } finally {
    await client.close();
    vm.close();
  }
});

Deno.test("vm gdb: under the host clock the guest's counter skips the time it spent stopped", async () => {
  // x2 = CNTVCT; (stop here for 600 ms) x3 = CNTVCT; then spin.
  const a = guest();
  a.mrs(2, SYSREGS.CNTVCT_EL0);
  const stop = a.here;
  a.nop().mrs(3, SYSREGS.CNTVCT_EL0);
  const after = a.here;
  a.label("spin").b("spin");
  const vm = new VirtualMachine({ memorySize: 32 * 1024 * 1024, library, gdb: { port: 0 } });
  await vm.loadLinux({ kernel: a.assemble() });
  const client = new Client(await Deno.connect({ hostname: "127.0.0.1", port: vm.gdb!.addr.port }));
  try {
    const run = vm.run({ timeoutMs: 60_000 });
    await client.ask("?");
    assert.equal(await client.ask(`Z0,${stop.toString(16)},4`), "OK");
    assert.equal(await client.ask(`Z0,${after.toString(16)},4`), "OK");
    // The attach may have stopped the guest past the first breakpoint already; reboot to be sure.
    assert.equal(await client.ask(`qRcmd,${hex("reset")}`), "OK");
    assert.match(await client.ask("c"), /^T05/);
    assert.equal(le64(await client.ask("p20")), BigInt(stop));
    await new Promise((r) => setTimeout(r, 600));
    // Off the breakpoint first (it matches the first instruction of a resume), as gdb does.
    assert.match(await client.ask("s"), /^T05/);
    assert.match(await client.ask("c"), /^T05/);
    assert.equal(le64(await client.ask("p20")), BigInt(after));
    const ticks = le64(await client.ask("p3")) - le64(await client.ask("p2"));
    // 600 ms are 37.5 M ticks at 62.5 MHz; the two reads are a few instructions apart.
    assert.ok(ticks < 6_250_000n, `the guest saw ${ticks} ticks pass (100 ms = 6.25 M)`);
    await client.raw(`$k#${checksum("k")}`);
    await run;
  } finally {
    await client.close();
    vm.close();
  }
});

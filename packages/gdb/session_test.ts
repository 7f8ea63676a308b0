// Every packet the stub implements, one exchange at a time, against the fake machine.
import assert from "node:assert/strict";
import { TARGET_XML } from "./_target_xml.ts";
import { AARCH64_REGNUM, MAX_MEMORY_READ, MAX_POINTS } from "./mod.ts";
import { frame, PacketClient } from "./testdata/client.ts";
import {
  CPU1_START,
  DATA,
  FakeMachine,
  LOAD_PC,
  LOOP,
  RAM_BASE,
  RAM_SIZE,
  STORE_PC,
} from "./testdata/fake_machine.ts";

const hex64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
};

async function connect(fake = new FakeMachine()) {
  const client = await PacketClient.connect(fake);
  return { fake, client };
}

async function finish(fake: FakeMachine, client: PacketClient) {
  await client.session.close();
  await fake.shutdown();
  assert.deepEqual(fake.violations, []);
}

Deno.test("attaching halts the target; ? reports that stop", async () => {
  const { fake, client } = await connect();
  assert.deepEqual(fake.calls, ["halt"]);
  assert.equal(client.session.state, "stopped");
  assert.equal(await client.ask("?"), "T05thread:1;");
  await finish(fake, client);
});

Deno.test("qSupported announces the packet size and the features implemented", async () => {
  const { fake, client } = await connect();
  const reply = await client.ask("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
  assert.deepEqual(reply.split(";"), [
    "PacketSize=4000",
    "QStartNoAckMode+",
    "qXfer:features:read+",
    "qXfer:threads:read+",
    "vContSupported+",
    "swbreak+",
    "hwbreak+",
  ]);
  assert.equal(await client.ask("vCont?"), "vCont;c;C;s;S");
  assert.equal(await client.ask("qAttached"), "1");
  assert.equal(await client.ask("qAttached:1"), "1");
  assert.equal(await client.ask("qSymbol::"), "OK");
  for (
    const unknown of ["vMustReplyEmpty", "qTStatus", "qOffsets", "vKill;1", "!", "QNonStop:1", "j"]
  ) {
    assert.equal(await client.ask(unknown), "", `${unknown} gets the empty reply`);
  }
  assert.equal(client.session.stats.unsupported, 7);
  await finish(fake, client);
});

Deno.test("QStartNoAckMode: acknowledged once, then no acknowledgements either way", async () => {
  const { fake, client } = await connect();
  assert.deepEqual(await client.raw(frame("QStartNoAckMode")), ["+", { payload: "OK" }]);
  assert.deepEqual(await client.raw("+$?#3f"), [{ payload: "T05thread:1;" }]);
  assert.deepEqual(await client.raw("$?#00"), [], "a bad checksum is dropped silently");
  assert.deepEqual(await client.raw("-"), [], "no retransmission without acks");
  await finish(fake, client);
});

Deno.test("threads: the list, the current one, aliveness, names and Hg/Hc", async () => {
  const { fake, client } = await connect();
  assert.equal(await client.ask("qfThreadInfo"), "m1,2");
  assert.equal(await client.ask("qsThreadInfo"), "l");
  assert.equal(await client.ask("qC"), "QC1");
  assert.equal(await client.ask("T1"), "OK");
  assert.equal(await client.ask("T2"), "OK");
  assert.equal(await client.ask("T3"), "E03");
  assert.equal(await client.ask("T0"), "E03");
  assert.equal(await client.ask("Tzz"), "E16");
  assert.equal(await client.ask("qThreadExtraInfo,2"), "72756e6e696e67"); // "running"
  const xml = (await client.ask("qXfer:threads:read::0,fff")).slice(1);
  assert.match(xml, /<thread id="1" name="cpu0">running<\/thread>/);
  assert.match(xml, /<thread id="2" name="cpu1">running<\/thread>/);

  assert.equal(await client.ask("Hg2"), "OK");
  const regs = await client.ask("g");
  assert.equal(regs.slice(32 * 16, 33 * 16), hex64(BigInt(CPU1_START)), "g reads thread 2");
  assert.equal(await client.ask("Hg0"), "OK");
  assert.equal((await client.ask("g")).slice(32 * 16, 33 * 16), hex64(BigInt(RAM_BASE)));
  assert.equal(await client.ask("Hg-1"), "OK");
  assert.equal(await client.ask("Hg7"), "E03");
  assert.equal(await client.ask("Hc-1"), "OK");
  assert.equal(await client.ask("Hx1"), "");
  assert.equal(client.session.stats.lastFault, "NO_SUCH_THREAD");
  await finish(fake, client);
});

Deno.test("target description: served in slices that reassemble to the whole", async () => {
  const { fake, client } = await connect();
  let xml = "";
  for (let offset = 0;;) {
    const reply = await client.ask(`qXfer:features:read:target.xml:${offset.toString(16)},100`);
    xml += reply.slice(1);
    offset += reply.length - 1;
    if (reply[0] === "l") break;
    assert.equal(reply[0], "m");
    assert.equal(reply.length - 1, 0x100);
  }
  assert.equal(xml, new TextDecoder().decode(TARGET_XML));
  assert.equal(await client.ask("qXfer:features:read:other.xml:0,100"), "E00");
  assert.equal(await client.ask("qXfer:features:read:target.xml:100000,10"), "l");
  assert.equal(await client.ask("qXfer:features:read:target.xml"), "E16");
  assert.equal(await client.ask("qXfer:auxv:read::0,100"), "");
  await finish(fake, client);
});

Deno.test("g and G: every register in gdb's layout, written back as sent", async () => {
  const { fake, client } = await connect();
  const block = await client.ask("g");
  assert.equal(block.length, 788 * 2);
  assert.equal(block.slice(29 * 16, 30 * 16), hex64(0x1d1d_1d1dn), "x29");
  assert.equal(block.slice(31 * 16, 32 * 16), hex64(BigInt(RAM_BASE + RAM_SIZE)), "sp");
  assert.equal(block.slice(32 * 16, 33 * 16), hex64(BigInt(RAM_BASE)), "pc");
  assert.equal(block.slice(33 * 16, 33 * 16 + 8), "c5030000", "cpsr");
  const v0 = 33 * 16 + 8;
  assert.equal(block.slice(v0, v0 + 32), "101112131415161718191a1b1c1d1e1f", "v0");
  assert.equal(block.slice(-16), "1000000000000003", "fpsr, fpcr");

  const changed = "01".repeat(8) + block.slice(16, -8) + "00000001";
  assert.equal(await client.ask(`G${changed}`), "OK");
  assert.equal(fake.regs[0].x[0], 0x0101_0101_0101_0101n);
  assert.equal(fake.regs[0].fpcr, 0x0100_0000);
  assert.equal(await client.ask("g"), changed);
  assert.equal(await client.ask(`G${changed.slice(2)}`), "E16", "one byte short");
  assert.equal(await client.ask(`G${changed.slice(2)}zz`), "E16", "not hex");
  assert.equal(await client.ask("gx"), "E16");
  await finish(fake, client);
});

Deno.test("p and P: one register of each kind", async () => {
  const { fake, client } = await connect();
  const r = AARCH64_REGNUM;
  assert.equal(await client.ask(`p${r.PC.toString(16)}`), hex64(BigInt(RAM_BASE)));
  assert.equal(await client.ask(`p${r.CPSR.toString(16)}`), "c5030000");
  assert.equal(await client.ask(`p${r.V0.toString(16)}`), "101112131415161718191a1b1c1d1e1f");
  assert.equal(await client.ask(`p${r.FPCR.toString(16)}`), "00000003");

  assert.equal(await client.ask(`P5=${hex64(0x55n)}`), "OK");
  assert.equal(fake.regs[0].x[5], 0x55n);
  fake.regs[0].pstate = 0x1_0000_0000n;
  assert.equal(await client.ask(`P${r.CPSR.toString(16)}=05000020`), "OK");
  assert.equal(fake.regs[0].pstate, 0x1_2000_0005n, "the high half of PSTATE is kept");
  assert.equal(await client.ask(`P${(r.V0 + 31).toString(16)}=${"ab".repeat(16)}`), "OK");
  assert.deepEqual([...fake.regs[0].vreg(31)], new Array(16).fill(0xab));
  assert.equal(await client.ask(`P${r.FPSR.toString(16)}=08000000`), "OK");
  assert.equal(fake.regs[0].fpsr, 8);
  assert.equal(await client.ask(`P1f=${hex64(0x1234n)}`), "OK");
  assert.equal(fake.regs[0].sp, 0x1234n);

  assert.equal(await client.ask("p44"), "E16", "register 68 does not exist");
  assert.equal(await client.ask("p"), "E16");
  assert.equal(await client.ask("P5=00"), "E16", "wrong size");
  assert.equal(await client.ask("P5"), "E16");
  assert.equal(await client.ask(`P44=${hex64(0n)}`), "E16");
  await finish(fake, client);
});

Deno.test("m, M and X: guest memory, short reads at the end of RAM, faults", async () => {
  const { fake, client } = await connect();
  assert.equal(await client.ask("m400000,8"), "200080d20108a0d2", "movz x0 / movz x1");
  assert.equal(await client.ask(`m${(RAM_BASE + RAM_SIZE - 2).toString(16)},8`), "0000", "short");
  assert.equal(await client.ask("m0,4"), "E0e");
  assert.equal(await client.ask("mffffffffffffffff,4"), "E0e");
  assert.equal(await client.ask("m400000,0"), "");
  const big = await client.ask(`m400000,${(MAX_MEMORY_READ * 4).toString(16)}`);
  assert.equal(big.length, MAX_MEMORY_READ * 2, "clamped to MAX_MEMORY_READ");
  assert.equal(await client.ask("m400000"), "E16");
  assert.equal(await client.ask("m10000000000000000,4"), "E16");

  assert.equal(await client.ask(`M${DATA.toString(16)},4:efbeadde`), "OK");
  assert.equal(new DataView(fake.memory.buffer).getUint32(DATA - RAM_BASE, true), 0xdeadbeef);
  assert.equal(await client.ask(`M${DATA.toString(16)},4:efbead`), "E16", "length mismatch");
  assert.equal(await client.ask("M0,1:00"), "E0e");

  // Binary: the bytes $ # } * travel escaped, 0x03 raw.
  const escaped = "}\x04}\x03}]}\x0a\x03";
  assert.equal(await client.ask(`X${DATA.toString(16)},5:${escaped}`), "OK");
  assert.deepEqual([...fake.memory.subarray(DATA - RAM_BASE, DATA - RAM_BASE + 5)], [
    0x24,
    0x23,
    0x7d,
    0x2a,
    0x03,
  ]);
  assert.equal(await client.ask(`X${DATA.toString(16)},0:`), "OK", "gdb's probe");
  assert.equal(await client.ask(`X${DATA.toString(16)},2:a`), "E16");
  assert.equal(await client.ask(`X${DATA.toString(16)},1:}`), "E16", "dangling escape");
  assert.equal(await client.ask("X0,1:a"), "E0e");
  await finish(fake, client);
});

Deno.test("breakpoints: kept by the target, guest memory untouched, inserted once", async () => {
  const { fake, client } = await connect();
  const before = fake.memory.slice();
  assert.equal(await client.ask("Z0,400014,4"), "OK");
  assert.equal(await client.ask("Z0,400014,4"), "OK", "again: no second insert");
  assert.deepEqual(fake.memory, before, "no breakpoint instruction written");
  assert.equal(await client.ask("m400014,4"), "1f2003d5", "reads show the guest's own nop");
  assert.deepEqual([...fake.points.keys()], ["software:4194324:4"]);
  assert.equal(await client.ask("z0,400014,4"), "OK");
  assert.equal(await client.ask("z0,400014,4"), "OK", "removing what is not there");
  assert.equal(fake.points.size, 0);
  assert.equal(fake.calls.filter((c) => c === "insertPoint").length, 1);
  assert.equal(fake.calls.filter((c) => c === "removePoint").length, 1);

  for (let i = 0; i < 6; i++) {
    assert.equal(await client.ask(`Z1,${(0x400000 + 4 * i).toString(16)},4`), "OK");
  }
  assert.equal(await client.ask("Z1,400100,4"), "E1c", "out of hardware breakpoints");
  assert.equal(await client.ask("Z2,401000,10"), "E1c", "16 bytes is more than one watchpoint");
  assert.equal(await client.ask("Z2,401000,0"), "E16");
  assert.equal(await client.ask("Z5,401000,4"), "E16");
  assert.equal(await client.ask("Z0,400000"), "E16");
  await finish(fake, client);
});

Deno.test("breakpoints: a target without a kind gets gdb's fallbacks, never memory patching", async () => {
  const fake = new FakeMachine();
  fake.insertPoint = () => "unsupported";
  const { client } = await connect(fake);
  assert.equal(
    await client.ask("Z2,401000,4"),
    "",
    "no hardware watchpoints: gdb uses software ones",
  );
  assert.equal(await client.ask("Z0,400000,4"), "E1c", "an empty reply would make gdb write BRK");
  await finish(fake, client);
});

Deno.test(`the stub keeps at most ${MAX_POINTS} points per client`, async () => {
  const { fake, client } = await connect();
  for (let i = 0; i < MAX_POINTS; i++) {
    assert.equal(await client.ask(`Z0,${(0x400000 + 4 * i).toString(16)},4`), "OK");
  }
  assert.equal(await client.ask("Z0,0,4"), "E1c");
  assert.equal(client.session.stats.lastFault, "TOO_MANY_POINTS");
  await finish(fake, client);
  assert.equal(fake.points.size, 0, "all removed when the client left");
});

Deno.test("vCont;s steps one instruction on one thread; others stay put", async () => {
  const { fake, client } = await connect();
  assert.deepEqual(await client.send("vCont;s:1"), [], "no reply until the target stops");
  assert.equal(client.session.state, "running");
  assert.deepEqual(await client.waitForReply(), ["T05thread:1;"]);
  assert.equal(fake.regs[0].pc, BigInt(RAM_BASE + 4));
  assert.equal(fake.retired[1], 0);
  assert.deepEqual(await client.send("vCont;s:2"), []);
  assert.deepEqual(await client.waitForReply(), ["T05thread:2;"]);
  assert.equal(await client.ask("qC"), "QC2", "the stop's thread is now current");
  assert.equal((await client.ask("g")).slice(32 * 16, 33 * 16), hex64(BigInt(CPU1_START + 4)));
  assert.equal(fake.retired[0], 1);
  assert.equal(await client.ask("vCont;s:3"), "E03");
  assert.equal(await client.ask("vCont;t"), "E16");
  await finish(fake, client);
});

Deno.test("vCont;s:1;c steps thread 1 while thread 2 runs", async () => {
  const { fake, client } = await connect(new FakeMachine({ batch: 1 }));
  await client.send("vCont;s:1;c");
  assert.deepEqual(await client.waitForReply(), ["T05thread:1;"]);
  assert.deepEqual(fake.retired, [1, 1]);
  await finish(fake, client);
});

Deno.test("continue to a software breakpoint, with the reason gdb asked for", async () => {
  const { fake, client } = await connect();
  await client.ask("qSupported:swbreak+;hwbreak+");
  assert.equal(await client.ask(`Z0,${LOOP.toString(16)},4`), "OK");
  await client.send("vCont;c");
  assert.deepEqual(await client.waitForReply(), ["T05thread:1;swbreak:;"]);
  assert.equal(fake.regs[0].pc, BigInt(LOOP));
  assert.equal(fake.regs[0].x[2], 42n, "the instructions before it ran");
  await finish(fake, client);
});

Deno.test("without swbreak+ from the client, the stop reply carries no reason", async () => {
  const { fake, client } = await connect();
  await client.ask("Z1,400004,4");
  await client.send("c");
  assert.deepEqual(await client.waitForReply(), ["T05thread:1;"]);
  await finish(fake, client);
});

Deno.test("watchpoints stop before the access, with its address and kind", async () => {
  const { fake, client } = await connect();
  const at = DATA.toString(16);
  assert.equal(await client.ask(`Z2,${at},4`), "OK");
  await client.send("vCont;c");
  assert.deepEqual(await client.waitForReply(), [`T05thread:1;watch:${at};`]);
  assert.equal(fake.regs[0].pc, BigInt(STORE_PC));
  assert.equal(await client.ask(`m${at},4`), "00000000", "the store has not happened");
  await client.ask(`z2,${at},4`);
  await client.ask(`Z3,${at},4`);
  await client.send("vCont;c");
  assert.deepEqual(await client.waitForReply(), [`T05thread:1;rwatch:${at};`]);
  assert.equal(fake.regs[0].pc, BigInt(LOAD_PC));
  await client.ask(`z3,${at},4`);
  await client.ask(`Z4,${(DATA + 2).toString(16)},1`);
  await client.send("vCont;c");
  assert.deepEqual(await client.waitForReply(), [`T05thread:1;awatch:${at};`]);
  await finish(fake, client);
});

Deno.test("legacy c and s: the Hc thread, an optional address, signals ignored", async () => {
  const { fake, client } = await connect();
  assert.equal(await client.ask("Hc2"), "OK");
  await client.send("s");
  assert.deepEqual(await client.waitForReply(), ["T05thread:2;"]);
  assert.equal(fake.retired[0], 0);
  await client.send(`S05;${CPU1_START.toString(16)}`);
  assert.deepEqual(await client.waitForReply(), ["T05thread:2;"]);
  assert.equal(fake.regs[1].pc, BigInt(CPU1_START + 4));
  assert.equal(await client.ask(`Z0,${LOOP.toString(16)},4`), "OK");
  assert.equal(await client.ask("Hc1"), "OK");
  await client.send(`C00;${(0x40000c).toString(16)}`);
  assert.deepEqual(await client.waitForReply(), ["T05thread:1;"]);
  assert.equal(fake.regs[0].pc, BigInt(LOOP));
  assert.equal(fake.regs[0].x[2], 42n);
  assert.equal(fake.regs[0].x[0], 0n, "started at 0x40000c: movz x0 never ran");
  assert.equal(await client.ask("czz"), "E16");
  assert.equal(await client.ask("C5"), "E16");
  await finish(fake, client);
});

Deno.test("Ctrl-C interrupts a running target; packets meanwhile are acknowledged and dropped", async () => {
  const { fake, client } = await connect();
  await client.send("vCont;c");
  assert.deepEqual(await client.raw("$g#67$m0,4#fd"), ["+", "+"], "no replies while running");
  assert.equal(client.session.stats.lastFault, "WHILE_RUNNING");
  assert.ok(fake.running);
  while (fake.retired[0] === 0 || fake.retired[1] === 0) await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(await client.raw("\x03"), []);
  assert.deepEqual(await client.waitForReply(), ["T02thread:1;"]);
  assert.ok(!fake.running);
  assert.ok(fake.retired[0] > 0 && fake.retired[1] > 0, "both vCPUs ran");
  assert.deepEqual(await client.raw("\x03"), [], "an interrupt while stopped does nothing");
  assert.equal(fake.calls.filter((c) => c === "interrupt").length, 1);
  await finish(fake, client);
});

Deno.test("monitor: commands go to the target, output comes back as O packets", async () => {
  const { fake, client } = await connect();
  const hex = (s: string) =>
    [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (s: string) =>
    new TextDecoder().decode(Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16)));
  const replies = await client.send(`qRcmd,${hex("info vcpus")}`);
  assert.equal(replies.at(-1), "OK");
  const text = replies.slice(0, -1).map((r) => unhex(r.slice(1))).join("");
  assert.equal(
    text,
    "cpu0: running pc=0x400000 EL1 retired=0\ncpu1: running pc=0x400100 EL1 retired=0\n",
  );
  assert.deepEqual(fake.monitorCommands, ["info vcpus"]);
  assert.equal(await client.ask("qRcmd,zz"), "E16");

  const chatty = new FakeMachine();
  chatty.monitor = () => "x".repeat(10_000);
  const second = await PacketClient.connect(chatty);
  const many = await second.send(`qRcmd,${hex("dump")}`);
  assert.equal(many.length, 4, "three O packets and OK");
  assert.equal(many.slice(0, -1).map((r) => unhex(r.slice(1))).join(""), "x".repeat(10_000));
  await finish(chatty, second);

  const failing = new FakeMachine();
  failing.monitor = () => Promise.reject(new Error("no monitor here"));
  const third = await PacketClient.connect(failing);
  assert.equal(await third.ask(`qRcmd,${hex("x")}`), "E05");
  assert.equal(third.session.stats.targetErrors, 1);
  await finish(failing, third);
  await finish(fake, client);
});

Deno.test("k kills the target and ends the session without a reply or a detach", async () => {
  const { fake, client } = await connect();
  await client.ask("Z0,400000,4");
  assert.deepEqual(await client.raw("$k#6b"), ["+"]);
  assert.ok(fake.killed);
  assert.equal(await client.session.ended, "kill");
  assert.ok(!fake.detached);
  assert.deepEqual(await client.raw("$?#3f"), [], "nothing after the end");
});

Deno.test("D replies OK, removes every point and detaches; the guest runs on", async () => {
  const { fake, client } = await connect();
  await client.ask("Z0,400010,4");
  await client.ask("Z2,401000,4");
  assert.equal(await client.ask("D"), "OK");
  assert.equal(await client.session.ended, "detach");
  assert.equal(fake.points.size, 0);
  assert.ok(fake.detached);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(fake.retired[0] > 10, "running free");
  await finish(fake, client);
});

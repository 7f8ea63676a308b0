// The argument parsers, hex helpers, register block layout and the target description.
import assert from "node:assert/strict";
import {
  parseMemoryArgs,
  parsePointArgs,
  parseResumeAddress,
  parseVCont,
  parseXferRead,
  stopReply,
  xmlEscape,
} from "./_commands.ts";
import { fromHex, parseHexInt, parseHexU64, parseThreadId, toHex } from "./_hex.ts";
import {
  loadRegister,
  REGISTER_BLOCK_SIZE,
  registerOffset,
  registerSize,
  storeRegister,
} from "./_register_block.ts";
import { TARGET_XML } from "./_target_xml.ts";
import { AARCH64_REGNUM, Aarch64Registers } from "./mod.ts";

Deno.test("hex numbers: 64-bit addresses, bounded integers, thread ids", () => {
  assert.equal(parseHexU64("ffffffffffffffff"), 0xffff_ffff_ffff_ffffn);
  assert.equal(parseHexU64("00000000000000000000000000000001"), 1n);
  assert.equal(parseHexU64("10000000000000000"), undefined, "65 bits");
  assert.equal(parseHexU64(""), undefined);
  assert.equal(parseHexU64("12g4"), undefined);
  assert.equal(parseHexInt("7fffffff"), 0x7fff_ffff);
  assert.equal(parseHexInt("80000000"), undefined);
  assert.equal(parseHexInt("ff", 0xfe), undefined);
  assert.equal(parseThreadId("-1"), -1);
  assert.equal(parseThreadId("0"), 0);
  assert.equal(parseThreadId("1a"), 0x1a);
  assert.equal(parseThreadId("-2"), undefined);
  assert.deepEqual(fromHex("00ff7A"), Uint8Array.of(0, 0xff, 0x7a));
  assert.equal(fromHex("abc"), undefined);
  assert.equal(fromHex("zz"), undefined);
  assert.equal(toHex(Uint8Array.of(0, 0xff, 0x7a)), "00ff7a");
});

Deno.test("memory and point arguments", () => {
  assert.deepEqual(parseMemoryArgs("400000,4"), { address: 0x400000n, length: 4 });
  assert.equal(parseMemoryArgs("400000"), undefined);
  assert.equal(parseMemoryArgs(",4"), undefined);
  assert.equal(parseMemoryArgs("1,-4"), undefined);
  assert.deepEqual(parsePointArgs("0,400014,4"), {
    type: "software",
    address: 0x400014n,
    length: 4,
  });
  assert.deepEqual(parsePointArgs("4,401000,8;X1,0"), {
    type: "access",
    address: 0x401000n,
    length: 8,
  });
  assert.equal(parsePointArgs("5,0,4"), undefined, "no Z5");
  assert.equal(parsePointArgs("2,401000,0"), undefined, "zero length");
  assert.equal(parsePointArgs("0,1"), undefined);
  assert.equal(parsePointArgs("00,1,4"), undefined);
});

Deno.test("vCont actions and the legacy resume address", () => {
  assert.deepEqual(parseVCont("s:1;c"), [{ step: true, thread: 1 }, {
    step: false,
    thread: undefined,
  }]);
  assert.deepEqual(parseVCont("C05:2;S0b"), [{ step: false, thread: 2 }, {
    step: true,
    thread: undefined,
  }]);
  assert.deepEqual(parseVCont("c:-1"), [{ step: false, thread: undefined }]);
  for (const bad of ["", "t", "r0,4", "c:0", "C5", "Czz", "s:xyz", "c;", "x"]) {
    assert.equal(parseVCont(bad), undefined, bad);
  }
  assert.equal(parseResumeAddress("", false), null);
  assert.equal(parseResumeAddress("400010", false), 0x400010n);
  assert.equal(parseResumeAddress("05", true), null);
  assert.equal(parseResumeAddress("05;400010", true), 0x400010n);
  assert.equal(parseResumeAddress("zz", false), undefined);
  assert.equal(parseResumeAddress("", true), undefined);
});

Deno.test("qXfer read arguments: the annex may itself be empty", () => {
  assert.deepEqual(parseXferRead("target.xml:0,ffb"), {
    annex: "target.xml",
    offset: 0,
    length: 0xffb,
  });
  assert.deepEqual(parseXferRead(":10,20"), { annex: "", offset: 0x10, length: 0x20 });
  assert.equal(parseXferRead("target.xml"), undefined);
  assert.equal(parseXferRead("target.xml:0"), undefined);
});

Deno.test("stop replies name the thread (gdb ids start at 1) and the reason", () => {
  assert.equal(stopReply({ reason: "halted", thread: 0 }, true), "T05thread:1;");
  assert.equal(stopReply({ reason: "step", thread: 15 }, true), "T05thread:10;");
  assert.equal(stopReply({ reason: "swbreak", thread: 1 }, true), "T05thread:2;swbreak:;");
  assert.equal(stopReply({ reason: "hwbreak", thread: 1 }, true), "T05thread:2;hwbreak:;");
  assert.equal(stopReply({ reason: "swbreak", thread: 1 }, false), "T05thread:2;");
  assert.equal(stopReply({ reason: "interrupt", thread: 0 }, true), "T02thread:1;");
  assert.equal(stopReply({ reason: "signal", thread: 0, signal: 11 }, true), "T0bthread:1;");
  assert.equal(
    stopReply({ reason: "watchpoint", thread: 0, kind: "write", address: 0x401000n }, true),
    "T05thread:1;watch:401000;",
  );
  assert.equal(
    stopReply({ reason: "watchpoint", thread: 0, kind: "read", address: 0x8n }, true),
    "T05thread:1;rwatch:8;",
  );
  assert.equal(
    stopReply({ reason: "watchpoint", thread: 0, kind: "access", address: 0x8n }, true),
    "T05thread:1;awatch:8;",
  );
  assert.equal(stopReply({ reason: "exited", status: 3 }, true), "W03");
  assert.equal(stopReply({ reason: "terminated", signal: 9 }, true), "X09");
});

Deno.test("XML escaping keeps thread names well-formed", () => {
  assert.equal(xmlEscape(`a<b>&"c'\x01`), "a&#60;b&#62;&#38;&#34;c&#39;?");
});

Deno.test("register block: gdb's order and sizes, 788 bytes", () => {
  assert.equal(REGISTER_BLOCK_SIZE, 31 * 8 + 8 + 8 + 4 + 32 * 16 + 4 + 4);
  assert.equal(registerOffset(AARCH64_REGNUM.PC), 32 * 8);
  assert.equal(registerOffset(AARCH64_REGNUM.V0), 33 * 8 + 4);
  assert.equal(registerSize(AARCH64_REGNUM.CPSR), 4);
  assert.equal(registerSize(AARCH64_REGNUM.V0 + 31), 16);
  assert.equal(registerSize(AARCH64_REGNUM.FPCR), 4);
  assert.equal(registerSize(AARCH64_REGNUM.COUNT), 0);
  assert.equal(registerSize(-1), 0);

  const regs = new Aarch64Registers();
  for (let i = 0; i < 31; i++) regs.x[i] = BigInt(i) * 0x0101_0101_0101_0101n;
  regs.sp = 0xaaaan;
  regs.pc = 0xbbbbn;
  regs.pstate = 0x1_0000_03c5n;
  for (let i = 0; i < 512; i++) regs.v[i] = i & 0xff;
  regs.fpsr = 0x8000_0000;
  regs.fpcr = 0x0300_0000;
  const block = new Uint8Array(REGISTER_BLOCK_SIZE);
  const view = new DataView(block.buffer);
  for (let r = 0; r < AARCH64_REGNUM.COUNT; r++) storeRegister(regs, r, view);
  assert.equal(view.getUint32(registerOffset(AARCH64_REGNUM.CPSR), true), 0x3c5, "low half only");
  assert.equal(block[registerOffset(AARCH64_REGNUM.V0 + 1)], 16);

  const back = new Aarch64Registers();
  back.pstate = 0xffff_ffff_0000_0000n;
  for (let r = 0; r < AARCH64_REGNUM.COUNT; r++) loadRegister(back, r, view);
  assert.equal(back.pstate, 0xffff_ffff_0000_03c5n, "a cpsr write keeps PSTATE's high half");
  back.pstate = regs.pstate;
  assert.deepEqual(back, regs);
});

Deno.test("the target description names 68 registers in the g packet's order", () => {
  const xml = new TextDecoder().decode(TARGET_XML);
  const names = [...xml.matchAll(/<reg name="([^"]+)" bitsize="(\d+)"/g)].map((m) =>
    `${m[1]}/${m[2]}`
  );
  const expected = [
    ...Array.from({ length: 31 }, (_, i) => `x${i}/64`),
    "sp/64",
    "pc/64",
    "cpsr/32",
    ...Array.from({ length: 32 }, (_, i) => `v${i}/128`),
    "fpsr/32",
    "fpcr/32",
  ];
  assert.deepEqual(names, expected);
  assert.match(xml, /<feature name="org\.gnu\.gdb\.aarch64\.core">/);
  assert.match(xml, /<feature name="org\.gnu\.gdb\.aarch64\.fpu">/);
  assert.doesNotMatch(xml, /[$#}*]/, "nothing that needs escaping, though it is escaped anyway");
});

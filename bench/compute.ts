/**
 * Guest instructions per second on compute loops: the engine alone (no hooks,
 * no instruction counting) against VMKit's run loop, and the cost of one MMIO
 * exit. Prints a table; run with `deno run -A bench/compute.ts` (the engine is
 * the one `UnicornLibrary.open()` finds: set VMKIT_UNICORN_PATH to choose).
 *
 * The store and load loops run the way a kernel's data accesses do: MMU on,
 * the data mapped writable and never executable. Unicorn 2.0.1 sends every
 * store through its slow path; 2.1.x only stores to pages that are also
 * executable (which with the MMU off is every page).
 *
 * @module
 */

import { type SliceCounter, SYSREGS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
import { Asm, COND } from "../packages/vcpu/testdata/a64.ts";
import { Engine } from "../packages/vcpu/engine.ts";

const RAM = 0x4000_0000;
const DEVICE = 0x0900_0000;

/** A program, and how many instructions it retires before its final HVC. */
interface Program {
  name: string;
  code: Uint8Array<ArrayBuffer>;
  instructions: number;
  /** Runs with the MMU on: RAM executable at its own address, and again at DATA_ALIAS, never executable. */
  mmu?: boolean;
}

/** Where the MMU programs see RAM as data: a second 1 GiB block over the same RAM. */
const DATA_ALIAS = 0x8000_0000;
const PAGE_TABLE = RAM + 0x1f_0000;

/** Level-1 table (39-bit VAs, 4 KiB granule) for {@link Program.mmu} programs. */
function mmuTables(ram: Uint8Array<ArrayBuffer>): void {
  const dv = new DataView(ram.buffer);
  const block = 0x701n; // 1 GiB block, AF, inner shareable, MAIR attribute 0
  dv.setBigUint64(PAGE_TABLE - RAM + 8, BigInt(RAM) | block, true);
  dv.setBigUint64(PAGE_TABLE - RAM + 16, BigInt(RAM) | block | (3n << 53n), true);
}

/** The system registers that turn the MMU on over {@link mmuTables}. */
const MMU_REGS = [
  ["MAIR_EL1", 0xffn],
  ["TCR_EL1", 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n)],
  ["TTBR0_EL1", BigInt(PAGE_TABLE)],
] as const;
const SCTLR_MMU_CACHES = 0x1005n;

function accessLoop(store: boolean, passes: number): Program {
  // 64 KiB through the non-executable alias: 4 instructions per 8-byte word.
  const words = 8192;
  const a = new Asm(RAM).mov(4, passes).label("pass").mov(1, DATA_ALIAS + 0x10_0000).mov(2, words)
    .label("loop");
  if (store) a.str(4, 1, 0);
  else a.ldr(3, 1, 0);
  a.addi(1, 1, 8).subsi(2, 2, 1).bcond(COND.ne, "loop").subsi(4, 4, 1).bcond(COND.ne, "pass")
    .hvc(0);
  return {
    name: store ? "store loop (MMU on, data not executable)" : "load loop (MMU on)",
    code: a.assemble(),
    instructions: passes * (4 * words + 4),
    mmu: true,
  };
}

function registerLoop(iterations: number): Program {
  // 5 instructions per iteration: add, eor, add, subs, b.ne
  const a = new Asm(RAM).mov(0, 0).mov(1, iterations).label("loop")
    .addi(0, 0, 3).word(0xca010002) // eor x2, x0, x1
    .add(3, 2, 0).subsi(1, 1, 1).bcond(COND.ne, "loop").hvc(0);
  return { name: "register loop", code: a.assemble(), instructions: 5 * iterations };
}

function memoryLoop(passes: number): Program {
  // Checksum over 64 KiB: 6 instructions per 8-byte word.
  const words = 8192;
  const a = new Asm(RAM).mov(4, passes).label("pass").mov(1, RAM + 0x10_0000).mov(2, words)
    .label("loop").ldr(3, 1, 0).add(0, 0, 3).str(0, 1, 0).addi(1, 1, 8).subsi(2, 2, 1)
    .bcond(COND.ne, "loop").subsi(4, 4, 1).bcond(COND.ne, "pass").hvc(0);
  return {
    name: "memory loop (64 KiB checksum)",
    code: a.assemble(),
    instructions: passes * (6 * words + 4),
  };
}

function mmioLoop(iterations: number, device: boolean): Program {
  const a = new Asm(RAM).mov(1, device ? DEVICE : RAM + 0x10_0000).mov(2, iterations).label("loop")
    .strw(2, 1, 0).subsi(2, 2, 1).bcond(COND.ne, "loop").hvc(0);
  return {
    name: device ? "MMIO writes" : "RAM writes",
    code: a.assemble(),
    instructions: 3 * iterations,
  };
}

const library = UnicornLibrary.open();

function bare(p: Program): number {
  const engine = Engine.open(library.symbols, "cortex-a72");
  const ram = new Uint8Array(0x20_0000);
  ram.set(p.code);
  engine.mapPtr(RAM, ram);
  // 2.0.1 checks virtual addresses against its physical map before
  // translating them; the alias needs something behind it (VMKit covers it).
  const shadow = new Uint8Array(0x20_0000);
  if (p.mmu) {
    mmuTables(ram);
    engine.mapPtr(DATA_ALIAS, shadow);
    for (const [name, value] of MMU_REGS) engine.writeSys(SYSREGS[name], value);
    engine.writeSys(SYSREGS.SCTLR_EL1, engine.readSys(SYSREGS.SCTLR_EL1) | SCTLR_MMU_CACHES);
  }
  const t = performance.now();
  engine.start(BigInt(RAM), 0); // ends at the HVC: no hook takes it, so the engine halts
  const seconds = (performance.now() - t) / 1000;
  engine.close();
  shadow.fill(0);
  return seconds;
}

function vmkit(p: Program, sliceCounter?: SliceCounter, onMmio = () => {}): number {
  using vcpu = new Vcpu({ library, sliceCounter });
  const ram = new Uint8Array(0x20_0000);
  ram.set(p.code);
  vcpu.mapRam(RAM, ram);
  vcpu.mapMmio(DEVICE, 0x1000, onMmio);
  vcpu.setEntry(RAM, 0);
  if (p.mmu) {
    mmuTables(ram);
    for (const [name, value] of MMU_REGS) vcpu.writeSysReg(SYSREGS[name], value);
    vcpu.writeSysReg(SYSREGS.SCTLR_EL1, vcpu.readSysReg(SYSREGS.SCTLR_EL1) | SCTLR_MMU_CACHES);
  }
  const t = performance.now();
  while (vcpu.run().reason !== "hvc");
  return (performance.now() - t) / 1000;
}

function best(f: () => number, runs = 3): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, f());
  return min;
}

export function computeReport(): string[] {
  const lines: string[] = [];
  const counters: SliceCounter[] = library.blockHook ? ["native", "engine"] : ["engine"];
  for (
    const p of [
      registerLoop(40_000_000),
      memoryLoop(400),
      accessLoop(true, 400),
      accessLoop(false, 400),
    ]
  ) {
    const b = best(() => bare(p));
    const parts = counters.map((c) => {
      const v = best(() => vmkit(p, c));
      return `VMKit (${c} slice counter) ${
        (p.instructions / v / 1e6).toFixed(0)
      } M instr/s, ratio ${(b / v).toFixed(2)}`;
    });
    lines.push(
      `${p.name}: bare engine ${(p.instructions / b / 1e6).toFixed(0)} M instr/s; ${
        parts.join("; ")
      }`,
    );
  }
  const n = 1_000_000;
  const ramTime = best(() => vmkit(mmioLoop(n, false)));
  const mmioTime = best(() => vmkit(mmioLoop(n, true)));
  lines.push(
    `one MMIO exit (write to a device handler): ${((mmioTime - ramTime) / n * 1e9).toFixed(0)} ns`,
  );
  return lines;
}

if (import.meta.main) {
  for (const line of computeReport()) console.log(line);
  library.close();
}

/**
 * Instruction slices counted by a few bytes of native code run at the start of
 * every translated block, instead of by Unicorn's own `count` argument.
 *
 * Why: Unicorn implements `uc_emu_start(..., count)` with a code hook, which
 * makes the engine call a helper before every single guest instruction; on a
 * tight loop that costs three quarters of the engine's speed. A block hook
 * runs once per translated block, and stopping from it is exact: the hook runs
 * before the block's first instruction and the engine's exit check comes right
 * after it, so nothing of the block has run and the PC is the block's start.
 * A JavaScript callback per block would cost far more than the count hook, so
 * the hook is machine code: it adds the block's instruction count to a counter
 * and calls `uc_emu_stop` once the budget is used up.
 *
 * The machine code is x86-64 (System V) only; elsewhere, or where the system
 * refuses executable memory, {@link NativeBlockHook.open} says why and the
 * vCPU counts with the engine instead.
 *
 * @module
 */

import { UC_HOOK_BLOCK } from "./constants.ts";
import { Engine } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { UnicornSymbols } from "./symbols.ts";

// Per-vCPU record the hook reads and writes (its `user_data`), as 64-bit
// little-endian words: instructions counted, budget, address of uc_emu_stop,
// a flag the hook sets when it ended the run, and the address of the block
// it stopped in front of.
const RECORD_BYTES = 40;
const W_COUNTED = 0;
const W_BUDGET = 2;
const W_STOP_FN = 4;
const W_STOPPED = 6;
const W_STOPPED_AT = 8;

/** Bytes from instructions written as hex, one instruction per string. */
function machineCode(instructions: string[]): Uint8Array {
  const hex = instructions.join("").replaceAll(" ", "");
  return Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));
}

// void hook(uc_engine *uc, uint64_t address, uint32_t size, void *record)
// rdi = uc, rsi = address, edx = size in bytes, rcx = record.
const X86_64_HOOK = machineCode([
  "f3 0f 1e fa", //             endbr64 (a no-op unless indirect-branch tracking is on)
  "48 8b 01", //                mov  rax, [rcx]          ; counted so far
  "48 3b 41 08", //             cmp  rax, [rcx+8]        ; budget
  "73 09", //                   jae  stop
  "89 d0", //                   mov  eax, edx            ; block size in bytes
  "c1 e8 02", //                shr  eax, 2              ; A64 instructions are 4 bytes
  "48 01 01", //                add  [rcx], rax
  "c3", //                      ret
  "48 c7 41 18 01 00 00 00", // stop: mov qword [rcx+24], 1
  "48 89 71 20", //             mov  [rcx+32], rsi       ; the block's address
  "ff 61 10", //                jmp  [rcx+16]            ; uc_emu_stop(uc), rdi is still uc
]);

const PAGE = 4096;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const RTLD_NOW = 2;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

const LIBC_SYMBOLS = {
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
} as const;

const DL_SYMBOLS = {
  dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  dlclose: { parameters: ["pointer"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
type Dl = Deno.DynamicLibrary<typeof DL_SYMBOLS>;

function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${s}\0`);
}

/** One private, zeroed, read-write page, or `null` when the system refuses. */
function mapPage(libc: Libc): Deno.PointerObject | null {
  const page = libc.symbols.mmap(
    null,
    BigInt(PAGE),
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS,
    -1,
    0n,
  );
  if (page === null || BigInt(Deno.UnsafePointer.value(page)) === MAP_FAILED) return null;
  return page;
}

function openFirst<S extends Deno.ForeignLibraryInterface>(
  names: string[],
  symbols: S,
): Deno.DynamicLibrary<S> {
  let last: unknown;
  for (const name of names) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/**
 * The block hook's machine code, mapped once per loaded engine library.
 * {@link open} returns either the hook or the reason it is unavailable.
 */
export class NativeBlockHook implements Disposable {
  /** The hook's entry point, to pass to `uc_hook_add(UC_HOOK_BLOCK, ...)`. */
  readonly pointer: Deno.PointerObject;
  readonly #libc: Libc;
  readonly #dl: Dl;
  // libunicorn's dlopen handle, held so dlsym's address stays valid.
  readonly #unicornHandle: Deno.PointerObject;
  readonly #stopAddress: bigint;
  #closed = false;

  private constructor(
    libc: Libc,
    dl: Dl,
    unicornHandle: Deno.PointerObject,
    code: Deno.PointerObject,
    stopAddress: bigint,
  ) {
    this.#libc = libc;
    this.#dl = dl;
    this.#unicornHandle = unicornHandle;
    this.pointer = code;
    this.#stopAddress = stopAddress;
  }

  /**
   * Maps the hook for the engine library at `libraryPath`, or says why it
   * cannot: another CPU or OS, no libc, or executable memory refused.
   */
  static open(libraryPath: string): NativeBlockHook | { unavailable: string } {
    if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
      return { unavailable: `no native block hook for ${Deno.build.os}/${Deno.build.arch}` };
    }
    let libc: Libc;
    let dl: Dl;
    try {
      libc = openFirst(["libc.so.6"], LIBC_SYMBOLS);
    } catch (e) {
      return { unavailable: `libc could not be loaded: ${(e as Error).message.split("\n")[0]}` };
    }
    try {
      // glibc 2.34 moved dlopen into libc; older ones keep it in libdl.
      dl = openFirst(["libc.so.6", "libdl.so.2"], DL_SYMBOLS);
    } catch (e) {
      libc.close();
      return { unavailable: `dlsym is unavailable: ${(e as Error).message.split("\n")[0]}` };
    }
    const fail = (why: string, handle?: Deno.PointerValue) => {
      if (handle) dl.symbols.dlclose(handle);
      dl.close();
      libc.close();
      return { unavailable: why };
    };
    // Deno does not expose a symbol's address; dlopen of the already loaded
    // library returns the same handle, and dlsym gives the address.
    const handle = dl.symbols.dlopen(cString(libraryPath), RTLD_NOW);
    if (handle === null) return fail(`dlopen(${libraryPath}) failed`);
    const stop = dl.symbols.dlsym(handle, cString("uc_emu_stop"));
    if (stop === null) return fail("uc_emu_stop not found by dlsym", handle);
    const code = mapPage(libc);
    if (code === null) return fail("mmap of one page failed", handle);
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(code, PAGE)).set(X86_64_HOOK);
    // Written, then made executable and read-only: never writable and
    // executable at once.
    if (libc.symbols.mprotect(code, BigInt(PAGE), PROT_READ | PROT_EXEC) !== 0) {
      libc.symbols.munmap(code, BigInt(PAGE));
      return fail("the system refused to make a page executable (mprotect)", handle);
    }
    return new NativeBlockHook(
      libc,
      dl,
      handle,
      code,
      BigInt(Deno.UnsafePointer.value(stop)),
    );
  }

  /** Allocates the per-vCPU record the hook counts into. */
  budget(): BlockBudget {
    if (this.#closed) throw new VcpuError("CLOSED", "the native block hook was released");
    const page = mapPage(this.#libc);
    if (page === null) {
      throw new VcpuError("ENGINE_ERROR", "mmap of a page for a vCPU's slice counter failed");
    }
    return new BlockBudget(page, this.#stopAddress, this.#libc);
  }

  /** Unmaps the code. Every engine using it must be closed first. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.symbols.munmap(this.pointer, BigInt(PAGE));
    this.#dl.symbols.dlclose(this.#unicornHandle);
    this.#dl.close();
    this.#libc.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * One vCPU's slice budget as the native hook sees it. Read and written through
 * 32-bit views, so the run loop allocates no BigInts.
 */
export class BlockBudget {
  /** The record's address: the hook's `user_data`. */
  readonly pointer: Deno.PointerObject;
  readonly #words: Uint32Array;
  readonly #libc: Libc;
  #closed = false;

  /** @internal Use {@link NativeBlockHook.budget}. */
  constructor(page: Deno.PointerObject, stopAddress: bigint, libc: Libc) {
    this.pointer = page;
    this.#libc = libc;
    this.#words = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(page, RECORD_BYTES));
    this.#words[W_STOP_FN] = Number(stopAddress & 0xffff_ffffn);
    this.#words[W_STOP_FN + 1] = Number(stopAddress >> 32n);
  }

  /** Starts a run that may retire `instructions` (at most 2^31) before the hook stops it. */
  arm(instructions: number): void {
    const w = this.#words;
    w[W_COUNTED] = 0;
    w[W_COUNTED + 1] = 0;
    w[W_BUDGET] = instructions;
    w[W_BUDGET + 1] = 0;
    w[W_STOPPED] = 0;
  }

  /** Makes the hook stop the run at the next block boundary. Safe from any callback. */
  exhaust(): void {
    this.#words[W_BUDGET] = 0;
  }

  /** Instructions in the blocks entered since {@link arm}. */
  get counted(): number {
    return this.#words[W_COUNTED];
  }

  /** Whether the hook ended the last run. */
  get stopped(): boolean {
    return this.#words[W_STOPPED] !== 0;
  }

  /**
   * The address of the block the hook stopped in front of (valid when
   * {@link stopped}). The engine leaves the PC stale after such a stop while
   * any code hook is installed, so a run is resumed from here then.
   */
  get stoppedAt(): bigint {
    const w = this.#words;
    return (BigInt(w[W_STOPPED_AT + 1]) << 32n) | BigInt(w[W_STOPPED_AT]);
  }

  /** Frees the record. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.symbols.munmap(this.pointer, BigInt(PAGE));
  }
}

/**
 * Checks on a scratch engine that the hook counts whole blocks and stops
 * exactly at a block boundary; returns what went wrong, or `undefined`.
 *
 * The program: `mov x0, #0` then a three-instruction loop of `add`, `subs`,
 * `b.ne` run 1000 times. The first block holds four instructions (it runs into
 * the loop), each loop block three, so with a budget of 100 the hook must stop
 * at the start of a loop block with exactly 100 counted and x0 = 33.
 */
export function selfTestBlockHook(
  uc: UnicornSymbols,
  hook: NativeBlockHook,
): string | undefined {
  const base = 0x4000_0000;
  const engine = Engine.open(uc, "cortex-a72");
  const budget = hook.budget();
  try {
    const ram = new Uint8Array(0x1000);
    new Uint32Array(ram.buffer).set([
      0xd2800000, // mov  x0, #0
      0x91000400, // add  x0, x0, #1
      0xf1000421, // subs x1, x1, #1
      0x54ffffc1, // b.ne .-8
      0xd4000002, // hvc  #0
    ]);
    engine.mapPtr(base, ram);
    engine.hookAdd(UC_HOOK_BLOCK, hook.pointer, undefined, budget.pointer);
    engine.writeX(1, 1000n);
    budget.arm(100);
    const err = engine.start(BigInt(base), 0);
    const pc = engine.readPc();
    const x0 = engine.readX(0);
    if (
      err !== 0 || !budget.stopped || budget.counted !== 100 || x0 !== 33n ||
      pc !== BigInt(base + 4) || budget.stoppedAt !== BigInt(base + 4)
    ) {
      return `a run with a budget of 100 instructions stopped with error ${err}, ` +
        `stopped=${budget.stopped}, ${budget.counted} counted, x0=${x0}, pc=0x${pc.toString(16)} ` +
        `(expected 100 counted, x0=33, pc=0x${(base + 4).toString(16)})`;
    }
    budget.arm(1_000_000);
    engine.start(pc, 0); // ends at the HVC: no interrupt hook, so the engine halts
    if (engine.readX(0) !== 1000n || budget.stopped) {
      return `the resumed run ended with x0=${engine.readX(0)} (expected 1000)`;
    }
    return undefined;
  } finally {
    engine.close();
    budget.close();
  }
}

/**
 * Start-up self-test that finds two values Unicorn 2.0.1 computes but does not
 * expose.
 *
 * 1. The exception syndrome and fault address. Unicorn never delivers a
 *    synchronous exception into the guest; its interrupt hook only receives an
 *    exception number. QEMU has already computed the ESR and FAR at that point
 *    and they are part of the CPU state that `uc_context_save` copies out. A
 *    scratch engine takes two alignment faults (from EL1 and from EL0) whose
 *    syndromes and addresses are known from the architecture, and the bytes of the saved context are
 *    searched for them. Both faults must agree on a single offset, or the
 *    calibration fails: the syndrome is never guessed.
 * 2. The instruction counter of a counted run (`uc_emu_start`'s `count`),
 *    found the same way inside the engine structure after runs of known
 *    lengths. It only feeds statistics, so failing to find it is not fatal.
 *
 * @module
 */

import { EXCP, UC_HOOK_INTR } from "./constants.ts";
import { Engine } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { UnicornSymbols } from "./symbols.ts";

/**
 * Where this build of Unicorn keeps the private values VMKit reads, as
 * {@link UnicornLibrary.layout} learns them.
 *
 * @example
 * ```ts
 * import { type EngineLayout, UnicornLibrary } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const layout: EngineLayout = library.layout; // calibrated on first use
 * assert.ok(layout.syndromeOffset + 4 <= layout.contextSize);
 * assert.ok(layout.faultAddressOffset + 8 <= layout.contextSize);
 * ```
 */
export interface EngineLayout {
  /** Bytes produced by `uc_context_save`. */
  readonly contextSize: number;
  /** Offset of the 32-bit exception syndrome (ESR) in the saved context. */
  readonly syndromeOffset: number;
  /** Offset of the 64-bit fault address (FAR) in the saved context. */
  readonly faultAddressOffset: number;
  /**
   * Offset of the 64-bit count of instructions run by the current
   * `uc_emu_start` inside the engine structure, or `undefined` if not found.
   */
  readonly instructionCounterOffset: number | undefined;
}

const RAM_BASE = 0x4000_0000;
const LDXR_X0_X1 = 0xc85f7c20;
const MSR_ELR_EL1_X6 = 0xd5184026;
const MSR_SPSR_EL1_XZR = 0xd518401f;
const ERET = 0xd69f03e0;
const LDXR_X0_X3 = 0xc85f7c60;
const HVC_0 = 0xd4000002;
const B_SELF = 0x14000000;
const NOP = 0xd503201f;

// Exclusive loads always require natural alignment, even with the MMU off
// (plain loads do not fault in this engine, whatever SCTLR_EL1.A says).
// Architectural syndromes of an alignment fault (DFSC 0b100001) on a data read
// with IL = 1, taken from the current EL (EC 0x25) and from EL0 (EC 0x24).
const ESR_ALIGN_EL1 = 0x9600_0021;
const ESR_ALIGN_EL0 = 0x9200_0021;
const EL1_ADDR = RAM_BASE + 0x8003;
const EL0_ADDR = RAM_BASE + 0x9005;

/** How far into the engine structure to look for the counter. */
const ENGINE_SCAN_BYTES = 4096;

function offsetsOf32(bytes: Uint8Array, value: number): Set<number> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = new Set<number>();
  for (let i = 0; i + 4 <= bytes.length; i += 4) if (dv.getUint32(i, true) === value) found.add(i);
  return found;
}

function offsetsOf64(bytes: Uint8Array, value: bigint): Set<number> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = new Set<number>();
  // 4-byte steps: 2.1's context header leaves 64-bit fields at offsets that are 4 mod 8.
  for (let i = 0; i + 8 <= bytes.length; i += 4) {
    if (dv.getBigUint64(i, true) === value) found.add(i);
  }
  return found;
}

function intersect(a: Set<number>, b: Set<number>): number[] {
  return [...a].filter((x) => b.has(x));
}

/**
 * Finds the single offset holding the syndrome and the single offset holding
 * the fault address in two saved contexts: one taken after the EL1 alignment
 * fault and one after the EL0 fault of the self-test. A value found at no
 * offset, or at more than one, is refused rather than guessed.
 *
 * @throws {VcpuError} `CALIBRATION_FAILED` naming the candidates found.
 */
export function locateExceptionState(
  afterEl1Fault: Uint8Array,
  afterEl0Fault: Uint8Array,
): { syndromeOffset: number; faultAddressOffset: number } {
  const syndrome = intersect(
    offsetsOf32(afterEl1Fault, ESR_ALIGN_EL1),
    offsetsOf32(afterEl0Fault, ESR_ALIGN_EL0),
  );
  const address = intersect(
    offsetsOf64(afterEl1Fault, BigInt(EL1_ADDR)),
    offsetsOf64(afterEl0Fault, BigInt(EL0_ADDR)),
  );
  if (syndrome.length !== 1 || address.length !== 1) {
    throw new VcpuError(
      "CALIBRATION_FAILED",
      `could not locate the exception syndrome and fault address in the saved CPU state ` +
        `(candidates: syndrome [${syndrome.join(", ")}], address [${address.join(", ")}]), ` +
        `so synchronous exceptions cannot be delivered to the guest`,
    );
  }
  return { syndromeOffset: syndrome[0], faultAddressOffset: address[0] };
}

/** The values the self-test's two faults leave behind, for tests of {@link locateExceptionState}. */
export const SELF_TEST_FAULTS = {
  el1: { syndrome: ESR_ALIGN_EL1, address: EL1_ADDR },
  el0: { syndrome: ESR_ALIGN_EL0, address: EL0_ADDR },
} as const;

/**
 * Runs the self-test on a scratch engine.
 *
 * @throws {VcpuError} `CALIBRATION_FAILED` if the syndrome or fault address
 *   cannot be located unambiguously.
 */
export function calibrate(uc: UnicornSymbols): EngineLayout {
  const engine = Engine.open(uc, "cortex-a72");
  const ram = new Uint8Array(0x10000);
  const words = new Uint32Array(ram.buffer);
  // EL1: an unaligned exclusive load; then ERET to EL0 (MMU off, so EL0 may run
  // here) and the same fault from EL0.
  words.set([LDXR_X0_X1, MSR_ELR_EL1_X6, MSR_SPSR_EL1_XZR, ERET, LDXR_X0_X3, HVC_0, B_SELF], 0);

  const contextSize = Number(uc.uc_context_size(engine.handle));
  const ctxOut = new BigUint64Array(1);
  let ctx: Deno.PointerValue = null;
  const snapshots: Uint8Array[] = [];
  const exceptions: number[] = [];
  const hook = new Deno.UnsafeCallback(
    { parameters: ["pointer", "u32", "pointer"], result: "void" } as const,
    (_uc, intno) => {
      exceptions.push(intno);
      if (ctx && uc.uc_context_save(engine.handle, ctx) === 0) {
        const copy = new Uint8Array(contextSize);
        new Deno.UnsafePointerView(ctx).copyInto(copy);
        snapshots.push(copy);
      }
      engine.stop();
    },
  );
  try {
    if (uc.uc_context_alloc(engine.handle, ctxOut) !== 0) {
      throw new VcpuError("CALIBRATION_FAILED", "uc_context_alloc failed during the self-test");
    }
    ctx = Deno.UnsafePointer.create(ctxOut[0]);
    engine.mapPtr(RAM_BASE, ram);
    engine.hookAdd(UC_HOOK_INTR, hook.pointer);

    engine.writeX(1, BigInt(EL1_ADDR));
    engine.writeX(3, BigInt(EL0_ADDR));
    engine.writeX(6, BigInt(RAM_BASE + 16));
    engine.start(BigInt(RAM_BASE), 100);
    engine.writeX(1, BigInt(EL1_ADDR & ~7)); // let the EL1 load pass; EL0 faults next
    engine.start(engine.readPc(), 100);
    if (
      exceptions.length !== 2 || exceptions[0] !== EXCP.DATA_ABORT ||
      exceptions[1] !== EXCP.DATA_ABORT || snapshots.length !== 2
    ) {
      throw new VcpuError(
        "CALIBRATION_FAILED",
        `the self-test expected two data aborts from unaligned exclusive loads, got exceptions [${
          exceptions.join(", ")
        }]`,
      );
    }
    const { syndromeOffset, faultAddressOffset } = locateExceptionState(
      snapshots[0],
      snapshots[1],
    );
    return {
      contextSize,
      syndromeOffset,
      faultAddressOffset,
      instructionCounterOffset: findInstructionCounter(engine, words),
    };
  } finally {
    engine.close();
    hook.close();
    if (ctx) uc.uc_context_free(ctx);
  }
}

function findInstructionCounter(engine: Engine, words: Uint32Array): number | undefined {
  const view = new Deno.UnsafePointerView(engine.handle);
  const scan = new Uint8Array(ENGINE_SCAN_BYTES);
  let candidates: Set<number> | undefined;
  // Two runs of different lengths with different budgets: the counter holds the
  // number of instructions hooked (the NOPs and the HVC that stops the run).
  // Each run gets its own code page: host-side writes to guest RAM are
  // invisible to code the engine has already translated.
  for (const [page, nops, budget] of [[1, 37, 1_000_003], [2, 101, 2_000_029]]) {
    const start = (page * 0x1000) / 4;
    words.fill(NOP, start, start + nops);
    words[start + nops] = HVC_0;
    engine.start(BigInt(RAM_BASE + page * 0x1000), budget);
    view.copyInto(scan);
    const counter = offsetsOf64(scan, BigInt(nops + 1));
    const requested = offsetsOf64(scan, BigInt(budget));
    // The budget sits next to the counter in every 2.x layout seen; requiring
    // both keeps a stray equal value from being mistaken for the counter.
    const here = new Set([...counter].filter((o) => requested.has(o + 8) || requested.has(o - 8)));
    candidates = candidates ? new Set(intersect(candidates, here)) : here;
  }
  return candidates && candidates.size === 1 ? [...candidates][0] : undefined;
}

/**
 * How a {@link Vcpu} is built: its options, their defaults and their checks.
 *
 * @module
 */

import type { MmioAccess } from "./exits.ts";
import type { CpuModel } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { UnicornLibrary } from "./library.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Pmu } from "./pmu.ts";

/**
 * The frequency of the engine's generic counter: QEMU derives it from the
 * host clock in 16 ns steps. The guest reads it in CNTFRQ_EL0.
 *
 * @example
 * ```ts
 * import { COUNTER_FREQUENCY_HZ, SYSREGS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * assert.equal(vcpu.readSysReg(SYSREGS.CNTFRQ_EL0), BigInt(COUNTER_FREQUENCY_HZ));
 * ```
 */
export const COUNTER_FREQUENCY_HZ = 62_500_000;

/**
 * Default host memory for translated code where the engine lets it be set
 * (2.1 and later): the engine's own 1 GiB is never needed, and emptying a
 * buffer that large the first time costs seconds.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRANSLATION_BUFFER_BYTES, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const translationBufferBytes = DEFAULT_TRANSLATION_BUFFER_BYTES / 4;
 * if (library.canSizeTranslationBuffer) {
 *   using vcpu = new Vcpu({ library, translationBufferBytes }); // 32 MiB for translated code
 *   assert.equal(vcpu.id, 0);
 * } else {
 *   // 2.0.1 always takes 1 GiB and says so rather than ignoring the option.
 *   assert.throws(() => new Vcpu({ library, translationBufferBytes }), {
 *     code: "INVALID_ARGUMENT",
 *   });
 * }
 * ```
 */
export const DEFAULT_TRANSLATION_BUFFER_BYTES = 128 * 1024 * 1024;

/**
 * Default instructions per slice: the longest a guest runs before the VMM
 * regains control.
 *
 * @example
 * ```ts
 * import { DEFAULT_SLICE_INSTRUCTIONS, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([0x14000000]); // b . (a loop that never ends)
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * const exit = vcpu.run();
 * assert.equal(exit.reason, "preempted");
 * assert.equal(exit.instructions, DEFAULT_SLICE_INSTRUCTIONS);
 * ```
 */
export const DEFAULT_SLICE_INSTRUCTIONS = 200_000;

/**
 * Options for a {@link Vcpu}.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu, type VcpuOptions } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const levels: boolean[] = [];
 * const options: VcpuOptions = {
 *   library,
 *   cpuModel: "cortex-a53",
 *   sliceInstructions: 10_000,
 *   onTimerLevel: (level) => levels.push(level), // a VMM routes it to PPI 27
 * };
 * using vcpu = new Vcpu(options);
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd51be35f, // msr cntv_cval_el0, xzr   (fire at counter 0: now)
 *   0xd2800020, // mov x0, #1
 *   0xd51be320, // msr cntv_ctl_el0, x0     (ENABLE)
 *   0xd4000002, // hvc #0
 * ]);
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * assert.equal(vcpu.run().reason, "hvc");
 * assert.deepEqual(levels, [true]);
 * ```
 */
export interface VcpuOptions {
  /**
   * Run on the same engine as this vCPU: the vCPUs of one guest time-share
   * one engine (see `VcpuGroup`). The engine's settings (model, slice
   * counter, translation buffer, cache-maintenance trap, unbacked-access
   * listener) are the first vCPU's; this vCPU's are ignored.
   */
  shareWith?: Vcpu;
  /** The loaded engine library (share one between vCPUs). */
  library: UnicornLibrary;
  /** Index of this vCPU; also its MPIDR affinity 0. Default 0. */
  id?: number;
  /** CPU model. Default `cortex-a72`. `max` is refused (it aborts the process under Linux). */
  cpuModel?: CpuModel | "max";
  /** Instructions per slice, 1000 to 2^31. Default {@link DEFAULT_SLICE_INSTRUCTIONS}. */
  sliceInstructions?: number;
  /**
   * A guest clock kept by the VMM instead of the engine's, which follows the
   * host's: the counter (CNTVCT_EL0) the timers are evaluated against, TVAL
   * writes count from and the guest's counter reads return (CNTPCT_EL0 reads
   * it plus the counter offset). Called with the instructions this vCPU has
   * retired in its current run (counted a block at a time; 0 outside a run),
   * so a clock that moves only with retired instructions makes runs
   * reproducible. Every counter read then costs a callback.
   */
  clock?: (retiredInRun: number) => bigint;
  /**
   * The vCPU's performance monitors: every guest PMU register access is
   * carried out on it (see `pmu.ts`). Without one the engine's own PMU
   * answers, whose event counters do not count.
   */
  pmu?: Pmu;
  /** Called when the virtual timer's output changes (route it to PPI 27). */
  onTimerLevel?: (level: boolean) => void;
  /** Called when the EL1 physical timer's output changes (route it to PPI 30). */
  onPhysicalTimerLevel?: (level: boolean) => void;
  /**
   * Called for each access to a guest-physical address with nothing behind
   * it, which the guest takes as a synchronous external abort. The record's
   * `address` is the guest-physical address (the page only, for a table
   * walk), `size` the access size when the engine knows it (else 0).
   */
  onUnbackedAccess?: (access: Readonly<MmioAccess>) => void;
  /**
   * How slices are counted. `native`: a few bytes of machine code run at the
   * start of each translated block (x86-64 Linux); `engine`: Unicorn's own
   * count, which calls a hook before every instruction and runs tight loops
   * at a quarter of the speed. Default: `native` where available.
   */
  sliceCounter?: SliceCounter;
  /**
   * Trap the guest's instruction-cache maintenance (IC IVAU, IC IALLU) and
   * drop the code translated from the pages it names. Default: where the
   * engine needs it to stay coherent (`UnicornLibrary.storesInvalidateCode`
   * is false, as on 2.1.x).
   */
  trapCacheMaintenance?: boolean;
  /**
   * Host memory for translated code, 16 MiB to 1 GiB. Settable on Unicorn
   * 2.1 and later (where the default is {@link DEFAULT_TRANSLATION_BUFFER_BYTES});
   * 2.0.1 always uses 1 GiB.
   */
  translationBufferBytes?: number;
}

/**
 * How a vCPU counts its instruction slices (see {@link VcpuOptions.sliceCounter}).
 *
 * @example
 * ```ts
 * import { type SliceCounter, UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * // Both counters end a slice on the same instruction; `native` is faster.
 * const counters: SliceCounter[] = library.sliceCounterUnavailable ? ["engine"] : ["native", "engine"];
 * for (const sliceCounter of counters) {
 *   using vcpu = new Vcpu({ library, sliceCounter, sliceInstructions: 1000 });
 *   const ram = new Uint8Array(0x1000);
 *   new Uint32Array(ram.buffer).set([0x14000000]); // b .
 *   vcpu.mapRam(0x4000_0000, ram);
 *   vcpu.setEntry(0x4000_0000, 0);
 *   assert.equal(vcpu.run().instructions, 1000);
 * }
 * ```
 */
export type SliceCounter = "native" | "engine";

/** Checks `translationBufferBytes`; the engine's default where it is not given. */
export function translationBuffer(options: VcpuOptions): number | undefined {
  const bytes = options.translationBufferBytes;
  const settable = options.library.canSizeTranslationBuffer;
  if (bytes === undefined) return settable ? DEFAULT_TRANSLATION_BUFFER_BYTES : undefined;
  if (!Number.isInteger(bytes) || bytes < 16 * 1024 * 1024 || bytes > 1024 * 1024 * 1024) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `translationBufferBytes must be an integer from 16 MiB to 1 GiB, got ${bytes}`,
    );
  }
  if (!settable) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `translationBufferBytes cannot be set on ${options.library.description}; it needs Unicorn 2.1 or newer`,
    );
  }
  return bytes;
}

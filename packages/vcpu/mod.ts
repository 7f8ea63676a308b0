/**
 * An AArch64 vCPU on the Unicorn CPU emulator, through Deno's FFI.
 *
 * The vCPU runs guest code and reports exits; it knows nothing of interrupt
 * controllers or devices. A VMM maps RAM (a plain `Uint8Array` the engine
 * reads and writes directly) and MMIO regions, drives the IRQ input line,
 * routes the virtual timer's output, and calls {@link Vcpu.run} in a loop.
 *
 * ```ts
 * import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using vcpu = new Vcpu({ library });
 * const ram = new Uint8Array(0x10_0000);
 * ram.set([0x02, 0x00, 0x00, 0xd4]); // hvc #0
 * vcpu.mapRam(0x4000_0000, ram);
 * vcpu.setEntry(0x4000_0000, 0);
 * const exit = vcpu.run();
 * assert.equal(exit.reason, "hvc");
 * ```
 *
 * @module
 */

export { UnicornLibrary } from "./library.ts";
export type { UnicornLibraryOptions, UnicornVersion } from "./library.ts";
export { candidateLibraryNames } from "./library.ts";
export { UNICORN_SYMBOLS, type UnicornSymbols } from "./symbols.ts";
export type { EngineLayout } from "./calibration.ts";
export {
  COUNTER_FREQUENCY_HZ,
  DEFAULT_SLICE_INSTRUCTIONS,
  DEFAULT_TRANSLATION_BUFFER_BYTES,
  Vcpu,
} from "./vcpu.ts";
export type { SliceCounter, VcpuOptions } from "./vcpu.ts";
export { VcpuGroup, type VcpuGroupOptions } from "./vcpu_group.ts";
export type { CpuModel } from "./engine.ts";
export type { MmioAccess, MmioHandler, VcpuExit, VcpuExitReason, VcpuStats } from "./exits.ts";
export { VcpuError } from "./errors.ts";
export { type DebugStop, HostDebugPoints, type HostWatch, type WatchKind } from "./debug_points.ts";
export {
  VcpuDebug,
  type VcpuDebugInternals,
  type VirtualAccessFault,
  type VirtualAccessResult,
} from "./debug.ts";
export type { VcpuErrorCode } from "./errors.ts";
export { SYSREGS } from "./sysregs.ts";
export type { SysReg, SysRegName } from "./sysregs.ts";
export { GenericTimer, TIMER_ENABLE, TIMER_IMASK, TIMER_ISTATUS } from "./generic_timer.ts";
export {
  Pmu,
  PMU_COUNTERS,
  PMU_CYCLES_PER_TICK,
  PMU_PMCEID0,
  PMU_PMCEID1,
  PMU_PMCR_RESET,
  type PmuOptions,
  type PmuRegister,
} from "./pmu.ts";
export { AddressSpace, PAGE_SIZE, PHYS_LIMIT } from "./address_space.ts";
export type { AddressSpaceOptions, CoverRange, Region } from "./address_space.ts";

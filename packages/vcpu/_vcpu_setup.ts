/**
 * What the first vCPU of an engine sets up for all of them: the engine with
 * its slice counter, the debug instrumentation they share, and the hooks
 * that serve whichever vCPU is in the engine.
 *
 * @module
 */

import {
  UC_ARM64_INS_MRS,
  UC_ARM64_INS_MSR,
  UC_HOOK_BLOCK,
  UC_HOOK_INSN,
  UC_HOOK_INTR,
} from "./constants.ts";
import { VcpuError } from "./errors.ts";
import { SYSREGS } from "./sysregs.ts";
import { COUNTER_FREQUENCY_HZ, translationBuffer, type VcpuOptions } from "./vcpu_options.ts";
import { type CoreTenant, VcpuCore } from "./_core.ts";
import { DebugHooks } from "./_debug_hooks.ts";
import { HostDebugPoints } from "./debug_points.ts";
import { LAST_PAGE, UC_HOOK_MEM_UNMAPPED } from "./_last_page.ts";
import type { VcpuClock } from "./_vcpu_clock.ts";
import type { VcpuRunner } from "./_vcpu_runner.ts";

/** A vCPU as its engine's shared hooks see it. */
export interface VcpuTenant extends CoreTenant {
  readonly runner: VcpuRunner;
  readonly clock: VcpuClock;
}

/** Opens an engine for a guest's first vCPU, with the slice counter chosen. */
export function openCore(options: VcpuOptions): VcpuCore {
  const library = options.library;
  const blockHook = options.sliceCounter === "engine" ? undefined : library.blockHook;
  if (options.sliceCounter === "native" && blockHook === undefined) {
    throw new VcpuError(
      "INVALID_ARGUMENT",
      `sliceCounter "native" is unavailable here: ${library.sliceCounterUnavailable}`,
    );
  }
  if (blockHook === undefined && library.layout.instructionCounterOffset === undefined) {
    throw library.calibrationFailure(
      "could not locate the engine's instruction counter, and without the native slice " +
        `counter (${library.sliceCounterUnavailable ?? "not chosen"}) ` +
        "WFI cannot be told apart from the end of a slice",
    );
  }
  const core = new VcpuCore({
    library,
    cpuModel: options.cpuModel ?? "cortex-a72",
    translationBufferBytes: translationBuffer(options),
    onUnbackedAccess: options.onUnbackedAccess,
  });
  try {
    if (blockHook) {
      core.budget = blockHook.budget();
      core.engine.hookAdd(UC_HOOK_BLOCK, blockHook.pointer, undefined, core.budget.pointer);
    }
  } catch (e) {
    core.close();
    throw e;
  }
  return core;
}

/** The debug instrumentation the vCPUs of an engine share (`_debug_hooks.ts`). */
export function openDebugHooks(core: VcpuCore): DebugHooks {
  let scratch: Deno.PointerObject | undefined;
  const offset = core.layout.instructionCounterOffset;
  const count = core.budget === undefined && offset !== undefined
    ? new DataView(Deno.UnsafePointerView.getArrayBuffer(core.engine.handle, 8, offset))
    : undefined;
  const ram = (pa: bigint, size: number) =>
    core.memory.regions.some((r) =>
      r.kind === "ram" && pa >= BigInt(r.base) && pa + BigInt(size) <= BigInt(r.base + r.size)
    );
  return new DebugHooks(new HostDebugPoints(), {
    engine: core.engine,
    tenant: () => (core.tenant as VcpuTenant).runner.debugTenant,
    memoryHooksVirtual: () => core.library.memoryHooksVirtual,
    engineCounts: core.budget === undefined,
    isRam: ram,
    budget: core.budget,
    instructionCount: count,
    saveState: () => core.save(scratch ??= core.allocContext()),
    restoreState: () => core.restore(scratch!),
    callbacks: core.callbacks,
  });
}

/**
 * The EL2 and EL3 state every vCPU of the engine starts from, the hooks
 * (which serve whichever vCPU is in the engine), and the saved set-up state
 * a reset returns to.
 */
export function setUpCore(
  core: VcpuCore,
  el2: { readonly hcr: bigint; readonly mdcrBits: bigint; readonly vmmClock: boolean },
): void {
  const engine = core.engine;
  engine.writeSys(SYSREGS.HCR_EL2, el2.hcr);
  engine.writeSys(SYSREGS.MDCR_EL2, engine.readSys(SYSREGS.MDCR_EL2) | el2.mdcrBits);
  engine.writeSys(SYSREGS.CNTFRQ_EL0, BigInt(COUNTER_FREQUENCY_HZ));
  const tenant = () => core.tenant as VcpuTenant;
  const intr = new Deno.UnsafeCallback(
    { parameters: ["pointer", "u32", "pointer"], result: "void" } as const,
    (_uc, intno) => tenant().runner.onException(intno),
  );
  core.callbacks.push(intr);
  engine.hookAdd(UC_HOOK_INTR, intr.pointer);
  const msr = new Deno.UnsafeCallback(
    { parameters: ["pointer", "i32", "pointer", "pointer"], result: "u32" } as const,
    (_uc, _reg, cpReg) => tenant().clock.onMsr(cpReg),
  );
  core.callbacks.push(msr);
  engine.hookAdd(UC_HOOK_INSN, msr.pointer, UC_ARM64_INS_MSR);
  if (el2.vmmClock) {
    // Only for a VMM clock: every MRS then leaves the translated code.
    const mrs = new Deno.UnsafeCallback(
      { parameters: ["pointer", "i32", "pointer", "pointer"], result: "u32" } as const,
      (_uc, reg, cpReg) => tenant().clock.onMrs(reg, cpReg),
    );
    core.callbacks.push(mrs);
    engine.hookAdd(UC_HOOK_INSN, mrs.pointer, UC_ARM64_INS_MRS);
  }
  const lastPage = core.lastPage;
  if (lastPage) {
    // Over the last page only: it holds no RAM, so no store takes a slower path for it.
    const unmapped = new Deno.UnsafeCallback(
      {
        parameters: ["pointer", "i32", "u64", "i32", "i64", "pointer"],
        result: "bool",
      } as const,
      (_uc, type, address) => {
        lastPage.record(type, address);
        return false;
      },
    );
    core.callbacks.push(unmapped);
    engine.hookAdd(UC_HOOK_MEM_UNMAPPED, unmapped.pointer, undefined, null, {
      begin: LAST_PAGE,
      end: 0xffff_ffff_ffff_ffffn,
    });
  }
  core.save(core.pristine);
}

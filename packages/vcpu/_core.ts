/**
 * The engine-level half of the vCPUs: one Unicorn engine, its memory map,
 * hooks, slice counter and saved-state scratch, shared by every vCPU of one
 * guest. The vCPUs take turns in it — each keeps its CPU state in a context
 * of its own, swapped in before it runs or is touched (`activate`), with the
 * engine's TLB flushed at every swap (the engine's TLB is not tagged by
 * vCPU). Why one engine and not one per vCPU: translated code and its
 * invalidation are shared, so code written by one vCPU is never stale for
 * another; exclusive loads and stores stay atomic because only one vCPU runs
 * at a time, switching only between slices; and the run is deterministic.
 *
 * @module
 */

import type { BlockBudget } from "./block_budget.ts";
import type { EngineLayout } from "./calibration.ts";
import { type CpuModel, Engine } from "./engine.ts";
import { VcpuError } from "./errors.ts";
import type { MmioAccess, VcpuStats } from "./exits.ts";
import type { UnicornLibrary } from "./library.ts";
import { LastPageAccess } from "./_last_page.ts";
import { MemoryMap } from "./_memory_map.ts";
import { ExceptionState } from "./_exception_entry.ts";
import { Stage2 } from "./_stage2.ts";
import { UnbackedAborts } from "./_unbacked.ts";
import { refreshCachedState } from "./_state_refresh.ts";
import { SYSREGS } from "./sysregs.ts";
import type { SysReg } from "./sysregs.ts";

/** What a core needs from the vCPU that is in the engine. */
export interface CoreTenant {
  /** Its index. */
  readonly id: number;
  /** Its counters. */
  readonly stats: VcpuStats;
  /** Its saved CPU state while another vCPU is in the engine. */
  readonly context: Deno.PointerObject;
  /** Called after its state was swapped in: write back what changed while it was out. */
  swappedIn(): void;
  /** A hook failed while it ran. */
  fail(error: unknown): void;
}

/** How to build a core. */
export interface CoreOptions {
  /** The loaded engine library. */
  readonly library: UnicornLibrary;
  /** CPU model. */
  readonly cpuModel: CpuModel | "max";
  /** Bytes for translated code, where the engine lets it be sized. */
  readonly translationBufferBytes: number | undefined;
  /** Accesses to guest-physical addresses with nothing behind them. */
  readonly onUnbackedAccess?: (access: Readonly<MmioAccess>) => void;
}

const TLBI_VMALLE1: SysReg = { name: "TLBI_VMALLE1", op0: 1, op1: 0, crn: 8, crm: 7, op2: 0 };

/** One engine and what its vCPUs share. */
export class VcpuCore {
  /** The library. */
  readonly library: UnicornLibrary;
  /** The engine. */
  readonly engine: Engine;
  /** Where this build keeps private values. */
  readonly layout: EngineLayout;
  /** The guest-physical map. */
  readonly memory: MemoryMap;
  /** The decoded access record every MMIO callback fills (its `cpu` is the tenant's id). */
  readonly access: MmioAccess;
  /** The syndrome and fault address of the exception being reported. */
  readonly exceptionState: ExceptionState;
  /** The engine's view, for reading the engine's instruction counter. */
  readonly engineView: Deno.UnsafePointerView;
  /** The stage-2 map that makes unbacked addresses fault (`_stage2.ts`). */
  readonly stage2: Stage2;
  /** Stage-2 aborts turned into the guest's external aborts (`_unbacked.ts`). */
  readonly unbacked: UnbackedAborts;
  /** Engines that end the run on the last page of the address space (2.0.1). */
  readonly lastPage: LastPageAccess | undefined;
  /** The CPU state right after set-up: a vCPU's reset state, but for its identity. */
  readonly pristine: Deno.PointerObject;
  /** The native slice counter's record, or undefined when the engine counts. */
  budget: BlockBudget | undefined;
  /** Callbacks to free with the engine. */
  // deno-lint-ignore no-explicit-any
  readonly callbacks: Deno.UnsafeCallback<any>[] = [];
  /** The vCPU in the engine. */
  tenant: CoreTenant | undefined;
  /** Whether a vCPU is inside `uc_emu_start`. */
  running = false;
  /** vCPUs using the core; it is freed when the last one closes. */
  users = 0;
  /** Context swaps so far. */
  swaps = 0;
  #closed = false;

  /** Opens the engine and the memory map; hooks are installed by the first vCPU. */
  constructor(options: CoreOptions) {
    const { library } = options;
    this.library = library;
    this.layout = library.layout;
    this.engine = Engine.open(library.symbols, options.cpuModel, {
      translationBufferBytes: options.translationBufferBytes,
      watchTranslations: true,
    });
    this.access = { cpu: 0, address: 0, offset: 0, size: 0, write: false, value: 0 };
    const tenant = () => this.#tenant();
    try {
      this.stage2 = new Stage2(this.engine);
      if (!library.atLeast(2, 1, 0) && !Deno.env.get("NOREF")) refreshCachedState(this.engine);
    } catch (e) {
      this.engine.close();
      throw e;
    }
    const stage2 = this.stage2;
    this.memory = new MemoryMap(this.engine, {
      get stats(): VcpuStats {
        return tenant().stats;
      },
      access: this.access,
      onUnbacked: options.onUnbackedAccess,
      fail: (e) => tenant().fail(e),
    }, stage2);
    const memory = this.memory;
    this.unbacked = new UnbackedAborts(this.engine, {
      get stats(): VcpuStats {
        return tenant().stats;
      },
      access: this.access,
      onUnbacked: options.onUnbackedAccess,
      readRam: (address) => memory.readRam64(address),
    });
    this.lastPage = library.atLeast(2, 1, 0) ? undefined : new LastPageAccess();
    let state: ExceptionState | undefined;
    try {
      state = new ExceptionState(library.symbols, this.engine, this.layout);
      this.pristine = this.allocContext();
    } catch (e) {
      state?.close();
      this.engine.close();
      throw e;
    }
    this.exceptionState = state;
    this.engineView = new Deno.UnsafePointerView(this.engine.handle);
  }

  #tenant(): CoreTenant {
    const t = this.tenant;
    if (t === undefined) throw new VcpuError("INVALID_STATE", "no vCPU is in the engine");
    return t;
  }

  /** A fresh saved-state buffer. */
  allocContext(): Deno.PointerObject {
    const out = new BigUint64Array(1);
    const uc = this.library.symbols;
    if (uc.uc_context_alloc(this.engine.handle, out) !== 0 || out[0] === 0n) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_alloc failed");
    }
    return Deno.UnsafePointer.create(out[0])!;
  }

  /** Saves the engine's CPU state into `context`. */
  save(context: Deno.PointerObject): void {
    if (this.library.symbols.uc_context_save(this.engine.handle, context) !== 0) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_save failed");
    }
  }

  /** Loads `context` into the engine's CPU. */
  restore(context: Deno.PointerObject): void {
    if (this.library.symbols.uc_context_restore(this.engine.handle, context) !== 0) {
      throw new VcpuError("ENGINE_ERROR", "uc_context_restore failed");
    }
    // The map may have changed since `context` was saved.
    this.stage2.apply();
  }

  /**
   * Puts `tenant` in the engine: saves the one there, loads the newcomer's
   * state, and flushes the TLB, whose entries are the old tenant's
   * translations (the engine tags them by neither vCPU nor ASID).
   *
   * @throws {VcpuError} `INVALID_STATE` while another vCPU runs (from one of its callbacks).
   */
  activate(tenant: CoreTenant): void {
    if (this.tenant === tenant) return;
    if (this.running) {
      throw new VcpuError(
        "INVALID_STATE",
        `cannot reach vCPU ${tenant.id} while vCPU ${this.tenant?.id} runs; do it after run() returns`,
      );
    }
    if (this.tenant) this.save(this.tenant.context);
    this.restore(tenant.context);
    this.engine.writeSys(TLBI_VMALLE1, 0n);
    this.tenant = tenant;
    this.access.cpu = tenant.id;
    this.swaps++;
    tenant.swappedIn();
  }

  /**
   * Makes `tenant`'s state the engine's set-up state with its identity
   * (MPIDR) and puts it in the engine: how a vCPU joins a core.
   */
  adopt(tenant: CoreTenant): void {
    if (this.tenant) this.save(this.tenant.context);
    this.restore(this.pristine);
    this.engine.writeSys(SYSREGS.VMPIDR_EL2, 0x8000_0000n | BigInt(tenant.id));
    this.engine.writeSys(TLBI_VMALLE1, 0n);
    this.save(tenant.context);
    this.tenant = tenant;
    this.access.cpu = tenant.id;
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Frees the engine and everything it used. Every vCPU must be closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const uc = this.library.symbols;
    this.engine.close();
    this.exceptionState.close();
    uc.uc_context_free(this.pristine);
    this.budget?.close();
    for (const cb of this.callbacks) cb.close();
    this.callbacks.length = 0;
    this.memory.close();
  }
}

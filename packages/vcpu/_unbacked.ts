/**
 * Accesses to guest-physical addresses with nothing behind them, as the
 * guest sees them: a synchronous external abort, the way QEMU's `virt`
 * reports a bus decode error (measured with QEMU 7.2, `-cpu cortex-a72`).
 *
 * The engine reports them as stage-2 faults (`_stage2.ts`): aborts that
 * target EL2 (the guest's own faults target EL1), with the faulting
 * intermediate physical address in HPFAR_EL2.
 *
 * What the guest gets:
 * - a data access: EC 0x25 (from EL1) or 0x24 (from EL0), WnR as the access,
 *   DFSC 0x10 (synchronous external abort, not on a table walk), EA 0,
 *   ISV 0, FAR the virtual address;
 * - an instruction fetch: EC 0x21 or 0x20, IFSC 0x10;
 * - a stage-1 table walk that reads an unbacked table address: DFSC/IFSC
 *   0x14 + the walk's level (synchronous external abort on a table walk),
 *   FAR the virtual address being translated.
 *
 * @module
 */

import { EXCP } from "./constants.ts";
import type { Engine } from "./engine.ts";
import type { MmioAccess, VcpuStats } from "./exits.ts";
import { HPFAR_EL2 } from "./_stage2.ts";
import { stage1WalkLevel } from "./_stage1_walk.ts";

const EC_IABT_LOWER = 0x20;
const EC_IABT_CURRENT = 0x21;
const EC_DABT_LOWER = 0x24;
const EC_DABT_CURRENT = 0x25;
const ESR_IL = 1 << 25;
const ISS_ISV = 1 << 24;
const ISS_S1PTW = 1 << 7;
const ISS_WNR = 1 << 6;
const FSC_EXTERNAL = 0x10;
const FSC_EXTERNAL_WALK = 0x14;

/** What the classifier reports to. */
export interface UnbackedHooks {
  /** The running vCPU's counters. */
  readonly stats: VcpuStats;
  /** The record the report is decoded into. */
  readonly access: MmioAccess;
  /** The VMM's listener. */
  readonly onUnbacked: ((access: Readonly<MmioAccess>) => void) | undefined;
  /** Reads guest RAM for the stage-1 walk (undefined where nothing is mapped). */
  readonly readRam: (address: number) => bigint | undefined;
}

/** Turns the engine's stage-2 aborts into the guest's external aborts. */
export class UnbackedAborts {
  readonly #engine: Engine;
  readonly #hooks: UnbackedHooks;

  constructor(engine: Engine, hooks: UnbackedHooks) {
    this.#engine = engine;
    this.#hooks = hooks;
  }

  /**
   * For a data or prefetch abort the engine reported (`intno`, targeting
   * `targetEl`) from exception level `el` (0 or 1): the syndrome the guest
   * must see. The engine's own syndrome when the abort is the guest's; a
   * synchronous external abort, counted and reported, when it is an access
   * with nothing behind it.
   */
  guestSyndrome(
    intno: number,
    syndrome: number,
    faultAddress: bigint,
    el: number,
    targetEl: number,
  ): number {
    const ec = syndrome >>> 26;
    // Debug exceptions routed to EL2 arrive as data aborts too, with their own EC.
    if (targetEl !== 2 || (ec !== EC_DABT_LOWER && ec !== EC_IABT_LOWER)) return syndrome;
    const engine = this.#engine;
    const hpfar = engine.readSys(HPFAR_EL2);
    const fetch = intno === EXCP.PREFETCH_ABORT;
    const walk = (syndrome & ISS_S1PTW) !== 0;
    const write = !fetch && (syndrome & ISS_WNR) !== 0;
    const ipa = Number((hpfar >> 4n) << 12n) + (walk ? 0 : Number(faultAddress & 0xfffn));
    this.#report(ipa, (syndrome & ISS_ISV) !== 0 ? 1 << ((syndrome >>> 22) & 3) : 0, write);
    let fsc = FSC_EXTERNAL;
    if (walk) {
      fsc = FSC_EXTERNAL_WALK + stage1WalkLevel(engine, faultAddress, this.#hooks.readRam);
    }
    const guestEc = fetch
      ? (el === 0 ? EC_IABT_LOWER : EC_IABT_CURRENT)
      : (el === 0 ? EC_DABT_LOWER : EC_DABT_CURRENT);
    return ((guestEc << 26) | (syndrome & ESR_IL) | (write ? ISS_WNR : 0) | fsc) >>> 0;
  }

  #report(address: number, size: number, write: boolean): void {
    const { stats, access, onUnbacked } = this.#hooks;
    if (write) stats.unbackedWrites++;
    else stats.unbackedReads++;
    stats.lastUnbackedAddress = address;
    if (onUnbacked === undefined) return;
    access.address = address;
    access.offset = 0;
    access.size = size;
    access.write = write;
    access.value = 0;
    onUnbacked(access);
  }
}

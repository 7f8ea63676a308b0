/**
 * The vCPUs of one guest: several {@link Vcpu}s sharing one engine, its
 * memory map and its translated code, each run in turn (see `_core.ts` for
 * why one engine and not one per vCPU).
 *
 * @module
 */

import { VcpuError } from "./errors.ts";
import type { MmioHandler } from "./exits.ts";
import { Vcpu } from "./vcpu.ts";
import type { VcpuOptions } from "./vcpu_options.ts";
import type { Pmu } from "./pmu.ts";

/**
 * Options for a {@link VcpuGroup}: a vCPU's, with per-vCPU listeners.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, VcpuGroup, type VcpuGroupOptions } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const fired: number[] = [];
 * const options: VcpuGroupOptions = {
 *   library,
 *   count: 2,
 *   onTimerLevel: (cpu, level) => level && fired.push(cpu), // to that CPU's PPI 27
 * };
 * using group = new VcpuGroup(options);
 * const ram = new Uint8Array(0x1000);
 * new Uint32Array(ram.buffer).set([
 *   0xd51be35f, // msr cntv_cval_el0, xzr
 *   0xd2800020, // mov x0, #1
 *   0xd51be320, // msr cntv_ctl_el0, x0
 *   0xd4000002, // hvc #0
 * ]);
 * group.mapRam(0x4000_0000, ram);
 * const second = group.vcpus[1];
 * second.setEntry(0x4000_0000, 0);
 * assert.equal(second.run().reason, "hvc");
 * assert.deepEqual(fired, [1]); // only the vCPU that armed its timer
 * assert.throws(() => new VcpuGroup({ library, count: 9 }), { code: "INVALID_ARGUMENT" });
 * ```
 */
export interface VcpuGroupOptions
  extends Omit<VcpuOptions, "id" | "shareWith" | "onTimerLevel" | "onPhysicalTimerLevel" | "pmu"> {
  /** How many vCPUs, 1 to 8; their ids (MPIDR affinity 0) are 0 to count − 1. */
  count: number;
  /** Called when vCPU `cpu`'s virtual timer output changes (route it to its PPI 27). */
  onTimerLevel?: (cpu: number, level: boolean) => void;
  /** Called when vCPU `cpu`'s physical timer output changes (route it to its PPI 30). */
  onPhysicalTimerLevel?: (cpu: number, level: boolean) => void;
  /** vCPU `cpu`'s performance monitors (see {@link VcpuOptions.pmu}). */
  pmu?: (cpu: number) => Pmu;
}

/**
 * Several vCPUs on one engine.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, VcpuGroup } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * using group = new VcpuGroup({ library, count: 2 });
 * const ram = new Uint8Array(0x10_0000);
 * ram.set([0x02, 0x00, 0x00, 0xd4]); // hvc #0
 * group.mapRam(0x4000_0000, ram);
 * for (const vcpu of group.vcpus) vcpu.setEntry(0x4000_0000, vcpu.id);
 * assert.deepEqual(group.vcpus.map((v) => v.run().reason), ["hvc", "hvc"]);
 * ```
 */
export class VcpuGroup implements Disposable {
  /** The vCPUs, by id. */
  readonly vcpus: readonly Vcpu[];

  /**
   * Creates `count` vCPUs on one engine.
   *
   * @throws {VcpuError} `INVALID_ARGUMENT` for a bad count, and whatever a {@link Vcpu} throws.
   */
  constructor(options: VcpuGroupOptions) {
    const { count, onTimerLevel, onPhysicalTimerLevel, pmu, ...shared } = options;
    if (!Number.isInteger(count) || count < 1 || count > 8) {
      throw new VcpuError("INVALID_ARGUMENT", `count must be 1 to 8, got ${count}`);
    }
    const vcpus: Vcpu[] = [];
    try {
      for (let id = 0; id < count; id++) {
        vcpus.push(
          new Vcpu({
            ...shared,
            id,
            shareWith: vcpus[0],
            onTimerLevel: onTimerLevel && ((level) => onTimerLevel(id, level)),
            onPhysicalTimerLevel: onPhysicalTimerLevel &&
              ((level) => onPhysicalTimerLevel(id, level)),
            pmu: pmu?.(id),
          }),
        );
      }
    } catch (e) {
      for (const v of vcpus) v.close();
      throw e;
    }
    this.vcpus = vcpus;
  }

  /** Maps guest RAM for every vCPU (see {@link Vcpu.mapRam}). */
  mapRam(base: number, bytes: Uint8Array<ArrayBuffer>): void {
    this.vcpus[0].mapRam(base, bytes);
  }

  /** Maps a device region for every vCPU (see {@link Vcpu.mapMmio}). */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    this.vcpus[0].mapMmio(base, size, handler);
  }

  /** Closes every vCPU and the engine. Idempotent. */
  close(): void {
    for (const v of this.vcpus) v.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

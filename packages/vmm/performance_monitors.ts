/**
 * The vCPUs' performance monitors (`Pmu` of `@vmkit/vcpu`) in a VM: each
 * counts in its vCPU's guest time, its overflow interrupt drives that vCPU's
 * PPI 7 (INTID 23), and the run loop brings it up to date at slice ends and
 * wakes an idle vCPU for its next overflow, as it does for the timers.
 *
 * @module
 */

import { Pmu, type Vcpu } from "@vmkit/vcpu";
import type { Gicv2 } from "@vmkit/vgic";
import { PMU_INTID } from "./platform.ts";

/**
 * One {@link Pmu} per vCPU, wired to `gic`. `counter(cpu)` is vCPU `cpu`'s
 * generic counter; it is first called once the vCPUs exist.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { createPmus } from "./performance_monitors.ts";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const [pmu] = createPmus(gic, 1, () => 0n);
 * console.log(pmu.level); // false
 * ```
 */
export function createPmus(gic: Gicv2, cpus: number, counter: (cpu: number) => bigint): Pmu[] {
  return Array.from({ length: cpus }, (_, cpu) => {
    const line = gic.line(PMU_INTID, cpu);
    return new Pmu({ counter: () => counter(cpu), onLevel: (level) => line.set(level) });
  });
}

/**
 * Accounts the PMU of `vcpu`, which has just run: at the exception level it
 * stopped at.
 */
export function accountPmu(pmu: Pmu | undefined, vcpu: Vcpu): void {
  pmu?.update(Number((vcpu.getPstate() >> 2n) & 3n));
}

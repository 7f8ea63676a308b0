/**
 * A GICv2 interrupt controller model (distributor and CPU interfaces) for VMMs that emulate
 * the CPU, and the virq API for registering, injecting and acknowledging virtual interrupts.
 *
 * The model is a pure state machine: map {@link Gicv2.distributor} and
 * {@link Gicv2.cpuInterface} on the guest bus, forward accesses with the accessing vCPU's
 * index, and connect `onIrq` to each vCPU's IRQ input.
 *
 * @example
 * ```ts
 * import { Gicv2, VirqController } from "@vmkit/vgic";
 *
 * const gic = new Gicv2({ cpus: 1, onIrq: (cpu, high) => console.log("IRQ", cpu, high) });
 * const virq = new VirqController(gic);
 * virq.init(0);
 * virq.register(0, 33, (vcpu, irq) => console.log("acked", vcpu, irq));
 * ```
 *
 * @module
 */

export { VgicError, type VgicErrorCode, type VgicErrorDetails } from "./errors.ts";
export { createStats, type MmioRegion, type VgicRegion, type VgicStats } from "./mmio.ts";
export {
  DEFAULT_IRQS,
  Gicv2,
  type Gicv2Options,
  type InterruptState,
  type IrqLine,
} from "./gicv2.ts";
export type { DeactivateCallback, IrqOutputCallback } from "./state.ts";
export {
  type VirqAckFn,
  VirqController,
  type VirqControllerOptions,
  type VirqReferenceApi,
} from "./virq.ts";
export * from "./distributor_registers.ts";
export * from "./cpu_interface_registers.ts";
export * from "./intid_limits.ts";

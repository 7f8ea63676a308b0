/**
 * The virq API: registering, injecting and acknowledging virtual interrupts on a {@link Gicv2},
 * under the classic microkernel-VMM function names and as idiomatic methods over the same code.
 *
 * @module
 */

import { VgicError } from "./errors.ts";
import type { Gicv2 } from "./gicv2.ts";
import { PRIVATE_IRQS, SGI_COUNT } from "./intid_limits.ts";

/**
 * Runs when the guest deactivates a registered interrupt (EOIR with EOImode = 0, DIR with
 * EOImode = 1, or GICD_ICACTIVER): exactly once per deactivation.
 *
 * @param vcpuId the vCPU that deactivated it
 * @param irq the interrupt number
 * @param ackData the value given at registration
 *
 * @example Usage
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_EOIR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 *   type VirqAckFn,
 *   VirqController,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const acks: string[] = [];
 * const ack: VirqAckFn = (vcpu, irq, data) => acks.push(`${data} ${vcpu} ${irq}`);
 * const gic = new Gicv2();
 * const virq = new VirqController(gic);
 * virq.init(0);
 * virq.register(0, 33, ack, "uart");
 * // The guest enables SPI 33, then takes it and completes it.
 * gic.distributor.write(GICD_CTLR, 4, 1, 0);
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * virq.inject(0, 33);
 * gic.cpuInterface.write(GICC_EOIR, 4, gic.cpuInterface.read(GICC_IAR, 4, 0), 0);
 * assert.deepEqual(acks, ["uart 0 33"]);
 * ```
 */
export type VirqAckFn = (vcpuId: number, irq: number, ackData: unknown) => void;

/**
 * Options for {@link VirqController}.
 *
 * @example Passing a host interrupt through
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_EOIR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 *   VirqController,
 *   type VirqControllerOptions,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const rearmed: number[] = [];
 * const options: VirqControllerOptions = { ackChannel: (channel) => rearmed.push(channel) };
 * const gic = new Gicv2();
 * const virq = new VirqController(gic, options);
 * virq.init(0);
 * assert.equal(virq.registerPassthrough(0, 40, 7), true); // host channel 7 raises SPI 40
 * gic.distributor.write(GICD_CTLR, 4, 1, 0); // the guest enables SPI 40
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (40 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * virq.handlePassthrough(7); // the host interrupt arrives
 * gic.cpuInterface.write(GICC_EOIR, 4, gic.cpuInterface.read(GICC_IAR, 4, 0), 0);
 * assert.deepEqual(rearmed, [7]); // acknowledged at its source once the guest is done
 * ```
 */
export interface VirqControllerOptions {
  /**
   * Acknowledge (re-arm) notification channel `channel` at its source once the guest has
   * deactivated the interrupt it was injected as. Without it, passthrough registration fails.
   */
  readonly ackChannel?: (channel: number) => void;
}

/**
 * The reference functions, bound to one controller (see {@link VirqController.referenceApi}).
 *
 * @example The classic function names
 * ```ts
 * import { Gicv2, VirqController, type VirqReferenceApi } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const api: VirqReferenceApi = new VirqController(new Gicv2()).referenceApi();
 * assert.equal(api.virq_controller_init(0), true);
 * assert.equal(api.virq_register(0, 33, null, null), true);
 * assert.equal(api.virq_inject(0, 33), true);
 * assert.equal(api.virq_inject(0, 34), false); // never registered
 * ```
 */
export interface VirqReferenceApi {
  /** See {@link VirqController.virq_controller_init}. */
  readonly virq_controller_init: (vcpu_id: number) => boolean;
  /** See {@link VirqController.virq_register}. */
  readonly virq_register: (
    vcpu_id: number,
    virq: number,
    ack_fn: VirqAckFn | null,
    ack_data: unknown,
  ) => boolean;
  /** See {@link VirqController.virq_inject}. */
  readonly virq_inject: (vcpu_id: number, irq: number) => boolean;
  /** See {@link VirqController.virq_register_passthrough}. */
  readonly virq_register_passthrough: (vcpu_id: number, irq: number, channel: number) => boolean;
  /** See {@link VirqController.virq_handle_passthrough}. */
  readonly virq_handle_passthrough: (channel: number) => boolean;
}

/**
 * Registers interrupts of a {@link Gicv2}, injects them and runs their acknowledgement when the
 * guest completes them. Registrations are per vCPU for SGIs (0–15) and PPIs (16–31), and
 * global for SPIs. Nothing here throws on bad numbers: every operation reports success as a
 * boolean.
 *
 * The first {@link VirqController.init} initialises the whole GIC for its boot vCPU; each
 * further one for another vCPU initialises that vCPU alone, so a VMM sets up its vCPUs one by
 * one, as libvmm's `virq_controller_init(vcpu_id)` is called per vCPU.
 *
 * The controller owns the GIC's deactivation hook ({@link Gicv2.onDeactivate}).
 *
 * @example Register, inject, acknowledge
 * ```ts
 * import {
 *   Gicv2,
 *   GICC_CTLR,
 *   GICC_EOIR,
 *   GICC_IAR,
 *   GICC_PMR,
 *   GICD_CTLR,
 *   GICD_ISENABLER,
 *   VirqController,
 * } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * const virq = new VirqController(gic);
 * assert.equal(virq.register(0, 33), false); // not initialised yet
 * virq.init(0);
 * let acked = 0;
 * assert.equal(virq.register(0, 33, () => acked++), true);
 * gic.distributor.write(GICD_CTLR, 4, 1, 0); // the guest's GIC driver at boot
 * gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (33 - 32), 0);
 * gic.cpuInterface.write(GICC_CTLR, 4, 1, 0);
 * gic.cpuInterface.write(GICC_PMR, 4, 0xff, 0);
 * virq.inject(0, 33);
 * const iar = gic.cpuInterface.read(GICC_IAR, 4, 0); // the guest takes the interrupt...
 * gic.cpuInterface.write(GICC_EOIR, 4, iar, 0); // ...and completes it
 * assert.equal(iar, 33);
 * assert.equal(acked, 1);
 * ```
 */
export class VirqController {
  /** The interrupt controller this API drives. */
  readonly gic: Gicv2;
  readonly #ackChannel: ((channel: number) => void) | undefined;
  /** Registration index: `vcpu * 32 + irq` for SGIs and PPIs, `cpus * 32 + irq - 32` for SPIs. */
  readonly #registered: Uint8Array;
  readonly #channelOf: Int32Array;
  readonly #ackFns: (VirqAckFn | null)[];
  readonly #ackData: unknown[];
  readonly #channels: Map<number, number> = new Map();
  #bootVcpu = -1;

  /**
   * Create a controller for `gic`; call {@link VirqController.init} before anything else.
   *
   * @param gic the interrupt controller to drive
   * @param options how passthrough channels are acknowledged
   * @throws {VgicError} `HOOK_IN_USE` when the GIC already has a deactivation hook
   */
  constructor(gic: Gicv2, options: VirqControllerOptions = {}) {
    if (gic.onDeactivate !== undefined) {
      throw new VgicError("HOOK_IN_USE", "the GIC's deactivation hook is already taken");
    }
    this.gic = gic;
    this.#ackChannel = options.ackChannel;
    const slots = gic.cpus * PRIVATE_IRQS + gic.irqs - PRIVATE_IRQS;
    this.#registered = new Uint8Array(slots);
    this.#channelOf = new Int32Array(slots).fill(-1);
    this.#ackFns = new Array<VirqAckFn | null>(slots).fill(null);
    this.#ackData = new Array<unknown>(slots).fill(undefined);
    gic.onDeactivate = (cpu: number, intid: number): void => this.#deactivated(cpu, intid);
  }

  /** The boot vCPU given to {@link VirqController.init}, or -1 before initialisation. */
  get bootVcpu(): number {
    return this.#bootVcpu;
  }

  /**
   * Initialise the virtual GIC for `vcpu`.
   *
   * The first time, and again for the boot vCPU, it initialises the whole controller with
   * `vcpu` as the boot vCPU: the GIC returns to its power-on state and all registrations are
   * forgotten. Every other operation fails until this succeeded. (For a VM restart that keeps
   * its device wiring, call {@link Gicv2.reset} instead.)
   *
   * For any other vCPU, once initialised, it initialises that vCPU alone: its SGI and PPI
   * registrations (and their passthrough channels) are forgotten and its CPU interface and
   * banked interrupts return to their power-on state ({@link Gicv2.resetCpu}); SPI
   * registrations and every other vCPU's are kept.
   *
   * @returns false for an invalid vCPU index
   */
  init(vcpu: number): boolean {
    if (!this.#validVcpu(vcpu)) return false;
    if (this.#bootVcpu >= 0 && vcpu !== this.#bootVcpu) {
      this.gic.resetCpu(vcpu);
      for (let i = vcpu * PRIVATE_IRQS; i < (vcpu + 1) * PRIVATE_IRQS; i++) this.#forget(i);
      return true;
    }
    this.gic.reset();
    this.#registered.fill(0);
    this.#channelOf.fill(-1);
    this.#ackFns.fill(null);
    this.#ackData.fill(undefined);
    this.#channels.clear();
    this.#bootVcpu = vcpu;
    return true;
  }

  /**
   * Register interrupt `irq` (an SGI or PPI of `vcpu`, or an SPI) so it can be injected; `ack`
   * runs with `ackData` each time the guest deactivates it (for an SGI of `vcpu`, also one
   * another vCPU sent it).
   *
   * @returns false before initialisation, for an invalid vCPU or interrupt number, or when it
   *   is already registered
   */
  register(vcpu: number, irq: number, ack: VirqAckFn | null = null, ackData?: unknown): boolean {
    const i = this.#claim(vcpu, irq);
    if (i < 0) return false;
    this.#ackFns[i] = ack;
    this.#ackData[i] = ackData;
    return true;
  }

  /**
   * Make registered interrupt `irq` pending once (edge-like): an SGI or PPI on `vcpu` alone (an
   * SGI as if `vcpu` had sent it to itself: GICC_IAR's source CPU is `vcpu`); an SPI wherever the
   * guest routed it (GICD_ITARGETSR).
   *
   * @returns false before initialisation or for an invalid or unregistered interrupt
   */
  inject(vcpu: number, irq: number): boolean {
    const i = this.#index(vcpu, irq);
    if (i < 0 || this.#registered[i] === 0) return false;
    this.#fire(i);
    return true;
  }

  /**
   * Route notification channel `channel` to interrupt `irq` on `vcpu`: {@link
   * VirqController.handlePassthrough} injects it, and the guest's deactivation acknowledges
   * the channel through the `ackChannel` option.
   *
   * @returns false before initialisation, without an `ackChannel` option, for an invalid vCPU,
   *   interrupt or channel (a non-negative integer), or when either is already registered
   */
  registerPassthrough(vcpu: number, irq: number, channel: number): boolean {
    if (this.#ackChannel === undefined) return false;
    if (!Number.isSafeInteger(channel) || channel < 0 || this.#channels.has(channel)) return false;
    const i = this.#claim(vcpu, irq);
    if (i < 0) return false;
    this.#channelOf[i] = channel;
    this.#channels.set(channel, i);
    return true;
  }

  /**
   * An interrupt arrived from outside the VM on notification channel `channel`: inject the
   * interrupt registered for it.
   *
   * @returns false for an unknown channel
   */
  handlePassthrough(channel: number): boolean {
    const i = this.#channels.get(channel);
    if (i === undefined) return false;
    this.#fire(i);
    return true;
  }

  /**
   * Drive a level-triggered device line (no registration needed); see {@link Gicv2.setLevel}.
   *
   * @param cpu required for PPIs; ignored for SPIs
   * @returns false for an invalid interrupt or CPU
   */
  setLevel(irq: number, high: boolean, cpu?: number): boolean {
    if (!this.#validLine(irq, cpu)) return false;
    this.gic.setLevel(irq, high, cpu);
    return true;
  }

  /**
   * Make a PPI or SPI pending once, as an edge would (no registration needed).
   *
   * @param cpu required for PPIs; ignored for SPIs
   * @returns false for an invalid interrupt or CPU
   */
  pulse(irq: number, cpu?: number): boolean {
    if (!this.#validLine(irq, cpu)) return false;
    this.gic.pulse(irq, cpu);
    return true;
  }

  /** Whether `irq` is registered (for `vcpu`, when it is an SGI or a PPI). */
  isRegistered(vcpu: number, irq: number): boolean {
    const i = this.#index(vcpu, irq);
    return i >= 0 && this.#registered[i] === 1;
  }

  /** Reference name of {@link VirqController.init}. */
  virq_controller_init(vcpu_id: number): boolean {
    return this.init(vcpu_id);
  }

  /** Reference name of {@link VirqController.register}. */
  virq_register(
    vcpu_id: number,
    virq: number,
    ack_fn: VirqAckFn | null,
    ack_data: unknown,
  ): boolean {
    return this.register(vcpu_id, virq, ack_fn, ack_data);
  }

  /** Reference name of {@link VirqController.inject}. */
  virq_inject(vcpu_id: number, irq: number): boolean {
    return this.inject(vcpu_id, irq);
  }

  /** Reference name of {@link VirqController.registerPassthrough}. */
  virq_register_passthrough(vcpu_id: number, irq: number, channel: number): boolean {
    return this.registerPassthrough(vcpu_id, irq, channel);
  }

  /** Reference name of {@link VirqController.handlePassthrough}. */
  virq_handle_passthrough(channel: number): boolean {
    return this.handlePassthrough(channel);
  }

  /** The reference functions bound to this controller, for a facade to re-export. */
  referenceApi(): VirqReferenceApi {
    return {
      virq_controller_init: (vcpu_id) => this.init(vcpu_id),
      virq_register: (vcpu_id, virq, ack_fn, ack_data) =>
        this.register(vcpu_id, virq, ack_fn, ack_data),
      virq_inject: (vcpu_id, irq) => this.inject(vcpu_id, irq),
      virq_register_passthrough: (vcpu_id, irq, channel) =>
        this.registerPassthrough(vcpu_id, irq, channel),
      virq_handle_passthrough: (channel) => this.handlePassthrough(channel),
    };
  }

  /** Makes the interrupt of registration index `i` pending once. */
  #fire(i: number): void {
    const privateSlots = this.gic.cpus * PRIVATE_IRQS;
    if (i >= privateSlots) this.gic.pulse(i - privateSlots + PRIVATE_IRQS);
    else if ((i & 31) < SGI_COUNT) this.gic.sendSgi(i & 31, i >>> 5);
    else this.gic.pulse(i & 31, i >>> 5);
  }

  /** Drops registration index `i` and its passthrough channel, if any. */
  #forget(i: number): void {
    const channel = this.#channelOf[i];
    if (channel >= 0) this.#channels.delete(channel);
    this.#registered[i] = 0;
    this.#channelOf[i] = -1;
    this.#ackFns[i] = null;
    this.#ackData[i] = undefined;
  }

  #deactivated(cpu: number, intid: number): void {
    const i = intid < PRIVATE_IRQS
      ? cpu * PRIVATE_IRQS + intid
      : this.gic.cpus * PRIVATE_IRQS + intid - PRIVATE_IRQS;
    if (this.#registered[i] === 0) return;
    const channel = this.#channelOf[i];
    if (channel >= 0) {
      this.#ackChannel?.(channel);
      return;
    }
    this.#ackFns[i]?.(cpu, intid, this.#ackData[i]);
  }

  /** Registration index of a fresh registration, or -1. */
  #claim(vcpu: number, irq: number): number {
    const i = this.#index(vcpu, irq);
    if (i < 0 || this.#registered[i] === 1) return -1;
    this.#registered[i] = 1;
    return i;
  }

  /** Registration index, or -1 before initialisation or for invalid numbers. */
  #index(vcpu: number, irq: number): number {
    if (this.#bootVcpu < 0 || !this.#validVcpu(vcpu)) return -1;
    if (!Number.isInteger(irq) || irq < 0 || irq >= this.gic.irqs) return -1;
    return irq < PRIVATE_IRQS
      ? vcpu * PRIVATE_IRQS + irq
      : this.gic.cpus * PRIVATE_IRQS + irq - PRIVATE_IRQS;
  }

  #validVcpu(vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.gic.cpus;
  }

  #validLine(irq: number, cpu: number | undefined): boolean {
    if (!Number.isInteger(irq) || irq < SGI_COUNT || irq >= this.gic.irqs) return false;
    return irq >= PRIVATE_IRQS || (cpu !== undefined && this.#validVcpu(cpu));
  }
}

/**
 * The VM's answer to the guest's HVC and SMC calls: the embedder's own
 * handler first, then PSCI on the configured conduit, with the vCPUs' power
 * states behind it; anything else is NOT_SUPPORTED.
 *
 * @module
 */

import type { Vcpu, VcpuExit } from "@vmkit/vcpu";
import type { GuestCall } from "./config.ts";
import type { CpuStates } from "./cpu_states.ts";
import { handlePsci, mpidrToIndex, PSCI_FN, PSCI_RET, type PsciPlatform } from "./psci.ts";

/**
 * What {@link GuestCalls} needs from its VM.
 *
 * @example
 * ```ts
 * import {
 *   CpuStates,
 *   GuestCalls,
 *   type GuestCallsOptions,
 *   PSCI_VERSION_1_1,
 *   VirtualMachine,
 * } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * // movz w0, #0; movk w0, #0x8400, lsl #16 (PSCI_VERSION); hvc #0
 * [0x52800000, 0x72b08000, 0xd4000002].forEach((word, i) =>
 *   new DataView(vm.ram.bytes.buffer).setUint32(4 * i, word, true)
 * );
 * const requests: string[] = [];
 * const options: GuestCallsOptions = {
 *   vcpus: vm.vcpus,
 *   states: new CpuStates(1),
 *   ram: vm.ram,
 *   conduit: "hvc",
 *   irqAsserted: () => false,
 *   request: (kind) => requests.push(kind),
 * };
 * const calls = new GuestCalls(options);
 * const vcpu = vm.vcpus[0];
 * vcpu.setEntry(vm.ram.base, 0);
 * const exit = vcpu.run();
 * assert.equal(exit.reason, "hvc");
 * calls.answer(vcpu, exit);
 * assert.equal(vcpu.getX(0), BigInt(PSCI_VERSION_1_1));
 * ```
 */
export interface GuestCallsOptions {
  /** The vCPUs, by id. */
  readonly vcpus: readonly Vcpu[];
  /** Their power states, which CPU_ON, CPU_OFF and standby change. */
  readonly states: CpuStates;
  /** Guest RAM, where a CPU_ON entry point must lie. */
  readonly ram: { readonly base: number; readonly bytes: Uint8Array };
  /** The PSCI conduit. */
  readonly conduit: "hvc" | "smc";
  /** Whether the interrupt controller's IRQ output for vCPU `index` is asserted now. */
  readonly irqAsserted: (index: number) => boolean;
  /** The embedder's handler: a value answers the call (x0). */
  readonly onCall?: (call: GuestCall) => bigint | undefined;
  /** SYSTEM_OFF (`poweroff`) and SYSTEM_RESET (`reset`). */
  readonly request: (kind: "poweroff" | "reset") => void;
  /**
   * A diagnostic line of `kind` (a refused CPU_ON): the VM's rate-limited
   * guest log, since a guest can call in a loop.
   */
  readonly log?: (kind: string, message: () => string) => void;
}

const RET_NAMES = new Map<bigint, string>(
  Object.entries(PSCI_RET).map(([name, code]) => [BigInt.asUintN(64, BigInt(code)), name]),
);

/**
 * Answers guest calls for one VM.
 *
 * @example
 * ```ts
 * import { CpuStates, GuestCalls, VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * // movz w0, #8; movk w0, #0x8400, lsl #16 (PSCI SYSTEM_OFF); hvc #0; smc #0
 * [0x52800100, 0x72b08000, 0xd4000002, 0xd4000003].forEach((word, i) =>
 *   new DataView(vm.ram.bytes.buffer).setUint32(4 * i, word, true)
 * );
 * const requests: string[] = [];
 * const calls = new GuestCalls({
 *   vcpus: vm.vcpus,
 *   states: new CpuStates(1),
 *   ram: vm.ram,
 *   conduit: "hvc",
 *   irqAsserted: (cpu) => vm.gic.irqAsserted(cpu),
 *   request: (kind) => requests.push(kind),
 * });
 * const vcpu = vm.vcpus[0];
 * vcpu.setEntry(vm.ram.base, 0);
 * calls.answer(vcpu, vcpu.run()); // after an "hvc" exit
 * assert.deepEqual(requests, ["poweroff"]);
 * calls.answer(vcpu, vcpu.run()); // the same call over the other conduit is not PSCI here
 * assert.equal(vcpu.getX(0), 0xffff_ffff_ffff_ffffn); // NOT_SUPPORTED (-1)
 * assert.deepEqual(requests, ["poweroff"]);
 * ```
 */
export class GuestCalls {
  readonly #options: GuestCallsOptions;
  readonly #psci: PsciPlatform;

  /** Answers for the VM the options describe. */
  constructor(options: GuestCallsOptions) {
    this.#options = options;
    const { vcpus, states, ram } = options;
    this.#psci = {
      cpuCount: vcpus.length,
      affinity: (index) => states.affinity(index),
      cpuOn: (index, entry, context) => {
        // The entry point must be code in RAM the new CPU can run.
        if (entry < BigInt(ram.base) || entry >= BigInt(ram.base + ram.bytes.byteLength)) {
          return PSCI_RET.INVALID_PARAMETERS;
        }
        const vcpu = vcpus[index];
        vcpu.reset();
        // The reset lowered the vCPU's IRQ input, but the GIC keeps what is
        // pending for it (an SGI sent while it was off) and reports only
        // changes: drive the input from the GIC's output again.
        vcpu.setIrqLine(options.irqAsserted(index));
        vcpu.setEntry(entry, context);
        states.turnOn(index);
        return PSCI_RET.SUCCESS;
      },
      cpuOff: (index) => {
        states.turnOff(index);
        return PSCI_RET.SUCCESS;
      },
      cpuStandby: (index) => states.wait(index),
      systemOff: () => options.request("poweroff"),
      systemReset: () => options.request("reset"),
    };
  }

  /** Answers the call `vcpu` made (its exit was `hvc` or `smc`): sets x0 unless the call does not return. */
  answer(vcpu: Vcpu, exit: VcpuExit): void {
    const conduit = exit.reason as "hvc" | "smc";
    const { onCall } = this.#options;
    if (onCall) {
      const answer = onCall({ conduit, imm: exit.imm, args: exit.args, cpu: vcpu.id });
      if (answer !== undefined) {
        vcpu.setX(0, answer);
        return;
      }
    }
    if (conduit !== this.#options.conduit || exit.imm !== 0) {
      vcpu.setX(0, BigInt.asUintN(64, BigInt(PSCI_RET.NOT_SUPPORTED)));
      return;
    }
    const args = exit.args;
    const result = handlePsci(args, vcpu.id, this.#psci);
    if (!result.returns) return;
    vcpu.setX(0, result.x0);
    const fid = Number(args[0] & 0xffff_ffffn);
    if (
      (fid === PSCI_FN.CPU_ON || fid === PSCI_FN.CPU_ON_64) && result.x0 !== 0n &&
      mpidrToIndex(args[1], this.#options.vcpus.length) >= 0
    ) {
      // A guest bringing up CPUs that answer with an error is one to debug;
      // one asking for CPUs until there are no more is only counting them.
      this.#options.log?.(
        "cpu-on",
        () =>
          `CPU ${vcpu.id}: PSCI CPU_ON for MPIDR 0x${args[1].toString(16)} at 0x${
            args[2].toString(16)
          } refused with ${RET_NAMES.get(result.x0) ?? result.x0}`,
      );
    }
  }
}

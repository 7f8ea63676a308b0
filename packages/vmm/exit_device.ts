/**
 * The exit-status device: how a guest ends the run with a status of its
 * own, which PSCI SYSTEM_OFF cannot carry. It follows the "test finisher"
 * of QEMU's RISC-V `virt` board (SiFive's test device), the way QEMU's
 * debug-exit devices serve test programs:
 *
 * | write to offset 0 (32-bit)     | effect                                    |
 * | ------------------------------ | ----------------------------------------- |
 * | `0x5555`                       | power off with status 0 (pass)            |
 * | `(status << 16) \| 0x3333`     | power off with `status` (fail; 0 means 1) |
 * | `0x7777`                       | reset, as PSCI SYSTEM_RESET               |
 *
 * Anything else is ignored and counted; reads return 0. The device tree node
 * is `exit@<base>` with compatible `"vmkit,exit-status"`.
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";
import type { Device, DevicePlacement } from "./device.ts";

/**
 * Where VMKit's machine puts the device: a page QEMU's `virt` map leaves free.
 *
 * @example
 * ```ts
 * import { EXIT_DEVICE_BASE, EXIT_DEVICE_SIZE, VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * assert.equal(vm.devices.find(EXIT_DEVICE_BASE + EXIT_DEVICE_SIZE - 4)?.device, vm.exitDevice);
 * ```
 */
export const EXIT_DEVICE_BASE = 0x090c_0000;
/**
 * Its window.
 *
 * @example
 * ```ts
 * import { EXIT_DEVICE_BASE, EXIT_DEVICE_SIZE, UART_BASE } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EXIT_DEVICE_BASE >= UART_BASE + 0x1000 && EXIT_DEVICE_SIZE === 0x1000);
 * ```
 */
export const EXIT_DEVICE_SIZE = 0x1000;
/**
 * The write that passes.
 *
 * @example
 * ```ts
 * import { EXIT_PASS, ExitStatusDevice, type ExitRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const requests: ExitRequest[] = [];
 * new ExitStatusDevice((r) => requests.push(r)).write(0, 4, EXIT_PASS);
 * assert.deepEqual(requests, [{ kind: "exit", status: 0 }]);
 * ```
 */
export const EXIT_PASS = 0x5555;
/**
 * The low half of a write that fails with the status in the high half.
 *
 * @example
 * ```ts
 * import { EXIT_FAIL, ExitStatusDevice, type ExitRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const requests: ExitRequest[] = [];
 * const device = new ExitStatusDevice((r) => requests.push(r));
 * device.write(0, 4, (42 << 16) | EXIT_FAIL); // fail with status 42
 * device.write(0, 4, EXIT_FAIL); // a failure says so even without a status
 * assert.deepEqual(requests, [{ kind: "exit", status: 42 }, { kind: "exit", status: 1 }]);
 * ```
 */
export const EXIT_FAIL = 0x3333;
/**
 * The write that resets.
 *
 * @example
 * ```ts
 * import { EXIT_RESET, ExitStatusDevice, type ExitRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const requests: ExitRequest[] = [];
 * new ExitStatusDevice((r) => requests.push(r)).write(0, 4, EXIT_RESET);
 * assert.deepEqual(requests, [{ kind: "reset" }]);
 * ```
 */
export const EXIT_RESET = 0x7777;

/**
 * What the guest asked for.
 *
 * @example
 * ```ts
 * import { EXIT_PASS, ExitStatusDevice, type ExitRequest } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let last: ExitRequest | undefined;
 * const device = new ExitStatusDevice((r) => (last = r));
 * device.write(0, 2, EXIT_PASS); // not a 32-bit write: ignored
 * assert.equal(last, undefined);
 * assert.equal(device.ignored, 1);
 * ```
 */
export type ExitRequest = { readonly kind: "exit"; readonly status: number } | {
  readonly kind: "reset";
};

/**
 * The device; `onRequest` hears each valid write.
 *
 * @example
 * ```ts
 * import { EXIT_FAIL, ExitStatusDevice } from "@vmkit/vmm";
 *
 * const device = new ExitStatusDevice((request) => console.log(request));
 * device.write(0, 4, (3 << 16) | EXIT_FAIL); // { kind: "exit", status: 3 }
 * ```
 */
export class ExitStatusDevice implements Device {
  /** Writes that were not one of the three commands, or not 32-bit at offset 0. */
  ignored = 0;
  readonly #onRequest: (request: ExitRequest) => void;

  /** The device, reporting to `onRequest`. */
  constructor(onRequest: (request: ExitRequest) => void) {
    this.#onRequest = onRequest;
  }

  /** Reads as zero. */
  read(): number {
    return 0;
  }

  /** A command, see the module docs. */
  write(offset: number, size: number, value: number): void {
    if (offset !== 0 || size !== 4) {
      this.ignored++;
      return;
    }
    const low = value & 0xffff;
    if (low === EXIT_PASS) this.#onRequest({ kind: "exit", status: 0 });
    else if (low === EXIT_FAIL) this.#onRequest({ kind: "exit", status: value >>> 16 || 1 });
    else if (low === EXIT_RESET) this.#onRequest({ kind: "reset" });
    else this.ignored++;
  }

  /** Nothing to reset. */
  reset(): void {}

  /** The `exit@…` node. */
  describe(parent: FdtNode, placement: DevicePlacement): FdtNode {
    return parent.addNode(`exit@${placement.base.toString(16)}`)
      .setString("compatible", "vmkit,exit-status")
      .setReg([{ address: placement.base, size: placement.size }]);
  }
}

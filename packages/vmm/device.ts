/**
 * What a device model is to the VM: an engine-free state machine addressed by
 * offset, with an injected interrupt line, a reset and its own device-tree
 * node. `@vmkit/virtio`'s transports and the GIC, UART and exit device here
 * all fit it; nothing in it knows the CPU engine, so devices test on their own.
 *
 * Asynchronous completion. `read` and `write` run synchronously inside the
 * engine, on the vCPU's stack, and must never block or await. A device whose
 * work takes host I/O (a file read, a flush, a network send) starts it there
 * and returns; the I/O completes later in the host's event loop, which the
 * VM's run loop yields to every few milliseconds and sleeps in while the
 * guest idles. From that completion the device may update guest memory and
 * raise its interrupt line: raising a line ends the VM's idle wait at once,
 * and the guest takes the interrupt at its next instruction boundary. A
 * device must drop completions that belong to before a `reset()` (a reboot
 * may come between the request and its answer). `lifecycle_vm_test.ts` holds
 * a device whose backend answers 50 ms later while the guest waits in WFI.
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";
import type { MmioRegion } from "@vmkit/vgic";

/**
 * A block of memory-mapped registers: the same type as `@vmkit/vgic`'s
 * `MmioRegion`, so the GIC's register blocks are devices as they are. `cpu`
 * is the index of the vCPU making the access (banked registers need it;
 * most devices ignore it). Neither method may throw for any guest access: a
 * bad access reads as zero or is ignored, and is counted by the device.
 *
 * @example
 * ```ts
 * import type { MmioDevice } from "@vmkit/vmm";
 *
 * let latch = 0;
 * const register: MmioDevice = {
 *   read: (offset) => (offset === 0 ? latch : 0),
 *   write: (offset, _size, value) => {
 *     if (offset === 0) latch = value;
 *   },
 * };
 * register.write(0, 4, 7, 0);
 * console.log(register.read(0, 4, 0)); // 7
 * ```
 */
export type MmioDevice = MmioRegion;

/**
 * Where the registry put a device: its register window and its interrupt
 * specifiers (three GIC cells per interrupt: type, number, flags).
 *
 * @example
 * ```ts
 * import type { DevicePlacement } from "@vmkit/vmm";
 *
 * const placement: DevicePlacement = { base: 0x0a00_0000, size: 0x200, interrupts: [0, 16, 1] };
 * console.log(placement.interrupts.length / 3); // 1
 * ```
 */
export interface DevicePlacement {
  /** Guest-physical base of the register window. */
  readonly base: number;
  /** Size of the window in bytes. */
  readonly size: number;
  /** GIC interrupt specifier cells, three per interrupt. */
  readonly interrupts: readonly number[];
}

/**
 * A device the registry places, maps, describes and resets.
 *
 * @example
 * ```ts
 * import type { Device } from "@vmkit/vmm";
 *
 * const scratch: Device = {
 *   read: () => 0,
 *   write: () => {},
 *   reset: () => {},
 *   describe: (parent, placement) =>
 *     parent.addNode(`scratch@${placement.base.toString(16)}`)
 *       .setString("compatible", "example,scratch")
 *       .setReg([{ address: placement.base, size: placement.size }]),
 * };
 * console.log(typeof scratch.describe); // "function"
 * ```
 */
export interface Device extends MmioDevice {
  /** Back to the power-on state (a guest reboot, `guest_restart`). */
  reset(): void;
  /** Adds the device's own node under `parent` (the tree's root) and returns it. */
  describe?(parent: FdtNode, placement: DevicePlacement): FdtNode;
}

/**
 * An interrupt input of the interrupt controller, as a device drives it.
 * The GIC's `IrqLine` is one.
 *
 * @example
 * ```ts
 * import type { InterruptLine } from "@vmkit/vmm";
 *
 * const seen: boolean[] = [];
 * const line: InterruptLine = { set: (level) => seen.push(level), pulse: () => seen.push(true) };
 * line.set(true);
 * line.set(false);
 * console.log(seen); // [ true, false ]
 * ```
 */
export interface InterruptLine {
  /** Drives the line: a level-sensitive interrupt is pending while it is high. */
  set(level: boolean): void;
  /** One edge: the interrupt becomes pending once. */
  pulse(): void;
}

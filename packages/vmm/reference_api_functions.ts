/**
 * The reference API as plain functions, acting on the VM that {@link withVm}
 * binds for the duration of a function and everything it awaits: the binding
 * belongs to that asynchronous task, so two tasks driving two VMs at once
 * never act on each other's.
 *
 * ```ts ignore
 * withVm(vm, () => {
 *   const pc = linux_setup_images(vm.ram, kernel, kernel.length, dtb, DTB_ADDR, dtb.length, initrd, INITRD_ADDR, initrd.length);
 *   virq_controller_init(GUEST_VCPU_ID);
 *   guest_start(GUEST_VCPU_ID, pc, DTB_ADDR, INITRD_ADDR);
 * });
 * ```
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { VirqAckFn } from "@vmkit/vgic";
import { VmmError } from "./errors.ts";
import type { RamStart, ReferenceApi } from "./reference_api.ts";
import type { VirtualMachine } from "./virtual_machine.ts";

// Which VM the package-level functions act on, per asynchronous task: the
// carrier is shared, the binding lives in each task's context.
const bound = new AsyncLocalStorage<VirtualMachine>();

/**
 * Runs `fn` with `vm` bound for the package-level reference functions, in
 * `fn` and everything it awaits; returns what `fn` returns. Bindings nest,
 * and concurrent tasks each see their own.
 *
 * @example
 * ```ts
 * import { guest_start, guest_stop, VirtualMachine, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using a = new VirtualMachine({ memorySize: 16 << 20 });
 * using b = new VirtualMachine({ memorySize: 16 << 20 });
 * for (const vm of [a, b]) {
 *   new DataView(vm.ram.bytes.buffer).setUint32(0, 0x14000000, true); // b . (spins)
 * }
 * const stopLater = (vm: VirtualMachine) =>
 *   withVm(vm, async () => {
 *     guest_start(0, vm.ram.base, 0, 0);
 *     await new Promise((resolve) => setTimeout(resolve, 20));
 *     guest_stop(0); // this task's VM, whatever other tasks bound meanwhile
 *   });
 * await Promise.all([stopLater(a), stopLater(b)]);
 * assert.equal((await a.exited)?.reason, "stopped");
 * assert.equal((await b.exited)?.reason, "stopped");
 * ```
 */
export function withVm<T>(vm: VirtualMachine, fn: () => T): T {
  return bound.run(vm, fn);
}

function current(name: string): ReferenceApi {
  const vm = bound.getStore();
  if (!vm) {
    throw new VmmError(
      "INVALID_STATE",
      `${name}: no VM is bound; call it inside withVm(vm, ...), or use referenceApi(vm)`,
    );
  }
  return vm.reference;
}

/**
 * {@link ReferenceApi.linux_setup_images} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import { guest_start, linux_setup_images, VirtualMachine, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // A tiny arm64 Image: its header branches past itself to code that writes "ok" to the
 * // PL011 and powers off with PSCI SYSTEM_OFF over HVC.
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(0, 0x14000010, true); // b 0x40
 * view.setBigUint64(0x10, 0x1000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * [0xd2a12001, 0x52800de0, 0x39000020, 0x52800d60, 0x39000020, 0x52800100, 0x72b08000, 0xd4000002]
 *   .forEach((word, i) => view.setUint32(0x40 + 4 * i, word, true));
 * let out = "";
 * using vm = new VirtualMachine({
 *   memorySize: 32 << 20,
 *   console: { write: (bytes) => void (out += new TextDecoder().decode(bytes)) },
 * });
 * const dtb = vm.deviceTree("console=ttyAMA0");
 * const dtbAddress = vm.ram.base + (16 << 20);
 * await withVm(vm, async () => {
 *   const pc = linux_setup_images(
 *     vm.ram,
 *     kernel,
 *     kernel.length,
 *     dtb,
 *     dtbAddress,
 *     dtb.length,
 *     null,
 *     0,
 *     0,
 *   );
 *   assert.equal(
 *     linux_setup_images(vm.ram, kernel, 16, dtb, dtbAddress, dtb.length, null, 0, 0),
 *     -1,
 *   );
 *   guest_start(0, pc, dtbAddress, 0);
 *   await vm.exited;
 * });
 * assert.equal(out, "ok");
 * ```
 */
export function linux_setup_images(
  ram_start: RamStart,
  kernel: Uint8Array,
  kernel_size: number,
  dtb_src: Uint8Array,
  dtb_dest: number,
  dtb_size: number,
  initrd_src: Uint8Array | null,
  initrd_dest: number,
  initrd_size: number,
): number {
  return current("linux_setup_images").linux_setup_images(
    ram_start,
    kernel,
    kernel_size,
    dtb_src,
    dtb_dest,
    dtb_size,
    initrd_src,
    initrd_dest,
    initrd_size,
  );
}

/**
 * {@link ReferenceApi.virq_controller_init} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { VirtualMachine, virq_controller_init, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * assert.equal(withVm(vm, () => virq_controller_init(0)), true);
 * ```
 */
export function virq_controller_init(vcpu_id: number): boolean {
  return current("virq_controller_init").virq_controller_init(vcpu_id);
}

/**
 * {@link ReferenceApi.virq_register} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import {
 *   virq_controller_init,
 *   virq_inject,
 *   virq_register,
 *   VirtualMachine,
 *   withVm,
 * } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * withVm(vm, () => {
 *   virq_controller_init(0);
 *   assert.equal(
 *     virq_register(0, 40, (cpu, irq, data) => console.log(cpu, irq, data), "acked"),
 *     true,
 *   );
 *   assert.equal(virq_inject(0, 40), true);
 * });
 * assert.equal(vm.gic.interruptState(40).pending, true);
 * ```
 */
export function virq_register(
  vcpu_id: number,
  virq: number,
  ack_fn: VirqAckFn,
  ack_data: unknown,
): boolean {
  return current("virq_register").virq_register(vcpu_id, virq, ack_fn, ack_data);
}

/**
 * {@link ReferenceApi.virq_inject} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { VirtualMachine, virq_controller_init, virq_inject, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * withVm(vm, () => {
 *   virq_controller_init(0);
 *   assert.equal(virq_inject(0, 41), false); // never registered
 * });
 * ```
 */
export function virq_inject(vcpu_id: number, irq: number): boolean {
  return current("virq_inject").virq_inject(vcpu_id, irq);
}

/**
 * {@link ReferenceApi.virq_register_passthrough} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import {
 *   VirtualMachine,
 *   virq_controller_init,
 *   virq_handle_passthrough,
 *   virq_register_passthrough,
 *   withVm,
 * } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * withVm(vm, () => {
 *   virq_controller_init(0);
 *   assert.equal(virq_register_passthrough(0, 42, 7), true); // channel 7 raises SPI INTID 42
 *   assert.equal(virq_handle_passthrough(7), true);
 * });
 * assert.equal(vm.gic.interruptState(42).pending, true);
 * ```
 */
export function virq_register_passthrough(vcpu_id: number, irq: number, channel: number): boolean {
  return current("virq_register_passthrough").virq_register_passthrough(vcpu_id, irq, channel);
}

/**
 * {@link ReferenceApi.virq_handle_passthrough} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import {
 *   virq_controller_init,
 *   virq_handle_passthrough,
 *   VirtualMachine,
 *   withVm,
 * } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * withVm(vm, () => {
 *   virq_controller_init(0);
 *   assert.equal(virq_handle_passthrough(3), false); // no IRQ routed from channel 3
 * });
 * ```
 */
export function virq_handle_passthrough(channel: number): boolean {
  return current("virq_handle_passthrough").virq_handle_passthrough(channel);
}

/**
 * {@link ReferenceApi.guest_start} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import { guest_start, linux_setup_images, VirtualMachine, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // A tiny arm64 Image: its header branches past itself to code that writes "ok" to the
 * // PL011 and powers off with PSCI SYSTEM_OFF over HVC.
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(0, 0x14000010, true); // b 0x40
 * view.setBigUint64(0x10, 0x1000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * [0xd2a12001, 0x52800de0, 0x39000020, 0x52800d60, 0x39000020, 0x52800100, 0x72b08000, 0xd4000002]
 *   .forEach((word, i) => view.setUint32(0x40 + 4 * i, word, true));
 * let out = "";
 * using vm = new VirtualMachine({
 *   memorySize: 32 << 20,
 *   console: { write: (bytes) => void (out += new TextDecoder().decode(bytes)) },
 * });
 * const dtb = vm.deviceTree("console=ttyAMA0");
 * const dtbAddress = vm.ram.base + (16 << 20);
 * const started = withVm(vm, () => {
 *   const pc = linux_setup_images(
 *     vm.ram,
 *     kernel,
 *     kernel.length,
 *     dtb,
 *     dtbAddress,
 *     dtb.length,
 *     null,
 *     0,
 *     0,
 *   );
 *   return guest_start(0, pc, dtbAddress, 0);
 * });
 * assert.equal(started, true);
 * assert.equal((await vm.exited)?.reason, "poweroff");
 * ```
 */
export function guest_start(
  boot_vcpu: number,
  kernel_pc: number,
  dtb: number,
  initrd: number,
): boolean {
  return current("guest_start").guest_start(boot_vcpu, kernel_pc, dtb, initrd);
}

/**
 * {@link ReferenceApi.guest_stop} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { guest_start, guest_stop, VirtualMachine, withVm } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * using vm = new VirtualMachine({ memorySize: 16 << 20 });
 * new DataView(vm.ram.bytes.buffer).setUint32(0, 0x14000000, true); // b . (spins)
 * withVm(vm, () => guest_start(0, vm.ram.base, 0, 0));
 * await new Promise((resolve) => setTimeout(resolve, 20)); // let it spin a while
 * withVm(vm, () => guest_stop(0));
 * assert.equal((await vm.exited)?.reason, "stopped");
 * ```
 */
export function guest_stop(boot_vcpu: number): void {
  current("guest_stop").guest_stop(boot_vcpu);
}

/**
 * {@link ReferenceApi.guest_restart} on the VM bound with {@link withVm}.
 *
 * @example
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import {
 *   guest_restart,
 *   guest_start,
 *   linux_setup_images,
 *   VirtualMachine,
 *   withVm,
 * } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * // A tiny arm64 Image: its header branches past itself to code that writes "ok" to the
 * // PL011 and powers off with PSCI SYSTEM_OFF over HVC.
 * const kernel = new Uint8Array(0x1000);
 * const view = new DataView(kernel.buffer);
 * view.setUint32(0, 0x14000010, true); // b 0x40
 * view.setBigUint64(0x10, 0x1000n, true); // image_size
 * view.setUint32(IMAGE_MAGIC_OFFSET, IMAGE_MAGIC, true);
 * [0xd2a12001, 0x52800de0, 0x39000020, 0x52800d60, 0x39000020, 0x52800100, 0x72b08000, 0xd4000002]
 *   .forEach((word, i) => view.setUint32(0x40 + 4 * i, word, true));
 * let out = "";
 * using vm = new VirtualMachine({
 *   memorySize: 32 << 20,
 *   console: { write: (bytes) => void (out += new TextDecoder().decode(bytes)) },
 * });
 * const dtb = vm.deviceTree("console=ttyAMA0");
 * const dtbAddress = vm.ram.base + (16 << 20);
 * await withVm(vm, async () => {
 *   const pc = linux_setup_images(
 *     vm.ram,
 *     kernel,
 *     kernel.length,
 *     dtb,
 *     dtbAddress,
 *     dtb.length,
 *     null,
 *     0,
 *     0,
 *   );
 *   guest_start(0, pc, dtbAddress, 0);
 *   await vm.exited;
 *   assert.equal(guest_restart(0, vm.ram, vm.ram.bytes.length), true);
 *   await vm.exited;
 * });
 * assert.equal(out, "okok");
 * ```
 */
export function guest_restart(boot_vcpu: number, ram_vaddr: RamStart, ram_size: number): boolean {
  return current("guest_restart").guest_restart(boot_vcpu, ram_vaddr, ram_size);
}

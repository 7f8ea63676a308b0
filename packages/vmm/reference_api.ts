/**
 * The classic microkernel-VMM library API, with its exact names and
 * semantics, over a {@link VirtualMachine}: code written against it ports
 * line by line.
 *
 * Two ways to use it. Bound to one VM, for code that runs several:
 *
 * ```ts ignore
 * const { linux_setup_images, virq_controller_init, guest_start } = referenceApi(vm);
 * ```
 *
 * Or as plain functions exported by this package (reference_api_functions.ts),
 * acting on the VM bound with {@link withVm} for the duration of a function
 * (and everything it awaits): the binding belongs to that asynchronous task,
 * so two tasks driving two VMs at once never act on each other's.
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

import { type GuestRam, linux_setup_images as loaderSetupImages } from "@vmkit/loader";
import type { VirqAckFn } from "@vmkit/vgic";
import { VmmError } from "./errors.ts";
import type { VirtualMachine } from "./virtual_machine.ts";

/**
 * Guest RAM as the VMM sees it: the VM's RAM view, or its guest-physical base address.
 *
 * @example
 * ```ts
 * import { type RamStart, VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const logs: string[] = [];
 * using vm = new VirtualMachine({ memorySize: 16 << 20, onLog: (line) => logs.push(line) });
 * const ramStarts: RamStart[] = [vm.ram, vm.ram.base]; // either names this VM's RAM
 * for (const ram of ramStarts) assert.equal(vm.reference.guest_restart(0, ram, 0), false);
 * assert.equal(logs.length, 2); // nothing was loaded to restart with
 * ```
 */
export type RamStart = GuestRam | number;

/**
 * The classic API, bound to one VM.
 *
 * @example
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import { type ReferenceApi, VirtualMachine } from "@vmkit/vmm";
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
 * const api: ReferenceApi = vm.reference;
 * const pc = api.linux_setup_images(
 *   vm.ram,
 *   kernel,
 *   kernel.length,
 *   dtb,
 *   dtbAddress,
 *   dtb.length,
 *   null,
 *   0,
 *   0,
 * );
 * assert.equal(api.guest_start(0, pc, dtbAddress, 0), true);
 * assert.equal((await vm.exited)?.reason, "poweroff");
 * assert.equal(out, "ok");
 * ```
 */
export interface ReferenceApi {
  /**
   * Checks that `kernel` is an arm64 Linux Image, copies it to its place in
   * guest RAM (RAM base + text_offset), copies the DTB to `dtb_dest` and the
   * initrd to `initrd_dest` (which the DTB's `/chosen` must name), and
   * returns the kernel entry point, or -1. The call is remembered:
   * {@link ReferenceApi.guest_restart} repeats the last successful one.
   */
  linux_setup_images(
    ram_start: RamStart,
    kernel: Uint8Array,
    kernel_size: number,
    dtb_src: Uint8Array,
    dtb_dest: number,
    dtb_size: number,
    initrd_src: Uint8Array | null,
    initrd_dest: number,
    initrd_size: number,
  ): number;
  /**
   * Initialises the virtual GIC: the first call (and one for the boot vCPU again) the whole
   * GIC, with `vcpu_id` as its boot vCPU; a later call for another vCPU that vCPU alone,
   * keeping every other vCPU's registrations (see `VirqController.init`).
   */
  virq_controller_init(vcpu_id: number): boolean;
  /**
   * Registers `virq` (an SGI or PPI of `vcpu_id`, or an SPI); `ack_fn(vcpu_id, irq,
   * ack_data)` runs when the guest EOIs it.
   */
  virq_register(vcpu_id: number, virq: number, ack_fn: VirqAckFn, ack_data: unknown): boolean;
  /** Injects `irq` into the vCPU (an SGI or PPI to it alone); false if unregistered or invalid. */
  virq_inject(vcpu_id: number, irq: number): boolean;
  /** Routes notifications on `channel` to `irq`; the channel is acked when the guest EOIs. */
  virq_register_passthrough(vcpu_id: number, irq: number, channel: number): boolean;
  /** An interrupt arrived on `channel`: inject its IRQ. */
  virq_handle_passthrough(channel: number): boolean;
  /**
   * Starts the guest on vCPU `boot_vcpu` at `kernel_pc` with x0 = `dtb`; every other vCPU
   * stays off until the guest turns it on with PSCI CPU_ON. It runs in the background.
   */
  guest_start(boot_vcpu: number, kernel_pc: number, dtb: number, initrd: number): boolean;
  /** Stops the guest (every vCPU). */
  guest_stop(boot_vcpu: number): void;
  /**
   * Stops the guest, clears `ram_size` bytes of RAM from `ram_vaddr`, loads
   * the images again (the last `linux_setup_images` call, so new images can
   * be set up first), resets every vCPU and the GIC, and starts again on
   * `boot_vcpu` (the others off).
   */
  guest_restart(boot_vcpu: number, ram_vaddr: RamStart, ram_size: number): boolean;
}

/**
 * The classic API bound to `vm`. Problems are reported through the VM's `onLog`.
 *
 * @example
 * ```ts
 * import { IMAGE_MAGIC, IMAGE_MAGIC_OFFSET } from "@vmkit/loader";
 * import { referenceApi, VirtualMachine } from "@vmkit/vmm";
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
 * const api = referenceApi(vm);
 * const pc = api.linux_setup_images(
 *   vm.ram,
 *   kernel,
 *   kernel.length,
 *   dtb,
 *   dtbAddress,
 *   dtb.length,
 *   null,
 *   0,
 *   0,
 * );
 * assert.equal(pc, vm.ram.base); // text_offset 0
 * api.guest_start(0, pc, dtbAddress, 0);
 * await vm.exited;
 * assert.equal(api.guest_restart(0, vm.ram, 8 << 20), true); // clears, loads again, boots again
 * assert.equal((await vm.exited)?.reason, "poweroff");
 * assert.equal(out, "okok");
 * ```
 */
export function referenceApi(vm: VirtualMachine): ReferenceApi {
  const virq = vm.virq.referenceApi();
  const log = (message: string) => vm.log(message);
  const ramBase = (ram: RamStart): number => typeof ram === "number" ? ram : ram.base;
  const checkRam = (ram: RamStart, what: string): boolean => {
    if (ramBase(ram) !== vm.ram.base) {
      log(
        `${what}: RAM start 0x${ramBase(ram).toString(16)} is not this VM's RAM (0x${
          vm.ram.base.toString(16)
        })`,
      );
      return false;
    }
    return true;
  };
  const checkVcpu = (id: number, what: string): boolean => {
    if (!Number.isInteger(id) || id < 0 || id >= vm.cpus) {
      const range = vm.cpus === 1 ? "only vCPU 0" : `vCPUs 0 to ${vm.cpus - 1}`;
      log(`${what}: vCPU ${id} does not exist (this VM has ${range})`);
      return false;
    }
    return true;
  };
  return {
    linux_setup_images(
      ram_start,
      kernel,
      kernel_size,
      dtb_src,
      dtb_dest,
      dtb_size,
      initrd_src,
      initrd_dest,
      initrd_size,
    ) {
      if (!checkRam(ram_start, "linux_setup_images")) return -1;
      const setup = () =>
        loaderSetupImages(
          vm.ram,
          kernel,
          kernel_size,
          dtb_src,
          dtb_dest,
          dtb_size,
          initrd_src ?? new Uint8Array(0),
          initrd_dest,
          initrd_src ? initrd_size : 0,
          (e) => log(`linux_setup_images: ${e.message}`),
        );
      if ((vm.running && !vm.stopping) || vm.state === "closed") {
        log(
          `linux_setup_images: ${
            vm.state === "closed" ? "the VM is closed" : "stop the guest first (guest_stop)"
          }`,
        );
        return -1;
      }
      const entry = setup();
      if (entry === -1) return -1;
      vm.installImageLoader(() => {
        const again = setup();
        if (again === -1) {
          throw new VmmError("LOAD_FAILED", "linux_setup_images failed while restarting the guest");
        }
        return { entry: again, x0: dtb_dest };
      });
      return entry;
    },
    virq_controller_init: virq.virq_controller_init,
    virq_register: virq.virq_register,
    virq_inject: virq.virq_inject,
    virq_register_passthrough: virq.virq_register_passthrough,
    virq_handle_passthrough: virq.virq_handle_passthrough,
    guest_start(boot_vcpu, kernel_pc, dtb, _initrd) {
      if (!checkVcpu(boot_vcpu, "guest_start")) return false;
      if (vm.running && !vm.stopping) {
        log("guest_start: the guest is already running");
        return false;
      }
      try {
        // Stopped but still unwinding: go on at the new entry instead.
        vm.cancelStop();
        vm.setBootCpu(boot_vcpu);
        vm.setEntry(kernel_pc, dtb);
        if (!vm.running) vm.start();
        return true;
      } catch (e) {
        log(`guest_start: ${(e as Error).message}`);
        return false;
      }
    },
    guest_stop(boot_vcpu) {
      if (!checkVcpu(boot_vcpu, "guest_stop")) return;
      vm.stop("guest_stop");
    },
    guest_restart(boot_vcpu, ram_vaddr, ram_size) {
      if (!checkVcpu(boot_vcpu, "guest_restart")) return false;
      const start = ramBase(ram_vaddr) - vm.ram.base;
      if (
        start < 0 || !Number.isSafeInteger(ram_size) || ram_size < 0 ||
        start + ram_size > vm.ram.bytes.length
      ) {
        log(`guest_restart: the range to clear is outside guest RAM`);
        return false;
      }
      try {
        vm.cancelStop();
        vm.setBootCpu(boot_vcpu);
        vm.restart({ clear: { offset: start, length: ram_size } });
        if (!vm.running) vm.start();
        return true;
      } catch (e) {
        log(`guest_restart: ${(e as Error).message}`);
        return false;
      }
    },
  };
}

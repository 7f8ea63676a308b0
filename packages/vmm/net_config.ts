/**
 * The network cards of a VM as its configuration names them, and the check of that part of
 * the configuration.
 *
 * @module
 */

import { macBytes, type NetBackend } from "@vmkit/virtio";
import { VmmError } from "./errors.ts";

/**
 * A virtio-net card of a {@link VirtualMachine}. Linux names the cards eth0, eth1, ... in
 * the order of {@link VmConfig.nets}.
 *
 * Ownership: the VM takes the backend once its constructor returns and closes it (unplugging
 * it from its switch, closing its TAP device) when the VM closes; if the constructor throws, the
 * backend stays the caller's.
 *
 * @example
 * ```ts
 * import type { NetConfig } from "@vmkit/vmm";
 *
 * // Usually a port of @vmkit/net's EthernetSwitch, or its TapBackend; here a cable to nowhere.
 * const nic: NetConfig = {
 *   backend: { attach() {}, send: () => false },
 *   mac: "52:54:00:00:00:01",
 * };
 * console.log(nic.mac); // 52:54:00:00:00:01
 * ```
 */
export interface NetConfig {
  /** Where the frames go: a port of an in-process switch, a TAP device, or any NetBackend. */
  readonly backend: NetBackend;
  /** The card's unicast MAC address. Default: a random locally-administered one. */
  readonly mac?: string | Uint8Array;
  /** The MTU the card offers the guest (68–65535). Default 1500. */
  readonly mtu?: number;
}

/**
 * Checks `nets`, which may take at most `slotsLeft` virtio-mmio slots.
 *
 * @throws {VmmError} `BAD_CONFIG` naming the card and what is wrong.
 * @example
 * ```ts
 * import { checkNets } from "@vmkit/vmm";
 *
 * try {
 *   checkNets([{ backend: { attach() {}, send: () => true }, mtu: 20 }], 30);
 * } catch (e) {
 *   console.log((e as Error).message); // net 0: mtu must be 68 to 65535, got 20
 * }
 * ```
 */
export function checkNets(
  nets: readonly NetConfig[] | undefined,
  slotsLeft: number,
): readonly NetConfig[] {
  if (nets === undefined) return [];
  if (!Array.isArray(nets)) throw new VmmError("BAD_CONFIG", "nets must be an array");
  if (nets.length > slotsLeft) {
    throw new VmmError(
      "BAD_CONFIG",
      `${nets.length} network cards do not fit: ${slotsLeft} virtio-mmio slots are left`,
    );
  }
  const seen = new Set<string>();
  nets.forEach((n, i) => {
    const b = n?.backend;
    if (typeof b?.send !== "function" || typeof b.attach !== "function") {
      throw new VmmError("BAD_CONFIG", `net ${i}: backend is not a NetBackend`);
    }
    if (n.mac !== undefined) {
      let mac: string;
      try {
        mac = macBytes(n.mac).join(":");
      } catch (e) {
        throw new VmmError("BAD_CONFIG", `net ${i}: ${(e as Error).message}`, { cause: e });
      }
      if (seen.has(mac)) {
        throw new VmmError("BAD_CONFIG", `net ${i}: its MAC address is another card's too`);
      }
      seen.add(mac);
    }
    if (n.mtu !== undefined && !(Number.isInteger(n.mtu) && n.mtu >= 68 && n.mtu <= 65535)) {
      throw new VmmError("BAD_CONFIG", `net ${i}: mtu must be 68 to 65535, got ${n.mtu}`);
    }
  });
  return [...nets];
}

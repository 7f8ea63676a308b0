/**
 * Networks for VMKit's virtual machines: an Ethernet switch that joins any number of VMs (and
 * host code) in one process, a Linux TAP device as a backend, and a host endpoint that answers
 * ARP and ping. Every piece is a `NetBackend` from `@vmkit/virtio`, what a `VirtioNet` card
 * plugs into.
 *
 * ```ts
 * import { EthernetSwitch, PingResponder } from "@vmkit/net";
 *
 * const lan = new EthernetSwitch({ name: "lan" });
 * const host = new PingResponder({ ip: "10.0.0.1", backend: lan.port("host") });
 * // Plug VMs in with `nets: [{ backend: lan.port() }]` in their VmConfig.
 * console.log(lan.ports.length, host.ip); // 1 10.0.0.1
 * ```
 *
 * @module
 */

export { NetError, type NetErrorCode } from "./errors.ts";
export {
  EthernetSwitch,
  type EthernetSwitchOptions,
  SwitchPort,
  type SwitchPortStats,
  type SwitchStats,
} from "./switch.ts";
export {
  parseIpv4,
  PingResponder,
  type PingResponderOptions,
  type PingResponderStats,
} from "./responder.ts";
export { TapBackend, type TapStats } from "./tap.ts";
// What every piece here is or talks to, so users of this package need not import @vmkit/virtio.
export type { FrameReceiver, NetBackend } from "@vmkit/virtio";

/**
 * Linux guests for the network tests: Debian's kernel with an initramfs
 * whose /init loads the virtio modules (virtio_net with failover and
 * net_failover among them), gives eth0 an address with busybox `ip`, and then
 * runs a script or a shell.
 *
 * @module
 */

import { busyboxInitramfs, type CpioEntry } from "../../scripts/_initramfs.ts";
import { initramfsModules } from "../../scripts/_kernel_modules.ts";
import { busybox, GUEST_DIR, linuxGuestProgram } from "./assets.ts";

/** The shell lines that bring eth0 up with `address` (CIDR, e.g. 10.0.0.1/24). */
export function ethUp(address: string): string {
  return `ip link set lo up
ip addr add ${address} dev eth0
ip link set eth0 up
`;
}

/** What a network guest's initramfs holds beyond busybox and the modules. */
export interface NetGuestOptions {
  /** eth0's address, CIDR; none: eth0 stays down. */
  readonly address?: string;
  /** Shell lines /init runs after the network is up (then a shell, unless they power off). */
  readonly script?: string;
  /** More files. */
  readonly files?: readonly CpioEntry[];
  /** Static programs from guests/linux to put in /bin (`make -C guests`). */
  readonly programs?: readonly string[];
}

/** The initramfs; the kernel, busybox and modules must be present (assert their assets first). */
export async function netInitramfs(options: NetGuestOptions = {}): Promise<Uint8Array> {
  const programs = await Promise.all((options.programs ?? []).map(async (name) => ({
    type: "file" as const,
    path: `bin/${name}`,
    data: await Deno.readFile(linuxGuestProgram(name).path),
    mode: 0o755,
  })));
  return busyboxInitramfs(
    await Deno.readFile(busybox().path),
    (options.address ? ethUp(options.address) : "") + (options.script ?? ""),
    [...programs, ...(options.files ?? [])],
    await initramfsModules(GUEST_DIR),
  );
}

/**
 * A shell function the scripts use to read the kernel's clock (nanoseconds,
 * from /proc/timer_list, with shell builtins only, so no process starts in
 * between): `stamp` sets $T.
 */
export const STAMP = "stamp() { { read -r _; read -r _; read -r _ _ T _; } < /proc/timer_list; }";

/**
 * A Linux TAP device as a {@link NetBackend}: frames the guest sends come out of the TAP
 * interface into the host's network stack (in whatever network namespace the process is),
 * and frames the host sends to the interface go to the guest.
 *
 * The device is opened through `/dev/net/tun` with the `TUNSETIFF` ioctl (`IFF_TAP |
 * IFF_NO_PI`: plain Ethernet frames, no packet-information prefix), all through `Deno.dlopen`
 * of the C library. Creating a TAP interface, or attaching to one, needs CAP_NET_ADMIN (root);
 * without it {@link TapBackend.open} fails with `PERMISSION_DENIED` and a message saying what
 * to do. An interface created beforehand for the user (`ip tuntap add dev NAME mode tap user
 * USER`) needs no capability.
 *
 * Receiving: a `poll()` on one of Deno's worker threads waits for the interface (and for an
 * eventfd that {@link TapBackend.close} signals), and the frames are read on the main thread
 * from the event loop, at most 64 per wake-up, into one reused buffer. Sending writes the frame
 * at once; the kernel never blocks a TAP write.
 *
 * @module
 */

import type { FrameReceiver, NetBackend } from "@vmkit/virtio";
import {
  cString,
  EACCES,
  EAGAIN,
  EBUSY,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINTR,
  EINVAL,
  ENODEV,
  ENOENT,
  EPERM,
  errno,
  IFF_NO_PI,
  IFF_TAP,
  IFNAMSIZ,
  IFREQ_SIZE,
  type Libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  openLibc,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  TUNSETIFF,
} from "./_libc.ts";
import { NetError } from "./errors.ts";

/** A TAP interface delivers frames up to its MTU plus headers; 64 KiB covers any MTU. */
const READ_BUFFER = 65536 + 18;
const FRAMES_PER_WAKE = 64;

/**
 * Counters of a {@link TapBackend}.
 *
 * @example
 * ```ts
 * import type { TapStats } from "@vmkit/net";
 *
 * const stats: TapStats = { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: 0, txBytes: 0, txErrors: 0 };
 * console.log(stats.txErrors); // 0
 * ```
 */
export interface TapStats {
  /** Frames read from the interface and handed to the guest's device. */
  rxFrames: number;
  /** Their bytes. */
  rxBytes: number;
  /** Frames read that the device did not take (or read before a device was attached). */
  rxDropped: number;
  /** Frames written to the interface. */
  txFrames: number;
  /** Their bytes. */
  txBytes: number;
  /** Writes that failed or were short. */
  txErrors: number;
}

/**
 * A TAP interface (see the module docs).
 *
 * @example
 * ```ts ignore
 * import { TapBackend } from "@vmkit/net";
 * import { VirtualMachine } from "@vmkit/vmm";
 *
 * const tap = TapBackend.open("tap0"); // needs CAP_NET_ADMIN unless tap0 is yours
 * using vm = new VirtualMachine({ nets: [{ backend: tap }] });
 * ```
 */
export class TapBackend implements NetBackend {
  /** The interface's name, as the kernel reports it. */
  readonly name: string;
  /** Counters. */
  readonly stats: TapStats = {
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    txFrames: 0,
    txBytes: 0,
    txErrors: 0,
  };
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #buffer = new Uint8Array(READ_BUFFER);
  readonly #pollFds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollFds.buffer);
  readonly #one = new Uint8Array(8);
  #receiver: FrameReceiver | null = null;
  #closed = false;
  #loop: Promise<void> | null = null;
  #error: string | null = null;

  private constructor(libc: Libc, fd: number, wakeFd: number, name: string) {
    this.#libc = libc;
    this.#fd = fd;
    this.#wakeFd = wakeFd;
    this.name = name;
    this.#pollView.setInt32(0, fd, true);
    this.#pollView.setInt16(4, POLLIN, true);
    this.#pollView.setInt32(8, wakeFd, true);
    this.#pollView.setInt16(12, POLLIN, true);
    new DataView(this.#one.buffer).setBigUint64(0, 1n, true);
  }

  /**
   * Opens (creating it if needed) the TAP interface `name`.
   *
   * @throws {NetError} `PERMISSION_DENIED` without CAP_NET_ADMIN; `INVALID_ARGUMENT` for a
   *   name that is not an interface name; `UNSUPPORTED` off Linux; `TAP_FAILED` otherwise
   *   (no /dev/net/tun, the interface busy or not a TAP device), the message saying which
   */
  static open(name: string): TapBackend {
    if (Deno.build.os !== "linux") {
      throw new NetError("UNSUPPORTED", `TAP devices exist on Linux only, not on ${Deno.build.os}`);
    }
    const bytes = new TextEncoder().encode(typeof name === "string" ? name : "");
    if (bytes.length === 0 || bytes.length >= IFNAMSIZ || /[\s/:\0]/.test(name)) {
      throw new NetError(
        "INVALID_ARGUMENT",
        `${JSON.stringify(name)} is not an interface name (1 to 15 bytes, no spaces, / or :)`,
      );
    }
    let libc: Libc;
    try {
      libc = openLibc();
    } catch (e) {
      throw new NetError("TAP_FAILED", `cannot load the C library: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const what = `the TAP device ${JSON.stringify(name)}`;
    const fd = libc.symbols.open(cString("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const e = errno(libc);
      libc.close();
      if (e === ENOENT || e === ENODEV) {
        throw new NetError(
          "TAP_FAILED",
          `cannot open ${what}: /dev/net/tun does not exist (load the tun module: sudo modprobe tun)`,
        );
      }
      if (e === EACCES || e === EPERM) {
        throw new NetError(
          "PERMISSION_DENIED",
          `cannot open ${what}: /dev/net/tun is not readable and writable by this user`,
        );
      }
      throw new NetError("TAP_FAILED", `cannot open ${what}: /dev/net/tun: errno ${e}`);
    }
    const ifreq = new Uint8Array(IFREQ_SIZE);
    ifreq.set(bytes);
    new DataView(ifreq.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
    if (libc.symbols.ioctl(fd, BigInt(TUNSETIFF), ifreq) < 0) {
      const e = errno(libc);
      libc.symbols.close(fd);
      libc.close();
      if (e === EPERM || e === EACCES) {
        throw new NetError(
          "PERMISSION_DENIED",
          `cannot open ${what}: it needs CAP_NET_ADMIN (run as root, or create it for your ` +
            `user first: sudo ip tuntap add dev ${name} mode tap user $USER)`,
        );
      }
      if (e === EBUSY) {
        throw new NetError("TAP_FAILED", `cannot open ${what}: another process has it open`);
      }
      if (e === EINVAL) {
        throw new NetError(
          "TAP_FAILED",
          `cannot open ${what}: an interface of that name exists and is not a TAP device`,
        );
      }
      throw new NetError("TAP_FAILED", `cannot open ${what}: TUNSETIFF failed with errno ${e}`);
    }
    const wakeFd = libc.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) {
      const e = errno(libc);
      libc.symbols.close(fd);
      libc.close();
      throw new NetError("TAP_FAILED", `cannot open ${what}: eventfd failed with errno ${e}`);
    }
    const end = ifreq.indexOf(0);
    const actual = new TextDecoder().decode(ifreq.subarray(0, end < 0 ? IFNAMSIZ : end));
    return new TapBackend(libc, fd, wakeFd, actual);
  }

  /** Whether the backend was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why reading stopped early, if it did (the interface went away). */
  get error(): string | null {
    return this.#error;
  }

  /**
   * Frames from the interface go to `receiver` from now on; reading starts.
   *
   * @throws {NetError} `INVALID_STATE` when a receiver is attached already or the backend is
   *   closed
   */
  attach(receiver: FrameReceiver): void {
    if (typeof receiver?.receive !== "function") {
      throw new NetError("INVALID_ARGUMENT", "a receiver needs a receive(frame) method");
    }
    if (this.#closed) throw new NetError("INVALID_STATE", `${this.name} is closed`);
    if (this.#receiver !== null) {
      throw new NetError("INVALID_STATE", `${this.name} has a receiver already`);
    }
    this.#receiver = receiver;
    this.#loop = this.#read();
  }

  /** Writes one frame to the interface; false when the kernel did not take it whole. */
  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    const n = Number(this.#libc.symbols.write(this.#fd, frame, BigInt(frame.length)));
    if (n !== frame.length) {
      this.stats.txErrors++;
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += n;
    return true;
  }

  /**
   * Stops reading and closes the interface (a TAP interface the process created disappears
   * with it). Idempotent. Resolves once the reader has let go of the descriptors.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#loop ?? Promise.resolve();
    this.#closed = true;
    if (this.#loop === null) {
      this.#release();
      return Promise.resolve();
    }
    // Ends the poll() waiting on the worker thread; the reader closes the descriptors then.
    this.#libc.symbols.write(this.#wakeFd, this.#one, 8n);
    return this.#loop;
  }

  #release(): void {
    this.#libc.symbols.close(this.#fd);
    this.#libc.symbols.close(this.#wakeFd);
    this.#libc.close();
  }

  async #read(): Promise<void> {
    const libc = this.#libc;
    const view = this.#pollView;
    const buffer = this.#buffer;
    try {
      while (!this.#closed) {
        view.setInt16(6, 0, true);
        view.setInt16(14, 0, true);
        const ready = await libc.symbols.poll(this.#pollFds, 2n, -1);
        if (this.#closed) return;
        if (ready < 0) continue; // EINTR: a signal arrived
        const events = view.getInt16(6, true);
        if ((events & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
          this.#error = `${this.name}: the interface reported an error; no more frames from it`;
          return;
        }
        if ((events & POLLIN) === 0) continue;
        for (let i = 0; i < FRAMES_PER_WAKE; i++) {
          const n = Number(libc.symbols.read(this.#fd, buffer, BigInt(buffer.length)));
          if (n < 0) {
            const e = errno(libc);
            if (e === EAGAIN || e === EINTR) break;
            this.#error = `${this.name}: reading failed with errno ${e}; no more frames from it`;
            return;
          }
          if (n === 0) break;
          this.#deliver(buffer.subarray(0, n));
        }
      }
    } finally {
      // Also when the interface failed: nothing may write to a descriptor number that is free.
      this.#closed = true;
      this.#release();
    }
  }

  #deliver(frame: Uint8Array): void {
    let taken = false;
    try {
      taken = this.#receiver?.receive(frame) === true;
    } catch {
      // A receiver that throws loses the frame, not the reader.
    }
    if (taken) {
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
    } else {
      this.stats.rxDropped++;
    }
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    void this.close();
  }
}

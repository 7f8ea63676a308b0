/**
 * An Ethernet switch in the process: a learning bridge with any number of ports. Each port is
 * a {@link NetBackend}, so a VM's network card plugs into one, and so does host code — an
 * endpoint that answers pings, captures frames for a test, or bridges somewhere else.
 *
 * Forwarding is the classic one: the source address of every frame is learned on the port it
 * came in on; a frame to a learned unicast address goes out on that port only (or nowhere, if
 * that is where it came from); broadcast, multicast and unknown unicast go out on every other
 * port. The table holds at most `macTableSize` addresses (the oldest learned goes first) and
 * forgets an address `agingMs` after it was last seen.
 *
 * Frames are delivered synchronously, inside the sender's `send()`: from one VM's transmission
 * straight into the other VM's receive buffers, with one copy on each side and nothing
 * allocated per frame. A receiver that has no room drops the frame (and counts it); the switch
 * never queues, so a VM that floods the switch costs the others nothing but the frames it sends
 * them. A receiver that answers inside `receive()` (host code replying at once) may send again:
 * such nesting is allowed 8 deep, beyond which frames are dropped and counted as loops.
 *
 * @module
 */

import type { FrameReceiver, NetBackend } from "@vmkit/virtio";
import { macKey, MacTable } from "./_mac_table.ts";
import { NetError } from "./errors.ts";

/** The shortest frame: an Ethernet header. */
const MIN_FRAME = 14;
/** The longest: a 65535-byte MTU with the Ethernet header and a VLAN tag. */
const MAX_FRAME = 65535 + 18;
const MAX_DEPTH = 8;

/**
 * Options for an {@link EthernetSwitch}.
 *
 * @example
 * ```ts
 * import { EthernetSwitch, type EthernetSwitchOptions } from "@vmkit/net";
 *
 * const options: EthernetSwitchOptions = { name: "lan", macTableSize: 256 };
 * console.log(new EthernetSwitch(options).name); // lan
 * ```
 */
export interface EthernetSwitchOptions {
  /** For messages and listings; default `switch`. */
  readonly name?: string;
  /** The most addresses learned at once (1–1048576); default 4096. */
  readonly macTableSize?: number;
  /** Milliseconds an address stays learned without traffic from it; default 300000 (5 min). */
  readonly agingMs?: number;
}

/**
 * Counters of an {@link EthernetSwitch}.
 *
 * @example
 * ```ts
 * import { EthernetSwitch } from "@vmkit/net";
 *
 * const sw = new EthernetSwitch();
 * sw.port().send(new Uint8Array(10)); // shorter than an Ethernet header
 * console.log(sw.stats.malformed); // 1
 * ```
 */
export interface SwitchStats {
  /** Frames that entered the switch. */
  frames: number;
  /** Frames sent to the one port their destination was learned on. */
  forwarded: number;
  /** Frames sent to every other port (broadcast, multicast, unknown destination). */
  flooded: number;
  /** Frames whose destination lives on the port they came from: not sent anywhere. */
  filtered: number;
  /** Frames shorter than an Ethernet header or longer than 65553 bytes: dropped. */
  malformed: number;
  /** Frames dropped because receivers answering inside receive() nested too deep. */
  loops: number;
  /** Learned addresses forgotten because the table was full. */
  evictions: number;
}

/**
 * Counters of one {@link SwitchPort}. "In" is from the endpoint into the switch, "out" from the
 * switch to the endpoint.
 *
 * @example
 * ```ts
 * import { EthernetSwitch } from "@vmkit/net";
 *
 * console.log(new EthernetSwitch().port().stats.outDropped); // 0
 * ```
 */
export interface SwitchPortStats {
  /** Frames the endpoint sent into the switch. */
  inFrames: number;
  /** Their bytes. */
  inBytes: number;
  /** Frames handed to the endpoint. */
  outFrames: number;
  /** Their bytes. */
  outBytes: number;
  /** Frames for the endpoint it did not take (no room, no receiver, it threw). */
  outDropped: number;
}

/**
 * One port of an {@link EthernetSwitch}: a {@link NetBackend} to plug a network card (or host
 * code) into.
 *
 * @example
 * ```ts
 * import { EthernetSwitch } from "@vmkit/net";
 *
 * const sw = new EthernetSwitch();
 * const a = sw.port("a"), b = sw.port("b");
 * b.attach({ receive: (f) => (console.log(`b got ${f.length} bytes`), true) });
 * a.send(new Uint8Array(60).fill(0xff, 0, 6)); // b got 60 bytes
 * ```
 */
export class SwitchPort implements NetBackend {
  /** For messages and listings. */
  readonly name: string;
  /** Counters. */
  readonly stats: SwitchPortStats = {
    inFrames: 0,
    inBytes: 0,
    outFrames: 0,
    outBytes: 0,
    outDropped: 0,
  };
  readonly #switch: EthernetSwitch;
  readonly #forward: (port: SwitchPort, frame: Uint8Array) => boolean;
  #receiver: FrameReceiver | null = null;
  #closed = false;

  /** Ports come from {@link EthernetSwitch.port}. */
  constructor(
    owner: EthernetSwitch,
    name: string,
    forward: (port: SwitchPort, frame: Uint8Array) => boolean,
  ) {
    this.#switch = owner;
    this.name = name;
    this.#forward = forward;
  }

  /** The switch this port belongs to. */
  get switch(): EthernetSwitch {
    return this.#switch;
  }

  /** Whether the port was closed (unplugged from its switch). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Frames for this port go to `receiver` from now on.
   *
   * @throws {NetError} `INVALID_STATE` when a receiver is attached already or the port is
   *   closed; `INVALID_ARGUMENT` for something without `receive()`
   */
  attach(receiver: FrameReceiver): void {
    if (typeof receiver?.receive !== "function") {
      throw new NetError("INVALID_ARGUMENT", "a receiver needs a receive(frame) method");
    }
    if (this.#closed) throw new NetError("INVALID_STATE", `port ${this.name} is closed`);
    if (this.#receiver !== null) {
      throw new NetError("INVALID_STATE", `port ${this.name} has a receiver already`);
    }
    this.#receiver = receiver;
  }

  /**
   * A frame from the endpoint into the switch. Returns false when the switch dropped it
   * (malformed, the port closed); true once it was switched, whether or not anyone took it.
   */
  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    this.stats.inFrames++;
    this.stats.inBytes += frame.length;
    return this.#forward(this, frame);
  }

  /** Hands a switched frame to the endpoint (the switch calls this). */
  deliver(frame: Uint8Array): void {
    const r = this.#receiver;
    let taken = false;
    if (r !== null) {
      try {
        taken = r.receive(frame) !== false;
      } catch {
        // Host code that throws loses the frame, not the switch.
      }
    }
    if (taken) {
      this.stats.outFrames++;
      this.stats.outBytes += frame.length;
    } else {
      this.stats.outDropped++;
    }
  }

  /** Unplugs the port: it leaves the switch and forgets its addresses. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver = null;
    this.#switch.remove(this);
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A learning Ethernet bridge between ports in this process (see the module docs).
 *
 * @example
 * ```ts
 * import { EthernetSwitch } from "@vmkit/net";
 *
 * const sw = new EthernetSwitch({ name: "lan" });
 * const seen: string[] = [];
 * const a = sw.port("a"), b = sw.port("b"), c = sw.port("c");
 * for (const p of [a, b, c]) p.attach({ receive: () => (seen.push(p.name), true) });
 * const frame = (dst: number, src: number) => new Uint8Array(60).fill(dst, 0, 6).fill(src, 6, 12);
 * a.send(frame(0x02, 0x0a)); // to 02:02:02:02:02:02, not learned yet: flooded to b and c
 * b.send(frame(0x0a, 0x02)); // to a's address, learned on a: only a
 * console.log(seen); // [ "b", "c", "a" ]
 * ```
 */
export class EthernetSwitch {
  /** For messages and listings. */
  readonly name: string;
  /** Counters. */
  readonly stats: SwitchStats = {
    frames: 0,
    forwarded: 0,
    flooded: 0,
    filtered: 0,
    malformed: 0,
    loops: 0,
    evictions: 0,
  };
  readonly #ports: SwitchPort[] = [];
  readonly #table: MacTable<SwitchPort>;
  readonly #forward = (from: SwitchPort, frame: Uint8Array) => this.#switch(from, frame);
  #depth = 0;
  #nextPort = 0;

  /**
   * Creates a switch with no ports.
   *
   * @throws {NetError} `INVALID_ARGUMENT` for a table size or aging time out of range
   */
  constructor(options: EthernetSwitchOptions = {}) {
    const size = options.macTableSize ?? 4096;
    if (!Number.isInteger(size) || size < 1 || size > 1 << 20) {
      throw new NetError("INVALID_ARGUMENT", `MAC table size ${size} is not 1 to 1048576`);
    }
    const aging = options.agingMs ?? 300_000;
    if (!(aging > 0)) {
      throw new NetError("INVALID_ARGUMENT", `aging time ${aging} ms is not a positive number`);
    }
    this.name = options.name ?? "switch";
    this.#table = new MacTable(size, aging);
  }

  /** The open ports, in the order they were made. */
  get ports(): readonly SwitchPort[] {
    return this.#ports;
  }

  /** A new port; plug a network card or host code into it. */
  port(name?: string): SwitchPort {
    const port = new SwitchPort(this, name ?? `${this.name}.${this.#nextPort}`, this.#forward);
    this.#nextPort++;
    this.#ports.push(port);
    return port;
  }

  /** A new port with `receiver` attached: host code's way in (it sends with `port.send()`). */
  connect(receiver: FrameReceiver, name?: string): SwitchPort {
    const port = this.port(name);
    try {
      port.attach(receiver);
    } catch (e) {
      port.close();
      throw e;
    }
    return port;
  }

  /** The port `mac` was last seen on, if it is learned. */
  lookup(mac: Uint8Array): SwitchPort | undefined {
    if (!(mac instanceof Uint8Array) || mac.length !== 6) {
      throw new NetError("INVALID_ARGUMENT", "a MAC address is 6 bytes");
    }
    return this.#table.lookup(macKey(mac, 0), performance.now());
  }

  /** Takes `port` out of the switch and forgets its addresses (its `close()` calls this). */
  remove(port: SwitchPort): void {
    const i = this.#ports.indexOf(port);
    if (i >= 0) this.#ports.splice(i, 1);
    this.#table.forget(port);
  }

  /** Closes every port. */
  close(): void {
    for (const p of [...this.#ports]) p.close();
  }

  #switch(from: SwitchPort, frame: Uint8Array): boolean {
    const n = frame.length;
    if (!(n >= MIN_FRAME) || n > MAX_FRAME) {
      this.stats.malformed++;
      return false;
    }
    if (this.#depth >= MAX_DEPTH) {
      this.stats.loops++;
      return false;
    }
    this.stats.frames++;
    this.#depth++;
    try {
      const now = performance.now();
      // A multicast source is not an address anyone owns.
      if ((frame[6] & 1) === 0) this.#table.learn(macKey(frame, 6), from, now);
      this.stats.evictions = this.#table.evictions;
      const to = (frame[0] & 1) === 0 ? this.#table.lookup(macKey(frame, 0), now) : undefined;
      if (to === from) {
        this.stats.filtered++;
      } else if (to !== undefined) {
        this.stats.forwarded++;
        to.deliver(frame);
      } else {
        this.stats.flooded++;
        const ports = this.#ports;
        // Indexed rather than iterated, so nothing is allocated per frame; a receiver that
        // closes a port from inside receive() may make this frame miss one other port.
        for (let i = 0; i < ports.length; i++) {
          const p = ports[i];
          if (p !== from) p.deliver(frame);
        }
      }
    } finally {
      this.#depth--;
    }
    return true;
  }
}

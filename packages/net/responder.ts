/**
 * A host endpoint that answers ARP requests and ICMP echo requests (ping) for one IPv4
 * address: the smallest thing a guest can talk to, written in TypeScript, on a switch port or
 * any other {@link NetBackend}. Everything else it receives is counted and ignored.
 *
 * Every field of a request is checked before it is used (lengths, the IPv4 header checksum,
 * fragments); a malformed request gets no answer. Answers are built in one reused buffer, so
 * answering allocates nothing.
 *
 * @module
 */

import { type FrameReceiver, macBytes, type NetBackend, randomMac } from "@vmkit/virtio";
import { NetError } from "./errors.ts";

const ETH_HLEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ARP_LEN = 28;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const MAX_FRAME = 65535 + 18;

/**
 * Parses dotted-quad IPv4 text into 4 bytes.
 *
 * @throws {NetError} `INVALID_ARGUMENT` naming the text when it is not an IPv4 address
 *
 * @example
 * ```ts
 * import { parseIpv4 } from "@vmkit/net";
 *
 * console.log(parseIpv4("10.0.0.1")); // Uint8Array(4) [ 10, 0, 0, 1 ]
 * ```
 */
export function parseIpv4(text: string): Uint8Array {
  const parts = typeof text === "string" ? text.split(".") : [];
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) {
    throw new NetError("INVALID_ARGUMENT", `${JSON.stringify(text)} is not an IPv4 address`);
  }
  return Uint8Array.from(parts, Number);
}

/**
 * Options for a {@link PingResponder}.
 *
 * @example
 * ```ts
 * import { EthernetSwitch, type PingResponderOptions } from "@vmkit/net";
 *
 * const options: PingResponderOptions = { ip: "10.0.0.1", backend: new EthernetSwitch().port() };
 * console.log(options.ip); // 10.0.0.1
 * ```
 */
export interface PingResponderOptions {
  /** The IPv4 address it answers for. */
  readonly ip: string;
  /** Its MAC address; default a random locally-administered one. */
  readonly mac?: string | Uint8Array;
  /** Where it listens and answers: typically a switch port. It attaches itself. */
  readonly backend: NetBackend;
}

/**
 * Counters of a {@link PingResponder}.
 *
 * @example
 * ```ts
 * import { EthernetSwitch, PingResponder } from "@vmkit/net";
 *
 * const host = new PingResponder({ ip: "10.0.0.1", backend: new EthernetSwitch().port() });
 * console.log(host.stats.echoReplies); // 0
 * ```
 */
export interface PingResponderStats {
  /** ARP requests for its address answered. */
  arpReplies: number;
  /** Echo requests answered. */
  echoReplies: number;
  /** Frames for someone else, of other kinds, or malformed: no answer. */
  ignored: number;
  /** Answers the backend refused. */
  sendFailures: number;
}

/**
 * Answers ARP and ping for one IPv4 address (see the module docs).
 *
 * @example
 * ```ts
 * import { EthernetSwitch, PingResponder } from "@vmkit/net";
 *
 * const sw = new EthernetSwitch();
 * const host = new PingResponder({ ip: "10.0.0.1", mac: "02:00:00:00:00:01", backend: sw.port() });
 * const answers: Uint8Array[] = [];
 * const guest = sw.connect({ receive: (f) => (answers.push(f.slice()), true) });
 * // Who has 10.0.0.1? Tell 10.0.0.2 (at 02:00:00:00:00:02).
 * const request = new Uint8Array(42);
 * request.set([255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 2, 0x08, 0x06]);
 * request.set([0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 0, 0, 2], 14);
 * request.set([0, 0, 0, 0, 0, 0, 10, 0, 0, 1], 32);
 * guest.send(request);
 * console.log(answers.length, answers[0].subarray(22, 28).join(":")); // 1 2:0:0:0:0:1
 * console.log(host.stats.arpReplies); // 1
 * ```
 */
export class PingResponder implements FrameReceiver {
  /** The address it answers for. */
  readonly ip: string;
  /** Its MAC address. */
  readonly mac: Uint8Array;
  /** Counters. */
  readonly stats: PingResponderStats = {
    arpReplies: 0,
    echoReplies: 0,
    ignored: 0,
    sendFailures: 0,
  };
  readonly #ip: Uint8Array;
  readonly #backend: NetBackend;
  readonly #out = new Uint8Array(MAX_FRAME);
  readonly #outView = new DataView(this.#out.buffer);

  /**
   * Creates the responder and attaches it to `options.backend`.
   *
   * @throws {NetError} `INVALID_ARGUMENT` for a bad address or backend
   */
  constructor(options: PingResponderOptions) {
    this.#ip = parseIpv4(options?.ip);
    if (typeof options.backend?.attach !== "function") {
      throw new NetError("INVALID_ARGUMENT", "backend must be a NetBackend");
    }
    try {
      this.mac = options.mac === undefined ? randomMac() : macBytes(options.mac);
    } catch (e) {
      throw new NetError("INVALID_ARGUMENT", (e as Error).message, { cause: e });
    }
    this.ip = options.ip;
    this.#backend = options.backend;
    this.#backend.attach(this);
  }

  /** Looks at one frame and answers it if it is an ARP or echo request for this address. */
  receive(frame: Uint8Array): boolean {
    if (frame.length >= ETH_HLEN) {
      const type = (frame[12] << 8) | frame[13];
      if (type === ETHERTYPE_ARP && this.#arp(frame)) return true;
      if (type === ETHERTYPE_IPV4 && this.#echo(frame)) return true;
    }
    this.stats.ignored++;
    return true;
  }

  /** Stops answering: closes the backend. */
  close(): void {
    this.#backend.close?.();
  }

  #isOurs(frame: Uint8Array, at: number): boolean {
    const ip = this.#ip;
    return frame[at] === ip[0] && frame[at + 1] === ip[1] && frame[at + 2] === ip[2] &&
      frame[at + 3] === ip[3];
  }

  #arp(f: Uint8Array): boolean {
    const a = ETH_HLEN;
    if (f.length < a + ARP_LEN) return false;
    // Ethernet/IPv4, 6-byte and 4-byte addresses, a request, for our address.
    if (f[a] !== 0 || f[a + 1] !== 1 || f[a + 2] !== 8 || f[a + 3] !== 0) return false;
    if (f[a + 4] !== 6 || f[a + 5] !== 4 || f[a + 6] !== 0 || f[a + 7] !== 1) return false;
    if (!this.#isOurs(f, a + 24)) return false;
    const o = this.#out;
    o.set(f.subarray(a + 8, a + 14), 0); // to the requester
    o.set(this.mac, 6);
    o[12] = 0x08;
    o[13] = 0x06;
    o.set(f.subarray(a, a + 6), a); // htype, ptype, hlen, plen
    o[a + 6] = 0;
    o[a + 7] = 2; // reply
    o.set(this.mac, a + 8);
    o.set(this.#ip, a + 14);
    o.set(f.subarray(a + 8, a + 18), a + 18); // the requester's MAC and IP
    this.#send(a + ARP_LEN) ? this.stats.arpReplies++ : this.stats.sendFailures++;
    return true;
  }

  #echo(f: Uint8Array): boolean {
    const ip = ETH_HLEN;
    if (f.length < ip + 20 || f[ip] >> 4 !== 4) return false;
    const ihl = (f[ip] & 0xf) * 4;
    const total = (f[ip + 2] << 8) | f[ip + 3];
    if (ihl < 20 || total < ihl + 8 || ip + total > f.length) return false;
    // Fragments and other protocols are not for us; the header must check.
    if (((f[ip + 6] & 0x3f) | f[ip + 7]) !== 0 || f[ip + 9] !== 1) return false;
    if (!this.#isOurs(f, ip + 16) || sum(f, ip, ip + ihl) !== 0xffff) return false;
    const icmp = ip + ihl;
    if (f[icmp] !== ICMP_ECHO_REQUEST || f[icmp + 1] !== 0) return false;
    if (sum(f, icmp, ip + total) !== 0xffff) return false;
    const o = this.#out;
    const v = this.#outView;
    o.set(f.subarray(6, 12), 0);
    o.set(this.mac, 6);
    o[12] = 0x08;
    o[13] = 0x00;
    // A fresh 20-byte header (options are not echoed), our address as the source.
    o.set(f.subarray(ip, ip + 12), ip);
    o[ip] = 0x45;
    o[ip + 6] = o[ip + 7] = 0;
    o[ip + 8] = 64;
    o.set(this.#ip, ip + 12);
    o.set(f.subarray(ip + 12, ip + 16), ip + 16);
    const length = total - ihl;
    v.setUint16(ip + 2, 20 + length);
    v.setUint16(ip + 10, 0);
    v.setUint16(ip + 10, ~sum(o, ip, ip + 20) & 0xffff);
    const reply = ip + 20;
    o.set(f.subarray(icmp, icmp + length), reply);
    o[reply] = ICMP_ECHO_REPLY;
    v.setUint16(reply + 2, 0);
    v.setUint16(reply + 2, ~sum(o, reply, reply + length) & 0xffff);
    this.#send(reply + length) ? this.stats.echoReplies++ : this.stats.sendFailures++;
    return true;
  }

  #send(length: number): boolean {
    try {
      return this.#backend.send(this.#out.subarray(0, length));
    } catch {
      return false;
    }
  }
}

/** The folded ones'-complement sum of `bytes[start, end)` (0xffff when a checksum verifies). */
function sum(bytes: Uint8Array, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) s += bytes[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

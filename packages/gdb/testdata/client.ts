/**
 * A strict packet-level client for session tests: it frames what it sends, and parses
 * everything the stub sends back, failing on any frame that is not well-formed (bad checksum,
 * broken run-length encoding, bytes outside frames).
 */

import { checksum, rleDecode } from "../_framing.ts";
import { hexByte } from "../_hex.ts";
import { GdbSession } from "../mod.ts";
import type { DebugTarget } from "../mod.ts";

/** One unit the stub sent: an acknowledgement or a packet's decoded payload. */
export type Token = "+" | "-" | { payload: string };

/** Parses a stub's output into tokens; throws on anything malformed. */
export function parseOutput(bytes: Uint8Array): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === 0x2b || c === 0x2d) {
      out.push(c === 0x2b ? "+" : "-");
      i++;
      continue;
    }
    if (c !== 0x24) throw new Error(`stub sent byte 0x${c.toString(16)} outside a packet at ${i}`);
    const hash = bytes.indexOf(0x23, i + 1);
    if (hash < 0 || hash + 2 >= bytes.length) throw new Error("stub sent an unterminated packet");
    const body = bytes.subarray(i + 1, hash);
    if (body.includes(0x24)) throw new Error("stub sent a raw $ inside a packet");
    const sum = String.fromCharCode(bytes[hash + 1], bytes[hash + 2]);
    if (sum !== hexByte(checksum(body))) {
      throw new Error(`stub sent checksum ${sum}, body sums to ${hexByte(checksum(body))}`);
    }
    const payload = rleDecode(body, 1 << 24);
    if (payload === undefined) throw new Error("stub sent broken run-length encoding");
    let text = "";
    for (const b of payload) text += String.fromCharCode(b);
    out.push({ payload: text });
    i = hash + 3;
  }
  return out;
}

/** `$payload#xx` for a payload written as a string of 8-bit char codes. */
export function frame(payload: string): Uint8Array {
  const body = Uint8Array.from(payload, (c) => c.charCodeAt(0));
  const out = new Uint8Array(body.length + 4);
  out[0] = 0x24;
  out.set(body, 1);
  const sum = hexByte(checksum(body));
  out[body.length + 1] = 0x23;
  out[body.length + 2] = sum.charCodeAt(0);
  out[body.length + 3] = sum.charCodeAt(1);
  return out;
}

export function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A session with a client attached to it in memory. */
export class PacketClient {
  readonly session: GdbSession;
  readonly logs: string[] = [];
  #output: number[] = [];
  #read = 0;

  constructor(target: DebugTarget) {
    this.session = new GdbSession(target, {
      write: (b) => void this.#output.push(...b),
      log: (m) => void this.logs.push(m),
    });
  }

  static async connect(target: DebugTarget): Promise<PacketClient> {
    const client = new PacketClient(target);
    await client.session.start();
    return client;
  }

  /** Everything sent since the last call, parsed. */
  take(): Token[] {
    const fresh = Uint8Array.from(this.#output.slice(this.#read));
    this.#read = this.#output.length;
    return parseOutput(fresh);
  }

  /** All output so far, raw. */
  get output(): Uint8Array {
    return Uint8Array.from(this.#output);
  }

  /** Feeds raw bytes and returns what came back. */
  async raw(data: Uint8Array | string): Promise<Token[]> {
    await this.session.feed(typeof data === "string" ? bytes(data) : data);
    return this.take();
  }

  /** Sends one packet and returns the payloads of the replies (acks dropped). */
  async send(payload: string): Promise<string[]> {
    const tokens = await this.raw(frame(payload));
    return payloads(tokens);
  }

  /** Sends one packet expecting exactly one reply, and returns it. */
  async ask(payload: string): Promise<string> {
    const replies = await this.send(payload);
    if (replies.length !== 1) throw new Error(`${payload}: ${replies.length} replies: ${replies}`);
    return replies[0];
  }

  /** Sends a resume and returns the stop reply, whether it came at once or later. */
  async resume(payload: string): Promise<string[]> {
    const got = await this.send(payload);
    return got.length > 0 ? got : await this.waitForReply();
  }

  /** Waits (on the event loop) until a packet arrives; returns the payloads. */
  async waitForReply(timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = payloads(this.take());
      if (got.length > 0) return got;
      if (Date.now() > deadline) throw new Error("no reply in time");
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

export function payloads(tokens: Token[]): string[] {
  return tokens.flatMap((t) => (typeof t === "string" ? [] : [t.payload]));
}

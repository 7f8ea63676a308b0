/**
 * The remote protocol's framing: `$payload#xx` with a modulo-256 checksum, `+`/`-`
 * acknowledgements, the out-of-band interrupt byte 0x03, `}` escaping of binary data and
 * run-length encoding (`X*n`: the character X, then n - 29 more of it).
 *
 * {@link PacketDecoder} turns an untrusted byte stream into events without ever holding more
 * than {@link MAX_PACKET_SIZE} bytes of one packet; everything it cannot make sense of is
 * counted and dropped.
 *
 * @module
 */

import { hexByte, hexDigit } from "./_hex.ts";
import { MAX_PACKET_SIZE } from "./limits.ts";

const DOLLAR = 0x24;
const HASH = 0x23;
const ESCAPE = 0x7d;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const INTERRUPT = 0x03;
/** The repeat count is the count character minus this. */
const RLE_BIAS = 29;
/** The most extra repeats one count character can say (`~` is 126). */
const RLE_MAX_EXTRA = 126 - RLE_BIAS;

/** The sum of `bytes` modulo 256. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i]) & 0xff;
  return sum;
}

function needsEscape(byte: number): boolean {
  return byte === DOLLAR || byte === HASH || byte === ESCAPE || byte === STAR;
}

/** Binary data with `$`, `#`, `}` and `*` escaped as `}` followed by the byte XOR 0x20. */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (needsEscape(data[i])) extra++;
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (needsEscape(b)) {
      out[o++] = ESCAPE;
      out[o++] = b ^ 0x20;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

/** Undoes {@link escapeBinary}; `undefined` when the data ends inside an escape. */
export function unescapeBinary(data: Uint8Array): Uint8Array | undefined {
  if (data.indexOf(ESCAPE) < 0) return data;
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === ESCAPE) {
      if (++i >= data.length) return undefined;
      out[o++] = data[i] ^ 0x20;
    } else {
      out[o++] = data[i];
    }
  }
  return out.subarray(0, o);
}

/**
 * Run-length encodes a payload (already escaped where it carries binary data). A run never
 * starts at the byte after a `}`, because the client expands runs before it unescapes, and
 * counts that would make the count character `#` or `$` are shortened to 5, as gdb does.
 */
export function rleEncode(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length);
  let o = 0;
  let i = 0;
  while (i < payload.length) {
    const c = payload[i];
    if (c === ESCAPE && i + 1 < payload.length) {
      out[o++] = c;
      out[o++] = payload[i + 1];
      i += 2;
      continue;
    }
    let run = 1;
    while (i + run < payload.length && payload[i + run] === c && run <= RLE_MAX_EXTRA) run++;
    let extra = run - 1;
    if (extra + RLE_BIAS === HASH || extra + RLE_BIAS === DOLLAR) extra = 5;
    if (extra >= 3 && c !== STAR) {
      out[o++] = c;
      out[o++] = STAR;
      out[o++] = extra + RLE_BIAS;
      i += 1 + extra;
    } else {
      out[o++] = c;
      i++;
    }
  }
  return out.subarray(0, o);
}

/**
 * Expands run-length encoding; `undefined` for a `*` with nothing before it, a missing or
 * unprintable count, or a result longer than `max`.
 */
export function rleDecode(raw: Uint8Array, max: number = MAX_PACKET_SIZE): Uint8Array | undefined {
  if (raw.indexOf(STAR) < 0) return raw.length > max ? undefined : raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== STAR) {
      out.push(c);
    } else {
      if (out.length === 0 || i + 1 >= raw.length) return undefined;
      const count = raw[++i];
      if (count < 32 || count > 126) return undefined;
      const previous = out[out.length - 1];
      for (let k = count - RLE_BIAS; k > 0; k--) out.push(previous);
    }
    if (out.length > max) return undefined;
  }
  return Uint8Array.from(out);
}

/** A whole packet for the wire: `$`, the run-length encoded payload, `#`, the checksum. */
export function framePacket(payload: Uint8Array): Uint8Array {
  const body = rleEncode(payload);
  const out = new Uint8Array(body.length + 4);
  out[0] = DOLLAR;
  out.set(body, 1);
  const sum = hexByte(checksum(body));
  out[body.length + 1] = HASH;
  out[body.length + 2] = sum.charCodeAt(0);
  out[body.length + 3] = sum.charCodeAt(1);
  return out;
}

/** What {@link PacketDecoder} found in the byte stream, in order. */
export type FrameEvent =
  /** A complete packet with a good checksum; the payload is as sent (not yet expanded). */
  | { readonly kind: "packet"; readonly payload: Uint8Array }
  /** A complete packet whose checksum is wrong or not hex. */
  | { readonly kind: "bad-checksum" }
  /** A complete packet with a good checksum, longer than {@link MAX_PACKET_SIZE}; not stored. */
  | { readonly kind: "oversized" }
  /** `+` */
  | { readonly kind: "ack" }
  /** `-` */
  | { readonly kind: "nack" }
  /** The interrupt byte 0x03 outside a packet. */
  | { readonly kind: "interrupt" };

const ACK: FrameEvent = { kind: "ack" };
const NACK: FrameEvent = { kind: "nack" };
const INTERRUPT_EVENT: FrameEvent = { kind: "interrupt" };
const BAD_CHECKSUM: FrameEvent = { kind: "bad-checksum" };
const OVERSIZED: FrameEvent = { kind: "oversized" };

/** Counts of what {@link PacketDecoder} dropped. */
export interface DecoderStats {
  /** Bytes outside packets that are neither `$`, `+`, `-` nor 0x03. */
  garbageBytes: number;
  /** Packets cut short by a `$` before their `#` (the new `$` starts a packet). */
  abandonedPackets: number;
}

const enum State {
  Idle,
  Payload,
  Checksum1,
  Checksum2,
}

/**
 * A streaming decoder: feed it whatever the transport delivers, in any split, and it appends
 * one {@link FrameEvent} per complete unit. A `$` inside a packet restarts the packet (a
 * client resynchronising after noise); a raw `#` always ends one (the protocol escapes it in
 * binary data). With {@link interruptAnywhere} set (while the target runs, when every packet
 * is dropped anyway), 0x03 interrupts even inside a packet, which it abandons, so that a
 * half-sent packet cannot keep Ctrl-C from getting through.
 */
export class PacketDecoder {
  readonly stats: DecoderStats = { garbageBytes: 0, abandonedPackets: 0 };
  /** Whether 0x03 inside a packet is an interrupt rather than data. */
  interruptAnywhere = false;
  #buffer = new Uint8Array(MAX_PACKET_SIZE);
  #length = 0;
  #overflow = false;
  #sum = 0;
  #state = State.Idle;
  #check = 0;

  /**
   * Decodes `bytes`, appending events to `out`; with `max`, stops after that many events.
   * Returns how many bytes it consumed.
   */
  push(bytes: Uint8Array, out: FrameEvent[], max = Infinity): number {
    const limit = out.length + max;
    for (let i = 0; i < bytes.length; i++) {
      if (out.length >= limit) return i;
      const b = bytes[i];
      switch (this.#state) {
        case State.Idle:
          if (b === DOLLAR) this.#start();
          else if (b === PLUS) out.push(ACK);
          else if (b === MINUS) out.push(NACK);
          else if (b === INTERRUPT) out.push(INTERRUPT_EVENT);
          else this.stats.garbageBytes++;
          break;
        case State.Payload:
          if (b === HASH) {
            this.#state = State.Checksum1;
          } else if (b === DOLLAR) {
            this.stats.abandonedPackets++;
            this.#start();
          } else if (b === INTERRUPT && this.interruptAnywhere) {
            this.stats.abandonedPackets++;
            this.#state = State.Idle;
            out.push(INTERRUPT_EVENT);
          } else {
            this.#sum = (this.#sum + b) & 0xff;
            if (this.#length < this.#buffer.length) this.#buffer[this.#length++] = b;
            else this.#overflow = true;
          }
          break;
        case State.Checksum1:
        case State.Checksum2: {
          if (b === DOLLAR) {
            // A checksum cut short by the next packet: this one is lost, that one is not.
            out.push(BAD_CHECKSUM);
            this.#start();
            break;
          }
          const d = hexDigit(b);
          if (this.#state === State.Checksum1) {
            this.#check = d < 0 ? -1 : d << 4;
            this.#state = State.Checksum2;
            break;
          }
          this.#state = State.Idle;
          if (d < 0 || this.#check < 0 || (this.#check | d) !== this.#sum) out.push(BAD_CHECKSUM);
          else if (this.#overflow) out.push(OVERSIZED);
          else out.push({ kind: "packet", payload: this.#buffer.slice(0, this.#length) });
          break;
        }
      }
    }
    return bytes.length;
  }

  #start(): void {
    this.#state = State.Payload;
    this.#length = 0;
    this.#sum = 0;
    this.#overflow = false;
  }
}

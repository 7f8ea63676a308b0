/**
 * The texts of the query replies that need no target call beyond the thread list: what the
 * stub supports, the thread list and its XML, and `qXfer` slicing.
 *
 * @module
 */

import { gdbThreadId, REPLY, xmlEscape } from "./_commands.ts";
import { escapeBinary } from "./_framing.ts";
import { toHex } from "./_hex.ts";
import { MAX_MEMORY_READ, MAX_PACKET_SIZE } from "./limits.ts";
import type { DebugThread } from "./target.ts";

/** The `qSupported` reply: the packet size and every optional feature implemented. */
export const SUPPORTED: string = `PacketSize=${MAX_PACKET_SIZE.toString(16)};` +
  "QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;vContSupported+;swbreak+;hwbreak+";

/** Whether the client's `qSupported` features say it understands `swbreak:`/`hwbreak:`. */
export function clientKnowsBreakReasons(packet: string): boolean {
  const colon = packet.indexOf(":");
  if (colon < 0) return false;
  const features = packet.slice(colon + 1).split(";");
  return features.includes("swbreak+") || features.includes("hwbreak+");
}

/** `qfThreadInfo`: every thread in one reply. */
export function threadList(threads: readonly DebugThread[]): string {
  if (threads.length === 0) return "l";
  return "m" + threads.map((t) => gdbThreadId(t.id).toString(16)).join(",");
}

/** The `qXfer:threads:read` document: ids, names, and the state as each thread's text. */
export function threadsXml(threads: readonly DebugThread[]): Uint8Array {
  let xml = '<?xml version="1.0"?>\n<threads>\n';
  for (const t of threads) {
    xml += `<thread id="${gdbThreadId(t.id).toString(16)}" name="${xmlEscape(String(t.name))}">` +
      `${t.state === "running" ? "running" : "stopped"}</thread>\n`;
  }
  return new TextEncoder().encode(xml + "</threads>\n");
}

/**
 * A `qXfer` read reply: `m` and a slice when more follows, `l` and the rest when it ends,
 * the data escaped as binary. `data` undefined (an unknown annex) gives `E00`.
 */
export function xferSlice(
  data: Uint8Array | undefined,
  offset: number,
  length: number,
): Uint8Array | string {
  if (data === undefined) return "E00";
  const start = Math.min(offset, data.length);
  const end = Math.min(start + Math.min(length, MAX_MEMORY_READ), data.length);
  const chunk = escapeBinary(data.subarray(start, end));
  const out = new Uint8Array(chunk.length + 1);
  out[0] = end >= data.length ? 0x6c /* l */ : 0x6d /* m */;
  out.set(chunk, 1);
  return out;
}

/** Replies that mean a client fault, by reply. */
export function faultOf(reply: string): "MALFORMED" | "NO_SUCH_THREAD" | undefined {
  if (reply === REPLY.MALFORMED) return "MALFORMED";
  if (reply === REPLY.NO_THREAD) return "NO_SUCH_THREAD";
  return undefined;
}

/** The most monitor output sent for one command; the rest is cut with a note. */
const MAX_MONITOR_OUTPUT = 1 << 20;
/** Console-output packets carry at most this many bytes (twice that in hex). */
const O_PACKET_BYTES = 0x1000;

/** Monitor output as console-output (`O`) packets, each within the packet size. */
export function consoleOutput(text: string): string[] {
  const cut = text.length > MAX_MONITOR_OUTPUT
    ? text.slice(0, MAX_MONITOR_OUTPUT) + "\n[output cut]\n"
    : text;
  const bytes = new TextEncoder().encode(cut);
  const packets: string[] = [];
  for (let at = 0; at < bytes.length; at += O_PACKET_BYTES) {
    packets.push("O" + toHex(bytes.subarray(at, at + O_PACKET_BYTES)));
  }
  return packets;
}

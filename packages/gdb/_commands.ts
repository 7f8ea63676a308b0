/**
 * Parsers for the arguments of the packets the stub implements, and the texts of its replies.
 * Every parser returns `undefined` for malformed input; none throws.
 *
 * @module
 */

import { parseHexInt, parseHexU64, parseThreadId } from "./_hex.ts";
import { hexU64 } from "./_hex.ts";
import type { PointType, StopRecord } from "./target.ts";

/** Error replies: errno values in hex, as gdbserver and QEMU send them. */
export const REPLY = {
  OK: "OK",
  /** The machine is gone (after `W`/`X`). */
  GONE: "E01",
  /** ESRCH: no such thread. */
  NO_THREAD: "E03",
  /** EIO: the target failed (threw, or rejected). */
  TARGET: "E05",
  /** E2BIG: a packet longer than MAX_PACKET_SIZE. */
  TOO_BIG: "E07",
  /** EFAULT: memory that cannot be accessed. */
  FAULT: "E0e",
  /** EINVAL: malformed arguments. */
  MALFORMED: "E16",
  /** ENOSPC: no room for another breakpoint or watchpoint. */
  NO_SPACE: "E1c",
} as const;

/** `addr,length` of `m`, `M` and `X`. */
export interface MemoryArgs {
  readonly address: bigint;
  readonly length: number;
}

/** Parses `addr,length` (both hex). */
export function parseMemoryArgs(text: string): MemoryArgs | undefined {
  const comma = text.indexOf(",");
  if (comma < 0) return undefined;
  const address = parseHexU64(text.slice(0, comma));
  const length = parseHexInt(text.slice(comma + 1));
  if (address === undefined || length === undefined) return undefined;
  return { address, length };
}

const POINT_TYPES: readonly PointType[] = ["software", "hardware", "write", "read", "access"];

/** `Z`/`z` arguments. */
export interface PointArgs {
  readonly type: PointType;
  readonly address: bigint;
  readonly length: number;
}

/**
 * Parses `type,addr,kind[;cond…]` (what follows `Z` or `z`). Conditions and commands are
 * ignored: the stub does not announce `ConditionalBreakpoints`, so gdb evaluates them itself.
 * A kind of 0 is malformed (gdb never sends it; a zero-length watchpoint watches nothing).
 */
export function parsePointArgs(text: string): PointArgs | undefined {
  const semicolon = text.indexOf(";");
  const parts = (semicolon < 0 ? text : text.slice(0, semicolon)).split(",");
  if (parts.length !== 3 || parts[0].length !== 1) return undefined;
  const type = POINT_TYPES[parts[0].charCodeAt(0) - 0x30];
  const address = parseHexU64(parts[1]);
  const length = parseHexInt(parts[2]);
  if (type === undefined || address === undefined || length === undefined || length === 0) {
    return undefined;
  }
  return { type, address, length };
}

/** One action of `vCont`: what to do and to which gdb thread id (undefined: every thread). */
export interface VContAction {
  readonly step: boolean;
  readonly thread: number | undefined;
}

/**
 * Parses the actions after `vCont;`: `c`, `C sig`, `s`, `S sig`, each optionally `:thread-id`.
 * Signals are accepted and dropped (a machine has no signals to deliver). `t` and `r` are
 * not offered by `vCont?` and are malformed here, as is thread id 0.
 */
export function parseVCont(text: string): VContAction[] | undefined {
  if (text.length === 0) return undefined;
  const actions: VContAction[] = [];
  for (const part of text.split(";")) {
    const colon = part.indexOf(":");
    const verb = colon < 0 ? part : part.slice(0, colon);
    let thread: number | undefined;
    if (colon >= 0) {
      const id = parseThreadId(part.slice(colon + 1));
      if (id === undefined || id === 0) return undefined;
      thread = id === -1 ? undefined : id;
    }
    let step: boolean;
    if (verb === "c") step = false;
    else if (verb === "s") step = true;
    else if (verb.length === 3 && (verb[0] === "C" || verb[0] === "S")) {
      if (parseHexInt(verb.slice(1), 0xff) === undefined) return undefined;
      step = verb[0] === "S";
    } else return undefined;
    actions.push({ step, thread });
  }
  return actions;
}

/**
 * Parses the optional argument of `c`/`s` (`[addr]`) or `C`/`S` (`sig[;addr]`): the address
 * to resume at, `null` for none, `undefined` when malformed.
 */
export function parseResumeAddress(text: string, withSignal: boolean): bigint | null | undefined {
  let rest = text;
  if (withSignal) {
    const semicolon = rest.indexOf(";");
    const signal = semicolon < 0 ? rest : rest.slice(0, semicolon);
    if (signal.length !== 2 || parseHexInt(signal, 0xff) === undefined) return undefined;
    if (semicolon < 0) return null;
    rest = rest.slice(semicolon + 1);
  }
  if (rest.length === 0) return null;
  return parseHexU64(rest);
}

/** `qXfer:object:read:annex:offset,length` after the object name. */
export interface XferArgs {
  readonly annex: string;
  readonly offset: number;
  readonly length: number;
}

/** Parses `annex:offset,length`. */
export function parseXferRead(text: string): XferArgs | undefined {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return undefined;
  const range = text.slice(colon + 1);
  const comma = range.indexOf(",");
  if (comma < 0) return undefined;
  const offset = parseHexInt(range.slice(0, comma));
  const length = parseHexInt(range.slice(comma + 1));
  if (offset === undefined || length === undefined) return undefined;
  return { annex: text.slice(0, colon), offset, length };
}

/** The gdb thread id of a target thread id. */
export function gdbThreadId(targetId: number): number {
  return targetId + 1;
}

/**
 * The stop reply for a record. `swbreak:`/`hwbreak:` are only sent to a client that said it
 * understands them in `qSupported`; without them gdb works out the reason itself.
 */
export function stopReply(stop: StopRecord, breakReasons: boolean): string {
  switch (stop.reason) {
    case "exited":
      return `W${byteHex(stop.status)}`;
    case "terminated":
      return `X${byteHex(stop.signal)}`;
    case "interrupt":
      return `T02thread:${gdbThreadId(stop.thread).toString(16)};`;
    case "signal":
      return `T${byteHex(stop.signal)}thread:${gdbThreadId(stop.thread).toString(16)};`;
    case "watchpoint": {
      const name = stop.kind === "write" ? "watch" : stop.kind === "read" ? "rwatch" : "awatch";
      return `T05thread:${gdbThreadId(stop.thread).toString(16)};${name}:${hexU64(stop.address)};`;
    }
    case "swbreak":
    case "hwbreak": {
      const thread = `T05thread:${gdbThreadId(stop.thread).toString(16)};`;
      return breakReasons ? `${thread}${stop.reason}:;` : thread;
    }
    default:
      return `T05thread:${gdbThreadId(stop.thread).toString(16)};`;
  }
}

function byteHex(value: number): string {
  return ((value >>> 0) & 0xff).toString(16).padStart(2, "0");
}

/** Text safe inside an XML attribute or element. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
    // XML 1.0 forbids most control characters even as references.
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "?");
}

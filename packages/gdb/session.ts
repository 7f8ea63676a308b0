/**
 * One debugger connection, without the transport: bytes from the client go into
 * {@link GdbSession.feed}, bytes for it come out through `write`. {@link GdbServer} wires it to
 * a TCP socket; tests and other transports use it directly.
 *
 * @module
 */

import { TargetAccess } from "./_access.ts";
import {
  gdbThreadId,
  parseResumeAddress,
  parseVCont,
  parseXferRead,
  REPLY,
  stopReply,
} from "./_commands.ts";
import { type FrameEvent, framePacket, PacketDecoder, rleDecode } from "./_framing.ts";
import { ascii, fromHex, latin1, parseThreadId, textToHex } from "./_hex.ts";
import {
  clientKnowsBreakReasons,
  consoleOutput,
  faultOf,
  SUPPORTED,
  threadList,
  threadsXml,
  xferSlice,
} from "./_queries.ts";
import { TARGET_XML } from "./_target_xml.ts";
import { GdbError, type ProtocolFault } from "./errors.ts";
import { MAX_PACKET_SIZE, MAX_RETRANSMISSIONS } from "./limits.ts";
import type {
  GdbSessionEnd,
  GdbSessionOptions,
  GdbSessionState,
  GdbSessionStats,
} from "./session_types.ts";
import type { DebugTarget, DebugThread, ResumeAction, StopRecord } from "./target.ts";

type MutableStats = { -readonly [K in keyof GdbSessionStats]: GdbSessionStats[K] };

const PLUS = Uint8Array.of(0x2b);
const MINUS = Uint8Array.of(0x2d);

/**
 * The protocol engine for one client: framing and acknowledgements, every packet the stub
 * implements, and the all-stop state machine over a {@link DebugTarget}. Call {@link start}
 * when the client connects (it halts the target), {@link feed} with everything the client
 * sends, and {@link close} when the transport closes (it removes every breakpoint and
 * watchpoint the client inserted and detaches the target, so the guest runs on, as QEMU does
 * when gdb detaches).
 *
 * Nothing the client sends makes a method throw: bad input gets an error reply or is dropped
 * and counted in {@link stats}.
 *
 * @example
 * ```ts
 * import { Aarch64Registers, type DebugTarget, GdbSession, MEMORY_OK } from "@vmkit/gdb";
 *
 * const regs = new Aarch64Registers();
 * regs.pc = 0x4000_0000n;
 * const target: DebugTarget = {
 *   threads: () => [{ id: 0, name: "cpu0", state: "running" }],
 *   readRegisters: (_t, into) => into.copyFrom(regs),
 *   writeRegisters: (_t, from) => regs.copyFrom(from),
 *   readMemory: (_t, _a, into) => (into.fill(0xaa), MEMORY_OK),
 *   writeMemory: () => MEMORY_OK,
 *   insertPoint: () => "ok",
 *   removePoint: () => "ok",
 *   halt: () => Promise.resolve({ reason: "halted", thread: 0 }),
 *   resume: () => Promise.resolve({ reason: "swbreak", thread: 0 }),
 *   interrupt: () => {},
 *   kill: () => {},
 *   detach: () => {},
 *   monitor: () => "",
 * };
 * const sent: string[] = [];
 * const session = new GdbSession(target, { write: (b) => void sent.push(new TextDecoder().decode(b)) });
 * await session.start();
 * await session.feed(new TextEncoder().encode("$m40000000,4#51"));
 * console.log(sent.join("")); // +$a*"aa#6f (four 0xaa bytes, run-length encoded)
 * ```
 */
export class GdbSession {
  readonly #target: DebugTarget;
  readonly #write: (bytes: Uint8Array) => void | Promise<void>;
  readonly #log: (message: string) => void;
  readonly #decoder = new PacketDecoder();
  readonly #events: FrameEvent[] = [];
  readonly #stats: MutableStats = {
    packets: 0,
    replies: 0,
    unsupported: 0,
    faults: 0,
    lastFault: undefined,
    garbageBytes: 0,
    retransmissions: 0,
    targetErrors: 0,
    lastTargetError: undefined,
  };
  readonly #access: TargetAccess;

  #state: GdbSessionState = "new";
  #ackMode = true;
  #breakReasons = false;
  #gone = false;
  #lastStop: StopRecord = { reason: "halted", thread: 0 };
  #stopThread = 0;
  #generalThread: number | undefined;
  #continueThread: number | undefined;
  #threadsXml: Uint8Array | undefined;
  #epoch = 0;
  #stopWaiter: (() => void) | undefined;
  #lastPacket: Uint8Array | undefined;
  #retransmits = 0;
  #output: Promise<void> = Promise.resolve();
  #broken = false;
  #started!: () => void;
  readonly #startedPromise: Promise<void>;
  #feeding: Promise<void> = Promise.resolve();
  #endedResolve!: (how: GdbSessionEnd) => void;
  readonly #ended: Promise<GdbSessionEnd>;

  /**
   * Creates a session over `target`; nothing is sent or called until {@link start}.
   *
   * @param target what the client debugs
   * @param options where output goes
   */
  constructor(target: DebugTarget, options: GdbSessionOptions) {
    if (typeof options?.write !== "function") {
      throw new GdbError("INVALID_ARGUMENT", "GdbSession needs options.write, a function");
    }
    this.#target = target;
    this.#access = new TargetAccess(target, {
      targetFailed: (what, e) => this.#targetFailed(what, e),
      fault: (fault) => this.#fault(fault),
    });
    this.#write = options.write;
    this.#log = options.log ?? (() => {});
    this.#startedPromise = new Promise((resolve) => (this.#started = resolve));
    this.#ended = new Promise((resolve) => (this.#endedResolve = resolve));
  }

  /** The session's state. */
  get state(): GdbSessionState {
    return this.#state;
  }

  /** Counters (a live view). */
  get stats(): GdbSessionStats {
    return this.#stats;
  }

  /** Resolves when the session ends, with how. */
  get ended(): Promise<GdbSessionEnd> {
    return this.#ended;
  }

  /**
   * Halts the target for the client (as QEMU does when gdb connects) and records what `?`
   * answers. Packets fed before it finishes wait for it.
   */
  async start(): Promise<void> {
    if (this.#state !== "new") {
      throw new GdbError("INVALID_STATE", "GdbSession.start() called twice");
    }
    this.#state = "starting";
    try {
      this.#recordStop(await this.#target.halt());
    } catch (e) {
      this.#targetFailed("halt", e);
      this.#recordStop({ reason: "halted", thread: this.#threads()[0]?.id ?? 0 });
    }
    if (this.#state === "starting") this.#state = "stopped";
    this.#started();
  }

  /**
   * Handles bytes from the client. Resolves when every complete packet in them has been
   * answered and the answers written (a resume does not wait for the target to stop: its
   * stop reply is sent when it does). Calls are handled in order.
   */
  feed(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    this.#feeding = this.#feeding.then(() => this.#feedNow(copy));
    return this.#feeding;
  }

  /**
   * The transport closed (or the owner ends the session): unless the client killed the target
   * or it is gone, every breakpoint and watchpoint the client inserted is removed and the
   * target detached, so the guest runs on. A running target is interrupted first, so that the
   * points are removed while it is paused. Resolves when that is done.
   */
  close(): Promise<GdbSessionEnd> {
    if (this.#state === "new") this.#finish("disconnect");
    else void this.#end("disconnect");
    return this.#ended;
  }

  async #feedNow(bytes: Uint8Array): Promise<void> {
    await this.#startedPromise;
    if (this.#state === "ended") return;
    const events = this.#events;
    // One event at a time, so that each is decoded in the state the one before left.
    for (let at = 0; at < bytes.length && !this.#isEnded();) {
      this.#decoder.interruptAnywhere = this.#state === "running";
      const garbage = this.#decoder.stats.garbageBytes;
      at += this.#decoder.push(bytes.subarray(at), events, 1);
      if (this.#decoder.stats.garbageBytes !== garbage) {
        this.#stats.garbageBytes = this.#decoder.stats.garbageBytes;
        this.#fault("GARBAGE");
      }
      const event = events.pop();
      if (event === undefined) continue;
      try {
        await this.#onEvent(event);
      } catch (e) {
        // A defect in the stub itself; the client still gets an answer.
        this.#log(`gdb stub: internal error: ${e instanceof Error ? e.stack : e}`);
        this.#reply(REPLY.TARGET);
      }
      await this.#output;
    }
  }

  async #onEvent(event: FrameEvent): Promise<void> {
    switch (event.kind) {
      case "ack":
        this.#lastPacket = undefined;
        return;
      case "nack":
        if (!this.#ackMode || this.#lastPacket === undefined) return;
        if (this.#retransmits >= MAX_RETRANSMISSIONS) return this.#fault("RETRANSMIT_LIMIT");
        this.#retransmits++;
        this.#stats.retransmissions++;
        this.#out(this.#lastPacket);
        return;
      case "interrupt":
        if (this.#state === "running") this.#quietly("interrupt", () => this.#target.interrupt());
        return;
      case "bad-checksum":
        this.#fault("BAD_CHECKSUM");
        if (this.#ackMode) this.#out(MINUS);
        return;
      case "oversized":
        this.#fault("OVERSIZED");
        if (this.#ackMode) this.#out(PLUS);
        if (this.#state === "stopped") this.#reply(REPLY.TOO_BIG);
        return;
      case "packet":
        this.#stats.packets++;
        if (this.#ackMode) this.#out(PLUS);
        if (this.#state !== "stopped") return this.#fault("WHILE_RUNNING");
        return await this.#onPacket(event.payload);
    }
  }

  async #onPacket(raw: Uint8Array): Promise<void> {
    const payload = rleDecode(raw, MAX_PACKET_SIZE);
    if (payload === undefined || payload.length === 0) {
      return this.#reply(REPLY.MALFORMED);
    }
    if (payload[0] === 0x58 /* X */) {
      return this.#withThread((t) => this.#access.writeBinary(t, payload));
    }
    const text = latin1(payload);
    const args = text.slice(1);
    switch (text[0]) {
      case "?":
        return this.#reply(stopReply(this.#lastStop, this.#breakReasons));
      case "g":
        if (text.length !== 1) return this.#reply(REPLY.MALFORMED);
        return this.#withThread((t) => this.#access.readRegisters(t));
      case "G":
        return this.#withThread((t) => this.#access.writeRegisters(t, args));
      case "p":
        return this.#withThread((t) => this.#access.readRegister(t, args));
      case "P":
        return this.#withThread((t) => this.#access.writeRegister(t, args));
      case "m":
        return this.#withThread((t) => this.#access.readMemory(t, args));
      case "M":
        return this.#withThread((t) => this.#access.writeMemory(t, args));
      case "Z":
      case "z":
        if (this.#gone) return this.#reply(REPLY.GONE);
        return this.#reply(this.#access.point(text[0] === "Z", args));
      case "c":
      case "C":
      case "s":
      case "S":
        return this.#legacyResume(text);
      case "H":
        return this.#setThread(text);
      case "T":
        return this.#reply(this.#threadAlive(args));
      case "k":
        return this.#kill();
      case "D":
        this.#reply(REPLY.OK);
        await this.#output;
        return void (await this.#end("detach"));
      case "q":
      case "Q":
        return await this.#query(text);
      case "v":
        return this.#vPacket(text);
      default:
        return this.#unsupported();
    }
  }

  // ---- queries -------------------------------------------------------------------------

  async #query(text: string): Promise<void> {
    if (text === "qSupported" || text.startsWith("qSupported:")) {
      this.#breakReasons = clientKnowsBreakReasons(text);
      return this.#reply(SUPPORTED);
    }
    if (text === "QStartNoAckMode") {
      this.#reply(REPLY.OK);
      this.#ackMode = false;
      return;
    }
    if (text === "qAttached" || text.startsWith("qAttached:")) return this.#reply("1");
    if (text === "qC") return this.#reply(`QC${gdbThreadId(this.#stopThread).toString(16)}`);
    if (text === "qfThreadInfo") return this.#reply(threadList(this.#threads()));
    if (text === "qsThreadInfo") return this.#reply("l");
    if (text.startsWith("qThreadExtraInfo,")) {
      const thread = this.#thread(text.slice(17));
      if (typeof thread === "string") return this.#reply(thread);
      return this.#reply(textToHex(thread.state === "running" ? "running" : "stopped"));
    }
    if (text.startsWith("qXfer:features:read:")) {
      const xfer = parseXferRead(text.slice(20));
      if (xfer === undefined) return this.#reply(REPLY.MALFORMED);
      const data = xfer.annex === "target.xml" ? TARGET_XML : undefined;
      return this.#reply(xferSlice(data, xfer.offset, xfer.length));
    }
    if (text.startsWith("qXfer:threads:read:")) {
      const xfer = parseXferRead(text.slice(19));
      if (xfer === undefined) return this.#reply(REPLY.MALFORMED);
      // One snapshot serves every slice of a read, so that the pieces fit together.
      if (xfer.offset === 0 || this.#threadsXml === undefined) {
        this.#threadsXml = threadsXml(this.#threads());
      }
      const data = xfer.annex === "" ? this.#threadsXml : undefined;
      return this.#reply(xferSlice(data, xfer.offset, xfer.length));
    }
    if (text.startsWith("qRcmd,")) return await this.#monitor(text.slice(6));
    if (text === "qSymbol::") return this.#reply(REPLY.OK);
    return this.#unsupported();
  }

  async #monitor(hex: string): Promise<void> {
    const bytes = fromHex(hex);
    if (bytes === undefined) return this.#reply(REPLY.MALFORMED);
    if (this.#gone) return this.#reply(REPLY.GONE);
    const command = new TextDecoder().decode(bytes).trim();
    let output: string;
    try {
      output = String(await this.#target.monitor(command));
    } catch (e) {
      this.#targetFailed("monitor", e);
      return this.#reply(REPLY.TARGET);
    }
    if (this.#state !== "stopped") return;
    for (const packet of consoleOutput(output)) this.#reply(packet);
    this.#reply(REPLY.OK);
  }

  #vPacket(text: string): void {
    if (text === "vCont?") return this.#reply("vCont;c;C;s;S");
    if (text.startsWith("vCont;")) {
      const actions = parseVCont(text.slice(6));
      if (actions === undefined) return this.#reply(REPLY.MALFORMED);
      const threads = this.#threads();
      for (const a of actions) {
        if (a.thread !== undefined && !threads.some((t) => gdbThreadId(t.id) === a.thread)) {
          return this.#reply(REPLY.NO_THREAD);
        }
      }
      const plan: ResumeAction[] = [];
      for (const t of threads) {
        const action = actions.find((a) =>
          a.thread === undefined || a.thread === gdbThreadId(t.id)
        );
        if (action !== undefined) plan.push({ thread: t.id, step: action.step });
      }
      if (plan.length === 0) return this.#reply(REPLY.MALFORMED);
      return this.#resume(plan);
    }
    return this.#unsupported();
  }

  // ---- threads -------------------------------------------------------------------------

  #threads(): readonly DebugThread[] {
    try {
      return this.#target.threads();
    } catch (e) {
      this.#targetFailed("threads", e);
      return [];
    }
  }

  /** The thread a gdb thread id names (a positive one), or the error reply. */
  #thread(text: string): DebugThread | string {
    const id = parseThreadId(text);
    if (id === undefined) return REPLY.MALFORMED;
    return this.#threads().find((t) => id > 0 && gdbThreadId(t.id) === id) ?? REPLY.NO_THREAD;
  }

  /**
   * Replies with what `handler` returns for the thread registers and memory are accessed
   * through: the `Hg` thread, else the thread of the last stop.
   */
  #withThread(handler: (thread: number) => string): void {
    if (this.#gone) return this.#reply(REPLY.GONE);
    const threads = this.#threads();
    const wanted = this.#generalThread ?? this.#stopThread;
    const thread = threads.find((t) => t.id === wanted) ?? threads[0];
    this.#reply(thread === undefined ? REPLY.NO_THREAD : handler(thread.id));
  }

  #threadAlive(text: string): string {
    const thread = this.#thread(text);
    return typeof thread === "string" ? thread : REPLY.OK;
  }

  #setThread(text: string): void {
    const which = text[1];
    if (which !== "g" && which !== "c") return this.#unsupported();
    const id = parseThreadId(text.slice(2));
    if (id === undefined) return this.#reply(REPLY.MALFORMED);
    let chosen: number | undefined;
    if (id > 0) {
      const thread = this.#thread(text.slice(2));
      if (typeof thread === "string") return this.#reply(thread);
      chosen = thread.id;
    }
    if (which === "g") this.#generalThread = chosen;
    else this.#continueThread = chosen;
    this.#reply(REPLY.OK);
  }

  // ---- execution -----------------------------------------------------------------------

  #legacyResume(text: string): void {
    const step = text[0] === "s" || text[0] === "S";
    const address = parseResumeAddress(text.slice(1), text[0] === "C" || text[0] === "S");
    if (address === undefined) return this.#reply(REPLY.MALFORMED);
    if (this.#gone) return this.#reply(REPLY.GONE);
    const threads = this.#threads();
    const current = threads.find((t) => t.id === (this.#continueThread ?? this.#stopThread)) ??
      threads[0];
    if (current === undefined) return this.#reply(REPLY.NO_THREAD);
    if (address !== null) {
      const set = this.#access.setPc(current.id, address);
      if (set !== REPLY.OK) return this.#reply(set);
    }
    const plan = step
      ? [{ thread: current.id, step: true }]
      : threads.map((t) => ({ thread: t.id, step: false }));
    this.#resume(plan);
  }

  #resume(plan: ResumeAction[]): void {
    if (this.#gone) return this.#reply(REPLY.GONE);
    let pending: Promise<StopRecord>;
    try {
      pending = Promise.resolve(this.#target.resume(plan));
    } catch (e) {
      this.#targetFailed("resume", e);
      return this.#reply(REPLY.TARGET);
    }
    this.#state = "running";
    this.#threadsXml = undefined;
    const epoch = ++this.#epoch;
    pending.then(
      (stop) => this.#onStop(epoch, stop),
      (e) => this.#onStop(epoch, undefined, e),
    );
  }

  #onStop(epoch: number, stop: StopRecord | undefined, error?: unknown): void {
    if (epoch !== this.#epoch) return;
    this.#epoch++;
    if (this.#stopWaiter !== undefined) {
      // The session is ending: the stop only lets it remove its points.
      this.#stopWaiter();
      return;
    }
    if (this.#state !== "running") return;
    this.#state = "stopped";
    if (stop === undefined) {
      this.#targetFailed("resume", error);
      return this.#reply(REPLY.TARGET);
    }
    this.#recordStop(stop);
    this.#reply(stopReply(stop, this.#breakReasons));
  }

  #recordStop(stop: StopRecord): void {
    this.#lastStop = stop;
    if ("thread" in stop) {
      this.#stopThread = stop.thread;
      // gdb takes the stop reply's thread as the stub's general thread from now on.
      this.#generalThread = stop.thread;
    } else {
      this.#gone = true;
    }
  }

  #kill(): void {
    if (!this.#gone) this.#quietly("kill", () => this.#target.kill());
    this.#gone = true;
    this.#finish("kill");
  }

  async #end(how: GdbSessionEnd): Promise<void> {
    if (this.#state === "ended" || this.#stopWaiter !== undefined) return;
    await this.#startedPromise;
    if (this.#isEnded() || this.#stopWaiter !== undefined) return;
    if (!this.#gone) {
      if (this.#state === "running") {
        const stopped = new Promise<void>((resolve) => (this.#stopWaiter = resolve));
        this.#quietly("interrupt", () => this.#target.interrupt());
        await stopped;
      }
      this.#access.removeAllPoints();
      this.#quietly("detach", () => this.#target.detach());
    }
    this.#finish(how);
  }

  /** Read through a method, so that checks after an await are not narrowed away. */
  #isEnded(): boolean {
    return this.#state === "ended";
  }

  #finish(how: GdbSessionEnd): void {
    this.#state = "ended";
    this.#started();
    this.#stopWaiter = undefined;
    this.#endedResolve(how);
  }

  // ---- output and bookkeeping ----------------------------------------------------------

  /** Sends a reply; error replies that mean a client fault are counted. */
  #reply(reply: string | Uint8Array): void {
    if (typeof reply === "string") {
      const fault = faultOf(reply);
      if (fault !== undefined) this.#fault(fault);
    }
    const packet = framePacket(typeof reply === "string" ? ascii(reply) : reply);
    this.#stats.replies++;
    this.#lastPacket = this.#ackMode ? packet : undefined;
    this.#retransmits = 0;
    this.#out(packet);
  }

  #out(bytes: Uint8Array): void {
    if (this.#broken) return;
    this.#output = this.#output.then(() => this.#write(bytes)).catch((e) => {
      if (!this.#broken) this.#log(`gdb stub: cannot write to the client: ${e}`);
      this.#broken = true;
    });
  }

  #unsupported(): void {
    this.#stats.unsupported++;
    this.#reply("");
  }

  #fault(fault: ProtocolFault): void {
    this.#stats.faults++;
    this.#stats.lastFault = fault;
  }

  /** Runs a target method whose failure the client is not told about (it expects no reply). */
  #quietly(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#targetFailed(what, e);
    }
  }

  #targetFailed(what: string, error: unknown): void {
    this.#stats.targetErrors++;
    this.#stats.lastTargetError = error;
    this.#log(
      `gdb stub: target.${what}() failed: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * The stub on a TCP port: one debugger at a time, each connection a {@link GdbSession}.
 *
 * @module
 */

import { GdbError } from "./errors.ts";
import { MAX_PACKET_SIZE } from "./limits.ts";
import { GdbSession } from "./session.ts";
import type { DebugTarget } from "./target.ts";

/**
 * Where a {@link GdbServer} listens.
 *
 * @example
 * ```ts
 * import type { GdbServerOptions } from "@vmkit/gdb";
 *
 * const options: GdbServerOptions = { port: 1234 };
 * console.log(options.hostname ?? "127.0.0.1"); // 127.0.0.1
 * ```
 */
export interface GdbServerOptions {
  /** The address to listen on; `127.0.0.1` unless given (the protocol has no authentication). */
  readonly hostname?: string;
  /** The TCP port, 0–65535; 0 picks a free one (read it from {@link GdbServer.addr}). */
  readonly port: number;
  /** Connections, refusals and failures, one line each; defaults to nothing. */
  readonly log?: (message: string) => void;
}

/** What a second client reads before its connection is closed. */
const REFUSAL = new TextEncoder().encode(
  "vmkit gdb stub: another debugger is attached; connection refused\n",
);

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed by the peer or by us.
  }
}

/**
 * A GDB remote stub listening on TCP (`target remote HOST:PORT` in gdb). One client is served
 * at a time; another that connects meanwhile reads a one-line refusal and is disconnected.
 * When a client connects the target is halted; when it detaches, disconnects or is cut off by
 * {@link close}, the stub removes every breakpoint and watchpoint that client inserted and
 * detaches the target, so the guest runs on (after `kill` it does neither).
 *
 * @example
 * ```ts
 * import { Aarch64Registers, type DebugTarget, GdbServer, MEMORY_OK } from "@vmkit/gdb";
 *
 * const regs = new Aarch64Registers();
 * const target: DebugTarget = {
 *   threads: () => [{ id: 0, name: "cpu0", state: "running" }],
 *   readRegisters: (_t, into) => into.copyFrom(regs),
 *   writeRegisters: (_t, from) => regs.copyFrom(from),
 *   readMemory: (_t, _a, into) => (into.fill(0), MEMORY_OK),
 *   writeMemory: () => MEMORY_OK,
 *   insertPoint: () => "ok",
 *   removePoint: () => "ok",
 *   halt: () => Promise.resolve({ reason: "halted", thread: 0 }),
 *   resume: () => new Promise(() => {}),
 *   interrupt: () => {},
 *   kill: () => {},
 *   detach: () => {},
 *   monitor: () => "",
 * };
 * await using server = GdbServer.listen(target, { port: 0 });
 * console.log(server.addr.hostname); // 127.0.0.1
 * ```
 */
export class GdbServer implements AsyncDisposable {
  readonly #target: DebugTarget;
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #log: (message: string) => void;
  readonly #accepting: Promise<void>;
  #active: { conn: Deno.Conn; session: GdbSession; served: Promise<void> } | undefined;
  #closed = false;
  #refused = 0;

  private constructor(target: DebugTarget, options: GdbServerOptions) {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = options.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new GdbError("INVALID_ARGUMENT", `gdb server port ${port}: not an integer in 0–65535`);
    }
    if (typeof hostname !== "string" || hostname.length === 0) {
      throw new GdbError("INVALID_ARGUMENT", `gdb server hostname ${hostname}: not a host name`);
    }
    this.#target = target;
    this.#log = options.log ?? (() => {});
    try {
      this.#listener = Deno.listen({ hostname, port, transport: "tcp" });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new GdbError("LISTEN_FAILED", `cannot listen on ${hostname}:${port}: ${why}`, {
        cause: e,
      });
    }
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Starts listening. Throws a {@link GdbError}: `INVALID_ARGUMENT` for a bad port or host,
   * `LISTEN_FAILED` when the socket cannot be opened (the port is taken, say).
   *
   * @param target what clients debug
   * @param options where to listen
   */
  static listen(target: DebugTarget, options: GdbServerOptions): GdbServer {
    return new GdbServer(target, options);
  }

  /** The address listened on (with the real port when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** The current client's session, if a client is attached. */
  get session(): GdbSession | undefined {
    return this.#active?.session;
  }

  /** How many clients were turned away because another was attached. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Stops listening and ends the current session the way a disconnect does (points removed,
   * target detached). Resolves when everything is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    const active = this.#active;
    if (active !== undefined) {
      await active.session.close();
      closeQuietly(active.conn);
      await active.served;
    }
    await this.#accepting;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (!this.#closed) this.#log(`gdb stub: accept failed: ${e}`);
        return;
      }
      if (this.#active !== undefined || this.#closed) {
        this.#refuse(conn);
        continue;
      }
      this.#serve(conn);
    }
  }

  #refuse(conn: Deno.TcpConn): void {
    this.#refused++;
    this.#log(`gdb stub: refused ${peer(conn)}: another debugger is attached`);
    writeAll(conn, REFUSAL).catch(() => {}).finally(() => closeQuietly(conn));
  }

  #serve(conn: Deno.TcpConn): void {
    try {
      conn.setNoDelay(true);
    } catch {
      // Only latency suffers.
    }
    const session = new GdbSession(this.#target, {
      write: (bytes) => writeAll(conn, bytes),
      log: this.#log,
    });
    const served = this.#readLoop(conn, session)
      .catch((e) => this.#log(`gdb stub: internal error serving ${peer(conn)}: ${e}`))
      .finally(() => {
        closeQuietly(conn);
        if (this.#active?.session === session) this.#active = undefined;
      });
    this.#active = { conn, session, served };
    this.#log(`gdb stub: ${peer(conn)} attached`);
  }

  async #readLoop(conn: Deno.TcpConn, session: GdbSession): Promise<void> {
    const buffer = new Uint8Array(MAX_PACKET_SIZE);
    await session.start();
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) break;
      await session.feed(buffer.subarray(0, n));
      if (session.state === "ended") break;
    }
    const how = await session.close();
    this.#log(`gdb stub: ${peer(conn)} ${how === "disconnect" ? "disconnected" : how}`);
  }
}

function peer(conn: Deno.TcpConn): string {
  const addr = conn.remoteAddr;
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Watching a process from outside through Linux's /proc: its resident
 * memory over time, and its descendants (to find `vmkit` under `script`).
 *
 * @module
 */

/** VmRSS of `pid` in KiB, or `undefined` once the process is gone. */
export function rssKiB(pid: number): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Resident KiB of the read-write-execute mappings of `pid` (the engine's
 * buffer of translated code, which the vCPU empties when it fills), or
 * `undefined` once the process is gone.
 */
export function executableRssKiB(pid: number): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  } catch {
    return undefined;
  }
  let kib = 0, inside = false;
  for (const line of text.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) /.exec(line);
    if (header) inside = header[1] === "rwxp";
    else if (inside && line.startsWith("Rss:")) kib += Number(/(\d+)/.exec(line)![1]);
  }
  return kib;
}

/** Parent pid of `pid`, or `undefined` if it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may contain spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function argv(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return [];
  }
}

/**
 * `pid` itself or its first descendant with `arg` as one of its arguments
 * (a shell's `-c` string that merely contains it does not count).
 */
export function findProcess(pid: number, arg: string): number | undefined {
  if (argv(pid).includes(arg)) return pid;
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const child = Number(entry.name);
    const parent = parentOf(child);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    if (argv(p).includes(arg)) return p;
    queue.push(...(children.get(p) ?? []));
  }
  return undefined;
}

/** One reading of a process's resident memory. */
export interface RssSample {
  /** Milliseconds since sampling started. */
  readonly ms: number;
  readonly kib: number;
  /** Of which translated code (see {@link executableRssKiB}), when asked for. */
  readonly executableKib?: number;
}

/** Samples VmRSS of a process every `intervalMs` until stopped or the process is gone. */
export class RssSampler implements Disposable {
  readonly samples: RssSample[] = [];
  readonly #pid: number;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #executable: boolean;

  /** `executable`: also read how much of it is translated code (slower: reads smaps). */
  constructor(pid: number, intervalMs = 100, options: { executable?: boolean } = {}) {
    this.#pid = pid;
    this.#executable = options.executable ?? false;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes a sample now; returns it (`undefined` once the process is gone). */
  sample(): RssSample | undefined {
    const kib = rssKiB(this.#pid);
    if (kib === undefined) return undefined;
    const executableKib = this.#executable ? executableRssKiB(this.#pid) : undefined;
    const s = { ms: performance.now() - this.#started, kib, executableKib };
    this.samples.push(s);
    return s;
  }

  /** The largest sample so far, in MiB. */
  get peakMiB(): number {
    return Math.max(0, ...this.samples.map((s) => s.kib)) / 1024;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0, sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

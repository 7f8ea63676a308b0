/**
 * Keeping the engine's buffer of translated code from filling up.
 *
 * Why: a guest that keeps rewriting and re-running code fills the buffer,
 * and Unicorn 2.0.1 and 2.1.1 crash the host process (SIGSEGV) when they
 * empty a full buffer themselves, or grow to a gigabyte first (2.0.1's
 * buffer is 1 GiB and cannot be sized). The vCPU watches how far the engine
 * has written into the buffer and empties it itself well before it is full,
 * then returns the buffer's pages to the system (2.0.1 and 2.1.1 zero the
 * whole buffer when emptying it, which would otherwise keep it all resident).
 *
 * How far the engine has written: the engine fills the buffer from its start
 * and the pages of an anonymous mapping become resident when first written,
 * so whether the page at the threshold is resident (`mincore`) says whether
 * the engine got that far. The buffer itself is the read-write-execute
 * mapping that appears in `/proc/self/maps` while the engine initialises.
 * Linux only; elsewhere the engine's own handling applies.
 *
 * @module
 */

/** A range of the process's address space. */
interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

const PAGE = 4096n;
/** Left alone: the engine's prologue lives at the start of the buffer. */
const KEEP = 2n * 1024n * 1024n;
/** The most translated code kept before emptying the buffer. */
export const TRANSLATED_CODE_LIMIT = 96 * 1024 * 1024;
const MADV_DONTNEED = 4;

const LIBC = {
  mincore: { parameters: ["pointer", "usize", "buffer"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const;

const FILE_LIBC = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;
const O_RDONLY = 0;

/**
 * `/proc/self/maps` through libc: Deno asks for every permission before it
 * lets a program read that file itself, and `vmkit` runs with few.
 */
function readOwnMaps(): string | undefined {
  let libc: Deno.DynamicLibrary<typeof FILE_LIBC>;
  try {
    libc = Deno.dlopen("libc.so.6", FILE_LIBC);
  } catch {
    return undefined;
  }
  try {
    const fd = libc.symbols.open(new TextEncoder().encode("/proc/self/maps\0"), O_RDONLY);
    if (fd < 0) return undefined;
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const chunk = new Uint8Array(65536);
        const n = Number(libc.symbols.read(fd, chunk, BigInt(chunk.length)));
        if (n < 0) return undefined;
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        total += n;
        // A process's map is a few hundred kilobytes at most.
        if (total > 64 * 1024 * 1024) return undefined;
      }
      const all = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return new TextDecoder().decode(all);
    } finally {
      libc.symbols.close(fd);
    }
  } finally {
    libc.close();
  }
}

/** The read-write-execute mappings of this process, or `undefined` where that cannot be read. */
export function executableMappings(): Range[] | undefined {
  const text = readOwnMaps();
  if (text === undefined) return undefined;
  const out: Range[] = [];
  for (const line of text.split("\n")) {
    const [span, perms] = line.split(" ", 2);
    if (perms !== "rwxp") continue;
    const [a, b] = span.split("-");
    out.push({ start: BigInt(`0x${a}`), end: BigInt(`0x${b}`) });
  }
  return out;
}

/** Parts of `after` that no range of `before` covered. */
function added(before: readonly Range[], after: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of after) {
    let pieces: Range[] = [r];
    for (const b of before) {
      pieces = pieces.flatMap((p) => {
        if (b.end <= p.start || b.start >= p.end) return [p];
        const left = b.start > p.start ? [{ start: p.start, end: b.start }] : [];
        const right = b.end < p.end ? [{ start: b.end, end: p.end }] : [];
        return [...left, ...right];
      });
    }
    out.push(...pieces);
  }
  return out;
}

/** One engine's translation buffer, watched and emptied before it fills. */
export class TranslationCache implements Disposable {
  readonly #libc: Deno.DynamicLibrary<typeof LIBC>;
  readonly #start: bigint;
  readonly #size: bigint;
  readonly #probe: Deno.PointerObject;
  readonly #vec = new Uint8Array(1);
  #closed = false;

  private constructor(libc: Deno.DynamicLibrary<typeof LIBC>, start: bigint, size: bigint) {
    this.#libc = libc;
    this.#start = start;
    this.#size = size;
    const limit = BigInt(Math.min(TRANSLATED_CODE_LIMIT, Number((size * 3n) / 4n)));
    this.#probe = Deno.UnsafePointer.create(start + (limit & ~(PAGE - 1n)))!;
  }

  /**
   * Finds the buffer an engine mapped while `before` was taken and now, of
   * about `expectedBytes`; `undefined` if it cannot be told apart.
   */
  static locate(before: readonly Range[], expectedBytes: number): TranslationCache | undefined {
    const after = executableMappings();
    if (after === undefined) return undefined;
    const slack = 1n << 20n;
    const want = BigInt(expectedBytes);
    const found = added(before, after).filter((r) => {
      const size = r.end - r.start;
      return size >= want - slack && size <= want + slack;
    });
    if (found.length !== 1) return undefined;
    let libc: Deno.DynamicLibrary<typeof LIBC>;
    try {
      libc = Deno.dlopen("libc.so.6", LIBC);
    } catch {
      return undefined;
    }
    return new TranslationCache(libc, found[0].start, found[0].end - found[0].start);
  }

  /** Bytes of the buffer. */
  get size(): number {
    return Number(this.#size);
  }

  /** Whether the engine has written translated code up to the limit. */
  nearlyFull(): boolean {
    if (this.#closed) return false;
    // A failed call (the mapping gone) reads as not full: the engine copes.
    return this.#libc.symbols.mincore(this.#probe, PAGE, this.#vec) === 0 &&
      (this.#vec[0] & 1) !== 0;
  }

  /** Whether the engine has written at least `bytes` of translated code. */
  usedAtLeast(bytes: number): boolean {
    if (this.#closed || BigInt(bytes) >= this.#size) return false;
    const page = Deno.UnsafePointer.create(this.#start + (BigInt(bytes) & ~(PAGE - 1n)));
    return this.#libc.symbols.mincore(page, PAGE, this.#vec) === 0 && (this.#vec[0] & 1) !== 0;
  }

  /** Returns the pages of an emptied buffer to the system. Call right after emptying it. */
  release(): void {
    if (this.#closed) return;
    this.#libc.symbols.madvise(
      Deno.UnsafePointer.create(this.#start + KEEP),
      this.#size - KEEP,
      MADV_DONTNEED,
    );
  }

  /** Stops watching. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

interface SuffixNode {
  /** Offset of the NUL ending the first string that passed through this node. */
  end: number;
  next: Map<number, SuffixNode> | undefined;
}

/**
 * How much of a table is indexed for tail sharing. Real tables are a few hundred bytes; the cap
 * keeps the index (one trie node per byte) small however large a hostile blob's table is. Past it
 * names are still shared when identical, and a parsed table past it is searched directly.
 */
const SUFFIX_INDEX_LIMIT = 256 * 1024;

/**
 * The strings block under construction. A name already present as the tail of an earlier string
 * is shared rather than appended (`phandle` inside `linux,phandle`), and the earliest such place
 * wins: that is the layout `dtc` produces, which lets trees built here come out byte-identical to
 * `dtc`'s. Lookups go through a trie of reversed strings so each costs the length of the name.
 */
export class StringTable {
  #bytes: Uint8Array;
  #length = 0;
  readonly #root: SuffixNode = { end: -1, next: undefined };
  readonly #known = new Map<string, number>();
  /** A parsed table too large to index, searched as text instead (built on first use). */
  readonly #unindexedBase: Uint8Array | undefined;
  #baseText: string | undefined;

  /**
   * Starts a table, empty or from an existing block.
   * @param base an existing strings block to keep verbatim and append to; its NUL-terminated
   *   pieces can be shared by new names
   */
  constructor(base: Uint8Array = new Uint8Array(0)) {
    this.#bytes = new Uint8Array(Math.max(64, base.length * 2));
    this.#bytes.set(base);
    this.#length = base.length;
    if (base.length > SUFFIX_INDEX_LIMIT) {
      this.#unindexedBase = base;
      return;
    }
    this.#unindexedBase = undefined;
    let start = 0;
    for (let i = 0; i < base.length; i++) {
      if (base[i] === 0) {
        this.#index(start, i);
        start = i + 1;
      }
    }
  }

  /** Bytes in the table so far. */
  get length(): number {
    return this.#length;
  }

  /** The offset of `name` (ASCII), appending it if no existing string ends with it. */
  offsetOf(name: string): number {
    const known = this.#known.get(name);
    if (known !== undefined) return known;
    let offset = this.#searchBase(name);
    if (offset < 0) offset = this.#searchIndex(name);
    if (offset < 0) {
      offset = this.#length;
      this.#reserve(name.length + 1);
      for (let i = 0; i < name.length; i++) this.#bytes[offset + i] = name.charCodeAt(i);
      this.#bytes[offset + name.length] = 0;
      this.#length += name.length + 1;
      if (this.#length <= SUFFIX_INDEX_LIMIT) this.#index(offset, offset + name.length);
    }
    this.#known.set(name, offset);
    return offset;
  }

  /** Whether the table holds `name` followed by NUL at `offset`. */
  hasAt(name: string, offset: number): boolean {
    if (offset < 0 || offset + name.length >= this.#length) return false;
    for (let i = 0; i < name.length; i++) {
      if (this.#bytes[offset + i] !== name.charCodeAt(i)) return false;
    }
    return this.#bytes[offset + name.length] === 0;
  }

  /** The finished table. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  #searchBase(name: string): number {
    if (this.#unindexedBase === undefined) return -1;
    // Latin-1 keeps one character per byte, so string offsets are byte offsets.
    this.#baseText ??= new TextDecoder("latin1").decode(this.#unindexedBase);
    return this.#baseText.indexOf(name + "\0");
  }

  #searchIndex(name: string): number {
    let node: SuffixNode | undefined = this.#root;
    for (let i = name.length - 1; i >= 0 && node !== undefined; i--) {
      node = node.next?.get(name.charCodeAt(i));
    }
    return node !== undefined && node.end >= 0 ? node.end - name.length : -1;
  }

  /** Indexes every suffix of the string in [start, nul) by walking it backwards from the NUL. */
  #index(start: number, nul: number): void {
    let node = this.#root;
    if (node.end < 0) node.end = nul;
    for (let i = nul - 1; i >= start; i--) {
      const c = this.#bytes[i];
      node.next ??= new Map();
      let child = node.next.get(c);
      if (child === undefined) {
        child = { end: nul, next: undefined };
        node.next.set(c, child);
      }
      node = child;
    }
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}

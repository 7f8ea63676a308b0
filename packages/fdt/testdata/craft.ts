/**
 * Hand assembly of blobs for tests, independent of the serialiser under test, so malformed
 * layouts (bad offsets, stray tokens, missing terminators) can be written on purpose.
 */

const encoder = new TextEncoder();

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Big-endian u32 words. */
export function be32(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0));
  return out;
}

function pad4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  out.set(bytes);
  return out;
}

/** Structure-block tokens. */
export const tok = {
  /** FDT_BEGIN_NODE with a NUL-terminated, padded name. */
  begin(name: string): Uint8Array {
    return concat(be32(1), pad4(concat(encoder.encode(name), new Uint8Array([0]))));
  },
  /** FDT_END_NODE. */
  end(): Uint8Array {
    return be32(2);
  },
  /** FDT_PROP with a name offset and value (padded). */
  prop(nameOffset: number, value: Uint8Array | number[] = []): Uint8Array {
    const bytes = value instanceof Uint8Array ? value : be32(...value);
    return concat(be32(3, bytes.length, nameOffset), pad4(bytes));
  },
  /** FDT_NOP. */
  nop(): Uint8Array {
    return be32(4);
  },
  /** FDT_END. */
  finish(): Uint8Array {
    return be32(9);
  },
};

/** NUL-terminated strings back to back. */
export function strtab(...names: string[]): Uint8Array {
  return encoder.encode(names.map((n) => n + "\0").join(""));
}

/** What {@link craft} lays out; header fields can be overridden after layout. */
export interface CraftSpec {
  /** Structure block bytes (tokens). */
  struct: Uint8Array;
  /** Strings block bytes. */
  strings?: Uint8Array;
  /** Reservation entries as [address, size]; the terminator is added unless `rsvRaw` is given. */
  reservations?: [bigint, bigint][];
  /** Raw reservation block bytes, used as-is instead of `reservations`. */
  rsvRaw?: Uint8Array;
  /** Header version (17 by default). */
  version?: number;
  /** Header last_comp_version (16 by default). */
  lastComp?: number;
  /** Header boot_cpuid_phys. */
  bootCpu?: number;
  /** Header fields to overwrite after layout, by byte offset. */
  patch?: Record<number, number>;
  /** Bytes appended past the last block, counted in totalsize. */
  tail?: Uint8Array;
}

/** Lays out header, reservations, structure and strings the way dtc does, then applies patches. */
export function craft(spec: CraftSpec): Uint8Array {
  const strings = spec.strings ?? new Uint8Array(0);
  let rsv = spec.rsvRaw;
  if (rsv === undefined) {
    const entries = [...(spec.reservations ?? []), [0n, 0n] as [bigint, bigint]];
    rsv = new Uint8Array(entries.length * 16);
    const view = new DataView(rsv.buffer);
    entries.forEach(([a, s], i) => {
      view.setBigUint64(i * 16, a);
      view.setBigUint64(i * 16 + 8, s);
    });
  }
  const offRsv = 40;
  const offStruct = offRsv + rsv.length;
  const offStrings = offStruct + spec.struct.length;
  const tail = spec.tail ?? new Uint8Array(0);
  const total = offStrings + strings.length + tail.length;
  const header = be32(
    0xd00dfeed,
    total,
    offStruct,
    offStrings,
    offRsv,
    spec.version ?? 17,
    spec.lastComp ?? 16,
    spec.bootCpu ?? 0,
    strings.length,
    spec.struct.length,
  );
  const blob = concat(header, rsv, spec.struct, strings, tail);
  const view = new DataView(blob.buffer);
  for (const [offset, value] of Object.entries(spec.patch ?? {})) {
    view.setUint32(Number(offset), value >>> 0);
  }
  return blob;
}

/** A small valid tree: root with one property and one child. */
export function validSpec(): CraftSpec {
  return {
    struct: concat(
      tok.begin(""),
      tok.prop(0, [2]),
      tok.begin("child@1"),
      tok.prop(15, encoder.encode("hello\0")),
      tok.end(),
      tok.end(),
      tok.finish(),
    ),
    strings: strtab("#address-cells", "label"),
  };
}

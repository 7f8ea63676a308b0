/**
 * Builders for synthetic arm64 Images used by the tests.
 *
 * @module
 */

/** Header fields a test may override; the rest default to a current 4 KiB-page kernel. */
export interface SyntheticImage {
  /** File length in bytes (at least 64). */
  readonly length?: number;
  /** 0x00. */
  readonly code0?: number;
  /** 0x08. */
  readonly textOffset?: bigint;
  /** 0x10. */
  readonly imageSize?: bigint;
  /** 0x18. */
  readonly flags?: bigint;
  /** 0x20. */
  readonly res2?: bigint;
  /** 0x28. */
  readonly res3?: bigint;
  /** 0x30. */
  readonly res4?: bigint;
  /** 0x38. */
  readonly magic?: number;
  /** 0x3C. */
  readonly res5?: number;
}

/** A synthetic Image: the header, then a recognisable byte pattern. */
export function makeImage(fields: SyntheticImage = {}): Uint8Array {
  const length = fields.length ?? 0x3000;
  const image = new Uint8Array(length);
  for (let i = 64; i < length; i++) image[i] = (i * 7 + 3) & 0xff;
  const view = new DataView(image.buffer);
  view.setUint32(0x00, fields.code0 ?? 0x14000010, true);
  view.setUint32(0x04, 0, true);
  view.setBigUint64(0x08, fields.textOffset ?? 0n, true);
  view.setBigUint64(0x10, fields.imageSize ?? BigInt(Math.max(length, 0x10000)), true);
  view.setBigUint64(0x18, fields.flags ?? 0xan, true);
  view.setBigUint64(0x20, fields.res2 ?? 0n, true);
  view.setBigUint64(0x28, fields.res3 ?? 0n, true);
  view.setBigUint64(0x30, fields.res4 ?? 0n, true);
  view.setUint32(0x38, fields.magic ?? 0x644d5241, true);
  view.setUint32(0x3c, fields.res5 ?? 0, true);
  return image;
}

/** Compresses `bytes` with the runtime's gzip `CompressionStream`. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BufferSource]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Where {@linkcode makePeImage} puts things, for tests that corrupt one field. */
export const PE_LAYOUT = Object.freeze({
  /** The "PE\0\0" signature (the Image's res5). */
  pe: 0x40,
  /** The PE32+ optional header. */
  optional: 0x58,
  /** Its size: the fixed 112 bytes and six data directories, as Linux writes it. */
  optionalSize: 0xa0,
  /** The section table: .text, then .data. */
  sections: 0xf8,
  /** Where .text's raw data starts. */
  text: 0x1000,
});

/** Section sizes of a synthetic EFI-stub Image. */
export interface SyntheticPeImage {
  /** Raw bytes of .text (default 0x3000). */
  readonly textSize?: number;
  /** Raw bytes of .data (default 0x1000); the file ends with them. */
  readonly dataSize?: number;
}

/**
 * A synthetic arm64 Image with the EFI stub's PE/COFF header laid out as Linux's efi-header.S
 * lays it out: "MZ" in code0, res5 = 0x40, a PE32+ optional header, and two sections whose raw
 * data ends exactly at the end of the file.
 */
export function makePeImage(fields: SyntheticPeImage = {}): Uint8Array {
  const textSize = fields.textSize ?? 0x3000;
  const dataSize = fields.dataSize ?? 0x1000;
  const dataAt = PE_LAYOUT.text + textSize;
  const length = dataAt + dataSize;
  const image = makeImage({
    length,
    code0: 0xfa405a4d,
    res5: PE_LAYOUT.pe,
    imageSize: BigInt(length + 0x10000),
  });
  image.fill(0, 64, PE_LAYOUT.text);
  const view = new DataView(image.buffer);
  const { pe, optional, optionalSize, sections } = PE_LAYOUT;
  view.setUint32(pe, 0x00004550, true);
  view.setUint16(pe + 4, 0xaa64, true);
  view.setUint16(pe + 6, 2, true);
  view.setUint16(pe + 20, optionalSize, true);
  view.setUint16(pe + 22, 0x206, true);
  view.setUint16(optional, 0x20b, true);
  view.setUint32(optional + 56, length + 0x10000, true); // SizeOfImage
  view.setUint32(optional + 60, PE_LAYOUT.text, true); // SizeOfHeaders
  view.setUint32(optional + 108, (optionalSize - 112) / 8, true);
  const section = (at: number, name: string, address: number, size: number): void => {
    for (let i = 0; i < name.length; i++) image[at + i] = name.charCodeAt(i);
    view.setUint32(at + 8, size, true);
    view.setUint32(at + 12, address, true);
    view.setUint32(at + 16, size, true);
    view.setUint32(at + 20, address, true);
  };
  section(sections, ".text", PE_LAYOUT.text, textSize);
  section(sections + 40, ".data", dataAt, dataSize);
  return image;
}

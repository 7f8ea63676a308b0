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

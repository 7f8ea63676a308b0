/**
 * Memory sizes as people write them: `256M`, `1G`, `512MiB`, `1048576`.
 *
 * @module
 */

import { VmmError } from "./errors.ts";

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  KB: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
};

/**
 * Parses a size with an optional binary unit (K, M, G; `B`/`iB` suffixes
 * accepted, case-insensitive).
 *
 * @throws {VmmError} `BAD_CONFIG` naming the text when it is not a size.
 *
 * @example
 * ```ts
 * import { parseMemorySize } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseMemorySize("256M"), 256 * 1024 * 1024);
 * assert.equal(parseMemorySize("1GiB"), 1024 ** 3);
 * assert.throws(() => parseMemorySize("lots"), { code: "BAD_CONFIG" });
 * ```
 */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    throw new VmmError(
      "BAD_CONFIG",
      `${JSON.stringify(text)} is not a memory size (examples: 256M, 1G, 512MiB)`,
    );
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) {
    throw new VmmError("BAD_CONFIG", `${JSON.stringify(text)} is not a whole number of bytes`);
  }
  return bytes;
}

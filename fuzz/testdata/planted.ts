/**
 * Targets with a planted bug, triggered by any input holding the byte 0x42: the fuzz tests use
 * them to show that the engine finds, saves and reports each kind of finding.
 *
 * @module
 */

import { type FuzzTarget, invariant } from "../target.ts";

/** The byte that triggers every planted bug. */
export const TRIGGER = 0x42;

/** Creates the planted target `name`: planted-throw, planted-invariant or planted-hang. */
export function createTarget(name: string): FuzzTarget {
  const base = {
    name,
    description: "a planted bug",
    maxLength: 64,
    seeds: (): Uint8Array[] => [new Uint8Array(8)],
  };
  switch (name) {
    case "planted-throw":
      return {
        ...base,
        run(input: Uint8Array): string {
          if (input.includes(TRIGGER)) throw new TypeError("planted: a host exception");
          return "ok";
        },
      };
    case "planted-invariant":
      return {
        ...base,
        run(input: Uint8Array): string {
          invariant(!input.includes(TRIGGER), () => "planted: a broken promise");
          return "ok";
        },
      };
    case "planted-hang":
      return {
        ...base,
        run(input: Uint8Array): string {
          // deno-lint-ignore no-empty
          while (input.includes(TRIGGER)) {}
          return "ok";
        },
      };
  }
  throw new RangeError(`no planted target ${name}`);
}

/**
 * Every fuzz target, in the order a full run visits them.
 *
 * @module
 */

import type { FuzzTarget, SeedContext } from "../target.ts";
import { createFdtTarget } from "./fdt.ts";
import { createGicTarget } from "./gic.ts";
import { createGzipTarget } from "./gzip.ts";
import { createImageTarget } from "./image.ts";
import { createPl011Target } from "./pl011.ts";
import { createPlacementTarget } from "./placement.ts";

/** Target names, for option parsing without creating the targets. */
export const TARGET_NAMES: readonly string[] = [
  "fdt",
  "image",
  "gzip",
  "placement",
  "gic",
  "pl011",
];

/** Creates the target called `name` (one of {@linkcode TARGET_NAMES}). */
export function createTarget(name: string, context: SeedContext): FuzzTarget {
  switch (name) {
    case "fdt":
      return createFdtTarget(context);
    case "image":
      return createImageTarget(context);
    case "gzip":
      return createGzipTarget(context);
    case "placement":
      return createPlacementTarget(context);
    case "gic":
      return createGicTarget();
    case "pl011":
      return createPl011Target();
  }
  throw new RangeError(`no fuzz target ${JSON.stringify(name)}; known: ${TARGET_NAMES.join(", ")}`);
}

/**
 * A device tree property: a validated name and its raw big-endian value.
 *
 * @module
 */

import { FdtError } from "./errors.ts";
import { isValidPropertyName } from "./names.ts";

/**
 * A named property and its raw big-endian value.
 *
 * @example Listing and replacing raw values
 * ```ts
 * import { Fdt, type FdtProperty } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const node = new Fdt().root.setString("model", "vmkit").setU32("#size-cells", 2);
 * const sizes = node.properties.map((p: FdtProperty) => `${p.name}: ${p.value.length}`);
 * assert.deepEqual(sizes, ["model: 6", "#size-cells: 4"]); // "vmkit" and its NUL; one cell
 * const model = node.getProperty("model");
 * if (model) model.value = new TextEncoder().encode("virt\0");
 * assert.equal(node.getString("model"), "virt");
 * ```
 */
export class FdtProperty {
  /** The property name, e.g. `compatible`. */
  readonly name: string;
  #value: Uint8Array;

  /**
   * Creates a detached property; nodes create their own through their setters.
   * @param name a valid property name (`BAD_NAME` otherwise)
   * @param value the raw value; the property keeps this array, it does not copy it
   */
  constructor(name: string, value: Uint8Array = new Uint8Array(0)) {
    if (typeof name !== "string" || !isValidPropertyName(name)) {
      throw new FdtError("BAD_NAME", `invalid property name ${JSON.stringify(name)}`);
    }
    this.name = name;
    this.#value = checkValue(value);
  }

  /** The raw value. Mutating the returned array changes the property. */
  get value(): Uint8Array {
    return this.#value;
  }

  /** Replaces the raw value (kept, not copied). */
  set value(value: Uint8Array) {
    this.#value = checkValue(value);
  }
}

function checkValue(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new FdtError("INVALID_ARGUMENT", "a property value must be a Uint8Array");
  }
  return value;
}

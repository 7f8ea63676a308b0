/**
 * Characters a name may use: the ones `dtc` accepts in DTS source (`[A-Za-z0-9,._+*#?@-]`), a
 * superset of the specification's sets for node and property names. Holding every tree to it keeps
 * `toDts` output compilable and rules out anything that would break path lookup.
 */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2c || c === 0x2e || c === 0x5f || c === 0x2b || c === 0x2a || // , . _ + *
    c === 0x23 || c === 0x3f || c === 0x40 || c === 0x2d; // # ? @ -
}

/**
 * Node names: 1 to 1024 name characters, at most one `@` (before the unit address), not first.
 *
 * @example Usage
 * ```ts
 * import { isValidNodeName } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidNodeName("memory@40000000"), true);
 * assert.equal(isValidNodeName("@40000000"), false); // a name before the unit address
 * assert.equal(isValidNodeName("cpu@0@1"), false); // one unit address at most
 * assert.equal(isValidNodeName("my device"), false); // no spaces
 * ```
 */
export function isValidNodeName(name: string): boolean {
  if (name.length === 0 || name.length > 1024 || name.charCodeAt(0) === 0x40) return false;
  let ats = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isNameChar(c)) return false;
    if (c === 0x40) ats++;
  }
  return ats <= 1;
}

/**
 * Property names: 1 to 1024 name characters.
 *
 * @example Usage
 * ```ts
 * import { isValidPropertyName } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidPropertyName("#address-cells"), true);
 * assert.equal(isValidPropertyName("linux,initrd-start"), true);
 * assert.equal(isValidPropertyName("boot args"), false);
 * ```
 */
export function isValidPropertyName(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  for (let i = 0; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i))) return false;
  }
  return true;
}

/** The part of a node name before `@`. */
export function baseName(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(0, at);
}

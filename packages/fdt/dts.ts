import type { Fdt } from "./fdt.ts";
import type { FdtNode } from "./tree.ts";

/**
 * Options for {@link toDts}.
 *
 * @example String lists, readable or as dtc prints them
 * ```ts
 * import { type DtsOptions, Fdt, toDts } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setStringList("compatible", ["linux,dummy-virt", "simple-bus"]);
 * const dtc: DtsOptions = { style: "dtc" };
 * assert.match(toDts(fdt), /compatible = "linux,dummy-virt", "simple-bus";/);
 * assert.match(toDts(fdt, dtc), /compatible = "linux,dummy-virt\\0simple-bus";/);
 * ```
 */
export interface DtsOptions {
  /**
   * `"readable"` (the default) writes string lists as `"a", "b"`; `"dtc"` reproduces exactly what
   * `dtc -I dtb -O dts` (1.6) prints for the same blob, including its `"a\0b"` for lists.
   */
  style?: "readable" | "dtc";
}

/**
 * Renders the tree as DTS source. A blob carries no types, so each value is shown the way `dtc`
 * guesses it: printable NUL-terminated text as strings, whole cells as `<0x..>`, anything else as
 * `[bytes]`. The output compiles back (`dtc -I dts`) to the same tree.
 *
 * @example Usage
 * ```ts
 * import { Fdt, toDts } from "@vmkit/fdt";
 * import assert from "node:assert/strict";
 *
 * const fdt = new Fdt();
 * fdt.root.setU32("#address-cells", 2).addNode("chosen").setString("bootargs", "console=ttyAMA0");
 * assert.equal(toDts(fdt), [
 *   "/dts-v1/;",
 *   "",
 *   "/ {",
 *   "\t#address-cells = <0x02>;",
 *   "",
 *   "\tchosen {",
 *   '\t\tbootargs = "console=ttyAMA0";',
 *   "\t};",
 *   "};",
 *   "",
 * ].join("\n"));
 * ```
 */
export function toDts(fdt: Fdt, options: DtsOptions = {}): string {
  const readable = (options.style ?? "readable") === "readable";
  const out: string[] = ["/dts-v1/;\n\n"];
  for (const r of fdt.reservations) {
    out.push(`/memreserve/\t0x${hex64(r.address)} 0x${hex64(r.size)};\n`);
  }
  // Iterative so deep trees cannot exhaust the call stack.
  const stack: { node: FdtNode; next: number }[] = [];
  const open = (node: FdtNode): void => {
    const indent = "\t".repeat(node.depth);
    out.push(node.depth === 0 ? "/ {\n" : `${indent}${node.name} {\n`);
    for (const p of node.properties) {
      out.push(`${indent}\t${p.name}${formatValue(p.value, readable)};\n`);
    }
    stack.push({ node, next: 0 });
  };
  open(fdt.root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.children.length) {
      out.push("\n");
      open(top.node.children[top.next++]);
      continue;
    }
    stack.pop();
    out.push(`${"\t".repeat(top.node.depth)}};\n`);
  }
  return out.join("");
}

function hex64(value: number): string {
  return value.toString(16).padStart(16, "0");
}

/** Characters `dtc` accepts inside a string value: printable ASCII, NUL and C escapes. */
function isStringByte(c: number): boolean {
  return (c >= 0x20 && c < 0x7f) || c === 0 || (c >= 0x07 && c <= 0x0d);
}

const ESCAPES: Readonly<Record<number, string>> = Object.freeze({
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x5c: "\\\\",
  0x22: '\\"',
});

function formatValue(value: Uint8Array, readable: boolean): string {
  const length = value.length;
  if (length === 0) return "";
  let nuls = 0;
  let other = false;
  for (const c of value) {
    if (c === 0) nuls++;
    else if (!isStringByte(c)) other = true;
  }
  if (value[length - 1] === 0 && !other && nuls <= length - nuls) {
    return ` = ${formatStrings(value, readable)}`;
  }
  if (length % 4 === 0) {
    const cells: string[] = [];
    for (let i = 0; i < length; i += 4) {
      const cell =
        ((value[i] << 24) | (value[i + 1] << 16) | (value[i + 2] << 8) | value[i + 3]) >>> 0;
      cells.push(`0x${cell.toString(16).padStart(2, "0")}`);
    }
    return ` = <${cells.join(" ")}>`;
  }
  return ` = [${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join(" ")}]`;
}

function formatStrings(value: Uint8Array, readable: boolean): string {
  let text = '"';
  for (let i = 0; i < value.length - 1; i++) {
    const c = value[i];
    if (c === 0) text += readable ? '", "' : "\\0";
    else text += ESCAPES[c] ?? String.fromCharCode(c);
  }
  return text + '"';
}

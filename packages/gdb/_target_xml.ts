/**
 * The target description sent for `qXfer:features:read:target.xml`: gdb's two standard AArch64
 * features, inline, so that gdb names every register and numbers them as the `g` packet lays
 * them out (x0–x30, sp, pc, cpsr; v0–v31, fpsr, fpcr). gdb derives q/d/s/h/b views of the
 * vector registers from v0–v31 itself.
 *
 * @module
 */

function regs(prefix: string, count: number, attributes: string): string {
  let out = "";
  for (let i = 0; i < count; i++) out += `    <reg name="${prefix}${i}" ${attributes}/>\n`;
  return out;
}

const CPSR_FLAGS: readonly (readonly [string, number, number])[] = [
  ["SP", 0, 0],
  ["EL", 2, 3],
  ["nRW", 4, 4],
  ["F", 6, 6],
  ["I", 7, 7],
  ["A", 8, 8],
  ["D", 9, 9],
  ["IL", 20, 20],
  ["SS", 21, 21],
  ["V", 28, 28],
  ["C", 29, 29],
  ["Z", 30, 30],
  ["N", 31, 31],
];

const VECTORS: readonly (readonly [string, string, number])[] = [
  ["v2d", "ieee_double", 2],
  ["v2u", "uint64", 2],
  ["v2i", "int64", 2],
  ["v4f", "ieee_single", 4],
  ["v4u", "uint32", 4],
  ["v4i", "int32", 4],
  ["v8u", "uint16", 8],
  ["v8i", "int16", 8],
  ["v16u", "uint8", 16],
  ["v16i", "int8", 16],
  ["v1u", "uint128", 1],
  ["v1i", "int128", 1],
];

const UNIONS: readonly (readonly [string, readonly (readonly [string, string])[]])[] = [
  ["vnd", [["f", "v2d"], ["u", "v2u"], ["s", "v2i"]]],
  ["vns", [["f", "v4f"], ["u", "v4u"], ["s", "v4i"]]],
  ["vnh", [["u", "v8u"], ["s", "v8i"]]],
  ["vnb", [["u", "v16u"], ["s", "v16i"]]],
  ["vnq", [["u", "v1u"], ["s", "v1i"]]],
  ["aarch64v", [["d", "vnd"], ["s", "vns"], ["h", "vnh"], ["b", "vnb"], ["q", "vnq"]]],
];

function build(): string {
  let xml = '<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n';
  xml += '<target version="1.0">\n  <architecture>aarch64</architecture>\n';
  xml += '  <feature name="org.gnu.gdb.aarch64.core">\n';
  xml += regs("x", 31, 'bitsize="64"');
  xml += '    <reg name="sp" bitsize="64" type="data_ptr"/>\n';
  xml += '    <reg name="pc" bitsize="64" type="code_ptr"/>\n';
  xml += '    <flags id="cpsr_flags" size="4">\n';
  for (const [name, start, end] of CPSR_FLAGS) {
    xml += `      <field name="${name}" start="${start}" end="${end}"/>\n`;
  }
  xml += "    </flags>\n";
  xml += '    <reg name="cpsr" bitsize="32" type="cpsr_flags"/>\n';
  xml += "  </feature>\n";
  xml += '  <feature name="org.gnu.gdb.aarch64.fpu">\n';
  for (const [id, type, count] of VECTORS) {
    xml += `    <vector id="${id}" type="${type}" count="${count}"/>\n`;
  }
  for (const [id, fields] of UNIONS) {
    xml += `    <union id="${id}">\n`;
    for (const [name, type] of fields) xml += `      <field name="${name}" type="${type}"/>\n`;
    xml += "    </union>\n";
  }
  xml += regs("v", 32, 'bitsize="128" type="aarch64v"');
  xml += '    <reg name="fpsr" bitsize="32"/>\n';
  xml += '    <reg name="fpcr" bitsize="32"/>\n';
  xml += "  </feature>\n</target>\n";
  return xml;
}

/** The whole description, as bytes (it is served in slices). */
export const TARGET_XML: Uint8Array = new TextEncoder().encode(build());

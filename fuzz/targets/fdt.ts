/**
 * The device-tree parser: every input must parse or raise `FdtError`; what parses must serialise
 * back to the same bytes, parse again, and survive the read accessors and an edit.
 *
 * @module
 */

import {
  FdtError,
  getBootargs,
  getInitrdRange,
  getInterruptParent,
  getMemoryRegions,
  parseFdt,
  resolveStdout,
  serializeFdt,
  setBootargs,
  setInitrdRange,
  setMemoryRegions,
  toDts,
} from "@vmkit/fdt";
import { type FuzzTarget, invariant, outcome, type SeedContext } from "../target.ts";

const FDT_DIRS = ["packages/fdt/testdata/", "packages/loader/testdata/"];
/** Seeds above this are re-serialised compactly (QEMU pads its DTB to 1 MiB of zeros). */
const COMPACT_ABOVE = 64 * 1024;
/** Accessors are tried on this many nodes at most, to keep one input well under a millisecond. */
const NODE_BUDGET = 256;

const be32 = (...words: number[]): Uint8Array => {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0));
  return out;
};
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Runs `fn`, allowing only an `FdtError`, and records its code in `codes`. */
function tolerate(codes: Set<string>, fn: () => unknown): void {
  const code = outcome([FdtError], fn);
  if (code !== "ok") codes.add(code);
}

/** Creates the target. */
export function createFdtTarget(context: SeedContext): FuzzTarget {
  return {
    name: "fdt",
    description: "parseFdt, byte-identical re-serialisation, accessors, an edit and a re-parse",
    maxLength: 128 * 1024,
    dictionary: [
      be32(0xd00dfeed),
      be32(1),
      be32(2),
      be32(3),
      be32(4),
      be32(9),
      be32(17),
      be32(16),
      be32(0xffffffff),
      text("#address-cells\0"),
      text("#size-cells\0"),
      text("reg\0"),
      text("ranges\0"),
      text("phandle\0"),
      text("interrupt-parent\0"),
      text("linux,initrd-start\0"),
      text("stdout-path\0"),
      text("/chosen\0"),
      text("memory@40000000\0"),
    ],
    seeds(): Uint8Array[] {
      const seeds: Uint8Array[] = [];
      for (const dir of FDT_DIRS) {
        const names = [...Deno.readDirSync(new URL(dir, context.root))]
          .map((e) => e.name).filter((n) => n.endsWith(".dtb")).sort();
        for (const name of names) {
          const blob = Deno.readFileSync(new URL(dir + name, context.root));
          if (blob.length <= COMPACT_ABOVE) {
            seeds.push(blob);
            continue;
          }
          const fdt = parseFdt(blob);
          fdt.layout = undefined;
          seeds.push(serializeFdt(fdt));
        }
      }
      return seeds;
    },
    run(input: Uint8Array): string {
      let fdt;
      try {
        fdt = parseFdt(input);
      } catch (e) {
        if (e instanceof FdtError) return e.code;
        throw e;
      }
      // An unmodified tree comes out byte for byte as it went in (up to totalsize), except that a
      // version above 17 is written as 17.
      const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
      const original = input.slice(0, view.getUint32(4));
      if (view.getUint32(20) > 17) new DataView(original.buffer).setUint32(20, 17);
      const out = serializeFdt(fdt);
      invariant(
        equalBytes(out, original),
        () =>
          `unmodified tree re-serialises differently: ${out.length} bytes vs ${original.length}, first difference at 0x${
            firstDifference(out, original).toString(16)
          }`,
      );
      parseFdt(out);

      const codes = new Set<string>();
      tolerate(codes, () => toDts(fdt));
      tolerate(codes, () => getMemoryRegions(fdt));
      tolerate(codes, () => getBootargs(fdt));
      tolerate(codes, () => getInitrdRange(fdt));
      tolerate(codes, () => resolveStdout(fdt));
      tolerate(codes, () => fdt.phandles());
      tolerate(codes, () => fdt.aliases());
      let budget = NODE_BUDGET;
      for (const node of fdt.nodes()) {
        if (budget-- === 0) break;
        tolerate(codes, () => node.getReg());
        tolerate(codes, () => node.getRanges());
        tolerate(codes, () => node.getStringList("compatible"));
        tolerate(codes, () => getInterruptParent(fdt, node));
      }

      // An edit: whatever the tree held, the result must serialise into a blob that parses.
      let edited: Uint8Array | undefined;
      tolerate(codes, () => {
        setBootargs(fdt, "console=ttyAMA0 earlycon");
        setInitrdRange(fdt, 0x4800_0000, 0x4810_0000);
        setMemoryRegions(fdt, [{ address: 0x4000_0000, size: 0x1000_0000 }]);
        edited = serializeFdt(fdt);
      });
      if (edited !== undefined) {
        const again = parseFdt(edited);
        invariant(
          getBootargs(again) === "console=ttyAMA0 earlycon",
          () => `bootargs lost in an edit: ${JSON.stringify(getBootargs(again))}`,
        );
        const initrd = getInitrdRange(again);
        invariant(
          initrd?.start === 0x4800_0000 && initrd.end === 0x4810_0000,
          () => `initrd range lost in an edit: ${JSON.stringify(initrd)}`,
        );
      }
      return codes.size === 0 ? "ok" : `ok ${[...codes].sort().join(",")}`;
    },
  };
}

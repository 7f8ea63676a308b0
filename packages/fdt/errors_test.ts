import assert from "node:assert/strict";
import {
  FDT_ERROR_CODES,
  FdtError,
  type FdtErrorCode,
  followPhandleChain,
  getInitrdRange,
  getInterruptControllerChain,
  getInterruptParent,
  parseFdt,
  resolveStdout,
  serializeFdt,
  setInitrdRange,
  setMemoryRegions,
} from "./mod.ts";
import { be32, concat, craft, type CraftSpec, strtab, tok, validSpec } from "./testdata/craft.ts";

interface Case {
  code: FdtErrorCode;
  name: string;
  run: () => unknown;
  /** Expected byte offset, for errors raised while parsing. */
  offset?: number;
}

const enc = new TextEncoder();
const str = (s: string): Uint8Array => enc.encode(s + "\0");

function withStruct(
  struct: Uint8Array,
  strings = strtab("a", "b"),
  extra: Partial<CraftSpec> = {},
) {
  return craft({ struct, strings, ...extra });
}

/** A valid blob whose tree is edited by `edit` and re-serialised, to test tree-level errors. */
function treeFrom(struct: Uint8Array, strings: Uint8Array) {
  return parseFdt(craft({ struct, strings }));
}

const structStart = 40 + 16; // header + the empty reservation block

const cases: Case[] = [
  {
    code: "TRUNCATED",
    name: "blob shorter than a magic word",
    run: () => parseFdt(new Uint8Array(2)),
    offset: 2,
  },
  {
    code: "TRUNCATED",
    name: "totalsize beyond the blob",
    run: () => parseFdt(craft(validSpec()).subarray(0, 80)),
    offset: 80,
  },
  {
    code: "TRUNCATED",
    name: "header cut short",
    run: () => parseFdt(craft(validSpec()).subarray(0, 30)),
    offset: 30,
  },
  {
    code: "BAD_MAGIC",
    name: "wrong magic",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 0: 0xfeedd00d } })),
    offset: 0,
  },
  {
    code: "UNSUPPORTED_VERSION",
    name: "version 3",
    run: () => parseFdt(craft({ ...validSpec(), version: 3, lastComp: 1 })),
    offset: 20,
  },
  {
    code: "UNSUPPORTED_VERSION",
    name: "last_comp_version 18",
    run: () => parseFdt(craft({ ...validSpec(), version: 18, lastComp: 18 })),
    offset: 24,
  },
  {
    code: "BAD_HEADER",
    name: "last_comp_version above version",
    run: () => parseFdt(craft({ ...validSpec(), version: 16, lastComp: 17 })),
    offset: 24,
  },
  {
    code: "BAD_HEADER",
    name: "totalsize smaller than the header",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 4: 20 } })),
    offset: 4,
  },
  {
    code: "BLOCK_OUT_OF_RANGE",
    name: "structure offset past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 8: 0x10000 } })),
    offset: 8,
  },
  {
    code: "BLOCK_OUT_OF_RANGE",
    name: "strings offset inside the header",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 12: 8 } })),
    offset: 12,
  },
  {
    code: "BLOCK_OUT_OF_RANGE",
    name: "strings size past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 32: 0xffff_fff0 } })),
    offset: 32,
  },
  {
    code: "BLOCK_OUT_OF_RANGE",
    name: "structure size past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 36: 0x1000 } })),
    offset: 36,
  },
  {
    code: "BLOCK_OVERLAP",
    name: "strings block inside the structure block",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 12: structStart + 8 } })),
    offset: structStart + 8,
  },
  {
    code: "BLOCK_OVERLAP",
    name: "reservation block running into the structure block",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 16: structStart - 8 } })),
    offset: structStart,
  },
  {
    code: "BLOCK_OVERLAP",
    name: "structure block overlapping the strings block",
    run: () => {
      const blob = craft(validSpec());
      const view = new DataView(blob.buffer);
      view.setUint32(36, view.getUint32(36) + 4);
      view.setUint32(32, view.getUint32(32) - 4);
      return parseFdt(blob);
    },
  },
  {
    code: "MISALIGNED_BLOCK",
    name: "structure block not 4-byte aligned",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 8: structStart + 2 } })),
    offset: 8,
  },
  {
    code: "MISALIGNED_BLOCK",
    name: "reservation block not 8-byte aligned",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 16: 44 } })),
    offset: 16,
  },
  {
    code: "BAD_RESERVATION",
    name: "reservation block without terminator",
    run: () => {
      // One entry, no terminator, placed last so the scan runs into totalsize.
      const base = craft(validSpec()).length;
      const pad = new Uint8Array((8 - (base % 8)) % 8);
      const blob = craft({ ...validSpec(), tail: concat(pad, be32(0, 0x1000, 0, 0x10)) });
      new DataView(blob.buffer).setUint32(16, blob.length - 16);
      return parseFdt(blob);
    },
  },
  {
    code: "BAD_TOKEN",
    name: "unknown token",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(7), tok.end(), tok.finish()))),
    offset: structStart + 8,
  },
  {
    code: "STRUCT_OVERRUN",
    name: "property value longer than the structure block",
    run: () =>
      parseFdt(withStruct(concat(tok.begin(""), be32(3, 0x100, 0), tok.end(), tok.finish()))),
    offset: structStart + 12,
  },
  {
    code: "STRUCT_OVERRUN",
    name: "property header cut by the end of the block",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(3, 0)))),
    offset: structStart + 8,
  },
  {
    code: "UNTERMINATED_NAME",
    name: "node name without NUL",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(1), enc.encode("abcdefgh")))),
    offset: structStart + 12,
  },
  {
    code: "UNTERMINATED_STRING",
    name: "property name without NUL",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.prop(0), tok.end(), tok.finish()), enc.encode("abcd")),
      ),
  },
  {
    code: "BAD_STRING_OFFSET",
    name: "name offset beyond the strings block",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.prop(100), tok.end(), tok.finish()))),
    offset: structStart + 16,
  },
  {
    code: "BAD_NAME",
    name: "node name with a space",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.begin("a b"), tok.end(), tok.end(), tok.finish())),
      ),
    offset: structStart + 12,
  },
  {
    code: "BAD_NAME",
    name: "root with a name",
    run: () => parseFdt(withStruct(concat(tok.begin("root"), tok.end(), tok.finish()))),
    offset: structStart + 4,
  },
  {
    code: "BAD_NAME",
    name: "empty property name",
    run: () =>
      parseFdt(withStruct(concat(tok.begin(""), tok.prop(1), tok.end(), tok.finish()), str("a"))),
  },
  {
    code: "BAD_NAME",
    name: "node name with a slash",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.begin("a/b"), tok.end(), tok.end(), tok.finish())),
      ),
  },
  {
    code: "DUPLICATE_NAME",
    name: "the same property twice",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.prop(0), tok.prop(0), tok.end(), tok.finish())),
      ),
    offset: structStart + 20,
  },
  {
    code: "DUPLICATE_NAME",
    name: "the same child twice",
    run: () =>
      parseFdt(
        withStruct(
          concat(
            tok.begin(""),
            tok.begin("x"),
            tok.end(),
            tok.begin("x"),
            tok.end(),
            tok.end(),
            tok.finish(),
          ),
        ),
      ),
    offset: structStart + 20,
  },
  {
    code: "DUPLICATE_NAME",
    name: "addNode over an existing child",
    run: () => parseFdt(craft(validSpec())).root.addNode("child@1"),
  },
  {
    code: "UNCLOSED_NODE",
    name: "FDT_END inside a node",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.begin("x"), tok.end(), tok.finish()))),
    offset: structStart + 20,
  },
  {
    code: "UNCLOSED_NODE",
    name: "nesting that never closes",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.begin("x"), tok.begin("y")))),
    offset: structStart + 24,
  },
  {
    code: "UNEXPECTED_END_NODE",
    name: "FDT_END_NODE before any node",
    run: () => parseFdt(withStruct(concat(tok.end(), tok.finish()))),
    offset: structStart,
  },
  {
    code: "MISSING_END_TOKEN",
    name: "no FDT_END after the root",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.end()))),
    offset: structStart + 12,
  },
  {
    code: "BAD_STRUCTURE",
    name: "property before the root",
    run: () => parseFdt(withStruct(concat(tok.prop(0), tok.begin(""), tok.end(), tok.finish()))),
    offset: structStart,
  },
  {
    code: "BAD_STRUCTURE",
    name: "property after a child node",
    run: () =>
      parseFdt(
        withStruct(
          concat(tok.begin(""), tok.begin("x"), tok.end(), tok.prop(0), tok.end(), tok.finish()),
        ),
      ),
    offset: structStart + 20,
  },
  {
    code: "BAD_STRUCTURE",
    name: "two roots",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.end(), tok.begin(""), tok.end(), tok.finish())),
      ),
    offset: structStart + 12,
  },
  {
    code: "BAD_STRUCTURE",
    name: "no root at all",
    run: () => parseFdt(withStruct(concat(tok.nop(), tok.finish()))),
    offset: structStart + 4,
  },
  {
    code: "LIMIT_EXCEEDED",
    name: "nesting deeper than the cap",
    run: () => {
      const parts = [tok.begin("")];
      for (let i = 0; i < 100; i++) parts.push(tok.begin(`n${i}`));
      for (let i = 0; i <= 100; i++) parts.push(tok.end());
      parts.push(tok.finish());
      return parseFdt(withStruct(concat(...parts)));
    },
  },
  {
    code: "LIMIT_EXCEEDED",
    name: "more nodes than allowed",
    run: () => parseFdt(craft(validSpec()), { limits: { maxNodes: 1 } }),
  },
  {
    code: "LIMIT_EXCEEDED",
    name: "totalsize above the size cap",
    run: () => parseFdt(craft(validSpec()), { limits: { maxTotalSize: 64 } }),
    offset: 4,
  },
  {
    code: "VALUE_OVERFLOW",
    name: "reservation above 2^53",
    run: () => parseFdt(craft({ ...validSpec(), reservations: [[1n << 60n, 0x1000n]] })),
    offset: 40,
  },
  {
    code: "VALUE_OVERFLOW",
    name: "reg address above 2^53",
    run: () =>
      treeFrom(
        concat(
          tok.begin(""),
          tok.begin("dev@0"),
          tok.prop(0, [0xffffffff, 0xffffffff, 0x1000]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("reg"),
      ).getNode("/dev@0").getReg(),
  },
  {
    code: "BAD_PROPERTY_VALUE",
    name: "getU32 on a 3-byte value",
    run: () =>
      treeFrom(
        concat(tok.begin(""), tok.prop(0, new Uint8Array(3)), tok.end(), tok.finish()),
        strtab("x"),
      )
        .root.getU32("x"),
  },
  {
    code: "BAD_PROPERTY_VALUE",
    name: "initrd end before start",
    run: () => {
      const fdt = treeFrom(
        concat(
          tok.begin(""),
          tok.begin("chosen"),
          tok.prop(0, [0x2000]),
          tok.prop(19, [0x1000]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("linux,initrd-start", "linux,initrd-end"),
      );
      return getInitrdRange(fdt);
    },
  },
  {
    code: "BAD_CELLS",
    name: "#address-cells of 7",
    run: () =>
      treeFrom(
        concat(
          tok.begin(""),
          tok.prop(0, [7]),
          tok.begin("d@0"),
          tok.prop(15, [0, 0]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("#address-cells", "reg"),
      ).getNode("/d@0").getReg(),
  },
  {
    code: "PHANDLE_NOT_FOUND",
    name: "interrupt-parent naming nothing",
    run: () => {
      const fdt = treeFrom(
        concat(tok.begin(""), tok.prop(0, [0x99]), tok.end(), tok.finish()),
        strtab("interrupt-parent"),
      );
      return getInterruptParent(fdt, fdt.root);
    },
  },
  {
    code: "DUPLICATE_PHANDLE",
    name: "two nodes with one phandle",
    run: () =>
      treeFrom(
        concat(
          tok.begin(""),
          tok.begin("a"),
          tok.prop(0, [1]),
          tok.end(),
          tok.begin("b"),
          tok.prop(0, [1]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("phandle"),
      ).phandles(),
  },
  {
    code: "PHANDLE_CYCLE",
    name: "interrupt-parent loop between two controllers",
    run: () => {
      const fdt = treeFrom(
        concat(
          tok.begin(""),
          tok.begin("a"),
          tok.prop(0, [1]),
          tok.prop(8, [2]),
          tok.end(),
          tok.begin("b"),
          tok.prop(0, [2]),
          tok.prop(8, [1]),
          tok.end(),
          tok.begin("dev"),
          tok.prop(8, [1]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("phandle", "interrupt-parent"),
      );
      return getInterruptControllerChain(fdt, fdt.getNode("/dev"));
    },
  },
  {
    code: "PHANDLE_CYCLE",
    name: "a node naming itself through a followed property",
    run: () => {
      const fdt = treeFrom(
        concat(
          tok.begin(""),
          tok.begin("a"),
          tok.prop(0, [1]),
          tok.prop(8, [1]),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("phandle", "next"),
      );
      return followPhandleChain(fdt, fdt.getNode("/a"), "next");
    },
  },
  {
    code: "NOT_FOUND",
    name: "getNode of a missing path",
    run: () => parseFdt(craft(validSpec())).getNode("/nope"),
  },
  {
    code: "NOT_FOUND",
    name: "stdout-path naming nothing",
    run: () => {
      const fdt = treeFrom(
        concat(
          tok.begin(""),
          tok.begin("chosen"),
          tok.prop(0, str("/serial@0:115200")),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        strtab("stdout-path"),
      );
      return resolveStdout(fdt);
    },
  },
  {
    code: "AMBIGUOUS_PATH",
    name: "unit-address-less lookup with two candidates",
    run: () =>
      treeFrom(
        concat(
          tok.begin(""),
          tok.begin("memory@0"),
          tok.end(),
          tok.begin("memory@1000"),
          tok.end(),
          tok.end(),
          tok.finish(),
        ),
        new Uint8Array(0),
      ).findNode("/memory"),
  },
  {
    code: "INVALID_ARGUMENT",
    name: "negative u32",
    run: () => parseFdt(craft(validSpec())).root.setU32("x", -1),
  },
  {
    code: "INVALID_ARGUMENT",
    name: "initrd end before start",
    run: () => setInitrdRange(parseFdt(craft(validSpec())), 0x2000, 0x1000),
  },
  {
    code: "INVALID_ARGUMENT",
    name: "reservation of (0, 0)",
    run: () => {
      const fdt = parseFdt(craft(validSpec()));
      fdt.reservations.push({ address: 0, size: 0 });
      return serializeFdt(fdt);
    },
  },
  {
    code: "INVALID_ARGUMENT",
    name: "memory region of size 0",
    run: () => setMemoryRegions(parseFdt(craft(validSpec())), [{ address: 0x1000, size: 0 }]),
  },
];

for (const c of cases) {
  Deno.test(`FdtError ${c.code}: ${c.name}`, () => {
    let caught: unknown;
    try {
      c.run();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof FdtError, `expected FdtError, got ${String(caught)}`);
    assert.equal(caught.code, c.code, caught.message);
    assert.ok(caught.message.length > 10);
    if (c.offset !== undefined) assert.equal(caught.offset, c.offset, caught.message);
  });
}

/**
 * Every member of the union, spelled out where the type checker sees it: a code added to
 * FdtErrorCode without a key here fails to compile, so the list and the cases cannot fall behind.
 */
const EVERY_CODE: Record<FdtErrorCode, true> = {
  "TRUNCATED": true,
  "BAD_MAGIC": true,
  "UNSUPPORTED_VERSION": true,
  "BAD_HEADER": true,
  "BLOCK_OUT_OF_RANGE": true,
  "BLOCK_OVERLAP": true,
  "MISALIGNED_BLOCK": true,
  "BAD_RESERVATION": true,
  "BAD_TOKEN": true,
  "STRUCT_OVERRUN": true,
  "UNTERMINATED_NAME": true,
  "UNTERMINATED_STRING": true,
  "BAD_STRING_OFFSET": true,
  "BAD_NAME": true,
  "DUPLICATE_NAME": true,
  "UNCLOSED_NODE": true,
  "UNEXPECTED_END_NODE": true,
  "MISSING_END_TOKEN": true,
  "BAD_STRUCTURE": true,
  "LIMIT_EXCEEDED": true,
  "VALUE_OVERFLOW": true,
  "BAD_PROPERTY_VALUE": true,
  "BAD_CELLS": true,
  "PHANDLE_NOT_FOUND": true,
  "DUPLICATE_PHANDLE": true,
  "PHANDLE_CYCLE": true,
  "NOT_FOUND": true,
  "AMBIGUOUS_PATH": true,
  "INVALID_ARGUMENT": true,
};

Deno.test("FDT_ERROR_CODES lists every FdtErrorCode exactly once", () => {
  assert.deepEqual([...FDT_ERROR_CODES].sort(), Object.keys(EVERY_CODE).sort());
  assert.equal(new Set(FDT_ERROR_CODES).size, FDT_ERROR_CODES.length);
});

Deno.test("every error code has a crafted case", () => {
  const covered = new Set(cases.map((c) => c.code));
  assert.deepEqual([...FDT_ERROR_CODES].filter((c) => !covered.has(c)), []);
});

Deno.test("the crafted valid blob parses", () => {
  const fdt = parseFdt(craft(validSpec()));
  assert.equal(fdt.root.getU32("#address-cells"), 2);
  assert.equal(fdt.getNode("/child@1").getString("label"), "hello");
});

Deno.test("FdtError carries code, offset and path and names itself", () => {
  const e = new FdtError("NOT_FOUND", "missing", { offset: 16, path: "/a" });
  assert.equal(e.name, "FdtError");
  assert.equal(e.offset, 16);
  assert.equal(e.path, "/a");
  assert.match(e.message, /offset 0x10/);
  assert.ok(e instanceof Error);
});

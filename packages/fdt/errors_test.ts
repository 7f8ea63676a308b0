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
    code: "truncated",
    name: "blob shorter than a magic word",
    run: () => parseFdt(new Uint8Array(2)),
    offset: 2,
  },
  {
    code: "truncated",
    name: "totalsize beyond the blob",
    run: () => parseFdt(craft(validSpec()).subarray(0, 80)),
    offset: 80,
  },
  {
    code: "truncated",
    name: "header cut short",
    run: () => parseFdt(craft(validSpec()).subarray(0, 30)),
    offset: 30,
  },
  {
    code: "bad-magic",
    name: "wrong magic",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 0: 0xfeedd00d } })),
    offset: 0,
  },
  {
    code: "unsupported-version",
    name: "version 3",
    run: () => parseFdt(craft({ ...validSpec(), version: 3, lastComp: 1 })),
    offset: 20,
  },
  {
    code: "unsupported-version",
    name: "last_comp_version 18",
    run: () => parseFdt(craft({ ...validSpec(), version: 18, lastComp: 18 })),
    offset: 24,
  },
  {
    code: "bad-header",
    name: "last_comp_version above version",
    run: () => parseFdt(craft({ ...validSpec(), version: 16, lastComp: 17 })),
    offset: 24,
  },
  {
    code: "bad-header",
    name: "totalsize smaller than the header",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 4: 20 } })),
    offset: 4,
  },
  {
    code: "block-out-of-range",
    name: "structure offset past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 8: 0x10000 } })),
    offset: 8,
  },
  {
    code: "block-out-of-range",
    name: "strings offset inside the header",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 12: 8 } })),
    offset: 12,
  },
  {
    code: "block-out-of-range",
    name: "strings size past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 32: 0xffff_fff0 } })),
    offset: 32,
  },
  {
    code: "block-out-of-range",
    name: "structure size past totalsize",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 36: 0x1000 } })),
    offset: 36,
  },
  {
    code: "block-overlap",
    name: "strings block inside the structure block",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 12: structStart + 8 } })),
    offset: structStart + 8,
  },
  {
    code: "block-overlap",
    name: "reservation block running into the structure block",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 16: structStart - 8 } })),
    offset: structStart,
  },
  {
    code: "block-overlap",
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
    code: "misaligned-block",
    name: "structure block not 4-byte aligned",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 8: structStart + 2 } })),
    offset: 8,
  },
  {
    code: "misaligned-block",
    name: "reservation block not 8-byte aligned",
    run: () => parseFdt(craft({ ...validSpec(), patch: { 16: 44 } })),
    offset: 16,
  },
  {
    code: "bad-reservation",
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
    code: "bad-token",
    name: "unknown token",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(7), tok.end(), tok.finish()))),
    offset: structStart + 8,
  },
  {
    code: "struct-overrun",
    name: "property value longer than the structure block",
    run: () =>
      parseFdt(withStruct(concat(tok.begin(""), be32(3, 0x100, 0), tok.end(), tok.finish()))),
    offset: structStart + 12,
  },
  {
    code: "struct-overrun",
    name: "property header cut by the end of the block",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(3, 0)))),
    offset: structStart + 8,
  },
  {
    code: "unterminated-name",
    name: "node name without NUL",
    run: () => parseFdt(withStruct(concat(tok.begin(""), be32(1), enc.encode("abcdefgh")))),
    offset: structStart + 12,
  },
  {
    code: "unterminated-string",
    name: "property name without NUL",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.prop(0), tok.end(), tok.finish()), enc.encode("abcd")),
      ),
  },
  {
    code: "bad-string-offset",
    name: "name offset beyond the strings block",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.prop(100), tok.end(), tok.finish()))),
    offset: structStart + 16,
  },
  {
    code: "bad-name",
    name: "node name with a space",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.begin("a b"), tok.end(), tok.end(), tok.finish())),
      ),
    offset: structStart + 12,
  },
  {
    code: "bad-name",
    name: "root with a name",
    run: () => parseFdt(withStruct(concat(tok.begin("root"), tok.end(), tok.finish()))),
    offset: structStart + 4,
  },
  {
    code: "bad-name",
    name: "empty property name",
    run: () =>
      parseFdt(withStruct(concat(tok.begin(""), tok.prop(1), tok.end(), tok.finish()), str("a"))),
  },
  {
    code: "bad-name",
    name: "node name with a slash",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.begin("a/b"), tok.end(), tok.end(), tok.finish())),
      ),
  },
  {
    code: "duplicate-name",
    name: "the same property twice",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.prop(0), tok.prop(0), tok.end(), tok.finish())),
      ),
    offset: structStart + 20,
  },
  {
    code: "duplicate-name",
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
    code: "duplicate-name",
    name: "addNode over an existing child",
    run: () => parseFdt(craft(validSpec())).root.addNode("child@1"),
  },
  {
    code: "unclosed-node",
    name: "FDT_END inside a node",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.begin("x"), tok.end(), tok.finish()))),
    offset: structStart + 20,
  },
  {
    code: "unclosed-node",
    name: "nesting that never closes",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.begin("x"), tok.begin("y")))),
    offset: structStart + 24,
  },
  {
    code: "unexpected-end-node",
    name: "FDT_END_NODE before any node",
    run: () => parseFdt(withStruct(concat(tok.end(), tok.finish()))),
    offset: structStart,
  },
  {
    code: "missing-end-token",
    name: "no FDT_END after the root",
    run: () => parseFdt(withStruct(concat(tok.begin(""), tok.end()))),
    offset: structStart + 12,
  },
  {
    code: "bad-structure",
    name: "property before the root",
    run: () => parseFdt(withStruct(concat(tok.prop(0), tok.begin(""), tok.end(), tok.finish()))),
    offset: structStart,
  },
  {
    code: "bad-structure",
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
    code: "bad-structure",
    name: "two roots",
    run: () =>
      parseFdt(
        withStruct(concat(tok.begin(""), tok.end(), tok.begin(""), tok.end(), tok.finish())),
      ),
    offset: structStart + 12,
  },
  {
    code: "bad-structure",
    name: "no root at all",
    run: () => parseFdt(withStruct(concat(tok.nop(), tok.finish()))),
    offset: structStart + 4,
  },
  {
    code: "limit-exceeded",
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
    code: "limit-exceeded",
    name: "more nodes than allowed",
    run: () => parseFdt(craft(validSpec()), { limits: { maxNodes: 1 } }),
  },
  {
    code: "limit-exceeded",
    name: "totalsize above the size cap",
    run: () => parseFdt(craft(validSpec()), { limits: { maxTotalSize: 64 } }),
    offset: 4,
  },
  {
    code: "value-overflow",
    name: "reservation above 2^53",
    run: () => parseFdt(craft({ ...validSpec(), reservations: [[1n << 60n, 0x1000n]] })),
    offset: 40,
  },
  {
    code: "value-overflow",
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
    code: "bad-property-value",
    name: "getU32 on a 3-byte value",
    run: () =>
      treeFrom(
        concat(tok.begin(""), tok.prop(0, new Uint8Array(3)), tok.end(), tok.finish()),
        strtab("x"),
      )
        .root.getU32("x"),
  },
  {
    code: "bad-property-value",
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
    code: "bad-cells",
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
    code: "phandle-not-found",
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
    code: "duplicate-phandle",
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
    code: "phandle-cycle",
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
    code: "phandle-cycle",
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
    code: "not-found",
    name: "getNode of a missing path",
    run: () => parseFdt(craft(validSpec())).getNode("/nope"),
  },
  {
    code: "not-found",
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
    code: "ambiguous-path",
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
    code: "invalid-argument",
    name: "negative u32",
    run: () => parseFdt(craft(validSpec())).root.setU32("x", -1),
  },
  {
    code: "invalid-argument",
    name: "initrd end before start",
    run: () => setInitrdRange(parseFdt(craft(validSpec())), 0x2000, 0x1000),
  },
  {
    code: "invalid-argument",
    name: "reservation of (0, 0)",
    run: () => {
      const fdt = parseFdt(craft(validSpec()));
      fdt.reservations.push({ address: 0, size: 0 });
      return serializeFdt(fdt);
    },
  },
  {
    code: "invalid-argument",
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
  "truncated": true,
  "bad-magic": true,
  "unsupported-version": true,
  "bad-header": true,
  "block-out-of-range": true,
  "block-overlap": true,
  "misaligned-block": true,
  "bad-reservation": true,
  "bad-token": true,
  "struct-overrun": true,
  "unterminated-name": true,
  "unterminated-string": true,
  "bad-string-offset": true,
  "bad-name": true,
  "duplicate-name": true,
  "unclosed-node": true,
  "unexpected-end-node": true,
  "missing-end-token": true,
  "bad-structure": true,
  "limit-exceeded": true,
  "value-overflow": true,
  "bad-property-value": true,
  "bad-cells": true,
  "phandle-not-found": true,
  "duplicate-phandle": true,
  "phandle-cycle": true,
  "not-found": true,
  "ambiguous-path": true,
  "invalid-argument": true,
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
  const e = new FdtError("not-found", "missing", { offset: 16, path: "/a" });
  assert.equal(e.name, "FdtError");
  assert.equal(e.offset, 16);
  assert.equal(e.path, "/a");
  assert.match(e.message, /offset 0x10/);
  assert.ok(e instanceof Error);
});

/**
 * Thousands of corrupted blobs derived from the goldens: parsing, and then walking, decoding,
 * dumping and serialising whatever parsed, must only ever throw FdtError, and the work done must
 * stay proportional to the input size.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Fdt,
  FDT_ERROR_CODES,
  FdtError,
  getBootargs,
  getInitrdRange,
  getInterruptControllerChain,
  getMemoryRegions,
  parseFdt,
  resolveStdout,
  serializeFdt,
  translateAddress,
} from "./mod.ts";
import { goldenBlobs } from "./testdata/goldens.ts";
import { concat, craft, strtab, tok } from "./testdata/craft.ts";

const RUNS = 6000;

function sources(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [name, blob] of goldenBlobs()) {
    if (name === "qemu-virt.dtb") {
      // QEMU's dump is 1 MiB of mostly free space; the compact form keeps every structure byte
      // and makes each run cheap.
      const fdt = parseFdt(blob);
      fdt.layout = undefined;
      out.push(serializeFdt(fdt));
    } else {
      out.push(blob);
    }
  }
  out.push(craft({
    struct: concat(
      tok.nop(),
      tok.begin(""),
      tok.prop(0, [1]),
      tok.nop(),
      tok.begin("a@1"),
      tok.prop(2, strtab("x", "y")),
      tok.end(),
      tok.end(),
      tok.finish(),
    ),
    strings: strtab("p", "q"),
  }));
  return out;
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "header"; field: number; value: number }
  | { kind: "word"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number };

const interesting = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 8, 9, 16, 17, 0x28, 0x38, 0x40, 0xff, 0x7fff_ffff, 0xffff_ffff),
  fc.integer({ min: 0, max: 0x2000 }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

// In-place damage is weighted up: it keeps totalsize honest, so more mutants get past the header
// and exercise the structure walk.
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("flip" as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("header" as const),
      field: fc.integer({ min: 0, max: 9 }),
      value: interesting,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("word" as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(1, 2, 3, 4, 9), interesting),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
    }),
  },
);

function apply(input: Uint8Array, m: Mutation): Uint8Array {
  const len = input.length;
  const pos = (at: number) => (len === 0 ? 0 : at % len);
  switch (m.kind) {
    case "flip": {
      const out = input.slice();
      if (len > 0) out[pos(m.at)] ^= 1 << m.bit;
      return out;
    }
    case "set": {
      const out = input.slice();
      if (len > 0) out[pos(m.at)] = m.value;
      return out;
    }
    case "truncate":
      return input.slice(0, pos(m.at));
    case "header": {
      const out = input.slice();
      if (m.field * 4 + 4 <= len) new DataView(out.buffer).setUint32(m.field * 4, m.value >>> 0);
      return out;
    }
    case "word": {
      const out = input.slice();
      const at = pos(m.at) & ~3;
      if (at + 4 <= len) new DataView(out.buffer).setUint32(at, m.value >>> 0);
      return out;
    }
    case "insert": {
      const at = pos(m.at);
      return concat(input.subarray(0, at), m.bytes, input.subarray(at));
    }
    case "delete": {
      const at = pos(m.at);
      return concat(input.subarray(0, at), input.subarray(Math.min(len, at + m.length)));
    }
  }
}

/** Runs `fn`; anything but FdtError (with a valid code) fails the test. */
function tolerate<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof FdtError)) throw e;
    assert.ok(FDT_ERROR_CODES.includes(e.code), `unknown code ${e.code}`);
    return undefined;
  }
}

interface Outcome {
  parsed: boolean;
  code?: string;
}

/** Everything a consumer might do with a parsed tree. Returns the units of work done. */
function exercise(fdt: Fdt): number {
  let work = 0;
  const getters = [
    "getU32",
    "getU64",
    "getNumber",
    "getCells",
    "getString",
    "getStringList",
  ] as const;
  for (const node of fdt.nodes()) {
    work++;
    assert.ok(node.path.startsWith("/"));
    for (const p of node.properties) {
      work++;
      for (const g of getters) tolerate(() => node[g](p.name));
      assert.ok(node.getBytes(p.name) !== undefined);
    }
    tolerate(() => node.getReg());
    tolerate(() => node.getRanges());
    tolerate(() => node.phandle);
    tolerate(() => translateAddress(node, 0));
  }
  tolerate(() => fdt.phandles());
  tolerate(() => getMemoryRegions(fdt));
  tolerate(() => getInitrdRange(fdt));
  tolerate(() => getBootargs(fdt));
  tolerate(() => resolveStdout(fdt));
  tolerate(() => fdt.findNode("/memory"));
  tolerate(() => fdt.findNode("serial0"));
  // Interrupt chains from a few nodes only, so this check stays linear.
  let chains = 0;
  for (const node of fdt.nodes()) {
    if (chains++ >= 8) break;
    tolerate(() => getInterruptControllerChain(fdt, node));
  }
  return work;
}

function check(blob: Uint8Array): Outcome {
  let fdt: Fdt;
  try {
    fdt = parseFdt(blob);
  } catch (e) {
    if (!(e instanceof FdtError)) throw e;
    assert.ok(FDT_ERROR_CODES.includes(e.code), `unknown code ${e.code}`);
    assert.ok(e.message.length > 0);
    if (e.offset !== undefined) {
      assert.ok(e.offset >= 0 && e.offset <= Math.max(blob.length, 40), `offset ${e.offset}`);
    }
    return { parsed: false, code: e.code };
  }
  const totalSize = new DataView(blob.buffer, blob.byteOffset).getUint32(4);
  const work = exercise(fdt);
  // Every node takes at least 8 structure bytes and every property 12.
  assert.ok(work <= totalSize / 4, `work ${work} for ${totalSize} bytes`);
  const dts = fdt.toDts();
  assert.ok(dts.length <= 80 * totalSize + 64, `dts of ${dts.length} chars for ${totalSize} bytes`);
  const dtcStyle = fdt.toDts({ style: "dtc" });
  assert.ok(dtcStyle.length <= 80 * totalSize + 64);

  const out = serializeFdt(fdt);
  const version = new DataView(blob.buffer, blob.byteOffset).getUint32(20);
  if (version <= 17) {
    // Whatever parsed is reproduced exactly: the layout model covers every byte.
    assert.deepEqual(out, blob.subarray(0, totalSize));
  }
  // What we write always parses again, to the same tree and the same bytes.
  const again = parseFdt(out);
  assert.equal(again.toDts(), dts);
  assert.deepEqual(serializeFdt(again), out);
  // And the compact layout is valid too.
  fdt.layout = undefined;
  const compact = serializeFdt(fdt);
  assert.ok(compact.length <= totalSize + 64);
  assert.equal(parseFdt(compact).toDts(), dts);
  return { parsed: true };
}

Deno.test(`${RUNS} corrupted blobs only ever raise FdtError, with bounded work`, () => {
  const inputs = sources();
  const codes = new Map<string, number>();
  let parsed = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: inputs.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (which, mutations) => {
        const blob = mutations.reduce(apply, inputs[which]);
        const outcome = check(blob);
        if (outcome.parsed) parsed++;
        else codes.set(outcome.code!, (codes.get(outcome.code!) ?? 0) + 1);
      },
    ),
    { numRuns: RUNS, seed: 0x0fd7, endOnFailure: true },
  );
  // The corpus must reach deep into the parser, not just bounce off the magic check.
  assert.ok(parsed > RUNS / 20, `only ${parsed} mutants parsed`);
  assert.ok(codes.size >= 12, `only ${[...codes.keys()].join(", ")} were raised`);
});

Deno.test("every golden and every prefix of a small one are handled", () => {
  for (const blob of sources()) check(blob);
  const small = goldenBlobs().get("phandles.dtb")!;
  for (let n = 0; n <= small.length; n++) check(small.subarray(0, n));
});

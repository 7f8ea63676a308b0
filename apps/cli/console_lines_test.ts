// Console lines of several VMs: whole lines with the name in front, CR LF as one line end,
// UTF-8 split across writes, endless lines cut, the unfinished rest flushed.
import assert from "node:assert/strict";
import { PrefixedLines } from "./mod.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("lines: whole lines with the prefix, CR LF as one end, the rest kept until its end", () => {
  const out: string[] = [];
  const lines = new PrefixedLines("a", (l) => out.push(l));
  lines.write(bytes("one\r\ntw"));
  assert.deepEqual(out, ["[a] one\n"]);
  lines.write(bytes("o\n\nthree"));
  assert.deepEqual(out, ["[a] one\n", "[a] two\n", "[a] \n"]);
  lines.flush();
  assert.deepEqual(out.at(-1), "[a] three\n");
  lines.flush();
  assert.equal(out.length, 4, "nothing left to flush");
});

Deno.test("lines: a UTF-8 character split between writes arrives whole", () => {
  const out: string[] = [];
  const lines = new PrefixedLines("vm-1", (l) => out.push(l));
  const text = bytes("grüße\n");
  lines.write(text.subarray(0, 3));
  lines.write(text.subarray(3));
  assert.deepEqual(out, ["[vm-1] grüße\n"]);
});

Deno.test("lines: two VMs' output interleaves by whole lines", () => {
  const out: string[] = [];
  const a = new PrefixedLines("a", (l) => out.push(l));
  const b = new PrefixedLines("b", (l) => out.push(l));
  a.write(bytes("hel"));
  b.write(bytes("wor"));
  a.write(bytes("lo\n"));
  b.write(bytes("ld\n"));
  assert.deepEqual(out, ["[a] hello\n", "[b] world\n"]);
});

Deno.test("lines: a line that never ends is written in 4096-character pieces", () => {
  const out: string[] = [];
  const lines = new PrefixedLines("x", (l) => out.push(l));
  lines.write(bytes("y".repeat(10_000)));
  assert.equal(out.length, 2);
  assert.ok(out.every((l) => l === `[x] ${"y".repeat(4096)}\n`));
  lines.flush();
  assert.equal(out[2], `[x] ${"y".repeat(10_000 - 8192)}\n`);
});

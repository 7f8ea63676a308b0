import assert from "node:assert/strict";
import {
  clearInitrdRange,
  Fdt,
  FdtError,
  getBootargs,
  getInitrdRange,
  getStdoutPath,
  parseFdt,
  resolveStdout,
  serializeFdt,
  setBootargs,
  setInitrdRange,
  setStdoutPath,
} from "./mod.ts";

function golden(name: string): Fdt {
  return parseFdt(Deno.readFileSync(new URL(`./testdata/${name}`, import.meta.url)));
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FdtError && e.code === code);
}

Deno.test("bootargs: read, absent, set creates /chosen", () => {
  assert.equal(getBootargs(golden("memreserve.dtb")), "console=ttyAMA0 earlycon root=/dev/vda");
  assert.equal(getBootargs(golden("qemu-virt.dtb")), undefined);
  assert.equal(getBootargs(golden("types.dtb")), "");
  const fdt = new Fdt();
  assert.equal(getBootargs(fdt), undefined);
  setBootargs(fdt, "console=ttyAMA0 quiet");
  assert.equal(getBootargs(fdt), "console=ttyAMA0 quiet");
  assert.equal(fdt.root.children.length, 1);
  setBootargs(fdt, "");
  assert.equal(getBootargs(fdt), "");
  assert.equal(fdt.root.children.length, 1);
  const back = parseFdt(serializeFdt(fdt));
  assert.equal(getBootargs(back), "");
});

Deno.test("initrd: 32-bit and 64-bit cells read alike", () => {
  assert.deepEqual(getInitrdRange(golden("phandles.dtb")), { start: 0x48000000, end: 0x48100000 });
  assert.deepEqual(getInitrdRange(golden("types.dtb")), { start: 0x44000000, end: 0x44800000 });
  assert.equal(getInitrdRange(golden("qemu-virt.dtb")), undefined);
  const fdt = new Fdt();
  fdt.ensureNode("/chosen").setU32("linux,initrd-start", 0x1000).setU64(
    "linux,initrd-end",
    0x2_0000_0000,
  );
  assert.deepEqual(getInitrdRange(fdt), { start: 0x1000, end: 0x2_0000_0000 });
  fdt.getNode("/chosen").removeProperty("linux,initrd-end");
  assert.equal(getInitrdRange(fdt), undefined);
  fdt.getNode("/chosen").setBytes("linux,initrd-end", [1, 2]);
  throwsCode(() => getInitrdRange(fdt), "BAD_PROPERTY_VALUE");
});

Deno.test("initrd: writes 64-bit by default, 32-bit on request, creates /chosen", () => {
  const fdt = new Fdt();
  setInitrdRange(fdt, 0x48000000, 0x48200000);
  const chosen = fdt.getNode("/chosen");
  assert.equal(chosen.getProperty("linux,initrd-start")?.value.length, 8);
  assert.equal(chosen.getU64("linux,initrd-end"), 0x48200000n);
  assert.deepEqual(getInitrdRange(fdt), { start: 0x48000000, end: 0x48200000 });
  setInitrdRange(fdt, 0x1000, 0x2000, { width: 32 });
  assert.equal(chosen.getProperty("linux,initrd-start")?.value.length, 4);
  assert.deepEqual(getInitrdRange(fdt), { start: 0x1000, end: 0x2000 });
  setInitrdRange(fdt, 2 ** 40, 2 ** 40 + 5);
  assert.deepEqual(getInitrdRange(fdt), { start: 2 ** 40, end: 2 ** 40 + 5 });
  throwsCode(() => setInitrdRange(fdt, 0, 2 ** 32, { width: 32 }), "VALUE_OVERFLOW");
  throwsCode(() => setInitrdRange(fdt, -1, 5), "INVALID_ARGUMENT");
  throwsCode(() => setInitrdRange(fdt, 1.5, 5), "INVALID_ARGUMENT");
  throwsCode(() => setInitrdRange(fdt, 0, 5, { width: 16 as 32 }), "INVALID_ARGUMENT");
  assert.deepEqual(getInitrdRange(fdt), { start: 2 ** 40, end: 2 ** 40 + 5 });
  clearInitrdRange(fdt);
  assert.equal(getInitrdRange(fdt), undefined);
  clearInitrdRange(new Fdt());
});

Deno.test("stdout-path: read, alias with options, plain path, legacy name, set", () => {
  const ph = golden("phandles.dtb");
  assert.equal(getStdoutPath(ph), "serial0:115200n8");
  const out = resolveStdout(ph)!;
  assert.equal(out.node.path, "/soc/serial@9000000");
  assert.equal(out.options, "115200n8");

  const fdt = new Fdt();
  assert.equal(getStdoutPath(fdt), undefined);
  assert.equal(resolveStdout(fdt), undefined);
  fdt.root.addNode("pl011@9000000");
  setStdoutPath(fdt, "/pl011@9000000");
  assert.deepEqual(resolveStdout(fdt), { node: fdt.getNode("/pl011@9000000"), options: undefined });
  fdt.getNode("/chosen").removeProperty("stdout-path");
  fdt.getNode("/chosen").setString("linux,stdout-path", "/pl011");
  assert.equal(resolveStdout(fdt)?.node.name, "pl011@9000000");
});

import assert from "node:assert/strict";
import { Gicv2 } from "@vmkit/vgic";
import { cpuInterfaceLanes, distributorLanes } from "./gic_access.ts";

const CPU = 0;

Deno.test("gic access: narrow reads return the register's bytes at the lanes read", () => {
  const gic = new Gicv2({ cpus: 1 });
  const gicd = distributorLanes(gic.distributor);
  const typer = gic.distributor.read(0x004, 4, CPU);
  assert.equal(gicd.read(0x004, 1, CPU), typer & 0xff);
  assert.equal(gicd.read(0x004, 2, CPU), typer & 0xffff);
  assert.equal(gicd.read(0x009, 1, CPU), (gic.distributor.read(0x008, 4, CPU) >>> 8) & 0xff);
  gicd.write(0x420, 4, 0x5566_7788, CPU);
  assert.equal(gicd.read(0x422, 2, CPU), 0x5566);
  assert.equal(gicd.read(0x421, 1, CPU), 0x77);
  // Across a word (no engine access does this): byte by byte.
  gicd.write(0x424, 4, 0x1122_3344, CPU);
  assert.equal(gicd.read(0x423, 2, CPU), 0x4455);
  const gicc = cpuInterfaceLanes(gic.cpuInterface);
  assert.equal(gicc.read(0xfe, 2, CPU), gic.cpuInterface.read(0xfc, 4, CPU) >>> 16);
});

Deno.test("gic access: narrow writes act on their lanes only, by the register's kind", () => {
  const gic = new Gicv2({ cpus: 1 });
  const gicd = distributorLanes(gic.distributor);
  // Byte-accessible priorities: a 2-byte write is two byte writes.
  gicd.write(0x420, 4, 0x5566_7788, CPU);
  gicd.write(0x422, 2, 0xaabb, CPU);
  assert.equal(gicd.read(0x420, 4, CPU), 0xaabb_7788);
  // Set-enable and clear-enable: zeros elsewhere change nothing.
  gicd.write(0x104, 4, 0x0000_00ff, CPU);
  gicd.write(0x105, 1, 0x81, CPU);
  assert.equal(gicd.read(0x104, 4, CPU), 0x0000_81ff);
  gicd.write(0x184, 1, 0x0f, CPU);
  assert.equal(gicd.read(0x104, 4, CPU), 0x0000_81f0);
  // Configuration: the other bytes keep their value.
  gicd.write(0xc08, 4, 0x2, CPU);
  gicd.write(0xc09, 1, 0x0c, CPU);
  assert.equal(gicd.read(0xc08, 4, CPU), 0x0802);
  // GICD_CTLR (read-write): the enable bit by a byte write.
  gicd.write(0x000, 1, 1, CPU);
  assert.equal(gicd.read(0x000, 4, CPU), 1);
  // Read-only registers stay as they are.
  const iidr = gicd.read(0x008, 4, CPU);
  gicd.write(0x008, 1, 0, CPU);
  assert.equal(gicd.read(0x008, 4, CPU), iidr);
});

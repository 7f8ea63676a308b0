// Stage 2 over the guest-physical map (`_stage2.ts`): every byte of RAM and
// MMIO the VMM mapped is reachable, whatever the regions' alignment and
// wherever in the 1 TiB space they are, and everything else, including the
// stage-2 tables themselves, is an external abort. Checked by real loads.
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import { Vcpu } from "./vcpu.ts";
import { VcpuError } from "./errors.ts";
import { SYSREGS } from "./sysregs.ts";
import { Asm } from "./testdata/a64.ts";

const library = UnicornLibrary.open();
const RAM = 0x4000_0000;
const MMIO_VALUE = 0x1234_5678n;
const SEA_LOAD = 0x9600_0010n;

/** A vCPU with code at RAM that loads the doubleword at x1 and reports it (HVC #1) or the abort (HVC #2). */
function prober(extra: (vcpu: Vcpu) => void, ramSize = 0x30_1000): Vcpu {
  const a = new Asm(RAM);
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).isb().ldr(3, 1, 0).hvc(1);
  a.org(RAM + 0x800).label("vectors").org(RAM + 0x800 + 0x200)
    .mrs(10, SYSREGS.ESR_EL1).mrs(11, SYSREGS.FAR_EL1).hvc(2);
  const vcpu = new Vcpu({ library });
  const ram = new Uint8Array(ramSize);
  ram.set(a.assemble());
  new DataView(ram.buffer).setBigUint64(ramSize - 8, 0xfeed_f00dn, true);
  vcpu.mapRam(RAM, ram);
  vcpu.mapMmio(0x0900_0000, 0x1000, (acc) => {
    if (!acc.write) acc.value = Number(MMIO_VALUE);
  });
  extra(vcpu);
  return vcpu;
}

/** What a load at `address` gives: the value, or `abort ESR FAR`. */
function load(vcpu: Vcpu, address: number | bigint): string {
  vcpu.reset();
  vcpu.setEntry(RAM, 0);
  vcpu.setX(1, BigInt(address));
  for (let i = 0; i < 10; i++) {
    const exit = vcpu.run();
    if (exit.reason === "preempted") continue;
    assert.equal(exit.reason, "hvc");
    if (exit.imm === 1) return `0x${vcpu.getX(3).toString(16)}`;
    return `abort 0x${vcpu.getX(10).toString(16)} 0x${vcpu.getX(11).toString(16)}`;
  }
  throw new Error("no answer");
}

const abort = (address: number | bigint) =>
  `abort 0x${SEA_LOAD.toString(16)} 0x${address.toString(16)}`;

Deno.test("stage 2: a map below 16 GiB, with a region that is not a whole block", () => {
  using vcpu = prober(() => {});
  const end = RAM + 0x30_1000;
  assert.equal(load(vcpu, end - 8), "0xfeedf00d", "the last doubleword of RAM");
  assert.equal(load(vcpu, end), abort(end), "the first byte past RAM");
  assert.equal(load(vcpu, 0x0900_0000), "0x1234567812345678", "the MMIO region");
  assert.equal(load(vcpu, 0x0900_1000), abort(0x0900_1000), "past the MMIO region");
  assert.equal(load(vcpu, 0), abort(0));
  assert.equal(load(vcpu, 2 ** 34 - 8), abort(2 ** 34 - 8), "the end of the 16 GiB walk");
  assert.equal(load(vcpu, 2 ** 40), abort(2 ** 40), "the stage-2 tables");
  assert.equal(vcpu.stats.unbackedReads, 5);
});

Deno.test("stage 2: a region above 16 GiB makes the walk reach 1 TiB", () => {
  const high = 0x40_0000_0000; // 256 GiB
  using vcpu = prober((v) => {
    const ram = new Uint8Array(0x4000_0000 + 0x2000); // 1 GiB and two pages: a block and pages
    new DataView(ram.buffer).setBigUint64(ram.byteLength - 8, 0xabcdn, true);
    v.mapRam(high, ram);
  });
  assert.equal(load(vcpu, high + 0x4000_2000 - 8), "0xabcd");
  assert.equal(load(vcpu, high + 0x4000_2000), abort(high + 0x4000_2000));
  assert.equal(load(vcpu, high - 8), abort(high - 8));
  assert.equal(load(vcpu, RAM + 0x30_1000 - 8), "0xfeedf00d", "low RAM still maps");
  assert.equal(load(vcpu, 0x0900_0000), "0x1234567812345678");
  assert.equal(load(vcpu, 2 ** 40 - 8), abort(2 ** 40 - 8));
  assert.equal(load(vcpu, 2 ** 40 + 8), abort(2 ** 40 + 8), "the stage-2 tables");
});

Deno.test("stage 2: regions beyond 1 TiB are refused", () => {
  using vcpu = new Vcpu({ library });
  assert.throws(
    () => vcpu.mapRam(2 ** 40 - 0x1000, new Uint8Array(0x2000)),
    (e) => e instanceof VcpuError && e.code === "BAD_REGION" && /1 TiB/.test(e.message),
  );
  assert.throws(
    () => vcpu.mapMmio(2 ** 41, 0x1000, () => {}),
    (e) => e instanceof VcpuError && e.code === "BAD_REGION",
  );
  assert.deepEqual(vcpu.regions, []);
});

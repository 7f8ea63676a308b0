import { UnicornLibrary } from "./library.ts";
import { Vcpu } from "./vcpu.ts";
import { SYSREGS } from "./sysregs.ts";
import { Asm, COND } from "./testdata/a64.ts";
const library = UnicornLibrary.open();
const RAM = 0x4000_0000;
for (const what of ["ctr", "dc", "ic"]) {
  const a = new Asm(RAM).mov(9, 100000).mov(2, RAM + 0x10000);
  a.label("loop");
  if (what === "ctr") a.mrs(1, SYSREGS.CTR_EL0);
  else if (what === "dc") a.word(0xd50b7b22); // dc cvau, x2
  else a.word(0xd50b7522); // ic ivau, x2
  a.subsi(9, 9, 1).bcond(COND.ne, "loop").hvc(0);
  const vcpu = new Vcpu({ library, trapCacheMaintenance: true });
  const ram = new Uint8Array(0x20_0000);
  ram.set(a.assemble());
  vcpu.mapRam(RAM, ram);
  vcpu.setEntry(RAM, 0);
  const t = performance.now();
  for (;;) {
    const e = vcpu.run();
    if (e.reason === "hvc") break;
  }
  console.log(
    vcpu.stats.cacheMaintenance,
    library.versionString,
    what,
    ((performance.now() - t) * 1000 / 100000).toFixed(2),
    "us/trap",
  );
  vcpu.close();
}

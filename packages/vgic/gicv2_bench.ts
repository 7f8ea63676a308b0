// Cost of the per-interrupt hot path: inject → GICC_IAR → GICC_EOIR.
import { Gicv2, VirqController } from "./mod.ts";

function setup(cpus: number, irqs: number) {
  let level = false;
  const gic = new Gicv2({ cpus, irqs, onIrq: (_cpu, high) => (level = high) });
  const virq = new VirqController(gic);
  virq.init(0);
  let acks = 0;
  virq.register(0, 33, () => acks++);
  const d = gic.distributor;
  const c = gic.cpuInterface;
  d.write(0x000, 4, 1, 0);
  for (let cpu = 0; cpu < cpus; cpu++) {
    c.write(0x000, 4, 1, cpu);
    c.write(0x004, 4, 0xf0, cpu);
    d.write(0x100, 4, 0xffff, cpu);
  }
  for (let id = 32; id < gic.irqs; id += 4) {
    d.write(0x400 + id, 4, 0xa0a0a0a0, 0);
    d.write(0x800 + id, 4, 0x01010101, 0);
  }
  for (let n = 1; n * 32 < gic.irqs; n++) d.write(0x100 + 4 * n, 4, 0xffffffff, 0);
  return { gic, virq, d, c, level: () => level, acks: () => acks };
}

function roundTrip(cpus: number, irqs: number): () => void {
  const { virq, c, level } = setup(cpus, irqs);
  return () => {
    virq.inject(0, 33);
    const iar = c.read(0x00c, 4, 0);
    c.write(0x010, 4, iar, 0);
    if (iar !== 33 || level()) throw new Error("round trip went wrong");
  };
}

Deno.bench("inject → IAR → EOIR (1 CPU, 256 INTIDs)", { baseline: true }, roundTrip(1, 256));
Deno.bench("inject → IAR → EOIR (8 CPUs, 1020 INTIDs)", roundTrip(8, 1020));

{
  const { gic, c } = setup(1, 256);
  gic.distributor.write(0x100, 4, 1 << 27, 0);
  Deno.bench("timer PPI: line high → IAR → line low → EOIR", () => {
    gic.setLevel(27, true, 0);
    const iar = c.read(0x00c, 4, 0);
    gic.setLevel(27, false, 0);
    c.write(0x010, 4, iar, 0);
  });
}

{
  const { d, c } = setup(2, 256);
  Deno.bench("IPI: SGIR from CPU 0 → IAR/EOIR on CPU 1", () => {
    d.write(0xf00, 4, (0x02 << 16) | 1, 0);
    const iar = c.read(0x00c, 4, 1);
    c.write(0x010, 4, iar, 1);
  });
}

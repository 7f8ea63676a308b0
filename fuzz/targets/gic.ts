/**
 * The GICv2 model: random distributor and CPU-interface accesses (offsets, sizes, values, CPUs)
 * interleaved with device lines, acknowledgements and the virq API. Guest accesses and the virq
 * API never throw; the wiring calls raise only `VgicError`; the IRQ outputs are reported only on
 * a change and agree with `irqAsserted`.
 *
 * @module
 */

import {
  GICC_EOIR,
  GICC_IAR,
  GICD_ICFGR,
  GICD_ITARGETSR,
  GICD_SGIR,
  Gicv2,
  VgicError,
  VirqController,
} from "@vmkit/vgic";
import { ByteReader } from "../provider.ts";
import { type FuzzTarget, invariant, outcome } from "../target.ts";

/** Register blocks of the distributor: [base, bytes]. */
const GICD_BLOCKS: readonly (readonly [number, number])[] = [
  [0x000, 0x10],
  [0x080, 0x80],
  [0x100, 0x80],
  [0x180, 0x80],
  [0x200, 0x80],
  [0x280, 0x80],
  [0x300, 0x80],
  [0x380, 0x80],
  [0x400, 0x400],
  [GICD_ITARGETSR, 0x400],
  [GICD_ICFGR, 0x100],
  [GICD_SGIR, 0x30],
  [0xfd0, 0x30],
];
const GICC_OFFSETS = [0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x018, 0x0d0, 0x0fc, 0x1000];

function offsetIn(r: ByteReader, blocks: readonly (readonly [number, number])[]): number {
  const [base, bytes] = r.pick(blocks);
  return base + (r.below(bytes) & ~(r.bool() ? 3 : 0));
}

function value(r: ByteReader): number {
  return r.orOdd(() => r.pick([0xffffffff, 0, 1, 3, 0xa0, r.u32(), 2 ** r.below(32), r.u8()]));
}

/** Creates the target. */
export function createGicTarget(): FuzzTarget {
  return {
    name: "gic",
    description: "Gicv2 distributor/CPU interface accesses with setLevel/pulse/line and virq",
    maxLength: 4096,
    seeds(): Uint8Array[] {
      return [
        new Uint8Array(64),
        new Uint8Array(256).map((_, i) => (i * 89) & 0xff),
        new Uint8Array(256).fill(0xff),
      ];
    },
    run(input: Uint8Array): string {
      const r = new ByteReader(input);
      const cpus = r.pick([1, 2, 4, 8, 1, 2, 0, 9, 1.5]);
      const irqs = r.pick([undefined, 256, 64, 288, 1020, 1021, 1000, -1, r.u16()]);
      const levels: boolean[] = [];
      let gic: Gicv2 | undefined;
      const made = outcome([VgicError], () => {
        gic = new Gicv2({
          cpus,
          irqs,
          onIrq(cpu, high) {
            invariant(
              Number.isInteger(cpu) && cpu >= 0 && cpu < cpus,
              () => `onIrq for CPU ${cpu} of ${cpus}`,
            );
            invariant(
              (levels[cpu] ?? false) !== high,
              () => `onIrq(${cpu}, ${high}) without a change`,
            );
            levels[cpu] = high;
          },
        });
      });
      if (gic === undefined) return `config ${made}`;
      const g = gic;
      const virq = new VirqController(g, { ackChannel: () => {} });
      const cpu = (): number => r.orOdd(() => r.below(cpus + (r.u8() < 4 ? 1 : 0)));
      const intid = (): number => r.orOdd(() => r.pick([r.below(32), 32 + r.below(g.irqs - 32)]));
      const codes = new Set<string>();
      const wiring = (fn: () => unknown): void => {
        const code = outcome([VgicError], fn);
        if (code !== "ok") codes.add(code);
      };
      const checkRead = (v: number, size: number, where: string): void => {
        const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
        invariant(
          Number.isInteger(v) && v >= 0 && v <= max,
          () => `${where} read of size ${size} returned ${v}`,
        );
      };
      let ops = 0;
      let acks = 0;
      while (r.remaining > 0 && ops++ < 512) {
        const op = r.u8() % 16;
        switch (op) {
          case 0:
          case 1:
          case 2: {
            const size = r.orOdd(() => r.pick([4, 4, 4, 1, 2]));
            g.distributor.write(offsetIn(r, GICD_BLOCKS), size, value(r), cpu());
            break;
          }
          case 3: {
            const offset = r.orOdd(() => r.u16());
            g.distributor.write(offset, r.orOdd(() => r.pick([4, 1, 2, 3, 8])), value(r), cpu());
            break;
          }
          case 4:
          case 5: {
            const size = r.orOdd(() => r.pick([4, 4, 1, 2]));
            const offset = r.u8() < 16 ? r.orOdd(() => r.u16()) : offsetIn(r, GICD_BLOCKS);
            const v = g.distributor.read(offset, size, cpu());
            if (size === 1 || size === 2 || size === 4) checkRead(v, size, "distributor");
            break;
          }
          case 6:
          case 7: {
            const offset = r.u8() < 16 ? r.orOdd(() => r.u16()) : r.pick(GICC_OFFSETS);
            g.cpuInterface.write(offset, r.orOdd(() => 4), value(r), cpu());
            break;
          }
          case 8: {
            const offset = r.u8() < 16 ? r.orOdd(() => r.u16()) : r.pick(GICC_OFFSETS);
            const size = r.orOdd(() => 4);
            const v = g.cpuInterface.read(offset, size, cpu());
            if (size === 1 || size === 2 || size === 4) checkRead(v, size, "CPU interface");
            break;
          }
          case 9: {
            // Acknowledge and complete, as a guest's handler does.
            const c = cpu();
            const iar = g.cpuInterface.read(GICC_IAR, 4, c);
            checkRead(iar, 4, "GICC_IAR");
            const id = iar & 0x3ff;
            invariant(
              (id < g.irqs || id === 1023) &&
                (id < 16 ? ((iar >>> 10) & 7) < cpus && iar >>> 13 === 0 : iar >>> 10 === 0),
              () => `GICC_IAR on CPU ${c} returned 0x${iar.toString(16)}`,
            );
            if (id < 1020) acks++;
            if (r.bool()) g.cpuInterface.write(GICC_EOIR, 4, iar, c);
            break;
          }
          case 10:
            wiring(() => g.setLevel(intid(), r.bool(), cpu()));
            break;
          case 11:
            wiring(() => g.pulse(intid(), r.bool() ? cpu() : undefined));
            break;
          case 12:
            wiring(() => {
              const line = g.line(intid(), cpu());
              if (r.bool()) line.set(r.bool());
              else line.pulse();
            });
            break;
          case 13:
            wiring(() => g.interruptState(intid(), cpu()));
            break;
          case 14:
            if (r.u8() < 16) g.reset();
            break;
          default: {
            const which = r.u8() % 7;
            if (which === 0) virq.init(cpu());
            else if (which === 1) virq.register(cpu(), intid(), () => {});
            else if (which === 2) virq.inject(cpu(), intid());
            else if (which === 3) virq.registerPassthrough(cpu(), intid(), r.orOdd(() => r.u8()));
            else if (which === 4) virq.handlePassthrough(r.orOdd(() => r.u8()));
            else if (which === 5) virq.setLevel(intid(), r.bool(), cpu());
            else virq.pulse(intid(), cpu());
          }
        }
        for (let c = 0; c < cpus; c++) {
          invariant(
            g.irqAsserted(c) === (levels[c] ?? false),
            () => `irqAsserted(${c}) is ${g.irqAsserted(c)}, last reported ${levels[c] ?? false}`,
          );
        }
      }
      // How many interrupts were taken, in powers of two: inputs reaching further states are kept.
      const taken = acks === 0 ? 0 : 1 + Math.floor(Math.log2(acks));
      return `${cpus} cpus, ${taken} acks, ${[...codes].sort().join(",") || "ok"}`;
    },
  };
}

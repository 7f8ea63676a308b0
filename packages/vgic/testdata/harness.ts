/**
 * Test rig: a GIC with its IRQ outputs and deactivations recorded, and register helpers named
 * after the registers so test bodies read like the guest code they replay.
 *
 * @module
 */

import { Gicv2, type Gicv2Options } from "../mod.ts";

/** A recorded IRQ output change. */
export interface IrqEvent {
  /** CPU interface. */
  readonly cpu: number;
  /** New level. */
  readonly asserted: boolean;
}

/** A GIC plus observation of everything it reports. */
export class Rig {
  /** The model under test. */
  readonly gic: Gicv2;
  /** Every IRQ output change, in order. */
  readonly irqEvents: IrqEvent[] = [];
  /** Every deactivation reported, as `cpu:intid`. */
  readonly deactivations: string[] = [];

  constructor(options: Gicv2Options = {}, watchDeactivations = true) {
    this.gic = new Gicv2({
      ...options,
      onIrq: (cpu, asserted) => this.irqEvents.push({ cpu, asserted }),
      onDeactivate: watchDeactivations
        ? (cpu, intid) => this.deactivations.push(`${cpu}:${intid}`)
        : undefined,
    });
  }

  /** IRQ output level of `cpu`, checked against the last reported change. */
  irq(cpu = 0): boolean {
    let last = false;
    for (const e of this.irqEvents) if (e.cpu === cpu) last = e.asserted;
    if (last !== this.gic.irqAsserted(cpu)) throw new Error("reported level disagrees");
    return last;
  }

  /** 32-bit distributor read. */
  rd(offset: number, cpu = 0): number {
    return this.gic.distributor.read(offset, 4, cpu);
  }
  /** 32-bit distributor write. */
  wd(offset: number, value: number, cpu = 0): void {
    this.gic.distributor.write(offset, 4, value, cpu);
  }
  /** Byte distributor read. */
  rdb(offset: number, cpu = 0): number {
    return this.gic.distributor.read(offset, 1, cpu);
  }
  /** Byte distributor write. */
  wdb(offset: number, value: number, cpu = 0): void {
    this.gic.distributor.write(offset, 1, value, cpu);
  }
  /** 32-bit CPU interface read. */
  rc(offset: number, cpu = 0): number {
    return this.gic.cpuInterface.read(offset, 4, cpu);
  }
  /** 32-bit CPU interface write. */
  wc(offset: number, value: number, cpu = 0): void {
    this.gic.cpuInterface.write(offset, 4, value, cpu);
  }
  /** GICC_IAR read. */
  iar(cpu = 0): number {
    return this.rc(0x00c, cpu);
  }
  /** GICC_EOIR write. */
  eoi(value: number, cpu = 0): void {
    this.wc(0x010, value, cpu);
  }
  /** GICC_DIR write. */
  dir(value: number, cpu = 0): void {
    this.wc(0x1000, value, cpu);
  }
  /** GICC_RPR read. */
  rpr(cpu = 0): number {
    return this.rc(0x014, cpu);
  }
  /** GICC_HPPIR read. */
  hppir(cpu = 0): number {
    return this.rc(0x018, cpu);
  }

  /**
   * The usual bring-up: distributor and every CPU interface enabled, PMR 0xF0, and `intids`
   * enabled at priority 0xA0 targeting CPU 0.
   */
  enableAll(intids: readonly number[] = []): void {
    this.wd(0x000, 1);
    for (let cpu = 0; cpu < this.gic.cpus; cpu++) {
      this.wc(0x000, 1, cpu);
      this.wc(0x004, 0xf0, cpu);
    }
    for (const id of intids) this.enable(id, 0xa0);
  }

  /** Enable `intid` (banked for `cpu`) at `priority`, targeting `targets` when an SPI. */
  enable(intid: number, priority: number, cpu = 0, targets = 1): void {
    this.wdb(0x400 + intid, priority, cpu);
    if (intid >= 32) this.wdb(0x800 + intid, targets, cpu);
    this.wd(0x100 + 4 * (intid >>> 5), 1 << (intid & 31), cpu);
  }
}

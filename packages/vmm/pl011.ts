/**
 * An Arm PL011 UART (PrimeCell r1p5) as a state machine: transmit to a host
 * sink, receive from a host queue through a 16-entry FIFO, and a level
 * interrupt output (SPI 1 on the QEMU `virt` map).
 *
 * Transmission is instant, so the TX FIFO is always empty: TXFE reads 1,
 * TXFF reads 0 and the TX interrupt condition (FIFO at or below its trigger
 * level) always holds; drivers mask it when they have nothing to send. The
 * receive timeout is modelled as already expired: RTRIS is set whenever the
 * RX FIFO holds data.
 *
 * Host input waits in a queue (bounded) until the guest is ready for it, and
 * only then fills the RX FIFO: Linux drains and discards whatever the FIFO
 * holds when a program opens the tty, so bytes typed or piped in before then
 * were lost. The guest is ready when it unmasks a receive interrupt (what
 * Linux does right after that drain), or when it polls the flag register
 * many times in a row without touching anything else (a polling reader).
 * When it masks them again (a port closed, or throttled), the bytes it did not
 * read go back to the front of the queue.
 *
 * @module
 */

import type { FdtNode } from "@vmkit/fdt";
import type { DevicePlacement, InterruptLine } from "./device.ts";
import { phandleOf } from "./_phandle.ts";
import { UART_CLOCK_HZ } from "./platform.ts";

/**
 * Register offsets.
 *
 * @example
 * ```ts
 * import { PL011, Pl011 } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const sent: number[] = [];
 * const uart = new Pl011({ onTransmit: (byte) => sent.push(byte) });
 * uart.write(PL011.DR, 4, 0x41);
 * assert.deepEqual(sent, [0x41]);
 * assert.equal(uart.read(PL011.FR, 4) & (1 << 7), 1 << 7); // TXFE: nothing waits to be sent
 * ```
 */
export const PL011 = {
  DR: 0x000,
  RSR: 0x004,
  FR: 0x018,
  ILPR: 0x020,
  IBRD: 0x024,
  FBRD: 0x028,
  LCR_H: 0x02c,
  CR: 0x030,
  IFLS: 0x034,
  IMSC: 0x038,
  RIS: 0x03c,
  MIS: 0x040,
  ICR: 0x044,
  DMACR: 0x048,
} as const;

/**
 * Interrupt bits in IMSC/RIS/MIS/ICR.
 *
 * @example
 * ```ts
 * import { PL011, Pl011, PL011_INT } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const uart = new Pl011({ holdInput: false });
 * uart.receive(new Uint8Array([0x0a]));
 * assert.equal(uart.read(PL011.RIS, 4) & PL011_INT.RX, PL011_INT.RX);
 * assert.equal(uart.interruptLevel, false); // masked
 * uart.write(PL011.IMSC, 4, PL011_INT.RX);
 * assert.equal(uart.interruptLevel, true);
 * ```
 */
export const PL011_INT = {
  RX: 1 << 4,
  TX: 1 << 5,
  RT: 1 << 6,
  OE: 1 << 10,
} as const;

const FR_RXFE = 1 << 4;
// TXFF (bit 5) always reads 0: transmission is instant.
const FR_RXFF = 1 << 6;
const FR_TXFE = 1 << 7;
const LCR_H_FEN = 1 << 4;
const CR_RESET = 0x300; // TXE | RXE
const IFLS_RESET = 0x12; // both trigger levels at 1/2
const FIFO_DEPTH = 16;
/** PeriphID0–3 then PCellID0–3 at 0xFE0–0xFFC: what Linux's AMBA bus matches (0x00141011). */
const ID_BYTES = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
/** Host bytes waiting for room in the RX FIFO. */
const HOST_QUEUE_LIMIT = 1 << 20;
const RX_TRIGGER_EIGHTHS = [1, 2, 4, 6, 7];
/** Consecutive flag-register reads that make a polling reader. */
const POLL_STREAK = 16;

/**
 * Options for a {@link Pl011}.
 *
 * @example
 * ```ts
 * import { PL011, Pl011, PL011_INT, type Pl011Options } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const levels: boolean[] = [];
 * const options: Pl011Options = {
 *   interrupt: { set: (high) => levels.push(high), pulse: () => {} },
 *   holdInput: true, // keep host input until the guest's driver opens the port
 * };
 * const uart = new Pl011(options);
 * uart.receive(new TextEncoder().encode("ls\n"));
 * assert.equal(uart.pendingInput, 3);
 * uart.write(PL011.IMSC, 4, PL011_INT.RX); // the driver unmasks receive interrupts
 * assert.equal(uart.read(PL011.DR, 4), "l".charCodeAt(0));
 * assert.deepEqual(levels, [true]);
 * ```
 */
export interface Pl011Options {
  /** Receives every byte the guest transmits. */
  onTransmit?: (byte: number) => void;
  /** The interrupt output; driven only when its level changes. */
  interrupt?: InterruptLine;
  /**
   * Hold host input until the guest is ready for it (see the module docs).
   * Default true; false delivers it to the FIFO at once.
   */
  holdInput?: boolean;
}

/**
 * Diagnostics.
 *
 * @example
 * ```ts
 * import { PL011, Pl011, type Pl011Stats } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const uart = new Pl011();
 * uart.write(PL011.DR, 4, 0x21);
 * uart.write(0x800, 4, 0); // no register there
 * const stats: Pl011Stats = uart.stats;
 * assert.equal(stats.transmitted, 1);
 * assert.equal(stats.badAccesses, 1);
 * ```
 */
export interface Pl011Stats {
  /** Bytes transmitted by the guest. */
  transmitted: number;
  /** Bytes delivered to the guest. */
  received: number;
  /** Host bytes dropped because the host queue was full. */
  dropped: number;
  /** Accesses to unknown offsets, bad sizes or read-only registers (RAZ/WI). */
  badAccesses: number;
}

/**
 * The PL011 model.
 *
 * @example
 * ```ts
 * import { PL011, Pl011 } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let text = "";
 * const uart = new Pl011({ onTransmit: (byte) => (text += String.fromCharCode(byte)) });
 * for (const c of "hi") uart.write(PL011.DR, 4, c.charCodeAt(0));
 * assert.equal(text, "hi");
 * ```
 */
export class Pl011 {
  /** Counters. */
  readonly stats: Pl011Stats = { transmitted: 0, received: 0, dropped: 0, badAccesses: 0 };
  readonly #onTransmit: (byte: number) => void;
  readonly #interrupt: InterruptLine | undefined;
  readonly #fifo = new Uint8Array(FIFO_DEPTH);
  #fifoHead = 0;
  #fifoCount = 0;
  #queue = new Uint8Array(256);
  #queueHead = 0;
  #queueCount = 0;
  #lcrH = 0;
  #cr = CR_RESET;
  #ifls = IFLS_RESET;
  #imsc = 0;
  #ibrd = 0;
  #fbrd = 0;
  #ilpr = 0;
  #dmacr = 0;
  #latched = 0; // OE, set by overruns, cleared by ICR
  #level = false;
  readonly #holdInput: boolean;
  #inputOpen: boolean;
  #flagStreak = 0;

  /**
   * A UART in its reset state.
   *
   * @param options where transmitted bytes and the interrupt go
   */
  constructor(options: Pl011Options = {}) {
    this.#onTransmit = options.onTransmit ?? (() => {});
    this.#interrupt = options.interrupt;
    this.#holdInput = options.holdInput ?? true;
    this.#inputOpen = !this.#holdInput;
  }

  /** Whether host input flows into the RX FIFO (the guest is ready for it). */
  get inputOpen(): boolean {
    return this.#inputOpen;
  }

  #openInput(): void {
    if (this.#inputOpen) return;
    this.#inputOpen = true;
    this.#refill();
    this.#update();
  }

  /** The interrupt output level. */
  get interruptLevel(): boolean {
    return this.#level;
  }

  /** Bytes from the host waiting to reach the guest (FIFO plus queue). */
  get pendingInput(): number {
    return this.#fifoCount + this.#queueCount;
  }

  /** Queues host input (a keyboard, a pipe) for the guest. */
  receive(data: Uint8Array): void {
    for (const byte of data) {
      if (this.#queueCount >= HOST_QUEUE_LIMIT) {
        this.stats.dropped++;
        continue;
      }
      if (this.#queueCount === this.#queue.length) this.#growQueue();
      this.#queue[(this.#queueHead + this.#queueCount) % this.#queue.length] = byte;
      this.#queueCount++;
    }
    this.#refill();
    this.#update();
  }

  #growQueue(): void {
    const bigger = new Uint8Array(this.#queue.length * 2);
    for (let i = 0; i < this.#queueCount; i++) {
      bigger[i] = this.#queue[(this.#queueHead + i) % this.#queue.length];
    }
    this.#queue = bigger;
    this.#queueHead = 0;
  }

  get #fifoDepth(): number {
    return (this.#lcrH & LCR_H_FEN) !== 0 ? FIFO_DEPTH : 1;
  }

  #refill(): void {
    if (!this.#inputOpen) return;
    const depth = this.#fifoDepth;
    while (this.#queueCount > 0 && this.#fifoCount < depth) {
      this.#fifo[(this.#fifoHead + this.#fifoCount) % FIFO_DEPTH] = this.#queue[this.#queueHead];
      this.#queueHead = (this.#queueHead + 1) % this.#queue.length;
      this.#queueCount--;
      this.#fifoCount++;
    }
  }

  /** Raw interrupt status: the conditions that hold now plus latched errors. */
  #ris(): number {
    let ris = PL011_INT.TX | this.#latched;
    if (this.#fifoCount > 0) {
      ris |= PL011_INT.RT;
      const trigger = (this.#lcrH & LCR_H_FEN) !== 0
        ? (FIFO_DEPTH * (RX_TRIGGER_EIGHTHS[(this.#ifls >> 3) & 7] ?? 4)) / 8
        : 1;
      if (this.#fifoCount >= trigger) ris |= PL011_INT.RX;
    }
    return ris;
  }

  #update(): void {
    const level = (this.#ris() & this.#imsc) !== 0;
    if (level !== this.#level) {
      this.#level = level;
      this.#interrupt?.set(level);
    }
  }

  /** A guest read. Never throws. */
  read(offset: number, size: number, _cpu = 0): number {
    if (!this.#validAccess(offset, size)) return 0;
    const reg = offset & ~3;
    if (reg !== PL011.FR) this.#flagStreak = 0;
    else if (!this.#inputOpen && ++this.#flagStreak >= POLL_STREAK) this.#openInput();
    let value = 0;
    if (reg >= 0xfe0 && reg <= 0xffc) {
      value = ID_BYTES[(reg - 0xfe0) >> 2];
    } else {
      switch (reg) {
        case PL011.DR:
          value = this.#popRx();
          break;
        case PL011.RSR:
          value = 0;
          break;
        case PL011.FR: {
          value = FR_TXFE;
          if (this.#fifoCount === 0) value |= FR_RXFE;
          if (this.#fifoCount >= this.#fifoDepth) value |= FR_RXFF;
          break;
        }
        case PL011.ILPR:
          value = this.#ilpr;
          break;
        case PL011.IBRD:
          value = this.#ibrd;
          break;
        case PL011.FBRD:
          value = this.#fbrd;
          break;
        case PL011.LCR_H:
          value = this.#lcrH;
          break;
        case PL011.CR:
          value = this.#cr;
          break;
        case PL011.IFLS:
          value = this.#ifls;
          break;
        case PL011.IMSC:
          value = this.#imsc;
          break;
        case PL011.RIS:
          value = this.#ris();
          break;
        case PL011.MIS:
          value = this.#ris() & this.#imsc;
          break;
        case PL011.DMACR:
          value = this.#dmacr;
          break;
        default:
          // ICR is write-only; everything else is reserved.
          this.stats.badAccesses++;
          return 0;
      }
    }
    const shift = (offset & 3) * 8;
    return size === 4 ? value >>> 0 : (value >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  #popRx(): number {
    if (this.#fifoCount === 0) return 0;
    const byte = this.#fifo[this.#fifoHead];
    this.#fifoHead = (this.#fifoHead + 1) % FIFO_DEPTH;
    this.#fifoCount--;
    this.stats.received++;
    this.#refill();
    this.#update();
    return byte;
  }

  /** A guest write. Never throws. */
  write(offset: number, size: number, value: number, _cpu = 0): void {
    if (!this.#validAccess(offset, size)) return;
    this.#flagStreak = 0;
    if ((offset & 3) !== 0) {
      // Sub-word writes must start at the register: nothing here has byte lanes.
      this.stats.badAccesses++;
      return;
    }
    switch (offset) {
      case PL011.DR:
        this.stats.transmitted++;
        this.#onTransmit(value & 0xff);
        return;
      case PL011.RSR: // ECR: clear errors
        this.#latched = 0;
        break;
      case PL011.ILPR:
        this.#ilpr = value & 0xff;
        return;
      case PL011.IBRD:
        this.#ibrd = value & 0xffff;
        return;
      case PL011.FBRD:
        this.#fbrd = value & 0x3f;
        return;
      case PL011.LCR_H: {
        const fifoWas = this.#lcrH & LCR_H_FEN;
        this.#lcrH = value & 0xff;
        // Turning the FIFOs off (or on) flushes them on real hardware.
        if ((this.#lcrH & LCR_H_FEN) !== fifoWas) this.#flushRx();
        break;
      }
      case PL011.CR:
        this.#cr = value & 0xff87;
        return;
      case PL011.IFLS:
        this.#ifls = value & 0x3f;
        break;
      case PL011.IMSC: {
        const rx = PL011_INT.RX | PL011_INT.RT;
        const wasReady = (this.#imsc & rx) !== 0;
        this.#imsc = value & 0x7ff;
        const ready = (this.#imsc & rx) !== 0;
        if (ready) this.#openInput();
        else if (wasReady && this.#holdInput) {
          // The driver stopped receiving (its port closed, or it throttles):
          // Linux drains the FIFO when the port opens again, so what it did
          // not read waits in the host queue until then.
          this.#inputOpen = false;
          this.#flushRx();
        }
        break;
      }
      case PL011.ICR:
        this.#latched &= ~value;
        break;
      case PL011.DMACR:
        this.#dmacr = value & 7;
        return;
      default:
        this.stats.badAccesses++;
        return;
    }
    this.#update();
  }

  #flushRx(): void {
    // Bytes already in the FIFO go back to the front of the host queue rather
    // than being lost: the host typed them.
    const pending: number[] = [];
    while (this.#fifoCount > 0) {
      pending.push(this.#fifo[this.#fifoHead]);
      this.#fifoHead = (this.#fifoHead + 1) % FIFO_DEPTH;
      this.#fifoCount--;
    }
    for (let i = 0; i < this.#queueCount; i++) {
      pending.push(this.#queue[(this.#queueHead + i) % this.#queue.length]);
    }
    this.#queueHead = 0;
    this.#queueCount = 0;
    this.receive(new Uint8Array(pending));
  }

  #validAccess(offset: number, size: number): boolean {
    if (
      !(size === 1 || size === 2 || size === 4) || offset < 0 || offset >= 0x1000 ||
      offset % size !== 0
    ) {
      this.stats.badAccesses++;
      return false;
    }
    return true;
  }

  /**
   * Adds the UART's node, `pl011@<base>`, and the fixed 24 MHz clock it
   * names (`/apb-pclk`, shared if already there), as QEMU's `virt` does.
   */
  describe(parent: FdtNode, placement: DevicePlacement): FdtNode {
    let clock = parent.getChild("apb-pclk");
    if (!clock) {
      clock = parent.addNode("apb-pclk")
        .setString("clock-output-names", "clk24mhz")
        .setU32("clock-frequency", UART_CLOCK_HZ)
        .setU32("#clock-cells", 0)
        .setString("compatible", "fixed-clock");
    }
    const phandle = phandleOf(clock);
    return parent.addNode(`pl011@${placement.base.toString(16)}`)
      .setStringList("clock-names", ["uartclk", "apb_pclk"])
      .setCells("clocks", [phandle, phandle])
      .setCells("interrupts", placement.interrupts)
      .setReg([{ address: placement.base, size: placement.size }])
      .setStringList("compatible", ["arm,pl011", "arm,primecell"]);
  }

  /** Back to the reset state; host input not yet delivered is kept for the next boot. */
  reset(): void {
    this.#flushRx();
    this.#inputOpen = !this.#holdInput;
    this.#flagStreak = 0;
    this.#lcrH = 0;
    this.#cr = CR_RESET;
    this.#ifls = IFLS_RESET;
    this.#imsc = 0;
    this.#ibrd = 0;
    this.#fbrd = 0;
    this.#ilpr = 0;
    this.#dmacr = 0;
    this.#latched = 0;
    this.#refill();
    this.#update();
  }
}

/**
 * The PL011 UART's register file: random reads and writes (offsets, sizes, values) interleaved
 * with host input and resets. Guest accesses never throw and return register-sized values; the
 * interrupt output is reported only on a change; host bytes reach the guest in order, none lost
 * (a read of DR pops one byte, whatever lane it reads).
 *
 * @module
 */

import { PL011, Pl011 } from "../../packages/vmm/pl011.ts";
import { ByteReader } from "../provider.ts";
import { type FuzzTarget, invariant } from "../target.ts";

const OFFSETS = [...Object.values(PL011), 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xffc];

/** Creates the target. */
export function createPl011Target(): FuzzTarget {
  return {
    name: "pl011",
    description: "Pl011 register reads/writes with host input, FIFO toggles and resets",
    maxLength: 4096,
    seeds(): Uint8Array[] {
      return [
        new Uint8Array(64),
        new Uint8Array(256).map((_, i) => (i * 71) & 0xff),
        new Uint8Array(256).fill(0x2c),
      ];
    },
    run(input: Uint8Array): string {
      const r = new ByteReader(input);
      let level = false;
      const uart = new Pl011({
        interrupt: {
          set(high: boolean) {
            invariant(high !== level, () => `interrupt set(${high}) without a change`);
            level = high;
          },
          pulse() {
            invariant(false, () => "the PL011 pulsed its level-sensitive interrupt");
          },
        },
        // The fuzzer checks the FIFO's order and losses, not the gate.
        holdInput: false,
      });
      // Host bytes the guest has not read yet, in order.
      const expected: number[] = [];
      let delivered = 0;
      let ops = 0;
      while (r.remaining > 0 && ops++ < 512) {
        const op = r.u8() % 8;
        if (op <= 2) {
          const offset = r.u8() < 16 ? r.orOdd(() => r.u16()) : r.pick(OFFSETS) + r.below(4);
          const size = r.orOdd(() => r.pick([4, 4, 1, 2]));
          const pending = uart.pendingInput;
          const v = uart.read(offset, size);
          const valid = (size === 1 || size === 2 || size === 4) && offset >= 0 &&
            offset < 0x1000 && offset % size === 0;
          if (valid) {
            const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
            invariant(
              Number.isInteger(v) && v >= 0 && v <= max,
              () => `read of ${size} at ${offset} returned ${v}`,
            );
          } else {
            invariant(v === 0, () => `bad read of ${size} at ${offset} returned ${v}`);
          }
          if (valid && (offset & ~3) === PL011.DR && pending > 0) {
            invariant(expected.length > 0, () => `DR delivered a byte the host never sent`);
            const byte = expected.shift()!;
            delivered++;
            if ((offset & 3) === 0) {
              invariant(
                (v & 0xff) === byte,
                () => `DR read 0x${v.toString(16)}, host sent 0x${byte.toString(16)}`,
              );
            }
          }
        } else if (op <= 5) {
          const offset = r.u8() < 16 ? r.orOdd(() => r.u16()) : r.pick(OFFSETS);
          const size = r.orOdd(() => r.pick([4, 4, 1, 2]));
          const value = r.orOdd(() => r.pick([0, 0x10, 0x70, 0x7ff, 0xffffffff, r.u32()]));
          uart.write(offset, size, value);
        } else if (op === 6) {
          const data = r.bytes(40);
          uart.receive(data);
          expected.push(...data);
        } else {
          uart.reset();
        }
        invariant(uart.interruptLevel === level, () => `interruptLevel disagrees with the output`);
        invariant(
          uart.pendingInput === expected.length,
          () => `${uart.pendingInput} bytes pending, the host sent ${expected.length} not yet read`,
        );
        invariant(
          uart.stats.received === delivered,
          () => `stats.received ${uart.stats.received}, ${delivered} delivered`,
        );
      }
      const depth = expected.length === 0 ? 0 : 1 + Math.floor(Math.log2(expected.length));
      return `pending ${depth}, delivered ${delivered > 0}`;
    },
  };
}

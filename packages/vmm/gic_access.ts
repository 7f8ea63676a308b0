/**
 * Accesses to the GIC narrower than its 32-bit registers, answered the way
 * QEMU 7.2's GICv2 model on the `virt` board answers them (measured with
 * `guests/fidelity/device_access.c`): every byte of a register can be read
 * and written on its own. The GICv2 architecture makes byte access optional
 * outside a few registers and VMKit's GIC (`@vmkit/vgic`) keeps to 32-bit
 * accesses there; these adapters put QEMU's byte lanes in front of it.
 *
 * - Reads of 1 or 2 bytes read the 32-bit register they fall in (once) and
 *   return the bytes at the lanes read.
 * - Writes of 1 or 2 bytes: to the byte-accessible distributor registers
 *   (priority, targets, SGI pending), byte by byte; to the set-enable,
 *   clear-enable, set/clear-pending and set/clear-active registers, as the
 *   32-bit write of those bytes with zeros elsewhere (a zero bit changes
 *   nothing there); to GICD_CTLR, GICD_IGROUPR and GICD_ICFGR, by replacing
 *   those bytes of the register's value. Anything else is handed on as it
 *   came, and the GIC refuses it as it refuses any bad access.
 *
 * Wider and unaligned accesses never get here as such: the engine carries
 * out an 8-byte access as two 4-byte ones, and an unaligned one as aligned
 * pieces that each stay within one 32-bit word.
 *
 * @module
 */

import type { MmioRegion } from "@vmkit/vgic";

/** Distributor offsets whose registers are byte-accessible in VMKit's GIC. */
function byteAccessible(offset: number): boolean {
  return (offset >= 0x400 && offset < 0xc00) || (offset >= 0xf10 && offset < 0xf30);
}

/** Distributor registers where a 0 bit written changes nothing (write 1 to set or clear). */
function setOrClear(offset: number): boolean {
  return offset >= 0x100 && offset < 0x400;
}

/** Distributor registers that read back what was written (so a byte write is read, merge, write). */
function readWrite(offset: number): boolean {
  return offset < 4 || (offset >= 0x80 && offset < 0x100) || (offset >= 0xc00 && offset < 0xd00);
}

/** A register block's 32-bit word at `offset & ~3`, its lanes `[offset & 3, + size)`. */
function readLanes(region: MmioRegion, offset: number, size: number, cpu: number): number {
  const lane = offset & 3;
  if (lane + size > 4) {
    // Never from the engine (see the module docs); byte by byte for any other caller.
    let value = 0;
    for (let i = 0; i < size; i++) value |= readLanes(region, offset + i, 1, cpu) << (8 * i);
    return value >>> 0;
  }
  const word = region.read(offset - lane, 4, cpu);
  return (word >>> (8 * lane)) & (size === 1 ? 0xff : 0xffff);
}

/**
 * The GIC distributor with QEMU's byte lanes (see the module docs).
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { distributorLanes } from "@vmkit/vmm";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const gicd = distributorLanes(gic.distributor);
 * gicd.write(0x105, 1, 0x81, 0); // GICD_ISENABLER1, second byte: enables SPIs 40 and 47
 * console.log(gicd.read(0x104, 4, 0).toString(16)); // 8100
 * ```
 */
export function distributorLanes(distributor: MmioRegion): MmioRegion {
  return {
    size: distributor.size,
    read: (offset, size, cpu) =>
      size === 4 || size === 1 && byteAccessible(offset)
        ? distributor.read(offset, size, cpu)
        : readLanes(distributor, offset, size, cpu),
    write: (offset, size, value, cpu) => {
      if (size === 4 || !(size === 1 || size === 2)) {
        distributor.write(offset, size, value, cpu);
        return;
      }
      const lane = offset & 3;
      const word = offset - lane;
      if (byteAccessible(offset) || lane + size > 4) {
        for (let i = 0; i < size; i++) distributor.write(offset + i, 1, value >>> (8 * i), cpu);
      } else if (setOrClear(offset)) {
        const mask = size === 1 ? 0xff : 0xffff;
        distributor.write(word, 4, ((value & mask) << (8 * lane)) >>> 0, cpu);
      } else if (readWrite(word)) {
        const mask = (size === 1 ? 0xff : 0xffff) << (8 * lane);
        const old = distributor.read(word, 4, cpu);
        distributor.write(word, 4, ((old & ~mask) | ((value << (8 * lane)) & mask)) >>> 0, cpu);
      } else {
        distributor.write(offset, size, value, cpu);
      }
    },
  };
}

/**
 * The GIC CPU interface with QEMU's byte lanes for reads (see the module
 * docs); narrower writes are refused as before.
 *
 * @example
 * ```ts
 * import { Gicv2 } from "@vmkit/vgic";
 * import { cpuInterfaceLanes } from "@vmkit/vmm";
 *
 * const gic = new Gicv2({ cpus: 1 });
 * const gicc = cpuInterfaceLanes(gic.cpuInterface);
 * console.log(gicc.read(0xfc, 1, 0) === (gic.cpuInterface.read(0xfc, 4, 0) & 0xff)); // true
 * ```
 */
export function cpuInterfaceLanes(cpuInterface: MmioRegion): MmioRegion {
  return {
    size: cpuInterface.size,
    read: (offset, size, cpu) =>
      size === 4 || !(size === 1 || size === 2)
        ? cpuInterface.read(offset, size, cpu)
        : readLanes(cpuInterface, offset, size, cpu),
    write: (offset, size, value, cpu) => cpuInterface.write(offset, size, value, cpu),
  };
}

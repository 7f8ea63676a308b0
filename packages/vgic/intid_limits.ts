/**
 * GICv2 INTID ranges and size limits: SGIs, banked private interrupts, largest INTID and CPU count.
 *
 * @module
 */

/**
 * Number of SGIs (INTIDs 0–15).
 *
 * @example SGIs have no input line
 * ```ts
 * import { Gicv2, SGI_COUNT } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2();
 * assert.throws(() => gic.line(SGI_COUNT - 1, 0), { code: "INVALID_IRQ" }); // the guest sends SGIs
 * assert.equal(gic.line(SGI_COUNT, 0).intid, 16); // the first PPI
 * ```
 */
export const SGI_COUNT = 16;
/**
 * Number of banked private interrupts per CPU (SGIs and PPIs, INTIDs 0–31).
 *
 * @example PPIs belong to one CPU, SPIs to the machine
 * ```ts
 * import { Gicv2, PRIVATE_IRQS } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * const gic = new Gicv2({ cpus: 2 });
 * assert.throws(() => gic.line(PRIVATE_IRQS - 1), { code: "INVALID_CPU" }); // a PPI: whose?
 * assert.equal(gic.line(PRIVATE_IRQS - 1, 1).cpu, 1);
 * assert.equal(gic.line(PRIVATE_IRQS).cpu, 0); // the first SPI needs no CPU
 * ```
 */
export const PRIVATE_IRQS = 32;
/**
 * Largest INTID an interrupt can have plus one (1020–1023 are special).
 *
 * @example Usage
 * ```ts
 * import { Gicv2, MAX_INTIDS } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2({ irqs: MAX_INTIDS }).irqs, 1020);
 * assert.throws(() => new Gicv2({ irqs: MAX_INTIDS + 1 }), { code: "BAD_CONFIG" });
 * ```
 */
export const MAX_INTIDS = 1020;
/**
 * Largest number of CPU interfaces a GICv2 supports.
 *
 * @example Usage
 * ```ts
 * import { Gicv2, MAX_CPUS } from "@vmkit/vgic";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new Gicv2({ cpus: MAX_CPUS }).cpus, 8);
 * assert.throws(() => new Gicv2({ cpus: MAX_CPUS + 1 }), { code: "BAD_CONFIG" });
 * ```
 */
export const MAX_CPUS = 8;

/**
 * `deno task bench`'s summary: the figures the benchmarks exist for, in one
 * place (the per-package `deno bench` runs print their own tables first).
 *
 * @module
 */

import { computeReport } from "./compute.ts";
import { bootReport } from "./boot.ts";

console.log("\nVMKit benchmark summary");
for (const line of computeReport()) console.log(`  ${line}`);
for (const line of await bootReport(Number(Deno.env.get("VMKIT_BOOT_RUNS") ?? 1))) {
  console.log(`  ${line}`);
}
Deno.exit(0);

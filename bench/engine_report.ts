/**
 * One engine's figures for `bench/report.ts`, run in a process of its own so
 * that each Unicorn build is the only one loaded: the compute loops against
 * the bare engine, then boots to `/init`. Prints one JSON object.
 * `deno run -A bench/engine_report.ts RUNS` with VMKIT_UNICORN_PATH set.
 *
 * @module
 */

import { UnicornLibrary } from "@vmkit/vcpu";
import { computeReport } from "./compute.ts";
import { bootToInit } from "./boot.ts";

const runs = Number(Deno.args[0] ?? 1);
const library = UnicornLibrary.open();
const report = {
  version: library.versionString,
  path: library.path,
  compute: computeReport(),
  boots: [] as { seconds: number; instructions: number }[],
  bootProblem: undefined as string | undefined,
};
try {
  for (let i = 0; i < runs; i++) report.boots.push(await bootToInit(library));
} catch (e) {
  report.bootProblem = (e as Error).message;
}
library.close();
console.log(JSON.stringify(report));

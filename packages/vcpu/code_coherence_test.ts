// Translated-code coherence, proven from inside a guest (guests/vcpu/code_coherence.c): code
// rewritten through a non-executable alias of its page, followed by the architecture's cache
// maintenance, must run on every supported engine.
import assert from "node:assert/strict";
import { UnicornLibrary } from "./library.ts";
import {
  assertGuestChecks,
  findGuestPrograms,
  type GuestRunResult,
  loadGuestProgram,
  runGuest,
} from "./testdata/guest_harness.ts";
import type { SliceCounter } from "./vcpu.ts";

const library = UnicornLibrary.open();
const { code_coherence: program } = findGuestPrograms(["code_coherence"]);

const CHECKS = [
  "IC IVAU by the writable alias: every round runs the new code",
  "IC IVAU by the executable address: every round runs the new code",
  "IC IALLU: every round runs the new code",
  "IC IALLUIS: every round runs the new code",
  "EL0 runs it, IC IVAU by the alias: every round runs the new code",
  "slot reused after the others: every round runs the new code",
];
/** Rounds × the IC and DC per round, per variant (IALLU rounds clean with DC CVAU too). */
const MAINTENANCE_OPS = 6 * 64 * 2;

const COUNTERS: readonly SliceCounter[] = library.sliceCounterUnavailable
  ? ["engine"]
  : ["native", "engine"];

function run(sliceCounter: SliceCounter, trapCacheMaintenance?: boolean): GuestRunResult {
  const result = runGuest(library, loadGuestProgram(program), {
    sliceCounter,
    trapCacheMaintenance,
    maxRuns: 10_000,
  });
  assertGuestChecks(result, CHECKS);
  assert.equal(result.stats.unbackedReads + result.stats.unbackedWrites, 0);
  return result;
}

for (const sliceCounter of COUNTERS) {
  Deno.test({
    name: `${program.name} (${sliceCounter} slices, ${library.description}): ` +
      "code written through a non-executable alias runs after DC CVAU, IC IVAU, ISB",
    ignore: program.ignore,
    fn() {
      const result = run(sliceCounter);
      // The vCPU traps maintenance exactly where the engine needs it.
      assert.equal(
        result.stats.cacheMaintenance,
        library.storesInvalidateCode ? 0 : MAINTENANCE_OPS,
      );
    },
  });
}

Deno.test({
  name: `${program.name} (${library.description}): the maintenance trap itself is coherent`,
  ignore: program.ignore,
  fn() {
    // Forced on, so the trap is proven on engines that would not need it too.
    const result = run(COUNTERS[0], true);
    assert.equal(result.stats.cacheMaintenance, MAINTENANCE_OPS);
  },
});

Deno.test("the store-coherence probe matches what the guest sees without the trap", () => {
  // Without the trap, the guest's verdict is the engine's own behaviour.
  const result = runGuest(library, loadGuestProgram(program), {
    trapCacheMaintenance: false,
    maxRuns: 10_000,
  });
  const failed = result.checks.filter((c) => !c.passed).length;
  assert.equal(failed === 0, library.storesInvalidateCode);
});

import assert from "node:assert/strict";
import { locateExceptionState, SELF_TEST_FAULTS } from "./calibration.ts";
import { UnicornLibrary } from "./library.ts";
import { VcpuError } from "./errors.ts";

/** A fake saved context with the self-test's values at the given offsets. */
function context(
  size: number,
  fault: { syndrome: number; address: number },
  syndromeAt: number[],
  addressAt: number[],
): Uint8Array {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  for (const o of syndromeAt) dv.setUint32(o, fault.syndrome, true);
  for (const o of addressAt) dv.setBigUint64(o, BigInt(fault.address), true);
  return bytes;
}

Deno.test("calibration: a fault address 4 mod 8 is found (the 2.1 context header)", () => {
  const { el1, el0 } = SELF_TEST_FAULTS;
  const found = locateExceptionState(
    context(4096, el1, [3044], [3052]),
    context(4096, el0, [3044], [3052]),
  );
  assert.deepEqual(found, { syndromeOffset: 3044, faultAddressOffset: 3052 });
});

Deno.test("calibration: a value at no offset or at two offsets is refused, never guessed", () => {
  const { el1, el0 } = SELF_TEST_FAULTS;
  const missing = () =>
    locateExceptionState(context(4096, el1, [100], []), context(4096, el0, [100], []));
  assert.throws(
    missing,
    (e: unknown) =>
      e instanceof VcpuError && e.code === "CALIBRATION_FAILED" &&
      /syndrome \[100\], address \[\]/.test(e.message),
  );
  const twice = () =>
    locateExceptionState(
      context(4096, el1, [100, 200], [300]),
      context(4096, el0, [100, 200], [300]),
    );
  assert.throws(
    twice,
    (e: unknown) => e instanceof VcpuError && /syndrome \[100, 200\]/.test(e.message),
  );
  // The two faults must agree on the offset.
  const disagree = () =>
    locateExceptionState(context(4096, el1, [100], [300]), context(4096, el0, [104], [300]));
  assert.throws(disagree, (e: unknown) => e instanceof VcpuError);
});

Deno.test("calibration: a failure names the engine's version and path and what to do", () => {
  using library = UnicornLibrary.open();
  const e = library.calibrationFailure("could not locate the syndrome");
  assert.equal(e.code, "CALIBRATION_FAILED");
  assert.match(
    e.message,
    new RegExp(`Unicorn ${library.versionString.replaceAll(".", "\\.")} at `),
  );
  assert.ok(e.message.includes(library.path));
  assert.match(e.message, /VMKIT_UNICORN_PATH/);
});

Deno.test("calibration: the running engine is calibrated and the offsets verified", () => {
  using library = UnicornLibrary.open();
  const layout = library.layout;
  assert.ok(layout.syndromeOffset % 4 === 0 && layout.faultAddressOffset % 4 === 0);
  assert.notEqual(layout.syndromeOffset, layout.faultAddressOffset);
  assert.notEqual(layout.instructionCounterOffset, undefined);
});

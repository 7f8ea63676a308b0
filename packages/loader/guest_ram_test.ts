import assert from "node:assert/strict";
import { LoaderError } from "./errors.ts";
import {
  checkGuestRam,
  guestBytes,
  type GuestRam,
  guestRamEnd,
  inGuestRam,
  writeGuest,
} from "./guest_ram.ts";

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof LoaderError && e.code === code);
}

Deno.test("guest RAM: addresses map to offsets from the base", () => {
  const ram: GuestRam = { base: 0x4000_0000, bytes: new Uint8Array(0x1000) };
  assert.equal(guestRamEnd(ram), 0x4000_1000);
  writeGuest(ram, 0x4000_0ffe, new Uint8Array([1, 2]));
  assert.deepEqual([...ram.bytes.subarray(0xffe)], [1, 2]);
  assert.deepEqual([...guestBytes(ram, 0x4000_0ffe, 2)], [1, 2]);
  assert.equal(guestBytes(ram, 0x4000_1000, 0).length, 0);
});

Deno.test("guest RAM: every access outside the bank is refused, nothing written", () => {
  const ram: GuestRam = { base: 0x4000_0000, bytes: new Uint8Array(0x1000) };
  throwsCode(() => writeGuest(ram, 0x4000_0fff, new Uint8Array(2)), "INVALID_ARGUMENT");
  throwsCode(() => writeGuest(ram, 0x3fff_ffff, new Uint8Array(1)), "INVALID_ARGUMENT");
  throwsCode(() => guestBytes(ram, 0x4000_0000, -1), "INVALID_ARGUMENT");
  throwsCode(() => guestBytes(ram, 0x4000_0000 + 0.5, 1), "INVALID_ARGUMENT");
  throwsCode(() => guestBytes(ram, Number.MAX_SAFE_INTEGER, 2), "INVALID_ARGUMENT");
  assert.ok(ram.bytes.every((b) => b === 0));
  assert.equal(inGuestRam(ram, NaN, 0), false);
});

Deno.test("guest RAM: the bank itself is validated", () => {
  checkGuestRam({ base: 0, bytes: new Uint8Array(1) });
  throwsCode(() => checkGuestRam({ base: -1, bytes: new Uint8Array(1) }), "BAD_RAM");
  throwsCode(() => checkGuestRam({ base: 0.5, bytes: new Uint8Array(1) }), "BAD_RAM");
  throwsCode(
    () => checkGuestRam({ base: Number.MAX_SAFE_INTEGER, bytes: new Uint8Array(2) }),
    "BAD_RAM",
  );
  throwsCode(
    () => checkGuestRam({ base: 0, bytes: [1, 2] as unknown as Uint8Array }),
    "BAD_RAM",
  );
});

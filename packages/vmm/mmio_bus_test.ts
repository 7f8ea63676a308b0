import assert from "node:assert/strict";
import type { MmioAccess } from "@vmkit/vcpu";
import { VmmError } from "./errors.ts";
import { MmioBus, type MmioDevice } from "./mmio_bus.ts";

const dummy: MmioDevice = { read: () => 0, write: () => {} };

Deno.test("mmio bus: overlapping, misaligned, empty and overflowing ranges are refused", () => {
  const bus = new MmioBus();
  bus.register("a", 0x0900_0000, 0x1000, dummy);
  bus.register("b", 0x0800_0000, 0x1_0000, dummy);
  const bad = (f: () => void, pattern: RegExp) =>
    assert.throws(
      f,
      (e: unknown) =>
        e instanceof VmmError && e.code === "BAD_MMIO_REGION" && pattern.test(e.message),
    );
  bad(() => bus.register("c", 0x0800_f000, 0x2000, dummy), /overlaps b at 0x8000000/);
  bad(() => bus.register("c", 0x0900_0800, 0x1000, dummy), /4 KiB aligned/);
  bad(() => bus.register("c", 0x0a00_0000, 0, dummy), /positive/);
  bad(() => bus.register("c", 2 ** 48 - 0x1000, 0x2000, dummy), /past the 48-bit/);
  bad(() => bus.register("c", -0x1000, 0x1000, dummy), /positive/);
  assert.deepEqual(bus.mappings.map((m) => m.name), ["b", "a"]);
  assert.equal(bus.find(0x0900_0fff)?.name, "a");
  assert.equal(bus.find(0x0901_0000), undefined);
});

Deno.test("mmio bus: the handler hands the decoded access to the device", () => {
  const calls: string[] = [];
  const device: MmioDevice = {
    read: (offset, size, cpu) => {
      calls.push(`r ${offset} ${size} ${cpu}`);
      return 0xab;
    },
    write: (offset, size, value, cpu) => calls.push(`w ${offset} ${size} ${value} ${cpu}`),
  };
  const after: number[] = [];
  const handler = MmioBus.handler(device, (a) => after.push(a.offset));
  const access: MmioAccess = {
    cpu: 1,
    address: 0x900_0010,
    offset: 0x10,
    size: 4,
    write: false,
    value: 0,
  };
  handler(access);
  assert.equal(access.value, 0xab);
  handler({ ...access, write: true, value: 7, offset: 0x14, size: 1 });
  assert.deepEqual(calls, ["r 16 4 1", "w 20 1 7 1"]);
  assert.deepEqual(after, [0x10, 0x14]);
});

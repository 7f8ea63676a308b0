// The virtio-mmio register file, status machine and feature negotiation, driven the way a guest
// driver does, including the ways a driver can get them wrong.
import assert from "node:assert/strict";
import { Fdt, serializeFdt, toDts } from "@vmkit/fdt";
import {
  RamGuestMemory,
  VIRTIO_F,
  VIRTIO_INT,
  VIRTIO_MMIO as R,
  VIRTIO_STATUS as S,
  VirtioError,
  VirtioMmio,
  VirtioRng,
} from "./mod.ts";
import { HoldDevice } from "./testdata/hold_device.ts";
import { GuardedMemory, RAM_BASE, RecordingLine, Rig } from "./testdata/driver.ts";

function fresh(device = new HoldDevice()) {
  const line = new RecordingLine();
  const mmio = new VirtioMmio({ device, memory: new GuardedMemory(), interrupt: line });
  return { mmio, line, device };
}

Deno.test("identification registers read as virtio-mmio version 2", () => {
  const { mmio } = fresh();
  assert.equal(mmio.read(R.MAGIC_VALUE, 4), 0x74726976);
  assert.equal(mmio.read(R.VERSION, 4), 2);
  assert.equal(mmio.read(R.DEVICE_ID, 4), 0x2a);
  assert.equal(mmio.read(R.VENDOR_ID, 4), 0x544b4d56);
  const custom = new VirtioMmio({
    device: new VirtioRng(),
    memory: new RamGuestMemory(0, new Uint8Array(16)),
    interrupt: new RecordingLine(),
    vendorId: 0x554d4551,
  });
  assert.equal(custom.read(R.VENDOR_ID, 4), 0x554d4551);
  assert.equal(mmio.stats.badAccesses, 0);
});

Deno.test("device features: transport bits plus the device's, in 32-bit windows", () => {
  const { mmio } = fresh(new HoldDevice([8], 0b101n));
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 0);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), (1 << 28 | 1 << 29 | 0b101) >>> 0);
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 1);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), 1); // VERSION_1 is bit 32
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 2);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), 0);
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 0xffff_ffff);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), 0);
});

Deno.test("device feature bits beyond 23 are not the device's to offer", () => {
  const { mmio } = fresh(new HoldDevice([8], 1n << 30n | 1n << 40n | 1n));
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 0);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), (1 << 28 | 1 << 29 | 1) >>> 0);
  mmio.write(R.DEVICE_FEATURES_SEL, 4, 1);
  assert.equal(mmio.read(R.DEVICE_FEATURES, 4), 1);
});

function negotiate(mmio: VirtioMmio, low: number, high: number, extra?: [number, number]) {
  mmio.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER);
  mmio.write(R.DRIVER_FEATURES_SEL, 4, 0);
  mmio.write(R.DRIVER_FEATURES, 4, low);
  mmio.write(R.DRIVER_FEATURES_SEL, 4, 1);
  mmio.write(R.DRIVER_FEATURES, 4, high);
  if (extra) {
    mmio.write(R.DRIVER_FEATURES_SEL, 4, extra[0]);
    mmio.write(R.DRIVER_FEATURES, 4, extra[1]);
  }
  mmio.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
  return (mmio.read(R.STATUS, 4) & S.FEATURES_OK) !== 0;
}

Deno.test("FEATURES_OK: accepted with VERSION_1 and offered bits only", () => {
  const { mmio, device } = fresh(new HoldDevice([8], 0b11n));
  assert.equal(negotiate(mmio, 0b01 | 1 << 29, 1), true);
  assert.equal(device.host.driverFeatures, 1n << VIRTIO_F.VERSION_1 | 1n << 29n | 1n);
  assert.equal(mmio.stats.refusals, 0);
});

Deno.test("FEATURES_OK: refused (reads back clear) without VERSION_1", () => {
  const { mmio, device } = fresh();
  assert.equal(negotiate(mmio, 1 << 28, 0), false);
  assert.equal(mmio.read(R.STATUS, 4), S.ACKNOWLEDGE | S.DRIVER);
  assert.equal(mmio.stats.lastFault, "FEATURES_REFUSED");
  assert.equal(device.host.driverFeatures, 0n);
});

Deno.test("FEATURES_OK: refused for bits never offered, in any window", () => {
  assert.equal(negotiate(fresh().mmio, 1 << 5, 1), false);
  assert.equal(negotiate(fresh().mmio, 0, 1 | 1 << 2), false); // RING_PACKED
  const { mmio } = fresh();
  assert.equal(negotiate(mmio, 0, 1, [2, 1]), false);
  assert.equal(mmio.stats.lastFault, "FEATURES_REFUSED");
});

Deno.test("driver features cannot change after FEATURES_OK", () => {
  const { mmio, device } = fresh();
  assert.equal(negotiate(mmio, 0, 1), true);
  mmio.write(R.DRIVER_FEATURES_SEL, 4, 0);
  mmio.write(R.DRIVER_FEATURES, 4, 1 << 28);
  assert.equal(mmio.stats.badAccesses, 1);
  assert.equal(device.host.driverFeatures, 1n << 32n);
});

Deno.test("DRIVER_OK before FEATURES_OK is refused", () => {
  const { mmio } = fresh();
  mmio.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.DRIVER_OK);
  assert.equal(mmio.read(R.STATUS, 4), S.ACKNOWLEDGE | S.DRIVER);
  assert.equal(mmio.stats.lastFault, "DRIVER_OK_REFUSED");
});

Deno.test("status bits are only cleared by writing 0; the driver cannot set NEEDS_RESET", () => {
  const { mmio, device } = fresh();
  assert.equal(negotiate(mmio, 0, 1), true);
  mmio.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DEVICE_NEEDS_RESET);
  assert.equal(mmio.read(R.STATUS, 4), S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
  mmio.write(R.STATUS, 4, 0);
  assert.equal(mmio.read(R.STATUS, 4), 0);
  assert.equal(device.resets, 1);
  assert.equal(device.host.driverFeatures, 0n);
});

Deno.test("queue registers: QueueNumMax per queue, 0 for queues that do not exist", () => {
  const { mmio } = fresh(new HoldDevice([8, 256]));
  mmio.write(R.QUEUE_SEL, 4, 1);
  assert.equal(mmio.read(R.QUEUE_NUM_MAX, 4), 256);
  assert.equal(mmio.read(R.QUEUE_NUM, 4), 256);
  mmio.write(R.QUEUE_SEL, 4, 2);
  assert.equal(mmio.read(R.QUEUE_NUM_MAX, 4), 0);
  assert.equal(mmio.read(R.QUEUE_READY, 4), 0);
  mmio.write(R.QUEUE_NUM, 4, 4);
  mmio.write(R.QUEUE_READY, 4, 1);
  assert.equal(mmio.stats.badAccesses, 2);
});

Deno.test("a ready queue keeps its placement: configuration writes are ignored", () => {
  const rig = new Rig(new HoldDevice());
  const m = rig.mmio;
  m.write(R.QUEUE_SEL, 4, 0);
  const before = [R.QUEUE_NUM, R.QUEUE_DESC_LOW, R.QUEUE_DRIVER_LOW, R.QUEUE_DEVICE_LOW]
    .map((r) => m.read(r, 4));
  m.write(R.QUEUE_NUM, 4, 2);
  m.write(R.QUEUE_DESC_LOW, 4, 0x1000);
  m.write(R.QUEUE_DRIVER_HIGH, 4, 1);
  m.write(R.QUEUE_DEVICE_LOW, 4, 0);
  assert.equal(m.stats.badAccesses, 4);
  assert.deepEqual(
    [R.QUEUE_NUM, R.QUEUE_DESC_LOW, R.QUEUE_DRIVER_LOW, R.QUEUE_DEVICE_LOW].map((r) =>
      m.read(r, 4)
    ),
    before,
  );
  // QueueReady=0 releases it, as Linux does when it deletes a queue.
  m.write(R.QUEUE_READY, 4, 0);
  assert.equal(m.read(R.QUEUE_READY, 4), 0);
  m.write(R.QUEUE_NUM, 4, 2);
  assert.equal(m.read(R.QUEUE_NUM, 4), 2);
});

Deno.test("bad register accesses read as zero, are ignored and counted", () => {
  const { mmio } = fresh();
  let expected = 0;
  for (const [offset, size] of [[0, 1], [0, 2], [2, 4], [0, 8], [0, 0], [-4, 4], [NaN, 4]]) {
    assert.equal(mmio.read(offset, size), 0);
    mmio.write(offset, size, 0xffff_ffff);
    expected += 2;
  }
  // Write-only registers read as zero; read-only ones ignore writes.
  for (const r of [R.QUEUE_NOTIFY, R.INTERRUPT_ACK, 0x0c0, 0x0f0]) {
    assert.equal(mmio.read(r, 4), 0);
    expected++;
  }
  for (const r of [R.MAGIC_VALUE, R.VERSION, R.DEVICE_ID, R.QUEUE_NUM_MAX, R.CONFIG_GENERATION]) {
    mmio.write(r, 4, 5);
    expected++;
  }
  assert.equal(mmio.read(R.MAGIC_VALUE, 4), 0x74726976);
  assert.equal(mmio.stats.badAccesses, expected);
});

Deno.test("configuration space: aligned 8/16/32-bit accesses inside it, RAZ/WI beyond", () => {
  const { mmio, device } = fresh();
  mmio.write(R.CONFIG + 4, 4, 0x11223344);
  assert.equal(mmio.read(R.CONFIG + 4, 4), 0x11223344);
  assert.equal(mmio.read(R.CONFIG + 6, 2), 0x1122);
  assert.equal(mmio.read(R.CONFIG + 5, 1), 0x33);
  assert.equal(mmio.stats.badAccesses, 0);
  assert.equal(mmio.read(R.CONFIG + 5, 2), 0); // misaligned
  assert.equal(mmio.read(R.CONFIG + 8, 1), 0); // past the end
  assert.equal(mmio.read(R.CONFIG + 6, 4), 0); // misaligned and crossing the end
  mmio.write(R.CONFIG + 8, 4, 1);
  mmio.write(0xfff, 1, 1);
  mmio.write(0x1000, 4, 1);
  assert.equal(mmio.stats.badAccesses, 6);
  assert.deepEqual([...device.config], [0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11]);
});

Deno.test("ConfigGeneration changes with the configuration; the interrupt waits for DRIVER_OK", () => {
  const { mmio, device, line } = fresh();
  const g0 = mmio.read(R.CONFIG_GENERATION, 4);
  device.change();
  assert.notEqual(mmio.read(R.CONFIG_GENERATION, 4), g0);
  assert.equal(mmio.read(R.INTERRUPT_STATUS, 4), 0);
  const rig = new Rig(new HoldDevice());
  rig.device.change();
  assert.equal(rig.mmio.read(R.INTERRUPT_STATUS, 4), VIRTIO_INT.CONFIG_CHANGE);
  assert.equal(rig.line.level, true);
  assert.equal(rig.ack(), VIRTIO_INT.CONFIG_CHANGE);
  assert.equal(rig.line.level, false);
  assert.deepEqual(line.levels, []);
});

Deno.test("shared memory regions read as absent", () => {
  const { mmio } = fresh();
  mmio.write(R.SHM_SEL, 4, 0);
  for (const r of [R.SHM_LEN_LOW, R.SHM_LEN_HIGH, R.SHM_BASE_LOW, R.SHM_BASE_HIGH]) {
    assert.equal(mmio.read(r, 4), 0xffff_ffff);
  }
});

Deno.test("interrupt line follows InterruptStatus; ACK clears only the bits written", () => {
  const rig = new Rig(new HoldDevice());
  const buf = rig.alloc(8);
  rig.queues[0].add([{ addr: buf, len: 8, write: true }]);
  rig.kick(0);
  rig.device.complete(new Uint8Array([1]));
  rig.device.change();
  assert.equal(rig.mmio.read(R.INTERRUPT_STATUS, 4), 3);
  rig.mmio.write(R.INTERRUPT_ACK, 4, 1);
  assert.equal(rig.line.level, true);
  rig.mmio.write(R.INTERRUPT_ACK, 4, 2);
  assert.equal(rig.line.level, false);
  assert.deepEqual(rig.line.levels, [true, false]);
  assert.equal(rig.mmio.stats.interrupts, 1);
});

Deno.test("reset(): power-on state, interrupt lowered, device told", () => {
  const rig = new Rig(new HoldDevice());
  rig.device.change();
  rig.mmio.write(R.QUEUE_SEL, 4, 0);
  rig.mmio.reset();
  assert.equal(rig.status, 0);
  assert.equal(rig.mmio.read(R.QUEUE_READY, 4), 0);
  assert.equal(rig.mmio.read(R.QUEUE_DESC_LOW, 4), 0);
  assert.equal(rig.mmio.read(R.QUEUE_NUM, 4), 8);
  assert.equal(rig.mmio.read(R.INTERRUPT_STATUS, 4), 0);
  assert.equal(rig.line.level, false);
  assert.equal(rig.device.resets, 2); // bring-up wrote 0 first
  rig.bringUp();
  assert.equal(rig.status & S.DRIVER_OK, S.DRIVER_OK);
});

Deno.test("describe() adds the node QEMU's virt board has", () => {
  const fdt = new Fdt();
  fdt.root.setU32("#address-cells", 2).setU32("#size-cells", 2);
  const { mmio } = fresh();
  const node = mmio.describe(fdt.root, { base: 0x0a00_0000, size: 0x200, interrupts: [0, 16, 1] });
  assert.equal(node.path, "/virtio_mmio@a000000");
  const dts = toDts(fdt);
  assert.match(
    dts,
    /virtio_mmio@a000000 \{\n\s+dma-coherent;\n\s+interrupts = <0x00 0x10 0x01>;\n\s+reg = <0x00 0xa000000 0x00 0x200>;\n\s+compatible = "virtio,mmio";\n\s+\};/,
  );
  assert.ok(serializeFdt(fdt).length > 0);
  for (
    const bad of [
      { base: -1, size: 0x200, interrupts: [0, 16, 1] },
      { base: 0, size: 0, interrupts: [0, 16, 1] },
      { base: 0, size: 0x200, interrupts: [] },
      { base: 0, size: 0x200, interrupts: [0, 16] },
      { base: 0, size: 0x200, interrupts: [0, -1, 1] },
    ]
  ) {
    assert.throws(
      () => mmio.describe(fdt.root, bad),
      (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
    );
  }
});

Deno.test("constructor refuses bad devices and options with INVALID_ARGUMENT", () => {
  const memory = new GuardedMemory(4096);
  const interrupt = new RecordingLine();
  const bad = (f: () => unknown) =>
    assert.throws(f, (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT");
  bad(() => new VirtioMmio({ device: new HoldDevice([3]), memory, interrupt }));
  bad(() => new VirtioMmio({ device: new HoldDevice([0]), memory, interrupt }));
  bad(() => new VirtioMmio({ device: new HoldDevice([65536]), memory, interrupt }));
  bad(() =>
    new VirtioMmio({
      device: Object.assign(new HoldDevice(), { configSize: 0xf01 }),
      memory,
      interrupt,
    })
  );
  bad(() => new VirtioMmio({ device: new HoldDevice(), memory, interrupt, vendorId: -1 }));
  bad(() => new VirtioMmio({ device: new HoldDevice(), memory: {} as GuardedMemory, interrupt }));
  bad(() => new VirtioMmio({ device: new HoldDevice(), memory, interrupt: {} as RecordingLine }));
  const rng = new VirtioRng();
  new VirtioMmio({ device: rng, memory, interrupt });
  assert.throws(
    () => new VirtioMmio({ device: rng, memory, interrupt }),
    (e) => e instanceof VirtioError && e.code === "INVALID_STATE",
  );
});

Deno.test("RamGuestMemory: checked translation, overflow and non-integers refused", () => {
  const ram = new RamGuestMemory(RAM_BASE, new Uint8Array(0x1000));
  assert.equal(ram.translate(RAM_BASE, 0x1000), 0);
  assert.equal(ram.translate(RAM_BASE + 0x1000, 0), 0x1000);
  assert.equal(ram.translate(RAM_BASE + 0x1000, 1), -1);
  assert.equal(ram.translate(RAM_BASE - 1, 2), -1);
  assert.equal(ram.translate(RAM_BASE + 1, 0xffff_ffff), -1);
  assert.equal(ram.translate(2 ** 64 - 16, 32), -1);
  assert.equal(ram.translate(RAM_BASE + 0.5, 1), -1);
  assert.equal(ram.translate(RAM_BASE, 1.5), -1);
  assert.equal(ram.translate(RAM_BASE, -1), -1);
  assert.equal(ram.translate(NaN, 1), -1);
  assert.equal(ram.translate(RAM_BASE, Infinity), -1);
  const sub = new Uint8Array(64).subarray(16, 32);
  const off = new RamGuestMemory(0, sub);
  off.view.setUint8(0, 7);
  assert.equal(sub[0], 7);
  for (const [base, bytes] of [[-1, sub], [0.5, sub], [2 ** 53, sub], [0, [1, 2]]] as const) {
    assert.throws(
      () => new RamGuestMemory(base, bytes as Uint8Array),
      (e) => e instanceof VirtioError && e.code === "INVALID_ARGUMENT",
    );
  }
});

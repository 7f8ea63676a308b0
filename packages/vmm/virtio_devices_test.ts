// The VM's virtio devices on a real vCPU: where the registry puts them, what a guest reads there,
// the device tree Linux gets, the console's routing, resets, and who closes the disks.
import assert from "node:assert/strict";
import { parseFdt } from "@vmkit/fdt";
import { UnicornLibrary } from "@vmkit/vcpu";
import {
  type BlockBackend,
  FileBlockBackend,
  MemoryBlockBackend,
  VIRTIO_MMIO as R,
  VIRTIO_STATUS as S,
  VirtioError,
} from "@vmkit/virtio";
import { PSCI_FN } from "./psci.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import type { VmConfig } from "./config.ts";
import { VmmError } from "./errors.ts";
import { guest, LOAD, psci } from "./testdata/guest.ts";

const library = UnicornLibrary.open();
const SLOT0 = 0x0a00_0000;
const RESULTS = LOAD + 0x8_0000;

function vm(config: VmConfig = {}) {
  let out = "";
  const machine = new VirtualMachine({
    memorySize: 32 * 1024 * 1024,
    library,
    console: { write: (b) => out += new TextDecoder().decode(b) },
    ...config,
  });
  return { machine, output: () => out };
}

/** A backend that counts closes. */
function counted(size = 1 << 20): BlockBackend & { closes: number; close(): void } {
  const inner = new MemoryBlockBackend(size);
  return Object.assign(Object.create(inner) as MemoryBlockBackend, {
    closes: 0,
    close() {
      this.closes++;
    },
  });
}

Deno.test("virtio: disks, console and entropy take the pool slots in order, and a guest finds them there", async () => {
  const { machine } = vm({
    consoleDevice: "virtio",
    disks: [
      { backend: new MemoryBlockBackend(1 << 20) },
      { backend: new MemoryBlockBackend(2 << 20), readOnly: true, serial: "second" },
    ],
  });
  try {
    assert.deepEqual(
      machine.devices.slots.filter((s) => s.placement.base >= SLOT0).map((s) => [
        s.name,
        s.placement.base,
        s.spis[0],
        s.placement.interrupts[2],
      ]),
      [
        ["virtio-blk0", SLOT0, 16, 1],
        ["virtio-blk1", SLOT0 + 0x200, 17, 1],
        ["virtio-console", SLOT0 + 0x400, 18, 1],
        ["virtio-rng", SLOT0 + 0x600, 19, 1],
      ],
    );
    // The guest reads MagicValue, Version and DeviceID of slots 0-4 into RAM.
    const a = guest();
    a.mov(1, SLOT0).mov(3, RESULTS);
    for (let slot = 0; slot < 5; slot++) {
      for (const reg of [R.MAGIC_VALUE, R.VERSION, R.DEVICE_ID]) {
        a.ldrw(2, 1, slot * 0x200 + reg).strw(2, 3, 0).addi(3, 3, 4);
      }
    }
    psci(a, PSCI_FN.SYSTEM_OFF);
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff", exit.message);
    const seen = new Uint32Array(
      machine.ram.bytes.slice(RESULTS - LOAD, RESULTS - LOAD + 60).buffer,
    );
    const magic = 0x74726976;
    assert.deepEqual([...seen], [
      ...[magic, 2, 2],
      ...[magic, 2, 2],
      ...[magic, 2, 3],
      ...[magic, 2, 4],
      ...[0, 0, 0], // no window there: RAZ
    ]);
    assert.equal(machine.devices.stats.strayAccesses, 3);
  } finally {
    machine.close();
  }
});

Deno.test("virtio: the device tree lists the transports in slot order, like QEMU virt's", () => {
  const { machine } = vm({
    disks: [{ backend: new MemoryBlockBackend(4096) }, { backend: new MemoryBlockBackend(4096) }],
  });
  try {
    const fdt = parseFdt(machine.deviceTree("console=ttyAMA0"));
    const nodes = fdt.root.children.filter((n) => n.name.startsWith("virtio_mmio@"));
    assert.deepEqual(nodes.map((n) => n.name), [
      "virtio_mmio@a000000",
      "virtio_mmio@a000200",
      "virtio_mmio@a000400",
    ]);
    for (const [i, n] of nodes.entries()) {
      assert.equal(n.getString("compatible"), "virtio,mmio");
      assert.deepEqual(n.getCells("interrupts"), [0, 16 + i, 1]);
      assert.ok(n.hasProperty("dma-coherent"));
    }
  } finally {
    machine.close();
  }
});

Deno.test("virtio: the entropy device is there by default and goes away with rng: false", () => {
  for (const [rng, expected] of [[undefined, ["virtio-rng"]], [false, []]] as const) {
    const { machine } = vm({ rng });
    try {
      assert.deepEqual(
        machine.devices.slots.filter((s) => s.name.startsWith("virtio")).map((s) => s.name),
        expected,
      );
      assert.equal(machine.virtio.rng !== undefined, rng === undefined);
    } finally {
      machine.close();
    }
  }
});

Deno.test("virtio console: the default command line names hvc0, input goes to it, and its output reaches the console sink", async () => {
  const { machine, output } = vm({ consoleDevice: "virtio" });
  try {
    const off = guest();
    psci(off, PSCI_FN.SYSTEM_OFF);
    const plan = await machine.loadLinux({ kernel: off.assemble() });
    const dtb = machine.ram.bytes.subarray(
      plan.dtbAddress - LOAD,
      plan.dtbAddress - LOAD + 0x10000,
    );
    assert.equal(parseFdt(dtb).root.getChild("chosen")?.getString("bootargs"), "console=hvc0");

    machine.sendInput(new TextEncoder().encode("ls\n"));
    assert.equal(machine.virtio.console!.pendingInput, 3);
    assert.equal(machine.uart.pendingInput, 0, "the UART got none of it");

    // The transmit queue driven the way the guest's driver does it, here from the host.
    const t = machine.virtio.consoleTransport!;
    const ram = machine.ram.bytes;
    const view = new DataView(ram.buffer);
    const [desc, avail, used, text] = [0x60_0000, 0x60_1000, 0x60_2000, 0x60_3000];
    t.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER);
    t.write(R.DRIVER_FEATURES_SEL, 4, 1);
    t.write(R.DRIVER_FEATURES, 4, 1);
    t.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    t.write(R.QUEUE_SEL, 4, 1);
    t.write(R.QUEUE_NUM, 4, 4);
    t.write(R.QUEUE_DESC_LOW, 4, LOAD + desc);
    t.write(R.QUEUE_DRIVER_LOW, 4, LOAD + avail);
    t.write(R.QUEUE_DEVICE_LOW, 4, LOAD + used);
    t.write(R.QUEUE_READY, 4, 1);
    t.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    const message = new TextEncoder().encode("hello on hvc0\n");
    ram.set(message, text);
    view.setBigUint64(desc, BigInt(LOAD + text), true);
    view.setUint32(desc + 8, message.length, true);
    view.setUint16(avail + 4, 0, true);
    view.setUint16(avail + 2, 1, true);
    t.write(R.QUEUE_NOTIFY, 4, 1);

    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff", exit.message);
    assert.equal(output(), "hello on hvc0\n");
  } finally {
    machine.close();
  }
});

Deno.test("virtio: a reboot resets every transport", async () => {
  const { machine } = vm({ disks: [{ backend: new MemoryBlockBackend(4096) }] });
  try {
    const off = guest();
    psci(off, PSCI_FN.SYSTEM_OFF);
    await machine.loadLinux({ kernel: off.assemble() });
    const t = machine.virtio.disks[0].transport;
    t.write(R.STATUS, 4, S.ACKNOWLEDGE | S.DRIVER);
    assert.equal(t.status, S.ACKNOWLEDGE | S.DRIVER);
    machine.restart();
    assert.equal(t.status, 0);
  } finally {
    machine.close();
  }
});

Deno.test("virtio: the VM closes the disks' backends when it closes, once", async () => {
  const a = counted();
  const b = counted();
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(4096));
    const file = await FileBlockBackend.open(path);
    const { machine } = vm({ disks: [{ backend: a }, { backend: file }, { backend: b }] });
    assert.equal(a.closes, 0);
    machine.close();
    machine.close();
    assert.equal(a.closes, 1);
    assert.equal(b.closes, 1);
    await assert.rejects(
      file.read(0, new Uint8Array(512)),
      (e) => e instanceof VirtioError && e.code === "BACKEND_CLOSED",
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("virtio: bad disk configurations are BAD_CONFIG naming the disk", () => {
  const ro = new MemoryBlockBackend(4096, { readOnly: true });
  for (
    const [config, pattern] of [
      [{ disks: [{ backend: {} as BlockBackend }] }, /disk 0: backend is not a BlockBackend/],
      [
        { disks: [{ backend: new MemoryBlockBackend(512) }, { backend: ro, readOnly: false }] },
        /disk 1: its backend is read-only/,
      ],
      [
        { disks: [{ backend: ro, serial: "a serial longer than twenty" }] },
        /disk 0: serial .* over 20 bytes/,
      ],
      [
        { disks: Array.from({ length: 31 }, () => ({ backend: ro })) },
        /at most 30 disks, got 31/,
      ],
      [{ consoleDevice: "hvc" as "virtio" }, /consoleDevice must be pl011 or virtio/],
      [{ rng: "yes" as unknown as boolean }, /rng must be true or false/],
    ] as const
  ) {
    assert.throws(
      () => new VirtualMachine({ library, ...config }),
      (e) => e instanceof VmmError && e.code === "BAD_CONFIG" && pattern.test(e.message),
      String(pattern),
    );
  }
});

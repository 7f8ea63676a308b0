// Network cards in the VM: where they go among the virtio devices, what a guest reads in their
// registers, the configuration checks, and who closes the backends.
import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { type FrameReceiver, type NetBackend, VIRTIO_MMIO as R } from "@vmkit/virtio";
import { MemoryBlockBackend } from "@vmkit/virtio";
import { PSCI_FN } from "./psci.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import type { VmConfig } from "./config.ts";
import { VmmError } from "./errors.ts";
import { guest, LOAD, psci } from "./testdata/guest.ts";

const library = UnicornLibrary.open();
const SLOT0 = 0x0a00_0000;
const RESULTS = LOAD + 0x8_0000;

/** A backend that remembers what it was plugged into and counts closes. */
class Cable implements NetBackend {
  receiver: FrameReceiver | null = null;
  closes = 0;
  attach(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }
  send(): boolean {
    return true;
  }
  close(): void {
    this.closes++;
  }
}

function vm(config: VmConfig) {
  return new VirtualMachine({ memorySize: 32 << 20, library, ...config });
}

Deno.test("nets: cards come after the disks and before the console; a guest reads their ID and MAC", async () => {
  const cables = [new Cable(), new Cable()];
  const machine = vm({
    consoleDevice: "virtio",
    disks: [{ backend: new MemoryBlockBackend(1 << 20) }],
    nets: [{ backend: cables[0], mac: "52:54:00:00:00:01" }, {
      backend: cables[1],
      mac: "02:11:22:33:44:55",
      mtu: 9000,
    }],
  });
  try {
    assert.deepEqual(
      machine.devices.slots.filter((s) => s.placement.base >= SLOT0).map((s) => s.name),
      ["virtio-blk0", "virtio-net0", "virtio-net1", "virtio-console", "virtio-rng"],
    );
    assert.equal(cables[0].receiver, machine.virtio.nets[0].net, "plugged into its card");
    assert.equal(machine.virtio.nets[1].net.mtu, 9000);
    // The guest reads DeviceID, the MAC's first and last bytes and the MTU of both cards.
    const a = guest();
    a.mov(1, SLOT0).mov(3, RESULTS);
    for (const slot of [1, 2]) {
      const base = slot * 0x200;
      a.ldrw(2, 1, base + R.DEVICE_ID).strw(2, 3, 0).addi(3, 3, 4);
      a.ldrb(2, 1, base + R.CONFIG).strw(2, 3, 0).addi(3, 3, 4);
      a.ldrb(2, 1, base + R.CONFIG + 5).strw(2, 3, 0).addi(3, 3, 4);
      a.ldrw(2, 1, base + R.CONFIG + 8).strw(2, 3, 0).addi(3, 3, 4);
    }
    psci(a, PSCI_FN.SYSTEM_OFF);
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff", exit.message);
    const seen = new Uint32Array(
      machine.ram.bytes.slice(RESULTS - LOAD, RESULTS - LOAD + 32).buffer,
    );
    // max_virtqueue_pairs (1) in the low half, the MTU in the high half.
    assert.deepEqual([...seen], [1, 0x52, 0x01, 1 | 1500 << 16, 1, 0x02, 0x55, 1 | 9000 << 16]);
  } finally {
    machine.close();
  }
  assert.deepEqual(cables.map((c) => c.closes), [1, 1], "the VM closed the backends");
});

Deno.test("nets: bad cards are BAD_CONFIG naming the card; the backends stay the caller's", () => {
  const cable = new Cable();
  const cases: [VmConfig, RegExp][] = [
    [{ nets: [{ backend: {} as NetBackend }] }, /^net 0: backend is not a NetBackend$/],
    [{ nets: [{ backend: cable, mac: "nope" }] }, /^net 0: "nope" is not a MAC address/],
    [{ nets: [{ backend: cable, mac: "01:00:00:00:00:01" }] }, /^net 0: .* multicast/],
    [{ nets: [{ backend: cable, mtu: 67 }] }, /^net 0: mtu must be 68 to 65535, got 67$/],
    [{
      nets: [{ backend: cable, mac: "02:00:00:00:00:01" }, {
        backend: new Cable(),
        mac: "02-00-00-00-00-01",
      }],
    }, /^net 1: its MAC address is another card's too$/],
    [{
      disks: Array.from({ length: 20 }, () => ({ backend: new MemoryBlockBackend(512) })),
      nets: Array.from({ length: 11 }, () => ({ backend: new Cable() })),
    }, /^11 network cards do not fit: 10 virtio-mmio slots are left$/],
    [{ nets: "eth0" as never }, /^nets must be an array$/],
  ];
  for (const [config, message] of cases) {
    assert.throws(() => vm(config), (e) => {
      assert.ok(e instanceof VmmError);
      assert.equal(e.code, "BAD_CONFIG");
      assert.match(e.message, message);
      return true;
    });
  }
  assert.equal(cable.closes, 0);
  assert.equal(cable.receiver, null, "nothing was plugged in");
});

Deno.test("nets: a card's MAC defaults to a locally-administered one of its own", () => {
  const machine = vm({ nets: [{ backend: new Cable() }, { backend: new Cable() }] });
  try {
    const [a, b] = machine.virtio.nets.map((n) => n.net.mac);
    assert.equal(a[0] & 3, 2);
    assert.notDeepEqual(a, b);
  } finally {
    machine.close();
  }
});

// Random register traffic, random descriptor tables, indirect tables and ring contents, resets
// and host events against every device type: nothing throws, nothing hangs, every ring access
// stays inside guest RAM, the guard bytes around RAM are never written, and the interrupt line
// always matches InterruptStatus.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MemoryBlockBackend,
  VIRTIO_MMIO as R,
  VirtioBlk,
  VirtioConsole,
  type VirtioDevice,
  VirtioRng,
} from "./mod.ts";
import { HoldDevice } from "./testdata/hold_device.ts";
import { GUARD, RAM_BASE, Rig, settle } from "./testdata/driver.ts";

const RAM = 64 * 1024;

type Command =
  | { k: "write"; offset: number; size: number; value: number }
  | { k: "read"; offset: number; size: number }
  | { k: "desc"; q: number; i: number; addr: number; len: number; flags: number; next: number }
  | { k: "table"; slot: number; addr: number; len: number; flags: number; next: number }
  | { k: "publish"; q: number; head: number; jump: number }
  | { k: "poke"; at: number; value: number }
  | { k: "kick"; q: number }
  | {
    k: "chain";
    q: number;
    buffers: { addr: number; len: number; flags: number }[];
    indirect: boolean;
  }
  | { k: "ack" }
  | { k: "recover" }
  | { k: "complete"; bytes: number }
  | { k: "input"; bytes: number }
  | { k: "reset"; reinit: boolean }
  | { k: "settle" };

const u32 = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.constantFrom(0, 1, 2, 3, 4, 8, 15, 16, 0xff, 0xffff, 0x8000_0000, 0xffff_ffff),
);

/** Addresses a driver might put in a descriptor, good and bad. */
const address = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: RAM - 1 }).map((o) => RAM_BASE + o) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((k) => RAM_BASE + RAM - k) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, RAM_BASE - 1, RAM_BASE - 16, 2 ** 53, 2 ** 64 - 16, 2 ** 32),
  },
);
const length = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 16, 512, 4096, 0xffff_fff0, 0xffff_ffff) },
);
const flags = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 7 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const registerOffset = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      R.STATUS,
      R.QUEUE_SEL,
      R.QUEUE_NUM,
      R.QUEUE_READY,
      R.QUEUE_NOTIFY,
      R.INTERRUPT_ACK,
      R.DRIVER_FEATURES,
      R.DRIVER_FEATURES_SEL,
      R.DEVICE_FEATURES_SEL,
      R.QUEUE_DESC_LOW,
      R.QUEUE_DESC_HIGH,
      R.QUEUE_DRIVER_LOW,
      R.QUEUE_DEVICE_LOW,
      R.SHM_SEL,
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x140 }) },
  { weight: 1, arbitrary: fc.integer({ min: -8, max: 0x2000 }) },
);
const size = fc.constantFrom(4, 4, 4, 4, 1, 2, 8, 0, 3);

/** Mostly plausible buffers: inside a buffer area, readable ones first, some corruption. */
const buffers = fc.array(
  fc.record({
    addr: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.integer({ min: 0, max: 8192 }).map((o) => RAM_BASE + 4 * 4096 + o),
      },
      { weight: 1, arbitrary: address },
    ),
    len: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(1, 16, 20, 64, 512, 1024) },
      { weight: 1, arbitrary: length },
    ),
    flags: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 2) }, {
      weight: 1,
      arbitrary: flags,
    }),
  }),
  { minLength: 1, maxLength: 5 },
).map((list) => list.sort((a, b) => (a.flags & 2) - (b.flags & 2)));

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant("write"), offset: registerOffset, size, value: u32 }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant("chain"),
      q: fc.integer({ min: 0, max: 1 }),
      buffers,
      indirect: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("ack") }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("recover") }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("read"), offset: registerOffset, size }) },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant("desc"),
      q: fc.integer({ min: 0, max: 1 }),
      i: fc.integer({ min: 0, max: 9 }),
      addr: address,
      len: length,
      flags,
      next: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(0xffff)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant("table"),
      slot: fc.integer({ min: 0, max: 9 }),
      addr: address,
      len: length,
      flags,
      next: fc.integer({ min: 0, max: 10 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("publish"),
      q: fc.integer({ min: 0, max: 1 }),
      head: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(0xffff)),
      jump: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, {
        weight: 1,
        arbitrary: fc.integer({ min: 0, max: 0xffff }),
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant("poke"),
      at: fc.integer({ min: 0, max: 3 * 4096 }),
      value: fc.integer({ min: 0, max: 0xffff }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ k: fc.constant("kick"), q: fc.integer({ min: -1, max: 2 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant("complete"), bytes: fc.integer({ min: 0, max: 64 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("input"), bytes: fc.integer({ min: 0, max: 300 }) }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("reset"), reinit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("settle") }) },
);

const devices: Record<string, () => VirtioDevice> = {
  hold: () => new HoldDevice([8, 4]),
  rng: () => new VirtioRng({ queueSize: 8 }),
  console: () => new VirtioConsole({ queueSize: 8, receiveLimit: 256 }),
  blk: () => new VirtioBlk({ backend: new MemoryBlockBackend(64 * 512), queueSize: 8 }),
};

/** Every DataView access the code under test makes must land inside RAM. */
function fenceView(view: DataView): void {
  for (const [name, width] of [["Uint8", 1], ["Uint16", 2], ["Uint32", 4]] as const) {
    for (const verb of ["get", "set"] as const) {
      const key = `${verb}${name}` as const;
      const real = view[key].bind(view) as (...args: unknown[]) => number;
      Object.defineProperty(view, key, {
        value: (offset: number, ...rest: unknown[]) => {
          if (!(offset >= GUARD && offset + width <= GUARD + RAM)) {
            throw new Error(`${key} at ${offset - GUARD} is outside guest RAM`);
          }
          return real(offset, ...rest);
        },
      });
    }
  }
}

async function run(kind: string, indirect: boolean, commands: Command[]): Promise<void> {
  const rig = new Rig(devices[kind](), { ramSize: RAM, features: indirect ? undefined : 0n });
  fenceView(rig.mem.view);
  const table = RAM_BASE + 3 * 4096;
  const check = () => {
    const status = rig.mmio.read(R.INTERRUPT_STATUS, 4);
    assert.equal(rig.line.level, status !== 0, "the line follows InterruptStatus");
  };
  for (const c of commands) {
    const q =
      rig.queues[Math.min(c.k === "desc" || c.k === "publish" ? c.q : 0, rig.queues.length - 1)];
    switch (c.k) {
      case "write":
        rig.mmio.write(c.offset, c.size, c.value);
        break;
      case "read":
        rig.mmio.read(c.offset, c.size);
        break;
      case "desc":
        q.setDesc(c.i % q.size, c.addr, c.len, c.flags, c.next);
        break;
      case "table":
        q.setDesc(c.slot, c.addr, c.len, c.flags, c.next, table);
        break;
      case "publish":
        rig.mem.set16(q.avail + 4 + 2 * (q.availIdx % q.size), c.head);
        q.availIdx = (q.availIdx + c.jump) & 0xffff;
        rig.mem.set16(q.avail + 2, q.availIdx);
        break;
      case "poke":
        rig.mem.set16(RAM_BASE + (c.at & ~1), c.value);
        break;
      case "kick":
        rig.kick(c.q);
        break;
      case "chain":
        if (c.indirect) q.addIndirect(table + 256, c.buffers);
        else q.add(c.buffers);
        rig.kick(q.index);
        break;
      case "ack":
        rig.ack();
        break;
      case "recover":
        // What a driver does about DEVICE_NEEDS_RESET, so one fault does not end the run.
        if (rig.needsReset || rig.status === 0) rig.bringUp();
        break;
      case "complete":
        if (rig.device instanceof HoldDevice && rig.device.held.length > 0) {
          rig.device.complete(new Uint8Array(c.bytes).fill(0x77));
        }
        break;
      case "input":
        if (rig.device instanceof VirtioConsole) {
          rig.device.receive(new Uint8Array(c.bytes).fill(0x61));
        }
        break;
      case "reset":
        rig.mmio.reset();
        if (c.reinit) rig.bringUp();
        break;
      case "settle":
        await settle();
        break;
    }
    check();
  }
  await settle();
  check();
  rig.mem.assertGuardsIntact();
}

for (const kind of Object.keys(devices)) {
  Deno.test(`property: ${kind} survives random rings and register traffic`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(command, { minLength: 5, maxLength: 80, size: "max" }),
        (indirect, commands) => run(kind, indirect, commands),
      ),
      { numRuns: 150 },
    );
  });
}

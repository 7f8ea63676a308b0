// The VM's lifecycle against real guests: each defect a review found, and the contract of devices
// that complete their work later, from the event loop.
import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { PSCI_FN } from "./psci.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import type { VmConfig } from "./config.ts";
import { type Asm, GICC, GICD, guest, LOAD, print, psci, SYSREGS, UART } from "./testdata/guest.ts";

const library = UnicornLibrary.open();

function vm(config: VmConfig = {}) {
  let out = "";
  const logs: string[] = [];
  const machine = new VirtualMachine({
    memorySize: 32 * 1024 * 1024,
    library,
    console: { write: (b) => out += new TextDecoder().decode(b) },
    onLog: (m) => logs.push(m),
    // No entropy device: these guests use the first virtio-mmio slot for their own devices.
    rng: false,
    ...config,
  });
  return { machine, output: () => out, logs };
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Enables the GIC for the boot CPU with `intid` enabled and routed to it, vectors at 0x800. */
function gicSetup(a: Asm, intid: number): Asm {
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0);
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0) // GICD_CTLR
    .mov(2, 1 << (intid % 32)).strw(2, 1, 0x100 + 4 * Math.floor(intid / 32)) // ISENABLER
    .mov(2, 1).strb(2, 1, 0x800 + intid) // ITARGETSR: CPU 0
    .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0); // PMR, CTLR
  return a;
}

Deno.test("async completion: a device whose backend answers later wakes the idle guest", async () => {
  // The device: a write starts "host I/O" that completes 50 ms later from
  // the event loop and raises the interrupt; a read of register 0 takes the
  // completion and lowers it.
  let wfiAtCompletion = -1;
  const a = guest();
  gicSetup(a, 48);
  a.mov(1, 0x0a00_0000).mov(2, 1).strw(2, 1, 0).daifclr(2).label("wait").wfi().b("wait");
  a.org(LOAD + 0x800).label("vectors").org(LOAD + 0x800 + 0x280)
    .mov(1, GICC).ldrw(3, 1, 0x0c) // IAR
    .mov(4, 0x0a00_0000).ldrw(5, 4, 0) // take the completion
    .strw(3, 1, 0x10); // EOIR
  psci(a, PSCI_FN.SYSTEM_OFF);
  const { machine } = vm();
  try {
    let done = false;
    machine.devices.add({
      name: "late",
      size: 0x200,
      device: ({ lines }) => ({
        read: () => {
          const was = done;
          done = false;
          lines[0].set(false);
          return was ? 1 : 0;
        },
        write: () => {
          setTimeout(() => {
            wfiAtCompletion = machine.vcpus[0].stats.wfi;
            done = true;
            lines[0].set(true);
          }, 50);
        },
        reset: () => {
          done = false;
        },
      }),
    });
    await machine.loadLinux({ kernel: a.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff");
    const v = machine.vcpus[0];
    assert.equal(v.getX(3), 48n, "the completion interrupt, SPI 16 of the first pool slot");
    assert.equal(v.getX(5), 1n, "the guest read the completion");
    assert.ok(wfiAtCompletion > 0, "the guest was idle when the backend answered");
  } finally {
    machine.close();
  }
});

Deno.test("lifecycle: guest_restart from an ack callback keeps its clear range and goes on running, even with onReset exit", async () => {
  const COUNT = LOAD + 0x180_0000; // outside the range cleared: counts boots
  const INSIDE = LOAD + 0x100_0000; // inside it
  const a = guest();
  gicSetup(a, 40);
  a.mov(9, COUNT).ldrb(10, 9, 0).addi(10, 10, 1).strb(10, 9, 0);
  print(a, "boot ").mov(1, UART).addi(2, 10, 0x30).strb(2, 1, 0).mov(2, 10).strb(2, 1, 0);
  a.subsi(11, 10, 2).cbz(11, "off").daifclr(2).label("wait").wfi().b("wait");
  a.label("off");
  psci(a, PSCI_FN.SYSTEM_OFF);
  a.org(LOAD + 0x800).label("vectors").org(LOAD + 0x800 + 0x280)
    .mov(1, GICC).ldrw(3, 1, 0x0c).strw(3, 1, 0x10).label("parked").wfi().b("parked");
  const { machine, output } = vm({ onReset: "exit" });
  try {
    const api = machine.reference;
    await machine.loadLinux({ kernel: a.assemble() });
    machine.ram.bytes[INSIDE - LOAD] = 0xaa;
    assert.equal(api.virq_controller_init(0), true);
    let acks = 0;
    assert.equal(
      api.virq_register(0, 40, () => {
        acks++;
        assert.equal(api.guest_restart(0, INSIDE, 0x10_0000), true);
      }, null),
      true,
    );
    const exited = machine.run({ timeoutMs: 10_000 });
    await until(() => output().includes("boot 1"));
    assert.equal(api.virq_inject(0, 40), true);
    const exit = await exited;
    assert.equal(exit.reason, "poweroff", exit.message);
    assert.equal(acks, 1);
    assert.match(output(), /boot 1\nboot 2\n/);
    assert.equal(machine.ram.bytes[INSIDE - LOAD], 0, "the range asked for was cleared");
    assert.equal(machine.ram.bytes[COUNT - LOAD], 2, "the rest of RAM was kept");
  } finally {
    machine.close();
  }
});

Deno.test("lifecycle: a second loadLinux and guest_start after guest_stop boot with a fresh context and no stale code", async () => {
  // First guest: unmasks everything and sits in a loop at a fixed address.
  const first = guest();
  first.daifclr(0xf).label("spin").b("spin");
  // Second guest, same addresses: reports DAIF and SCTLR, prints, powers off.
  const second = guest();
  second.word(0xd53b4220); // mrs x0, daif
  second.mov(19, 0).add(19, 19, 0).mrs(20, SYSREGS.SCTLR_EL1);
  print(second, "second\n");
  psci(second, PSCI_FN.SYSTEM_OFF);
  const { machine, output } = vm();
  try {
    await machine.loadLinux({ kernel: first.assemble() });
    const running = machine.run({ timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    machine.stop();
    assert.equal((await running).reason, "stopped");
    assert.equal(machine.vcpus[0].getPstate() & 0x3c0n, 0n, "the first guest unmasked DAIF");

    await machine.loadLinux({ kernel: second.assemble() });
    const exit = await machine.run({ timeoutMs: 10_000 });
    assert.equal(exit.reason, "poweroff", exit.message);
    assert.equal(output(), "second\n", "the new code ran, not the translation of the old");
    assert.equal(machine.vcpus[0].getX(19), 0x3c0n, "DAIF masked at entry");
    assert.equal(machine.vcpus[0].getX(20) & 1n, 0n, "MMU off at entry");

    // guest_start after guest_stop, through the classic API.
    await machine.loadLinux({ kernel: first.assemble() });
    const api = machine.reference;
    assert.equal(api.guest_start(0, LOAD, 0, 0), true);
    await new Promise((r) => setTimeout(r, 50));
    api.guest_stop(0);
    await machine.exited;
    machine.ram.bytes.set(second.assemble());
    assert.equal(api.guest_start(0, LOAD, 0, 0), true);
    const again = await machine.exited;
    assert.equal(again?.reason, "poweroff", again?.message);
    assert.equal(machine.vcpus[0].getX(19), 0x3c0n);
    assert.equal(output(), "second\nsecond\n");
  } finally {
    machine.close();
  }
});

Deno.test("lifecycle: close from inside a device callback ends the run first, then frees the VM", async () => {
  const a = guest();
  a.mov(1, 0x0a00_0000).mov(2, 1).strw(2, 1, 0).label("spin").b("spin");
  const { machine } = vm();
  let closedFromCallback = false;
  machine.devices.add({
    name: "closer",
    size: 0x200,
    device: {
      read: () => 0,
      write: () => {
        machine.close();
        closedFromCallback = true;
      },
      reset: () => {},
    },
  });
  await machine.loadLinux({ kernel: a.assemble() });
  const exit = await machine.run({ timeoutMs: 10_000 });
  assert.ok(closedFromCallback);
  assert.equal(exit.reason, "stopped");
  assert.equal(exit.message, "the VM was closed");
  assert.equal(machine.state, "closed");
  assert.equal(machine.vcpus[0].closed, true);
  machine.close();
});

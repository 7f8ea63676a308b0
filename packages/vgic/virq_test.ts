import assert from "node:assert/strict";
import { Gicv2, VgicError, VirqController } from "./mod.ts";
import { Rig } from "./testdata/harness.ts";

/** A rig whose deactivation hook belongs to a VirqController. */
function setup(cpus = 1, ackChannel?: (channel: number) => void) {
  const rig = new Rig({ cpus }, false);
  const acks: string[] = [];
  const virq = new VirqController(rig.gic, { ackChannel });
  return { rig, virq, acks };
}

Deno.test("reference API: init, register, inject, ack once per EOI", () => {
  const { rig, virq, acks } = setup();
  const ack = (vcpu: number, irq: number, data: unknown) => acks.push(`${vcpu}:${irq}:${data}`);
  assert.equal(virq.virq_register(0, 40, ack, "before init"), false);
  assert.equal(virq.virq_inject(0, 40), false);
  assert.equal(virq.virq_controller_init(1), false, "no vCPU 1");
  assert.equal(virq.virq_controller_init(0), true);
  assert.equal(virq.bootVcpu, 0);
  assert.equal(virq.virq_register(0, 40, ack, "uart"), true);
  assert.equal(virq.virq_register(0, 40, ack, "again"), false, "double registration");
  assert.equal(virq.virq_register(0, 5, ack, null), true, "an SGI of vCPU 0");
  assert.equal(virq.virq_register(0, 256, ack, null), false);
  assert.equal(virq.virq_register(0, -1, ack, null), false);
  assert.equal(virq.virq_register(1, 41, ack, null), false, "no vCPU 1");
  assert.equal(virq.virq_inject(0, 41), false, "not registered");
  assert.equal(virq.virq_inject(0, 40), true);
  assert.equal(rig.irq(), false, "the guest has not enabled anything yet");

  rig.enableAll([40]);
  assert.equal(rig.irq(), true);
  assert.equal(rig.iar(), 40);
  assert.deepEqual(acks, []);
  // Injected again while active: pending again, and a second EOI-driven ack will follow.
  assert.equal(virq.virq_inject(0, 40), true);
  rig.eoi(40);
  assert.deepEqual(acks, ["0:40:uart"]);
  assert.equal(rig.iar(), 40);
  rig.eoi(40);
  assert.deepEqual(acks, ["0:40:uart", "0:40:uart"]);
  // Spurious EOIs and EOIs of inactive interrupts never ack.
  rig.eoi(40);
  rig.eoi(1023);
  assert.equal(rig.iar(), 1023);
  rig.eoi(1023);
  assert.deepEqual(acks, ["0:40:uart", "0:40:uart"]);
});

Deno.test("PPIs register per vCPU and are acked on the vCPU that deactivated them", () => {
  const { rig, virq, acks } = setup(2);
  const ack = (vcpu: number, irq: number) => acks.push(`${vcpu}:${irq}`);
  assert.equal(virq.init(1), true);
  assert.equal(virq.register(0, 27, ack), true);
  assert.equal(virq.register(1, 27, ack), true);
  assert.equal(virq.isRegistered(1, 27), true);
  assert.equal(virq.isRegistered(1, 28), false);
  rig.enableAll();
  rig.enable(27, 0x80, 0);
  rig.enable(27, 0x80, 1);
  assert.equal(virq.inject(1, 27), true);
  assert.equal(rig.irq(0), false);
  assert.equal(rig.irq(1), true);
  assert.equal(rig.iar(1), 27);
  rig.eoi(27, 1);
  assert.deepEqual(acks, ["1:27"]);
  // An SPI registered once is global, the ack names the deactivating vCPU.
  assert.equal(virq.register(0, 50, ack), true);
  assert.equal(virq.register(1, 50, ack), false);
  rig.enable(50, 0x80, 0, 0x02);
  assert.equal(virq.inject(0, 50), true);
  assert.equal(rig.irq(1), true);
  assert.equal(rig.iar(1), 50);
  rig.eoi(50, 1);
  assert.deepEqual(acks, ["1:27", "1:50"]);
});

Deno.test("SGIs register and inject per vCPU; the source is the vCPU itself", () => {
  const { rig, virq, acks } = setup(3);
  const ack = (vcpu: number, irq: number, data: unknown) => acks.push(`${vcpu}:${irq}:${data}`);
  virq.init(0);
  assert.equal(virq.register(1, 3, ack, "resched"), true);
  assert.equal(virq.register(1, 3, ack, "again"), false, "double registration");
  assert.equal(virq.register(2, 3, ack, "other"), true, "another vCPU's SGI 3");
  assert.equal(virq.inject(0, 3), false, "not registered on vCPU 0");
  rig.enableAll();
  for (let cpu = 0; cpu < 3; cpu++) rig.enable(3, 0x80, cpu);
  assert.equal(virq.inject(1, 3), true);
  assert.deepEqual([rig.irq(0), rig.irq(1), rig.irq(2)], [false, true, false], "vCPU 1 alone");
  assert.equal(rig.iar(1), 3 | (1 << 10), "source CPU 1");
  rig.eoi(3 | (1 << 10), 1);
  assert.deepEqual(acks, ["1:3:resched"]);
  // The guest's own SGI 3 to vCPU 2 deactivates a registered SGI of vCPU 2: acked there.
  rig.wd(0xf00, (1 << (16 + 2)) | 3, 0);
  assert.equal(rig.iar(2), 3 | (0 << 10), "source CPU 0");
  rig.eoi(3, 2);
  assert.deepEqual(acks, ["1:3:resched", "2:3:other"]);
  assert.equal(rig.iar(0), 1023);
  assert.equal(rig.iar(1), 1023);
});

Deno.test("init of another vCPU initialises that vCPU alone", () => {
  const armed: number[] = [];
  const { rig, virq, acks } = setup(2, (c) => armed.push(c));
  const ack = (vcpu: number, irq: number) => acks.push(`${vcpu}:${irq}`);
  assert.equal(virq.init(0), true);
  assert.equal(virq.register(0, 20, ack), true);
  assert.equal(virq.register(0, 2, ack), true);
  assert.equal(virq.register(0, 40, ack), true);
  assert.equal(virq.register(1, 21, ack), true);
  assert.equal(virq.registerPassthrough(1, 22, 5), true);
  rig.enableAll([40]);
  rig.enable(20, 0x80, 0);
  rig.enable(21, 0x80, 1);
  assert.equal(virq.inject(1, 21), true);
  assert.equal(rig.irq(1), true);

  assert.equal(virq.init(1), true);
  assert.equal(virq.bootVcpu, 0, "still the boot vCPU");
  // vCPU 1: registrations, passthrough channel, banked state and CPU interface reset.
  assert.equal(virq.isRegistered(1, 21), false);
  assert.equal(virq.handlePassthrough(5), false);
  assert.equal(rig.irq(1), false);
  assert.equal(rig.rc(0x004, 1), 0, "vCPU 1's PMR");
  assert.equal(rig.gic.interruptState(21, 1).enabled, false);
  // vCPU 0 and the SPIs: as they were.
  for (const irq of [20, 2, 40]) assert.equal(virq.isRegistered(0, irq), true, `${irq}`);
  assert.equal(rig.gic.interruptState(20, 0).enabled, true);
  assert.equal(rig.rc(0x004, 0), 0xf0, "vCPU 0's PMR");
  assert.equal(virq.inject(0, 20), true);
  assert.equal(rig.iar(0), 20);
  rig.eoi(20);
  assert.deepEqual(acks, ["0:20"]);
  // Registering on vCPU 1 again works, and the channel is free again.
  assert.equal(virq.register(1, 21, ack), true);
  assert.equal(virq.registerPassthrough(1, 22, 5), true);
  // The boot vCPU's init is the whole controller's again.
  assert.equal(virq.init(0), true);
  assert.equal(virq.isRegistered(0, 20), false);
  assert.equal(virq.isRegistered(1, 21), false);
  assert.equal(virq.init(2), false, "no vCPU 2");
});

Deno.test("passthrough onto an SGI of a vCPU", () => {
  const armed: number[] = [];
  const { rig, virq } = setup(2, (c) => armed.push(c));
  virq.init(0);
  assert.equal(virq.registerPassthrough(1, 7, 4), true);
  rig.enableAll();
  rig.enable(7, 0x80, 1);
  assert.equal(virq.handlePassthrough(4), true);
  assert.equal(rig.irq(0), false);
  assert.equal(rig.iar(1), 7 | (1 << 10));
  rig.eoi(7 | (1 << 10), 1);
  assert.deepEqual(armed, [4]);
});

Deno.test("acks run with EOImode 1 on DIR, not on the priority drop", () => {
  const { rig, virq, acks } = setup();
  virq.init(0);
  virq.register(0, 40, (vcpu, irq) => acks.push(`${vcpu}:${irq}`));
  rig.enableAll([40]);
  rig.wc(0x000, 1 | (1 << 9));
  virq.inject(0, 40);
  assert.equal(rig.iar(), 40);
  rig.eoi(40);
  assert.deepEqual(acks, []);
  rig.dir(40);
  assert.deepEqual(acks, ["0:40"]);
  rig.dir(40);
  assert.deepEqual(acks, ["0:40"]);
});

Deno.test("an ack function may inject again from inside the EOI", () => {
  const { rig, virq } = setup();
  virq.init(0);
  let remaining = 2;
  virq.register(0, 40, (vcpu, irq) => {
    if (remaining-- > 0) virq.inject(vcpu, irq);
  });
  rig.enableAll([40]);
  virq.inject(0, 40);
  let taken = 0;
  for (let v = rig.iar(); v !== 1023; v = rig.iar()) {
    taken++;
    rig.eoi(v);
  }
  assert.equal(taken, 3);
  assert.equal(rig.irq(), false);
});

Deno.test("passthrough: channel injects, guest EOI re-arms the channel", () => {
  const armed: number[] = [];
  const { rig, virq } = setup(2, (channel) => armed.push(channel));
  const ref = virq.referenceApi();
  assert.equal(ref.virq_controller_init(0), true);
  assert.equal(ref.virq_register_passthrough(0, 60, 7), true);
  assert.equal(ref.virq_register_passthrough(1, 61, 7), false, "channel taken");
  assert.equal(ref.virq_register_passthrough(0, 60, 8), false, "interrupt taken");
  assert.equal(ref.virq_register(0, 60, null, null), false, "interrupt taken");
  assert.equal(ref.virq_register_passthrough(0, 61, -1), false);
  assert.equal(ref.virq_register_passthrough(0, 61, 1.5), false);
  assert.equal(ref.virq_register_passthrough(1, 20, 9), true, "a PPI of vCPU 1");
  assert.equal(ref.virq_handle_passthrough(3), false, "unknown channel");
  rig.enableAll([60]);
  rig.enable(20, 0x80, 1);

  assert.equal(ref.virq_handle_passthrough(7), true);
  assert.equal(rig.iar(), 60);
  assert.deepEqual(armed, []);
  rig.eoi(60);
  assert.deepEqual(armed, [7]);
  assert.equal(ref.virq_handle_passthrough(9), true);
  assert.equal(rig.irq(0), false);
  assert.equal(rig.iar(1), 20);
  rig.eoi(20, 1);
  assert.deepEqual(armed, [7, 9]);
  assert.equal(ref.virq_inject(0, 60), true, "passthrough interrupts can be injected too");
  assert.equal(rig.iar(), 60);
  rig.eoi(60);
  assert.deepEqual(armed, [7, 9, 7]);
});

Deno.test("passthrough needs an ackChannel hook", () => {
  const { virq } = setup();
  virq.init(0);
  assert.equal(virq.registerPassthrough(0, 40, 1), false);
  assert.equal(virq.handlePassthrough(1), false);
});

Deno.test("init forgets registrations and resets the GIC", () => {
  const armed: number[] = [];
  const { rig, virq } = setup(1, (c) => armed.push(c));
  virq.init(0);
  virq.register(0, 40);
  virq.registerPassthrough(0, 41, 2);
  rig.enableAll([40]);
  virq.inject(0, 40);
  assert.equal(rig.irq(), true);
  assert.equal(virq.init(0), true);
  assert.equal(rig.irq(), false);
  assert.equal(virq.isRegistered(0, 40), false);
  assert.equal(virq.handlePassthrough(2), false);
  assert.equal(virq.register(0, 40), true);
  assert.equal(virq.registerPassthrough(0, 41, 2), true);
});

Deno.test("line-level API: setLevel and pulse return false instead of throwing", () => {
  const { rig, virq } = setup(2);
  virq.init(0);
  rig.enableAll([33]);
  rig.enable(27, 0x80, 1);
  assert.equal(virq.setLevel(27, true), false, "PPI without a CPU");
  assert.equal(virq.setLevel(27, true, 5), false);
  assert.equal(virq.setLevel(3, true, 0), false);
  assert.equal(virq.setLevel(300, true), false);
  assert.equal(virq.pulse(27), false);
  assert.equal(virq.setLevel(27, true, 1), true);
  assert.equal(rig.irq(1), true);
  assert.equal(virq.setLevel(33, true), true);
  assert.equal(rig.irq(0), true);
  assert.equal(rig.iar(0), 33);
  rig.eoi(33);
  assert.equal(rig.iar(0), 33, "still high: pending again after EOI");
  assert.equal(virq.setLevel(33, false), true);
  rig.eoi(33);
  assert.equal(rig.irq(0), false);
  assert.equal(virq.pulse(33), true);
  assert.equal(rig.irq(0), true);
});

Deno.test("the controller owns the deactivation hook", () => {
  const gic = new Gicv2({ onDeactivate: () => {} });
  assert.throws(
    () => new VirqController(gic),
    (e: unknown) => e instanceof VgicError && e.code === "HOOK_IN_USE",
  );
  const free = new Gicv2();
  new VirqController(free);
  assert.throws(() => new VirqController(free), VgicError);
});

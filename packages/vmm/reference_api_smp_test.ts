/**
 * The reference API on a VM with several vCPUs: any vCPU boots the guest
 * (the others come up through PSCI CPU_ON), virq_controller_init sets the
 * vCPUs up one by one, and virq_inject delivers SGIs and PPIs to the vCPU
 * it names and no other, as a guest running on every vCPU records.
 */
import assert from "node:assert/strict";
import { UnicornLibrary } from "@vmkit/vcpu";
import { fileRequirement } from "../../testing/requirements.ts";
import { PSCI_FN } from "./psci.ts";
import { referenceApi } from "./reference_api.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import { GICC, GICD, guest, LOAD, SYSREGS } from "./testdata/guest.ts";
import { exitReason, until } from "./testdata/wait.ts";

const library = UnicornLibrary.open();
const RAM_SIZE = 32 * 1024 * 1024;
const GUEST_DTB = LOAD + 0x1e0_0000;
const SMP_GUEST = decodeURIComponent(
  new URL("../../guests/build/smp/smp.bin", import.meta.url).pathname,
);
const smp = fileRequirement(SMP_GUEST, "make -C guests");

function machine(cpus: number) {
  let out = "";
  const logs: string[] = [];
  const decoder = new TextDecoder();
  const vm = new VirtualMachine({
    cpus,
    memorySize: RAM_SIZE,
    library,
    console: { write: (b) => out += decoder.decode(b, { stream: true }) },
    onLog: (m) => logs.push(m),
  });
  return { vm, output: () => out, logs };
}

const READY = LOAD + 0x10_0000;
const LOGS = READY + 0x100;
const LOG_BYTES = 0x100;

/**
 * Every vCPU (the boot one turns on the others) enables all its SGIs and
 * PPIs, says it is ready, and idles in WFI; its own vector table appends
 * each GICC_IAR value it takes to its own log in RAM (a byte count at
 * LOGS + 0x100 * cpu, the values from + 0x10) and completes it.
 */
function recordingGuest(cpus: number): Uint8Array {
  const a = guest();
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0); // GICD_CTLR
  for (let c = 1; c < cpus; c++) {
    a.mov(0, PSCI_FN.CPU_ON_64).mov(1, c).adr(2, `cpu${c}`).mov(3, 0).hvc(0);
  }
  const vectors = (c: number) => LOAD + 0x8000 + 0x800 * c;
  for (let c = 0; c < cpus; c++) {
    a.label(`cpu${c}`).adr(0, `vectors${c}`).msr(SYSREGS.VBAR_EL1, 0)
      .mov(1, GICD).mov(2, 0xffff_ffff).strw(2, 1, 0x100) // ISENABLER0: its SGIs and PPIs
      .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0) // PMR, CTLR
      .mov(9, READY + 8 * c).mov(2, 1).str(2, 9, 0)
      .daifclr(2).label(`idle${c}`).wfi().b(`idle${c}`);
  }
  for (let c = 0; c < cpus; c++) {
    a.org(vectors(c)).label(`vectors${c}`).org(vectors(c) + 0x280)
      .mov(1, GICC).ldrw(3, 1, 0x0c) // IAR
      .mov(9, LOGS + LOG_BYTES * c).ldr(10, 9, 0).add(11, 9, 10).strw(3, 11, 0x10)
      .addi(10, 10, 4).str(10, 9, 0)
      .strw(3, 1, 0x10) // EOIR
      .eret();
  }
  return a.assemble();
}

Deno.test("reference API: virq_controller_init per vCPU; virq_inject reaches the vCPU it names alone", async () => {
  const cpus = 4;
  const { vm, logs } = machine(cpus);
  try {
    const api = referenceApi(vm);
    const kernel = recordingGuest(cpus);
    const dtb = vm.deviceTree();
    const pc = api.linux_setup_images(
      vm.ram,
      kernel,
      kernel.length,
      dtb,
      GUEST_DTB,
      dtb.length,
      null,
      0,
      0,
    );
    assert.notEqual(pc, -1, logs.join("\n"));
    const acks: string[] = [];
    const ack = (vcpu: number, irq: number, data: unknown) => acks.push(`${vcpu}:${irq}:${data}`);
    // vCPU 0 first, as a C VMM does; each later init is that vCPU's alone.
    assert.equal(api.virq_controller_init(0), true);
    assert.equal(api.virq_register(0, 20, ack, "ppi"), true);
    assert.equal(api.virq_register(0, 1, ack, "sgi"), true);
    assert.equal(api.virq_register(0, 40, ack, "spi"), true);
    for (let c = 1; c < cpus; c++) {
      assert.equal(api.virq_controller_init(c), true);
      assert.equal(api.virq_register(c, 20 + c, ack, "ppi"), true);
      assert.equal(api.virq_register(c, 1 + c, ack, "sgi"), true);
    }
    assert.equal(api.virq_register(2, 25, ack, "ppi"), true);
    // vCPU 0's registrations survived the other vCPUs' inits.
    assert.equal(api.virq_register(0, 20, ack, "again"), false, "PPI 20 still registered on 0");
    assert.equal(api.virq_register(0, 1, ack, "again"), false, "SGI 1 still registered on 0");
    assert.equal(api.virq_register(3, 40, ack, "again"), false, "SPI 40 still registered");
    assert.equal(api.virq_controller_init(cpus), false, "no such vCPU");

    assert.equal(api.guest_start(0, pc, GUEST_DTB, 0), true);
    const view = new DataView(vm.ram.bytes.buffer, vm.ram.bytes.byteOffset);
    const at = (address: number) => address - LOAD;
    await until(
      () =>
        Array.from({ length: cpus }, (_, c) => view.getUint32(at(READY + 8 * c), true)).every(
          Boolean,
        ),
      "every vCPU ready",
    );
    for (let c = 0; c < cpus; c++) {
      assert.equal(api.virq_inject(c, 20 + c), true, `PPI ${20 + c} on ${c}`);
      assert.equal(api.virq_inject(c, 1 + c), true, `SGI ${1 + c} on ${c}`);
    }
    assert.equal(api.virq_inject(1, 25), false, "PPI 25 is registered on vCPU 2 only");
    assert.equal(api.virq_inject(2, 25), true);
    assert.equal(api.virq_inject(1, 1), false, "SGI 1 is registered on vCPU 0 only");

    const taken = (c: number) => {
      const base = at(LOGS + LOG_BYTES * c);
      const n = view.getUint32(base, true) / 4;
      return Array.from({ length: n }, (_, i) => view.getUint32(base + 0x10 + 4 * i, true));
    };
    const expected = (c: number) =>
      [(1 + c) | (c << 10), 20 + c, ...(c === 2 ? [25] : [])].sort((x, y) => x - y);
    await until(
      () =>
        Array.from({ length: cpus }, (_, c) => taken(c).length >= expected(c).length).every(
          Boolean,
        ),
      "every injection taken",
    );
    // A little longer, so an interrupt that went astray would have been taken too.
    await new Promise((r) => setTimeout(r, 50));
    for (let c = 0; c < cpus; c++) {
      assert.deepEqual(
        taken(c).sort((x, y) => x - y),
        expected(c),
        `vCPU ${c} took its own SGI (source itself) and PPI, nothing else`,
      );
    }
    const wanted = Array.from(
      { length: cpus },
      (_, c) => [`${c}:${1 + c}:sgi`, `${c}:${20 + c}:ppi`],
    )
      .flat().concat("2:25:ppi");
    assert.deepEqual(acks.sort(), wanted.sort(), "each acked once, by the vCPU that took it");
    api.guest_stop(0);
    assert.equal((await vm.exited)?.reason, "stopped");

    // Injected while the guest is stopped: pending in the GIC, taken once it starts again
    // (the boot resets the vCPUs, whose IRQ inputs must follow the GIC's outputs again).
    assert.equal(api.virq_inject(0, 20), true);
    assert.equal(api.guest_start(0, pc, GUEST_DTB, 0), true);
    await until(() => taken(0).length === expected(0).length + 1, "the PPI injected while stopped");
    assert.deepEqual(taken(0).slice(-1), [20]);
    api.guest_stop(0);
    assert.equal((await vm.exited)?.reason, "stopped");
  } finally {
    vm.close();
  }
});

Deno.test({
  name: "reference API: guest_start and guest_restart boot the SMP proof guest on vCPUs 2 and 1" +
    smp.label,
  ignore: smp.ignore,
  fn: async () => {
    smp.assert();
    const { vm, output, logs } = machine(4);
    try {
      const api = referenceApi(vm);
      const kernel = await Deno.readFile(SMP_GUEST);
      const dtb = vm.deviceTree();
      const pc = api.linux_setup_images(
        vm.ram,
        kernel,
        kernel.length,
        dtb,
        GUEST_DTB,
        dtb.length,
        null,
        0,
        0,
      );
      assert.equal(pc, LOAD, logs.join("\n"));
      assert.equal(api.guest_start(2, pc, GUEST_DTB, 0), true, logs.join("\n"));
      assert.equal(await exitReason(vm), "poweroff", output());
      assert.equal((await vm.exited)?.status, 0, output());
      assert.match(output(), /^smp: 4 CPUs, booted on CPU 2$/m);
      assert.match(output(), /^smp: \d+ checks passed, 0 failed$/m);
      const first = output().length;
      assert.equal(api.guest_restart(1, vm.ram, RAM_SIZE), true);
      assert.equal(await exitReason(vm), "poweroff", output());
      assert.equal((await vm.exited)?.status, 0, output());
      const second = output().slice(first);
      assert.match(second, /^smp: 4 CPUs, booted on CPU 1$/m);
      assert.match(second, /^smp: \d+ checks passed, 0 failed$/m);
      assert.doesNotMatch(output(), /FAIL/);
      assert.equal(api.guest_start(4, pc, GUEST_DTB, 0), false);
      assert.match(logs.join("\n"), /vCPU 4 does not exist \(this VM has vCPUs 0 to 3\)/);
    } finally {
      vm.close();
    }
  },
});

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { UnicornLibrary } from "@vmkit/vcpu";
import { VmmError } from "./errors.ts";
import { PSCI_FN } from "./psci.ts";
import { referenceApi } from "./reference_api.ts";
import {
  guest_restart,
  guest_start,
  guest_stop,
  linux_setup_images,
  virq_controller_init,
  virq_handle_passthrough,
  virq_inject,
  virq_register,
  virq_register_passthrough,
  withVm,
} from "./reference_api_functions.ts";
import { VirtualMachine } from "./virtual_machine.ts";
import { GICC, GICD, guest, LOAD, print, psci, SYSREGS } from "./testdata/guest.ts";
import { exitReason } from "./testdata/wait.ts";

const library = UnicornLibrary.open();
const RAM_SIZE = 32 * 1024 * 1024;
const GUEST_DTB = LOAD + 0x1e0_0000;
const GUEST_INITRD = LOAD + 0x1c0_0000;

function machine(cpus = 1) {
  let out = "";
  const logs: string[] = [];
  const vm = new VirtualMachine({
    cpus,
    memorySize: RAM_SIZE,
    library,
    console: { write: (b) => out += new TextDecoder().decode(b) },
    onLog: (m) => logs.push(m),
  });
  return { vm, output: () => out, logs };
}

/** Enables the GIC for SPIs 40 and 41, waits for two interrupts, logs their INTIDs, powers off. */
function irqGuest(): Uint8Array {
  const a = guest();
  a.adr(0, "vectors").msr(SYSREGS.VBAR_EL1, 0).mov(22, 0).mov(23, 0);
  a.mov(1, GICD).mov(2, 1).strw(2, 1, 0) // GICD_CTLR
    .mov(2, 3 << 8).strw(2, 1, 0x104) // ISENABLER1: INTIDs 40, 41
    .mov(1, GICC).mov(2, 0xff).strw(2, 1, 4).mov(2, 1).strw(2, 1, 0); // PMR, CTLR
  print(a, "ready\n");
  a.daifclr(2).label("wait").wfi().b("wait");
  a.org(LOAD + 0x800).label("vectors").org(LOAD + 0x800 + 0x280)
    .mov(1, GICC).ldrw(3, 1, 0x0c) // IAR
    .mov(4, 64).word(0x9b047ed6) // mul x22, x22, x4
    .add(22, 22, 3).strw(3, 1, 0x10) // EOIR
    .addi(23, 23, 1).subsi(5, 23, 2).bcond(1, /* ne */ "ret");
  psci(a, PSCI_FN.SYSTEM_OFF);
  a.label("ret").eret();
  return a.assemble();
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 1));
  }
}

Deno.test("reference API: boot and interrupts written the way a C VMM does it", async () => {
  const { vm, output } = machine();
  try {
    await withVm(vm, async () => {
      const kernel = irqGuest();
      const initrd = new TextEncoder().encode("not really a ramdisk");
      const dtb = vm.deviceTree("console=ttyAMA0", {
        start: GUEST_INITRD,
        end: GUEST_INITRD + initrd.length,
      });
      const kernel_pc = linux_setup_images(
        vm.ram,
        kernel,
        kernel.length,
        dtb,
        GUEST_DTB,
        dtb.length,
        initrd,
        GUEST_INITRD,
        initrd.length,
      );
      assert.equal(kernel_pc, LOAD);
      assert.deepEqual(
        vm.ram.bytes.subarray(GUEST_INITRD - LOAD, GUEST_INITRD - LOAD + initrd.length),
        initrd,
      );

      const acks: string[] = [];
      assert.equal(virq_controller_init(0), true);
      assert.equal(
        virq_register(0, 40, (vcpu, irq, data) => acks.push(`${vcpu}:${irq}:${data}`), "disk"),
        true,
      );
      assert.equal(virq_register_passthrough(0, 41, 3), true);
      vm.onChannelAck(3, () => acks.push("channel 3 re-armed"));

      assert.equal(guest_start(0, kernel_pc, GUEST_DTB, GUEST_INITRD), true);
      await until(() => output().includes("ready"));
      assert.equal(virq_inject(0, 40), true);
      await until(() => acks.length === 1);
      assert.equal(virq_handle_passthrough(3), true);
      const exit = await vm.exited;
      assert.equal(exit?.reason, "poweroff");
      assert.deepEqual(acks, ["0:40:disk", "channel 3 re-armed"], "one ack per EOI");
      assert.equal(vm.vcpus[0].getX(22), 40n * 64n + 41n, "the guest acknowledged 40 then 41");
      assert.equal(virq_inject(0, 99), false, "unregistered");
      assert.equal(virq_handle_passthrough(7), false, "unknown channel");
    });
  } finally {
    vm.close();
  }
});

/**
 * A guest that counts its boots in RAM, turns on every vCPU with PSCI CPU_ON
 * (each secondary counts its own start in RAM and waits in WFI), and prints
 * `boot <count> <CPU_ON results> <starts>`, one character per vCPU: '0' for
 * SUCCESS, ',' for ALREADY_ON (its own), then each secondary's count.
 */
function restartGuest(cpus: number, boot: number): { kernel: Uint8Array; line: string } {
  const COUNT = LOAD + 0x10_0000;
  const RESULTS = COUNT + 0x100;
  const STARTS = COUNT + 0x200;
  const a = guest();
  a.mov(9, COUNT).ldrb(10, 9, 0).addi(10, 10, 1).strb(10, 9, 0);
  for (let c = 0; c < cpus; c++) {
    a.mov(0, PSCI_FN.CPU_ON_64).mov(1, c).adr(2, "second").mov(3, c).hvc(0)
      .mov(9, RESULTS + 8 * c).str(0, 9, 0);
  }
  for (let c = 0; c < cpus; c++) {
    if (c !== boot) a.label(`wait${c}`).mov(9, STARTS + 8 * c).ldr(6, 9, 0).cbz(6, `wait${c}`);
  }
  print(a, "boot ").mov(9, COUNT).ldrb(2, 9, 0).addi(2, 2, 0x30).strb(2, 1, 0);
  print(a, " ");
  for (let c = 0; c < cpus; c++) {
    a.mov(9, RESULTS + 8 * c).ldr(2, 9, 0).addi(2, 2, 0x30).strb(2, 1, 0);
  }
  print(a, " ");
  for (let c = 0; c < cpus; c++) {
    if (c !== boot) a.mov(9, STARTS + 8 * c).ldr(2, 9, 0).addi(2, 2, 0x30).strb(2, 1, 0);
  }
  print(a, "\n");
  psci(a, PSCI_FN.SYSTEM_OFF);
  // x0 = the vCPU's index (its context id): count at STARTS + 8 * index.
  a.label("second").add(0, 0, 0).add(0, 0, 0).add(0, 0, 0).mov(9, STARTS).add(9, 9, 0)
    .ldr(10, 9, 0).addi(10, 10, 1).str(10, 9, 0);
  a.label("park").wfi().b("park");
  const results = Array.from({ length: cpus }, (_, c) => c === boot ? "," : "0").join("");
  return { kernel: a.assemble(), line: `boot 1 ${results} ${"1".repeat(cpus - 1)}\n` };
}

for (const [cpus, boot] of [[1, 0], [4, 2]]) {
  Deno.test(
    `reference API: guest_restart 20 times on ${cpus} vCPU(s), booting vCPU ${boot}: ` +
      "every vCPU reset, RAM cleared and identical after each boot, memory flat",
    async () => {
      const { vm, output } = machine(cpus);
      try {
        const api = referenceApi(vm);
        const { kernel, line } = restartGuest(cpus, boot);
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
        assert.equal(api.guest_start(boot, pc, GUEST_DTB, 0), true);
        assert.equal(await exitReason(vm), "poweroff", output());
        // What RAM holds after a boot: the same every time, when each starts from cleared RAM.
        const after = vm.ram.bytes.slice();
        let rss = 0;
        for (let i = 0; i < 20; i++) {
          if (i === 5) rss = Deno.memoryUsage().rss;
          assert.equal(api.guest_restart(boot, vm.ram, RAM_SIZE), true);
          assert.equal(await exitReason(vm), "poweroff", `boot ${i + 2}: ${output()}`);
          assert.equal(Buffer.compare(vm.ram.bytes, after), 0, `RAM after boot ${i + 2}`);
        }
        const grown = Deno.memoryUsage().rss - rss;
        assert.equal(output(), line.repeat(21), "every boot started from cleared RAM, others off");
        assert.ok(grown < 16 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
      } finally {
        vm.close();
      }
    },
  );
}

Deno.test("reference API: guest_restart can boot a different image set up in between", async () => {
  const { vm, output } = machine();
  try {
    const api = referenceApi(vm);
    const image = (text: string) => {
      const a = guest();
      print(a, text);
      psci(a, PSCI_FN.SYSTEM_OFF);
      return a.assemble();
    };
    const dtb = vm.deviceTree();
    const first = image("first\n");
    api.guest_start(
      0,
      api.linux_setup_images(vm.ram, first, first.length, dtb, GUEST_DTB, dtb.length, null, 0, 0),
      GUEST_DTB,
      0,
    );
    await vm.exited;
    const second = image("second\n");
    assert.notEqual(
      api.linux_setup_images(
        vm.ram.base,
        second,
        second.length,
        dtb,
        GUEST_DTB,
        dtb.length,
        null,
        0,
        0,
      ),
      -1,
    );
    assert.equal(api.guest_restart(0, vm.ram, RAM_SIZE), true);
    await vm.exited;
    assert.equal(output(), "first\nsecond\n");
  } finally {
    vm.close();
  }
});

Deno.test("reference API: guest_stop ends a running guest", async () => {
  const { vm } = machine();
  try {
    const api = referenceApi(vm);
    const a = guest().label("spin").b("spin");
    const kernel = a.assemble();
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
    assert.equal(api.guest_start(0, pc, GUEST_DTB, 0), true);
    assert.equal(api.guest_start(0, pc, GUEST_DTB, 0), false, "already running");
    await new Promise((r) => setTimeout(r, 50));
    api.guest_stop(0);
    assert.equal((await vm.exited)?.reason, "stopped");
  } finally {
    vm.close();
  }
});

Deno.test("reference API: failures return -1/false with a reason, never throw", () => {
  const { vm, logs } = machine();
  try {
    const api = referenceApi(vm);
    const dtb = vm.deviceTree();
    const kernel = guest().assemble();
    assert.equal(
      api.linux_setup_images(
        0x8000_0000,
        kernel,
        kernel.length,
        dtb,
        GUEST_DTB,
        dtb.length,
        null,
        0,
        0,
      ),
      -1,
    );
    assert.equal(
      api.linux_setup_images(
        vm.ram,
        new Uint8Array(64),
        64,
        dtb,
        GUEST_DTB,
        dtb.length,
        null,
        0,
        0,
      ),
      -1,
    );
    assert.equal(api.guest_start(1, LOAD, GUEST_DTB, 0), false);
    assert.equal(api.guest_restart(0, vm.ram, RAM_SIZE * 2), false);
    assert.equal(api.virq_register(0, 2000, () => {}, null), false);
    assert.match(logs.join("\n"), /not this VM's RAM/);
    assert.match(logs.join("\n"), /magic/);
    assert.match(logs.join("\n"), /vCPU 1 does not exist/);
  } finally {
    vm.close();
  }
});

Deno.test("reference API: the package-level functions act on the VM bound to their own task", async () => {
  assert.throws(
    () => guest_stop(0),
    (e: unknown) => e instanceof VmmError && e.code === "INVALID_STATE" && /withVm/.test(e.message),
  );
  const a = machine();
  const b = machine();
  try {
    // Two tasks, interleaved at their awaits, each with its own VM bound.
    const seen: string[] = [];
    const task = (vm: VirtualMachine, name: string) =>
      withVm(vm, async () => {
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 5));
          assert.equal(virq_controller_init(0), true);
          assert.equal(virq_register(0, 40 + i, () => {}, null), true);
          seen.push(`${name}${i}`);
        }
      });
    await Promise.all([task(a.vm, "a"), task(b.vm, "b")]);
    assert.deepEqual(seen.sort(), ["a0", "a1", "a2", "b0", "b1", "b2"]);
    // Each VM saw only its own task's registrations: the last init kept one each.
    for (const { vm } of [a, b]) {
      assert.equal(vm.virq.register(0, 42, null), false, "42 is registered here");
      assert.equal(vm.virq.register(0, 41, null), true, "41 was forgotten by the last init");
    }
    assert.throws(() => guest_restart(0, a.vm.ram, RAM_SIZE), VmmError, "no binding outside");
  } finally {
    a.vm.close();
    b.vm.close();
  }
});

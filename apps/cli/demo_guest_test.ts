import assert from "node:assert/strict";
import { parseImageHeader } from "@vmkit/loader";
import { VirtualMachine } from "@vmkit/vmm";
import { type CliHost, EXIT, runCli } from "./cli.ts";
import { DEMO_GUEST_URL, DemoGuestError, loadDemoGuest } from "./demo_guest.ts";
import { assertDemoOutput, DEMO_TICKS } from "./testdata/demo_output.ts";
import { requirement } from "../../testing/requirements.ts";

const ROOT = new URL("../../", import.meta.url);

function capturingHost() {
  let out = "";
  const err: string[] = [];
  const decoder = new TextDecoder();
  const host: CliHost = {
    interactive: false,
    setRaw: () => {},
    read: () => new Promise(() => {}), // no input
    message: () => {},
    stdout: (b) => out += decoder.decode(b, { stream: true }),
    stderr: (line) => err.push(line),
    readFile: (path) => Promise.reject(new Deno.errors.NotFound(path)),
  };
  return { host, out: () => out, err };
}

Deno.test("demo: `vmkit demo` prints the banner, timer ticks and PSCI answers, and exits 0", async () => {
  const t = capturingHost();
  const status = await runCli(t.host, ["demo"]);
  assert.equal(status, EXIT.OK, t.err.join("\n"));
  const ticks = assertDemoOutput(t.out());
  assert.equal(ticks.length, DEMO_TICKS);
  assert.equal(t.err.length, 1, t.err.join("\n"));
  assert.match(t.err[0], /vmkit: the guest powered off after [\d.]+ s, \d+ guest instructions$/);
});

Deno.test("demo: the timer interrupt reaches the guest through the VM's GIC", async () => {
  let out = "";
  const decoder = new TextDecoder();
  // Virtual time: the same guest, without waiting for the ticks.
  using vm = new VirtualMachine({
    clock: "virtual",
    console: { write: (b) => out += decoder.decode(b, { stream: true }) },
  });
  let raised = 0;
  let timerEois = 0;
  const onIrq = vm.gic.onIrq;
  vm.gic.onIrq = (cpu, asserted) => {
    if (asserted) raised++;
    onIrq?.(cpu, asserted);
  };
  const onDeactivate = vm.gic.onDeactivate;
  vm.gic.onDeactivate = (cpu, intid) => {
    if (intid === 27) timerEois++;
    onDeactivate?.(cpu, intid);
  };
  await vm.loadLinux({ kernel: await loadDemoGuest() });
  const exit = await vm.run({ timeoutMs: 20_000 });
  assert.equal(exit.reason, "poweroff", `${exit.message}\n${out}`);
  assertDemoOutput(out);

  assert.ok(raised >= DEMO_TICKS, `the GIC raised the CPU's IRQ line ${raised} times`);
  assert.ok(timerEois >= DEMO_TICKS, `the guest completed INTID 27 ${timerEois} times`);
  const timer = vm.gic.interruptState(27, 0);
  assert.equal(timer.enabled, true);
  assert.equal(timer.active, false, "every acknowledged tick was completed");
  assert.equal(timer.pending, false, "the disabled timer left nothing pending");
  assert.equal(timer.priority, 0xa0);

  const cpu = vm.vcpus[0].stats;
  assert.ok(cpu.wfi >= DEMO_TICKS, `the guest slept in WFI ${cpu.wfi} times`);
  // PSCI_VERSION, three PSCI_FEATURES, AFFINITY_INFO, MIGRATE_INFO_TYPE; the exit-status
  // device the device tree lists ends the run before SYSTEM_OFF.
  assert.equal(cpu.hvc, 6);
  assert.equal(exit.status, 0, "the guest's own verdict: every check passed");
  assert.equal(cpu.exceptions, 0, "no synchronous exception was delivered");
  assert.equal(cpu.unbackedReads + cpu.unbackedWrites, 0, "no access missed RAM and devices");
  assert.equal(vm.gic.stats.spuriousAcks, 0);
  assert.equal(vm.gic.stats.ignoredEois, 0);
  assert.equal(vm.gic.stats.badReads + vm.gic.stats.badWrites, 0);
  assert.equal(vm.uart.stats.badAccesses, 0);
});

Deno.test("demo: the committed guest is an arm64 Image whose image_size covers its BSS and stack", async () => {
  const image = await Deno.readFile(DEMO_GUEST_URL);
  const header = parseImageHeader(image);
  assert.equal(header.code0 >>> 26, 0b000101, "code0 is a branch");
  assert.equal(header.textOffset, 0);
  assert.equal(header.pageSize, 4096);
  assert.equal(header.littleEndian, true);
  assert.ok(header.imageSize > image.length, "image_size includes memory past the file");
  assert.equal(header.imageSize % 4096, 0);
});

function onPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const BUILD_TOOLS = [
  "make",
  "aarch64-linux-gnu-as",
  "aarch64-linux-gnu-ld",
  "aarch64-linux-gnu-objcopy",
];
const missingTools = BUILD_TOOLS.filter((tool) => !onPath(tool));
const buildTools = requirement(
  missingTools.length > 0 ? missingTools.join(", ") : "the cross binutils and make",
  missingTools.length === 0,
  "sudo apt-get install binutils-aarch64-linux-gnu make",
);

Deno.test({
  name: "demo: guests/demo rebuilds byte-identical to the committed assets/demo.bin and demo.elf" +
    buildTools.label,
  ignore: buildTools.ignore,
  fn: async () => {
    buildTools.assert();
    const dir = await Deno.makeTempDir({ prefix: "vmkit-demo-" });
    try {
      const make = await new Deno.Command("make", {
        args: ["-s", "-C", new URL("guests/demo", ROOT).pathname, `BUILD=${dir}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(make.code, 0, new TextDecoder().decode(make.stderr));
      // The binary the demo boots, and the same program with symbols for gdb.
      for (const name of ["demo.bin", "demo.elf"]) {
        const built = await Deno.readFile(`${dir}/${name}`);
        const committed = await Deno.readFile(new URL(name, DEMO_GUEST_URL));
        let differs = built.findIndex((byte, i) => byte !== committed[i]);
        if (differs < 0 && built.length !== committed.length) {
          differs = Math.min(built.length, committed.length);
        }
        assert.equal(
          differs,
          -1,
          `a fresh ${name} (${built.length} bytes) differs from the committed ` +
            `${committed.length}-byte asset at byte ${differs}; ` +
            "refresh them with: make -C guests/demo update-asset",
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "demo: a demo build made to fail ends the run with a non-zero exit status" +
    buildTools.label,
  ignore: buildTools.ignore,
  fn: async () => {
    buildTools.assert();
    const dir = await Deno.makeTempDir({ prefix: "vmkit-demo-broken-" });
    try {
      const make = await new Deno.Command("make", {
        args: ["-s", "-C", new URL("guests/demo", ROOT).pathname, "BROKEN=1", `BUILD=${dir}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(make.code, 0, new TextDecoder().decode(make.stderr));
      const image = await Deno.readFile(`${dir}/demo.bin`);
      const t = capturingHost();
      t.host.readFile = (path) =>
        path === "broken.bin"
          ? Promise.resolve(image)
          : Promise.reject(new Deno.errors.NotFound(path));
      const status = await runCli(t.host, ["run", "--kernel", "broken.bin"]);
      assert.match(t.out(), /!! this demo was built to fail/);
      assert.match(t.out(), /demo: 1 check\(s\) FAILED/);
      assert.equal(status, 1, t.err.join("\n"));
      assert.match(t.err.join("\n"), /powered off with exit status 1/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("demo: the guest loads over HTTP the way a JSR install fetches it, and errors name their cause", async () => {
  const image = await Deno.readFile(DEMO_GUEST_URL);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/@vmkit/cli/0.1.0/assets/demo.bin"
        ? new Response(image)
        : new Response("not found", { status: 404 }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}/@vmkit/cli/0.1.0/`;
    // DEMO_GUEST_URL is resolved against the module's own URL in the same way.
    const fetched = await loadDemoGuest(new URL("./assets/demo.bin", `${base}demo_guest.ts`));
    assert.deepEqual(fetched, image);
    await assert.rejects(
      () => loadDemoGuest(new URL("missing.bin", base)),
      (e: unknown) =>
        e instanceof DemoGuestError && e.code === "NOT_FOUND" && /404/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }
  await assert.rejects(
    () => loadDemoGuest(new URL("file:///nonexistent/vmkit/demo.bin")),
    (e: unknown) =>
      e instanceof DemoGuestError && e.code === "NOT_FOUND" && /update-asset/.test(e.message),
  );
});

/**
 * The slice-counting fallback of hosts without the native block hook (arm64
 * hosts, systems refusing executable memory), forced on this one: Linux
 * boots to userspace and powers off with the engine counting instructions.
 */
import assert from "node:assert/strict";
import { VirtualMachine } from "@vmkit/vmm";
import { busybox, linuxKernel } from "./helpers/assets.ts";
import { busyboxInitramfs, INIT_MARKER } from "../scripts/_initramfs.ts";

const kernel = linuxKernel();
const box = busybox();

Deno.test({
  name: "linux: boots to userspace and powers off with the engine's own slice counter",
  ignore: kernel.ignore || box.ignore,
  fn: async () => {
    let output = "";
    const decoder = new TextDecoder();
    using vm = new VirtualMachine({
      sliceCounter: "engine",
      console: { write: (bytes) => output += decoder.decode(bytes, { stream: true }) },
    });
    assert.equal(vm.vcpus[0].sliceCounter, "engine");
    await vm.loadLinux({
      kernel: await Deno.readFile(kernel.path),
      initrd: busyboxInitramfs(
        await Deno.readFile(box.path),
        'echo "sum $((1 + 2 + 3))"; poweroff -f',
      ),
      cmdline: "console=ttyAMA0 quiet",
    });
    const exit = await vm.run({ timeoutMs: 300_000 });
    assert.equal(exit.reason, "poweroff", `${exit.message}\n${output.slice(-2000)}`);
    assert.ok(output.includes(INIT_MARKER), output.slice(-2000));
    assert.match(output, /sum 6/);
    assert.ok(exit.instructions > 100_000_000, `${exit.instructions} instructions counted`);
  },
});

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Boots Linux once under the virtual clock, in a worker of its own, and
 * reports what the guest printed and how many instructions each vCPU
 * retired: runs that must come out the same can then go at once, on two
 * host cores. Start it with {@link VirtualClockRequest}; it answers one
 * {@link VirtualClockResult} and closes.
 *
 * @module
 */

import { VirtualMachine } from "@vmkit/vmm";

/** What to boot. */
export interface VirtualClockRequest {
  /** Path of the kernel Image. */
  readonly kernel: string;
  /** The initramfs. */
  readonly initrd: Uint8Array;
  /** vCPUs. */
  readonly cpus: number;
  /** Kernel command line. */
  readonly cmdline: string;
  /** Give up after this long. */
  readonly timeoutMs: number;
}

/** How the run went, or why it could not. */
export type VirtualClockResult =
  | {
    readonly ok: true;
    readonly output: string;
    readonly reason: string;
    readonly message: string;
    readonly instructions: number;
    /** Instructions each vCPU retired. */
    readonly perCpu: number[];
    /** Context switches between the vCPUs. */
    readonly switches: number;
  }
  | { readonly ok: false; readonly error: string };

self.onmessage = async (event: MessageEvent<VirtualClockRequest>) => {
  const request = event.data;
  let result: VirtualClockResult;
  try {
    let output = "";
    const decoder = new TextDecoder();
    using vm = new VirtualMachine({
      cpus: request.cpus,
      clock: "virtual",
      // virtio-rng would feed the guest host entropy.
      rng: false,
      console: { write: (b) => output += decoder.decode(b, { stream: true }) },
    });
    await vm.loadLinux({
      kernel: await Deno.readFile(request.kernel),
      initrd: request.initrd,
      cmdline: request.cmdline,
    });
    const exit = await vm.run({ timeoutMs: request.timeoutMs });
    result = {
      ok: true,
      output,
      reason: exit.reason,
      message: exit.message,
      instructions: exit.instructions,
      perCpu: vm.vcpus.map((v) => v.stats.instructions),
      switches: vm.vcpus[0].contextSwitches,
    };
  } catch (e) {
    result = { ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
  self.postMessage(result);
  self.close();
};

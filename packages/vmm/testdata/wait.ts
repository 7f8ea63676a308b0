/**
 * Waiting in the VM's tests without hanging them: a broken VM must fail a
 * test, not leave it running for ever.
 *
 * @module
 */

import type { VirtualMachine } from "../virtual_machine.ts";

/**
 * How the run in progress ends (`VmExit.reason`), or `"still running"` after
 * `ms`, when the run is stopped.
 */
export async function exitReason(vm: VirtualMachine, ms = 20_000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      vm.stop();
      resolve("still running");
    }, ms);
  });
  try {
    return await Promise.race([vm.exited!.then((e) => e.reason), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds; rejects naming `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`${what}: not in time`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

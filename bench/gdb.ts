/**
 * What an attached debugger costs: Debian's arm64 kernel booted to the initramfs `/init`
 * without a GDB stub, and with one that a client attached to and told to continue, with no
 * breakpoint or watchpoint set. Boots alternate (none, attached, none, ...) so that drift on a
 * shared machine hits both alike; reports the median of each and the difference.
 *
 * `deno run -A bench/gdb.ts [runs]` (default 3) prints one line; `--json` one JSON object.
 *
 * @module
 */

import { VirtualMachine } from "@vmkit/vmm";
import { UnicornLibrary } from "@vmkit/vcpu";
import { busybox, linuxKernel } from "../tests/helpers/assets.ts";
import { busyboxInitramfs, INIT_MARKER } from "../scripts/_initramfs.ts";
import { median } from "./_stats.ts";

function packet(payload: string): Uint8Array {
  let sum = 0;
  for (const c of payload) sum = (sum + c.charCodeAt(0)) & 0xff;
  return new TextEncoder().encode(`$${payload}#${sum.toString(16).padStart(2, "0")}`);
}

/** Attaches like gdb does (the machine halts), then continues it; returns the open connection. */
async function attachAndContinue(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(4096);
  let seen = "";
  await conn.write(packet("?"));
  while (!/\$T05/.test(seen)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the stub closed the connection");
    seen += new TextDecoder().decode(buffer.subarray(0, n));
  }
  await conn.write(new TextEncoder().encode("+"));
  await conn.write(packet("c"));
  // Keep reading (acks, the final stop reply) so the stub never blocks on a full socket.
  (async () => {
    while (await conn.read(buffer).catch(() => null) !== null) { /* drain */ }
  })();
  return conn;
}

async function bootToInit(
  library: UnicornLibrary,
  kernel: Uint8Array,
  initrd: Uint8Array,
  debugger_: boolean,
): Promise<number> {
  let seen = "";
  let reached = 0;
  const t = performance.now();
  const vm = new VirtualMachine({
    library,
    memorySize: 256 * 1024 * 1024,
    gdb: debugger_ ? { port: 0, wait: true } : undefined,
    console: {
      write: (bytes) => {
        seen = (seen + new TextDecoder().decode(bytes)).slice(-200);
        if (!reached && seen.includes(INIT_MARKER)) {
          reached = performance.now() - t;
          vm.stop();
        }
      },
    },
  });
  let conn: Deno.TcpConn | undefined;
  try {
    await vm.loadLinux({ kernel, initrd, cmdline: "console=ttyAMA0" });
    const run = vm.run({ timeoutMs: 180_000 });
    if (debugger_) conn = await attachAndContinue(vm.gdb!.addr.port);
    const exit = await run;
    if (!reached) throw new Error(`the boot did not reach /init: ${exit.message}`);
    return reached / 1000;
  } finally {
    conn?.close();
    vm.close();
  }
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const runs = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 3);
  const kernel = linuxKernel();
  const box = busybox();
  if (!kernel.present || !box.present) {
    console.error("skipped (run `deno run -A scripts/fetch_guests.ts` first)");
    Deno.exit(1);
  }
  const image = await Deno.readFile(kernel.path);
  const initrd = busyboxInitramfs(await Deno.readFile(box.path));
  using library = UnicornLibrary.open();
  const none: number[] = [];
  const attached: number[] = [];
  for (let i = 0; i < runs; i++) {
    none.push(await bootToInit(library, image, initrd, false));
    attached.push(await bootToInit(library, image, initrd, true));
  }
  const a = median(none);
  const b = median(attached);
  const result = {
    runs,
    noDebugger: a,
    debuggerAttached: b,
    overheadPercent: (b / a - 1) * 100,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(
      `boot to /init, median of ${runs}: no debugger ${a.toFixed(2)} s, debugger attached ` +
        `(no points) ${b.toFixed(2)} s (${result.overheadPercent >= 0 ? "+" : ""}${
          result.overheadPercent.toFixed(1)
        }%)`,
    );
  }
}

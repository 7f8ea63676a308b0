/**
 * End to end: Debian's arm64 cloud kernel boots with a busybox initramfs to a
 * shell on the console, answers typed commands, keeps time, and powers off.
 */
import assert from "node:assert/strict";
import { busybox, linuxKernel } from "./helpers/assets.ts";
import { CliProcess } from "./helpers/cli.ts";
import { busyboxInitramfs } from "../scripts/_initramfs.ts";

const kernel = linuxKernel();
const box = busybox();

// Busybox's line editor asks the terminal for the cursor position (ESC [6n)
// right after printing its prompt.
const ESC = "\\x1b";
const PROMPT = new RegExp(`/ # (?:${ESC}\\[6n)?$`, "m");
const UNTIL_PROMPT = new RegExp(`([\\s\\S]*?)/ # (?:${ESC}\\[6n)?$`, "m");

function timerCount(text: string): number {
  const line = text.split("\n").find((l) => /arch_timer/.test(l));
  assert.ok(line, `no arch_timer line in:\n${text}`);
  return Number(line.trim().split(/\s+/)[1]);
}

Deno.test({
  name: "linux: boots to a shell, runs commands, keeps time and powers off with exit status 0" +
    kernel.label + box.label,
  ignore: kernel.ignore || box.ignore,
  sanitizeResources: false,
  fn: async () => {
    kernel.assert();
    box.assert();
    const dir = await Deno.makeTempDir();
    try {
      const initrd = `${dir}/initrd.cpio`;
      await Deno.writeFile(initrd, busyboxInitramfs(await Deno.readFile(box.path)));
      await using vm = new CliProcess([
        "run",
        "--kernel",
        kernel.path,
        "--initrd",
        initrd,
        "--append",
        "console=ttyAMA0",
        "--timeout",
        "300",
      ]);
      let at = (await vm.expect(PROMPT, 240_000)).end;
      assert.match(vm.stdout, /Linux version 6\.\d+/);
      assert.match(vm.stdout, /arch_timer: cp15 timer\(s\) running at 62\.50MHz \(virt\)/);
      assert.match(vm.stdout, /ttyAMA0 at MMIO 0x9000000/);

      await vm.type("echo $((6*7))\n");
      at = (await vm.expect(/\r?\n42\r?\n/, 30_000, at)).end;
      at = (await vm.expect(PROMPT, 30_000, at)).end;

      await vm.type("cat /proc/interrupts\n");
      let r = await vm.expect(UNTIL_PROMPT, 30_000, at);
      const first = timerCount(r.match[1]);
      at = r.end;

      const typed = performance.now();
      await vm.type("time sleep 1\n");
      r = await vm.expect(
        new RegExp(`real\\s+0m\\s*([\\d.]+)s[\\s\\S]*?/ # (?:${ESC}\\[6n)?$`, "m"),
        30_000,
        at,
      );
      const wall = (performance.now() - typed) / 1000;
      const guest = Number(r.match[1]);
      at = r.end;
      assert.ok(guest >= 0.99 && guest < 1.5, `the guest measured ${guest} s`);
      assert.ok(wall >= 0.95 && wall < 6, `sleep 1 took ${wall.toFixed(2)} s of wall time`);

      await vm.type("cat /proc/interrupts\n");
      r = await vm.expect(UNTIL_PROMPT, 30_000, at);
      const second = timerCount(r.match[1]);
      assert.ok(second > first, `the arch timer is counting (${first} then ${second})`);

      await vm.type("poweroff -f\n");
      const code = await vm.exit(60_000);
      assert.equal(code, 0, vm.stderr);
      assert.match(vm.stderr, /the guest powered off/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// The TAP backend against the real kernel: the clear refusal without CAP_NET_ADMIN, and frames
// both ways between the host's stack and host code, inside a network namespace of the test's
// own (root only; ignored otherwise, visibly).
import assert from "node:assert/strict";
import {
  ipRequirement,
  NetNamespace,
  pingRequirement,
  rootRequirement,
  run,
} from "../../testing/netns.ts";
import { NetError, TapBackend } from "./mod.ts";

const child = new URL("./testdata/tap_child.ts", import.meta.url).pathname;
const deno = ["run", "--allow-ffi", "--allow-read", "--allow-env", child];
const root = rootRequirement();
const ipTool = ipRequirement();
const ping = pingRequirement();

Deno.test("TAP: without CAP_NET_ADMIN, opening fails with PERMISSION_DENIED and a line saying what to do", async () => {
  let line: string;
  if (Deno.uid() === 0) {
    // Root without the capability: what an unprivileged user gets.
    const r = await run("setpriv", [
      "--bounding-set=-net_admin",
      "--inh-caps=-net_admin",
      Deno.execPath(),
      ...deno,
      "open",
      "vmktest0",
    ]);
    assert.equal(r.code, 0, r.stderr);
    line = r.stdout.trim();
  } else {
    try {
      TapBackend.open("vmktest0");
      assert.fail("opened a TAP device without CAP_NET_ADMIN");
    } catch (e) {
      assert.ok(e instanceof NetError);
      line = `error ${e.code} ${e.message}`;
    }
  }
  assert.match(
    line,
    /^error PERMISSION_DENIED cannot open the TAP device "vmktest0": it needs CAP_NET_ADMIN \(run as root, or create it for your user first: sudo ip tuntap add dev vmktest0 mode tap user \$USER\)$/,
  );
  assert.doesNotMatch(line, /\n/);
});

Deno.test("TAP: names that are not interface names are refused before anything is opened", () => {
  for (const name of ["", "a-name-over-15-bytes", "has space", "a/b", "a:b"]) {
    assert.throws(
      () => TapBackend.open(name),
      (e) => (e as NetError).code === "INVALID_ARGUMENT",
      name,
    );
  }
});

Deno.test({
  name: "TAP: the host pings host code through a TAP device in a namespace of the test's own" +
    root.label + ipTool.label + ping.label,
  ignore: root.ignore || ipTool.ignore || ping.ignore,
  fn: async () => {
    root.assert();
    ipTool.assert();
    ping.assert();
    await using ns = await NetNamespace.create("tap");
    const responder = new Deno.Command("ip", {
      args: ns.exec(Deno.execPath(), ...deno, "respond", "vmktap0", "10.77.0.2"),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = responder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      assert.equal(out.trim(), "ready vmktap0");
      await ns.ip("addr", "add", "10.77.0.1/24", "dev", "vmktap0");
      await ns.ip("link", "set", "vmktap0", "up");
      // The device lives in the namespace only.
      assert.notEqual((await run("ip", ["link", "show", "vmktap0"])).code, 0);
      const r = await ns.run("ping", "-c", "5", "-i", "0.2", "-W", "2", "10.77.0.2");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, / 0% packet loss/);
      await responder.stdin.close();
      out = "";
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      const stats = JSON.parse(out.trim());
      assert.equal(stats.error, null);
      assert.equal(stats.responder.echoReplies, 5);
      assert.ok(stats.responder.arpReplies >= 1);
      assert.ok(stats.tap.txFrames >= 6);
      assert.ok(stats.tap.rxFrames >= 6);
      assert.equal(stats.tap.txErrors, 0);
      assert.equal((await responder.status).code, 0);
      // Closing the backend removed the interface it had created.
      assert.notEqual((await ns.run("ip", "link", "show", "vmktap0")).code, 0);
    } finally {
      try {
        responder.kill("SIGKILL");
      } catch {
        // already exited
      }
      await responder.status;
      await responder.stderr.cancel();
    }
  },
});

import assert from "node:assert/strict";
import { Lifecycle } from "./lifecycle.ts";
import { VmmError } from "./errors.ts";

Deno.test("lifecycle: the transitions the state machine has, and no others", () => {
  const life = new Lifecycle();
  assert.throws(
    () => life.to("running"),
    (e: unknown) => e instanceof VmmError && e.code === "INVALID_STATE",
  );
  life.to("ready");
  life.to("running");
  assert.throws(() => life.to("created"), VmmError);
  life.to("ready");
  life.to("closed");
  assert.throws(() => life.to("ready"), VmmError);
  life.to("closed");
  assert.throws(
    () => life.require("run", "ready"),
    (e: unknown) => e instanceof VmmError && /cannot run: the VM is closed/.test(e.message),
  );
});

Deno.test("lifecycle: an ending request goes first and a guest reset waits for the next run", () => {
  const life = new Lifecycle();
  life.request({ kind: "reset" });
  life.request({ kind: "stop", message: "host" });
  assert.equal(life.take()?.kind, "stop");
  assert.equal(life.take()?.kind, "reset", "the reset is still owed");
  assert.equal(life.take(), undefined);
});

Deno.test("lifecycle: close is never replaced, poweroff outranks stop, restart means start again", () => {
  const life = new Lifecycle();
  life.request({ kind: "close" });
  life.request({ kind: "poweroff", status: 0 });
  life.request({ kind: "restart" });
  assert.equal(life.take()?.kind, "close");
  life.request({ kind: "poweroff", status: 3 });
  life.request({ kind: "stop", message: "late" });
  assert.deepEqual(life.take(), { kind: "poweroff", status: 3 });
  life.request({ kind: "stop", message: "guest_stop" });
  life.request({ kind: "restart", clear: { offset: 0, length: 16 } });
  assert.deepEqual(life.take(), { kind: "restart", clear: { offset: 0, length: 16 } });
  assert.equal(life.take(), undefined, "the stop was withdrawn");
  life.request({ kind: "stop", message: "guest_stop" });
  life.cancelStop();
  assert.equal(life.pending, undefined);
});

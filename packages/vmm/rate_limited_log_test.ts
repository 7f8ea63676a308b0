import assert from "node:assert/strict";
import { RateLimitedLog } from "./rate_limited_log.ts";

Deno.test("rate-limited log: a burst per kind and window, then a count of what was suppressed", () => {
  let now = 0;
  const lines: string[] = [];
  const log = new RateLimitedLog((l) => lines.push(l), {
    burst: 3,
    windowMs: 1000,
    now: () => now,
  });
  let built = 0;
  for (let i = 0; i < 100_000; i++) {
    log.log("reboot", () => {
      built++;
      return `reboot ${i}`;
    });
  }
  log.log("cpu-on", () => "cpu-on 0");
  assert.deepEqual(lines, ["reboot 0", "reboot 1", "reboot 2", "cpu-on 0"]);
  assert.equal(built, 3, "suppressed lines are never built");
  now = 1500;
  log.log("reboot", () => "reboot later");
  assert.deepEqual(lines.slice(4), ['99997 more "reboot" messages suppressed', "reboot later"]);
  log.flush();
  assert.equal(lines.length, 6, "nothing left to report");
  for (let i = 0; i < 5; i++) log.log("cpu-on", () => `cpu-on ${i}`);
  log.flush();
  assert.deepEqual(lines.slice(6), [
    "cpu-on 0",
    "cpu-on 1",
    "cpu-on 2",
    '2 more "cpu-on" messages suppressed',
  ]);
});

/**
 * Run by tap_test.ts in a process of its own (inside a network namespace, or without
 * CAP_NET_ADMIN): `open NAME` opens the TAP device and prints `opened <name>` or the error as
 * `error <code> <message>`; `respond NAME IP` also answers ARP and ping for IP on it, prints
 * `ready <name>`, and when its stdin closes prints the counters as JSON and closes the device.
 *
 * @module
 */

import { NetError, PingResponder, TapBackend } from "../mod.ts";

const [mode, name, ip] = Deno.args;
let tap: TapBackend;
try {
  tap = TapBackend.open(name);
} catch (e) {
  if (!(e instanceof NetError)) throw e;
  console.log(`error ${e.code} ${e.message}`);
  Deno.exit(0);
}
if (mode === "open") {
  console.log(`opened ${tap.name}`);
  await tap.close();
  Deno.exit(0);
}
const responder = new PingResponder({ ip, mac: "02:00:00:00:77:02", backend: tap });
console.log(`ready ${tap.name}`);
// Until the test closes stdin.
for await (const _ of Deno.stdin.readable) {
  // nothing to read
}
await tap.close();
console.log(JSON.stringify({ tap: tap.stats, responder: responder.stats, error: tap.error }));

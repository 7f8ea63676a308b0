/**
 * Run by the TAP test inside its network namespace: serves one file over
 * HTTP with Deno.serve, bound to one address. `serve_file.ts ADDRESS PORT FILE`
 * answers GET /blob with the file, prints `listening` once bound, and stops
 * when its stdin closes.
 *
 * @module
 */

const [hostname, port, path] = Deno.args;
const data = await Deno.readFile(path);
let requests = 0;
const server = Deno.serve({
  hostname,
  port: Number(port),
  onListen: () => console.log("listening"),
}, (request) => {
  requests++;
  return new URL(request.url).pathname === "/blob"
    ? new Response(data, { headers: { "content-type": "application/octet-stream" } })
    : new Response("not found", { status: 404 });
});
for await (const _ of Deno.stdin.readable) {
  // until the test closes stdin
}
await server.shutdown();
console.log(`requests ${requests}`);

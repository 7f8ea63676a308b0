import assert from "node:assert/strict";

Deno.test("a hot run loop survives a guest's first timer write (in a subprocess)", async () => {
  // Today this aborts the subprocess: "Lazy deopt after a fast API call with
  // return value is unsupported" (V8), exit status 133. See testdata/hot_run_loop.ts.
  const script = new URL("./testdata/hot_run_loop.ts", import.meta.url);
  const { code, signal, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-env", "--allow-read", script.href],
  }).output();
  const err = new TextDecoder().decode(stderr);
  const abort = /^abort: .*$/m.exec(err)?.[0];
  assert.equal(
    code,
    0,
    `the subprocess ended with status ${code}${signal ? ` (${signal})` : ""}: ${
      abort ?? err.slice(0, 2000)
    }`,
  );
  assert.equal(new TextDecoder().decode(stdout), "hvc 1\n");
});

/**
 * The engine choice in scripts/ensure.sh, run by the real sh: version
 * comparison, the cache check that decides whether apt runs at all, and what
 * happens to a damaged cache. apt-get is replaced by a stub that records its
 * calls and fails, so nothing here touches the network.
 */
import assert from "node:assert/strict";
import { toolRequirement } from "../testing/requirements.ts";

const ENSURE = new URL("./ensure.sh", import.meta.url).pathname;
const dpkg = toolRequirement("dpkg", "a Debian-based machine (dpkg is essential there)");
const sha256sum = toolRequirement("sha256sum", "sudo apt-get install coreutils");

/** Runs `script` in sh with ensure.sh sourced and ROOT set; apt-get is a recording stub. */
async function sh(root: string, script: string, env: Record<string, string> = {}) {
  const stubs = `${root}/stubs`;
  await Deno.mkdir(stubs, { recursive: true });
  await Deno.writeTextFile(
    `${stubs}/apt-get`,
    `#!/bin/sh\necho "apt-get $*" >>"${root}/apt-calls"\necho "E: no network in this test" >&2\nexit 100\n`,
  );
  await Deno.chmod(`${stubs}/apt-get`, 0o755);
  const out = await new Deno.Command("sh", {
    args: ["-c", `ROOT='${root}'; . '${ENSURE}'; DENO='${Deno.execPath()}'; ${script}`],
    env: { ...env, PATH: `${stubs}:${Deno.env.get("PATH")}` },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  let aptCalls = "";
  try {
    aptCalls = await Deno.readTextFile(`${root}/apt-calls`);
  } catch {
    // apt-get never ran.
  }
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    aptCalls,
  };
}

/** A cached engine as engine_fetch leaves it: the directory, its hash, the pointer. */
async function cacheEngine(root: string, arch: string): Promise<string> {
  const name = `libunicorn2t64_2.1.1-2+b2_${arch}`;
  const dir = `${root}/.cache/engines/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  // Any bytes do: the cache is judged by the hash recorded beside them.
  await Deno.writeFile(`${dir}/libunicorn.so.2`, crypto.getRandomValues(new Uint8Array(65536)));
  const hash = await new Deno.Command("sha256sum", { args: ["libunicorn.so.2"], cwd: dir })
    .output();
  await Deno.writeFile(`${dir}/libunicorn.so.2.sha256`, hash.stdout);
  await Deno.writeTextFile(`${root}/.cache/engines/trixie-libunicorn2t64-${arch}.current`, name);
  return dir;
}

async function hostArch(): Promise<string> {
  const out = await new Deno.Command("dpkg", { args: ["--print-architecture"] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("ensure.sh: version_at_least reads plain and Debian versions", async () => {
  const root = await Deno.makeTempDir({ prefix: "vmkit-ensure-" });
  try {
    const cases: [string, string, boolean][] = [
      ["2.1.1", "2 1 0", true],
      ["2.1.4", "2 1 0", true],
      ["2.0.1", "2 1 0", false],
      ["2.0.1.post1-1+b1", "2 1 0", false],
      ["2.0.1.post1-1+b1", "2 0 1", true],
      ["2.1.1-2+b2", "2 1 0", true],
      ["1:2.1.0-1", "2 1 0", true],
      ["2.0.0", "2 0 1", false],
      ["3.0.0", "2 1 0", true],
      ["1.0.3", "2 0 1", false],
    ];
    const script = cases.map(([v, min]) =>
      `if version_at_least '${v}' ${min}; then echo yes; else echo no; fi`
    ).join("; ");
    const { stdout } = await sh(root, script);
    assert.deepEqual(stdout.trim().split("\n"), cases.map(([, , ok]) => ok ? "yes" : "no"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    `ensure.sh: a whole cached engine is used without running apt${dpkg.label}${sha256sum.label}`,
  ignore: dpkg.ignore || sha256sum.ignore,
  async fn() {
    dpkg.assert();
    sha256sum.assert();
    const root = await Deno.makeTempDir({ prefix: "vmkit-ensure-" });
    try {
      const dir = await cacheEngine(root, await hostArch());
      const r = await sh(root, `engine_fetch trixie libunicorn2t64 && echo "$ENGINE_LIB"`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${dir}/libunicorn.so.2\n`);
      assert.equal(r.stderr, "", "quiet when nothing needs doing");
      assert.equal(r.aptCalls, "", "apt never ran");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `ensure.sh: a truncated cached engine is deleted, never used, and fetched again${dpkg.label}${sha256sum.label}`,
  ignore: dpkg.ignore || sha256sum.ignore,
  async fn() {
    dpkg.assert();
    sha256sum.assert();
    const root = await Deno.makeTempDir({ prefix: "vmkit-ensure-" });
    try {
      const arch = await hostArch();
      const dir = await cacheEngine(root, arch);
      await Deno.truncate(`${dir}/libunicorn.so.2`, 4096);
      const r = await sh(root, `engine_fetch trixie libunicorn2t64 && echo "$ENGINE_LIB"`);
      assert.equal(r.code, 1, "the stub apt cannot fetch it again");
      assert.equal(r.stdout, "", "the damaged library was not offered");
      assert.match(r.stderr, /damaged or incomplete; fetching it again/);
      assert.match(r.aptCalls, /^apt-get .*Dir::Etc::SourceList=.* update$/m);
      assert.match(r.stderr, /apt-get update for Debian 13 \(trixie\) failed: .*no network/);
      await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
      await assert.rejects(
        Deno.stat(`${root}/.cache/engines/trixie-libunicorn2t64-${arch}.current`),
        Deno.errors.NotFound,
      );
      // The download's scratch directory is gone too.
      const left = [...Deno.readDirSync(`${root}/.cache/engines`)].map((e) => e.name);
      assert.deepEqual(left, []);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("ensure.sh: VMKIT_UNICORN_PATH naming no file stops with one line saying what to do", async () => {
  const root = await Deno.makeTempDir({ prefix: "vmkit-ensure-" });
  try {
    const r = await sh(root, "ensure_unicorn; echo chosen", {
      VMKIT_UNICORN_PATH: "/nonexistent/libunicorn.so.2",
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /VMKIT_UNICORN_PATH=\/nonexistent\/libunicorn\.so\.2: no such file/);
    assert.match(lines[0], /unset VMKIT_UNICORN_PATH/);
    // A path that exists is used as it is, without probing or apt.
    const self = new URL(import.meta.url).pathname;
    const used = await sh(root, 'ensure_unicorn; echo "$VMKIT_UNICORN_PATH"', {
      VMKIT_UNICORN_PATH: self,
    });
    assert.equal(used.stdout, `${self}\n`);
    assert.equal(used.aptCalls, "");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// The kernel-module set of the Linux guests: .modinfo parsing, dependency order, builtins, the
// cache check, and what the initramfs carries, on a synthetic kernel package and on the real one.
import assert from "node:assert/strict";
import {
  cachedModules,
  extractModules,
  GUEST_MODULES,
  initramfsModules,
  moduleName,
  modulesDep,
  readModinfo,
} from "./_kernel_modules.ts";
import { busyboxInitramfs } from "./_initramfs.ts";
import { fileRequirement } from "../testing/requirements.ts";

const encoder = new TextEncoder();

/** A minimal ELF64 little-endian object: a null section, .shstrtab and .modinfo. */
function elfWithModinfo(info: string[]): Uint8Array {
  const modinfo = encoder.encode(info.map((s) => s + "\0").join(""));
  const names = encoder.encode("\0.shstrtab\0.modinfo\0");
  const dataAt = 64;
  const shoff = dataAt + names.length + modinfo.length + 8 - ((names.length + modinfo.length) % 8);
  const bytes = new Uint8Array(shoff + 3 * 64);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 3, true);
  v.setUint16(0x3e, 1, true);
  bytes.set(names, dataAt);
  bytes.set(modinfo, dataAt + names.length);
  const section = (i: number, name: number, offset: number, size: number) => {
    const at = shoff + i * 64;
    v.setUint32(at, name, true);
    v.setBigUint64(at + 0x18, BigInt(offset), true);
    v.setBigUint64(at + 0x20, BigInt(size), true);
  };
  section(1, 1, dataAt, names.length);
  section(2, 11, dataAt + names.length, modinfo.length);
  return bytes;
}

async function fakePackage(): Promise<string> {
  const root = await Deno.makeTempDir();
  const base = `${root}/lib/modules/6.1.0-test-arm64`;
  const mod = async (path: string, name: string, depends: string) => {
    await Deno.mkdir(`${base}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(
      `${base}/${path}`,
      elfWithModinfo(["license=GPL", `depends=${depends}`, `name=${name}`]),
    );
  };
  await mod("kernel/drivers/virtio/virtio.ko", "virtio", "");
  await mod("kernel/drivers/virtio/virtio_ring.ko", "virtio_ring", "");
  await mod("kernel/drivers/virtio/virtio_mmio.ko", "virtio_mmio", "virtio,virtio_ring");
  await mod("kernel/drivers/char/hw_random/virtio-rng.ko", "virtio_rng", "virtio,virtio_ring");
  await mod("kernel/drivers/net/net_failover.ko", "net_failover", "failover");
  await mod("kernel/net/core/failover.ko", "failover", "");
  await mod("kernel/drivers/net/virtio_net.ko", "virtio_net", "virtio_ring,virtio,net_failover");
  await mod("kernel/drivers/block/unrelated.ko", "unrelated", "");
  await Deno.writeTextFile(
    `${base}/modules.builtin`,
    "kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n",
  );
  return root;
}

const origin = { kernelPackage: "linux-image-test", kernelVersion: "1" };

Deno.test("modules: names compare with - and _ as one; .modinfo is read from the ELF", () => {
  assert.equal(moduleName("kernel/drivers/char/hw_random/virtio-rng.ko.xz"), "virtio_rng");
  assert.equal(moduleName("rng-core"), "rng_core");
  const info = readModinfo(elfWithModinfo(["alias=a", "alias=b", "depends=x,y"]));
  assert.deepEqual(info.get("alias"), ["a", "b"]);
  assert.deepEqual(info.get("depends"), ["x,y"]);
  assert.throws(() => readModinfo(new Uint8Array(100), "bad.ko"), /bad.ko: not an ELF file/);
});

Deno.test("modules: the wanted set with its dependencies, each after what it needs; builtins need no file", async () => {
  const root = await fakePackage();
  const out = await Deno.makeTempDir();
  try {
    const set = await extractModules(root, `${out}/modules`, origin, [
      "virtio_net",
      "virtio-rng",
      "ext4",
      "virtio_mmio",
    ]);
    assert.equal(set.release, "6.1.0-test-arm64");
    assert.deepEqual(set.load.map((m) => m.name), [
      "virtio_ring",
      "virtio",
      "failover",
      "net_failover",
      "virtio_net",
      "virtio_rng",
      "virtio_mmio",
    ]);
    assert.deepEqual(set.builtin, ["ext4"]);
    const dep = await Deno.readTextFile(`${out}/modules/lib/modules/${set.release}/modules.dep`);
    assert.match(
      dep,
      /^kernel\/drivers\/net\/virtio_net.ko: kernel\/drivers\/virtio\/virtio_ring.ko kernel\/drivers\/virtio\/virtio.ko kernel\/drivers\/net\/net_failover.ko kernel\/net\/core\/failover.ko$/m,
    );
    assert.equal(modulesDep(set.load).split("\n").filter((l) => l).length, 7);
    assert.deepEqual(await cachedModules(out, origin, set.wanted), set);
    assert.equal(
      await cachedModules(out, { ...origin, kernelVersion: "2" }, set.wanted),
      undefined,
    );
    assert.equal(await cachedModules(out, origin, [...set.wanted, "virtio_blk"]), undefined);
    await Deno.remove(`${out}/modules/lib/modules/${set.release}/kernel/net/core/failover.ko`);
    assert.equal(await cachedModules(out, origin, set.wanted), undefined, "a file is missing");

    await assert.rejects(
      extractModules(root, `${out}/again`, origin, ["virtio_blk"]),
      /kernel module virtio_blk is neither in linux-image-test nor built in/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("modules: the initramfs carries them and its /init loads them in order before the shell", async () => {
  const root = await fakePackage();
  const out = await Deno.makeTempDir();
  try {
    await extractModules(root, `${out}/modules`, origin, ["virtio_mmio", "virtio_rng"]);
    const modules = await initramfsModules(out);
    assert.deepEqual(modules.load, [
      "/lib/modules/6.1.0-test-arm64/kernel/drivers/virtio/virtio.ko",
      "/lib/modules/6.1.0-test-arm64/kernel/drivers/virtio/virtio_ring.ko",
      "/lib/modules/6.1.0-test-arm64/kernel/drivers/virtio/virtio_mmio.ko",
      "/lib/modules/6.1.0-test-arm64/kernel/drivers/char/hw_random/virtio-rng.ko",
    ]);
    const cpio = new TextDecoder("latin1").decode(
      busyboxInitramfs(new Uint8Array(16), "echo extra", [], modules),
    );
    for (const path of modules.load) assert.ok(cpio.includes(path.slice(1) + "\0"), path);
    assert.ok(cpio.includes("lib/modules/6.1.0-test-arm64/modules.dep\0"));
    const init = cpio.slice(cpio.indexOf("#!/bin/busybox sh"));
    const load = init.indexOf(`for m in ${modules.load.join(" ")}; do`);
    assert.ok(load > 0, init);
    assert.ok(load < init.indexOf("exec 0<>/dev/console"));
    assert.ok(init.indexOf("exec 0<>/dev/console") < init.indexOf("echo extra"));
    assert.ok(init.indexOf("echo extra") < init.indexOf("exec setsid cttyhack sh"));
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});

const guestDir = Deno.env.get("VMKIT_GUEST_DIR") ??
  new URL("../.cache/guests", import.meta.url).pathname;
const cached = fileRequirement(
  `${guestDir}/modules/modules.json`,
  "deno run -A scripts/fetch_guests.ts",
);

Deno.test({
  name: "modules: the fetched set is Debian's, for the kernel beside it, with every guest module" +
    cached.label,
  ignore: cached.ignore,
  fn: async () => {
    cached.assert();
    const manifest = JSON.parse(await Deno.readTextFile(`${guestDir}/manifest.json`));
    const set = await cachedModules(guestDir, manifest);
    assert.ok(set, "the cached modules belong to the cached kernel");
    const have = new Set([...set.load.map((m) => m.name), ...set.builtin]);
    for (const name of GUEST_MODULES) assert.ok(have.has(name), `${name} is loaded or built in`);
    for (const m of set.load) {
      const info = readModinfo(
        await Deno.readFile(`${guestDir}/modules/lib/modules/${set.release}/${m.path}`),
        m.path,
      );
      assert.equal(info.get("name")?.[0], m.name);
      assert.match(info.get("vermagic")?.[0] ?? "", new RegExp(`^${set.release} `));
      for (const d of m.depends) {
        assert.ok(
          set.load.findIndex((x) => x.name === d) < set.load.indexOf(m),
          `${d} loads before ${m.name}`,
        );
      }
    }
  },
});

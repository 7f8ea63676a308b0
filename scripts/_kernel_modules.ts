/**
 * The kernel modules the Linux guests load from their initramfs: taken from
 * the same Debian kernel package as the `Image` (`scripts/fetch_guests.ts`
 * unpacks it), with their dependencies, in an order `insmod` can load them.
 *
 * Debian's kernel packages carry no `modules.dep` (`depmod` writes it when
 * the package is installed), so dependencies come from each module's
 * `.modinfo` section, the `depends=` list the kernel build (modpost) records
 * from the same symbol resolution `depmod` performs. A module the kernel has
 * built in (listed in the package's `modules.builtin`) needs no file. The
 * set is written to `<dir>/modules/`: the files under
 * `lib/modules/<release>/` as the package lays them out, a `modules.dep`
 * for busybox `modprobe` (the kernel's own `request_module` calls use it),
 * and `modules.json`, what the initramfs builder reads.
 *
 * @module
 */

/**
 * What the guests need, by module name (`-` and `_` are the same): the
 * virtio-mmio transport and the block, console and entropy drivers, ext4
 * and what it needs, and the network driver with its failover helpers for
 * the networking work to come.
 */
export const GUEST_MODULES: readonly string[] = [
  "virtio_mmio",
  "virtio_blk",
  "virtio_console",
  "virtio_rng",
  "rng_core",
  "crc16",
  "crc32c_generic",
  "libcrc32c",
  "mbcache",
  "jbd2",
  "ext4",
  "failover",
  "net_failover",
  "virtio_net",
];

/** One module file in the set. */
export interface ModuleFile {
  /** Its name, as `modinfo` says (underscores). */
  readonly name: string;
  /** Its path under `lib/modules/<release>/`, always ending in `.ko` (decompressed). */
  readonly path: string;
  /** The modules it needs loaded first. */
  readonly depends: readonly string[];
}

/** `modules/modules.json`. */
export interface ModuleSet {
  /** The kernel release (`uname -r`), the directory under `lib/modules/`. */
  readonly release: string;
  /** The Debian package the modules came from, and its version. */
  readonly kernelPackage: string;
  /** See {@link ModuleSet.kernelPackage}. */
  readonly kernelVersion: string;
  /** What was asked for ({@link GUEST_MODULES} when it was made). */
  readonly wanted: readonly string[];
  /** Module files in load order: every module after what it depends on. */
  readonly load: readonly ModuleFile[];
  /** Wanted modules the kernel has built in. */
  readonly builtin: readonly string[];
}

/** Module names compare with `-` and `_` as one. */
export function moduleName(fileOrName: string): string {
  const base = fileOrName.slice(fileOrName.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, "").replaceAll("-", "_");
}

/** The NUL-separated `key=value` strings of an ELF64 little-endian object's `.modinfo`. */
export function readModinfo(elf: Uint8Array, where = "module"): Map<string, string[]> {
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (elf.length < 64 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) {
    fail("not an ELF file");
  }
  if (elf[4] !== 2 || elf[5] !== 1) fail("not a 64-bit little-endian ELF file");
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > elf.length) {
    fail("section headers out of range");
  }
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    const offset = Number(v.getBigUint64(at + 0x18, true));
    const size = Number(v.getBigUint64(at + 0x20, true));
    if (offset + size > elf.length) fail(`section ${i} out of range`);
    return { name: v.getUint32(at, true), bytes: elf.subarray(offset, offset + size) };
  };
  const names = section(shstrndx).bytes;
  const decoder = new TextDecoder();
  const nameOf = (at: number) => {
    const end = names.indexOf(0, at);
    return decoder.decode(names.subarray(at, end < 0 ? names.length : end));
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== ".modinfo") continue;
    const info = new Map<string, string[]>();
    for (const entry of decoder.decode(s.bytes).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
    }
    return info;
  }
  return fail("no .modinfo section");
}

async function decompress(path: string, bytes: Uint8Array): Promise<Uint8Array> {
  if (path.endsWith(".ko")) return bytes;
  if (path.endsWith(".gz")) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const tool = path.endsWith(".xz") ? "xz" : "zstd";
  const child = new Deno.Command(tool, { args: ["-dc", path], stdout: "piped", stderr: "piped" })
    .spawn();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(`${tool} -dc ${path} failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
  return stdout;
}

async function walk(dir: string, prefix: string, found: Map<string, string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) await walk(`${dir}/${e.name}`, `${rel}/`, found);
    else if (/\.ko(\.(xz|gz|zst))?$/.test(e.name)) found.set(moduleName(e.name), rel);
  }
}

/**
 * Resolves `wanted` (and everything it depends on) in an unpacked kernel
 * package at `root`, writes the set to `outDir` (replacing what was there)
 * and returns its description, also written as `outDir/modules.json`.
 *
 * @throws {Error} naming the module when one is neither a file in the
 *   package nor built in, or a dependency cannot be found.
 */
export async function extractModules(
  root: string,
  outDir: string,
  origin: { kernelPackage: string; kernelVersion: string },
  wanted: readonly string[] = GUEST_MODULES,
): Promise<ModuleSet> {
  const releases: string[] = [];
  for await (const e of Deno.readDir(`${root}/lib/modules`)) {
    if (e.isDirectory) releases.push(e.name);
  }
  if (releases.length !== 1) {
    throw new Error(`expected one kernel release in ${root}/lib/modules, found ${releases.length}`);
  }
  const release = releases[0];
  const base = `${root}/lib/modules/${release}`;
  const builtin = new Set(
    (await Deno.readTextFile(`${base}/modules.builtin`)).split("\n").filter((l) => l)
      .map(moduleName),
  );
  const files = new Map<string, string>();
  await walk(`${base}/kernel`, "kernel/", files);

  const loaded = new Map<string, { file: ModuleFile; bytes: Uint8Array }>();
  const order: ModuleFile[] = [];
  const builtins: string[] = [];
  const visiting = new Set<string>();
  const visit = async (name: string, neededBy: string) => {
    if (loaded.has(name) || builtins.includes(name)) return;
    if (builtin.has(name)) {
      builtins.push(name);
      return;
    }
    const rel = files.get(name);
    if (rel === undefined) {
      throw new Error(
        `kernel module ${name}${neededBy} is neither in ${origin.kernelPackage} nor built in`,
      );
    }
    if (visiting.has(name)) throw new Error(`kernel module ${name} depends on itself`);
    visiting.add(name);
    const bytes = await decompress(`${base}/${rel}`, await Deno.readFile(`${base}/${rel}`));
    const info = readModinfo(bytes, rel);
    const depends = (info.get("depends")?.[0] ?? "").split(",").filter((d) => d)
      .map(moduleName);
    for (const d of depends) await visit(d, ` (needed by ${name})`);
    const file = { name, path: rel.replace(/\.ko\.(xz|gz|zst)$/, ".ko"), depends };
    loaded.set(name, { file, bytes });
    order.push(file);
    visiting.delete(name);
  };
  for (const name of wanted) await visit(moduleName(name), "");

  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const target = `${outDir}/lib/modules/${release}`;
  for (const { file, bytes } of loaded.values()) {
    await Deno.mkdir(`${target}/${file.path.slice(0, file.path.lastIndexOf("/"))}`, {
      recursive: true,
    });
    await Deno.writeFile(`${target}/${file.path}`, bytes);
  }
  await Deno.writeTextFile(`${target}/modules.dep`, modulesDep(order));
  await Deno.copyFile(`${base}/modules.builtin`, `${target}/modules.builtin`);
  const set: ModuleSet = {
    release,
    kernelPackage: origin.kernelPackage,
    kernelVersion: origin.kernelVersion,
    wanted: [...wanted],
    load: order,
    builtin: builtins,
  };
  await Deno.writeTextFile(`${outDir}/modules.json`, JSON.stringify(set, null, 2) + "\n");
  return set;
}

/** depmod's format: each module, then every module it needs, nearest first. */
export function modulesDep(order: readonly ModuleFile[]): string {
  const byName = new Map(order.map((m) => [m.name, m]));
  const lines = order.map((m) => {
    const all: string[] = [];
    const add = (name: string) => {
      const dep = byName.get(name);
      if (!dep || all.includes(dep.path)) return;
      all.push(dep.path);
      dep.depends.forEach(add);
    };
    m.depends.forEach(add);
    return `${m.path}:${all.map((p) => ` ${p}`).join("")}\n`;
  });
  return lines.join("");
}

/**
 * The module set cached in `dir/modules/`, when it is complete and was made
 * for `wanted` from `kernelPackage` at `kernelVersion`; otherwise undefined.
 */
export async function cachedModules(
  dir: string,
  origin: { kernelPackage: string; kernelVersion: string },
  wanted: readonly string[] = GUEST_MODULES,
): Promise<ModuleSet | undefined> {
  let set: ModuleSet;
  try {
    set = JSON.parse(await Deno.readTextFile(`${dir}/modules/modules.json`)) as ModuleSet;
  } catch {
    return undefined;
  }
  if (
    set.kernelPackage !== origin.kernelPackage || set.kernelVersion !== origin.kernelVersion ||
    set.wanted.join(",") !== wanted.join(",")
  ) {
    return undefined;
  }
  for (const m of set.load) {
    try {
      await Deno.stat(`${dir}/modules/lib/modules/${set.release}/${m.path}`);
    } catch {
      return undefined;
    }
  }
  return set;
}

/** Kernel modules as the initramfs builder takes them. */
export interface InitramfsModules {
  /** The kernel release they are for. */
  readonly release: string;
  /** Files to add, by path inside the initramfs. */
  readonly files: readonly { readonly path: string; readonly data: Uint8Array }[];
  /** Absolute paths inside the initramfs, in the order `/init` loads them. */
  readonly load: readonly string[];
}

/**
 * The module set cached in `dir/modules/` (what `scripts/fetch_guests.ts`
 * wrote), ready for `busyboxInitramfs`.
 *
 * @throws {Error} when the set is missing or incomplete (run the fetcher).
 */
export async function initramfsModules(dir: string): Promise<InitramfsModules> {
  const set = JSON.parse(await Deno.readTextFile(`${dir}/modules/modules.json`)) as ModuleSet;
  const at = `lib/modules/${set.release}`;
  const files = [];
  for (const m of set.load) {
    files.push({
      path: `${at}/${m.path}`,
      data: await Deno.readFile(`${dir}/modules/${at}/${m.path}`),
    });
  }
  for (const name of ["modules.dep", "modules.builtin"]) {
    files.push({
      path: `${at}/${name}`,
      data: await Deno.readFile(`${dir}/modules/${at}/${name}`),
    });
  }
  return { release: set.release, files, load: set.load.map((m) => `/${at}/${m.path}`) };
}

/**
 * Downloads the Linux test guest: Debian's arm64 cloud kernel and its
 * `System.map` (the kernel's symbols, for breakpoints by name; the kernel
 * package's own is a stub pointing at the `-dbg` package, so it comes out of
 * that one, streamed, without unpacking the rest), the kernel modules the guests load (virtio, ext4, ... from the same package, see
 * `scripts/_kernel_modules.ts`) and a static busybox, into `.cache/guests/`
 * (or `$VMKIT_GUEST_DIR`), and builds `initramfs.cpio` there: busybox with
 * an `/init` that loads the modules and starts a shell.
 *
 * The kernel package is resolved through the `linux-image-cloud-arm64`
 * metapackage each time the cache is empty, because Debian removes old kernel
 * versions from its mirrors. Packages are checked against the SHA-256 sums in
 * the signed-by-Release `Packages` index and unpacked with `dpkg-deb`.
 *
 * Usage: deno run --allow-net --allow-read --allow-write --allow-run=dpkg-deb,xz,tar scripts/fetch_guests.ts [--quiet] [--force]
 */
import { parseArgs } from "node:util";
import { busyboxInitramfs } from "./_initramfs.ts";
import { cachedModules, extractModules, initramfsModules } from "./_kernel_modules.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quiet: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  },
});

const root = new URL("..", import.meta.url).pathname;
const dir = Deno.env.get("VMKIT_GUEST_DIR") ?? `${root}.cache/guests`;
const mirror = Deno.env.get("VMKIT_DEBIAN_MIRROR") ?? "http://deb.debian.org/debian";
const suite = Deno.env.get("VMKIT_DEBIAN_SUITE") ?? "bookworm";

interface Manifest {
  kernelPackage: string;
  kernelVersion: string;
  busyboxVersion: string;
  kernel: string;
  busybox: string;
  /** The kernel's `System.map`, from the same package (absent in caches from before it was kept). */
  systemMap?: string;
}

function log(msg: string): void {
  if (!values.quiet) console.error(msg);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Downloads and unpacked packages, removed at the end. */
const temporary: string[] = [];

type Stanza = Map<string, string>;

function parsePackages(text: string): Map<string, Stanza> {
  const out = new Map<string, Stanza>();
  for (const block of text.split("\n\n")) {
    const fields: Stanza = new Map();
    let last = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(" ") && last) {
        fields.set(last, `${fields.get(last)}\n${line}`);
        continue;
      }
      const i = line.indexOf(":");
      if (i <= 0) continue;
      last = line.slice(0, i);
      fields.set(last, line.slice(i + 1).trim());
    }
    const name = fields.get("Package");
    if (name) out.set(name, fields);
  }
  return out;
}

async function downloadDeb(pkgs: Map<string, Stanza>, name: string): Promise<string> {
  const st = pkgs.get(name);
  if (!st) throw new Error(`package ${name} is not in ${suite}/main/binary-arm64`);
  const url = `${mirror}/${st.get("Filename")}`;
  log(`downloading ${url}`);
  const deb = await fetchBytes(url);
  const want = st.get("SHA256");
  const got = await sha256Hex(deb);
  if (got !== want) throw new Error(`${name}: SHA-256 ${got} does not match the index (${want})`);
  const path = await Deno.makeTempFile({ suffix: ".deb" });
  temporary.push(path);
  await Deno.writeFile(path, deb);
  return path;
}

async function unpack(deb: string): Promise<string> {
  const out = await Deno.makeTempDir();
  temporary.push(out);
  const { code, stderr } = await new Deno.Command("dpkg-deb", { args: ["-x", deb, out] }).output();
  if (code !== 0) throw new Error(`dpkg-deb -x ${deb}: ${new TextDecoder().decode(stderr)}`);
  return out;
}

// Debian keeps Packages.xz current; Packages.gz can lag a point release behind
// and then names a kernel the mirror no longer has.
async function readIndex(): Promise<string> {
  const url = `${mirror}/dists/${suite}/main/binary-arm64/Packages.xz`;
  log(`reading ${url}`);
  const xz = await fetchBytes(url);
  const child = new Deno.Command("xz", { args: ["-dc"], stdin: "piped", stdout: "piped" }).spawn();
  // Feed and drain at once: the decompressed index is larger than a pipe buffer.
  const feeding = (async () => {
    const writer = child.stdin.getWriter();
    await writer.write(xz);
    await writer.close();
  })();
  const [{ code, stdout }] = await Promise.all([child.output(), feeding]);
  if (code !== 0) throw new Error(`xz -dc ${url} failed (exit ${code})`);
  return new TextDecoder().decode(stdout);
}

/**
 * Writes the kernel's real System.map, `usr/lib/debug/boot/System.map-<release>` of the
 * kernel's `-dbg` package, to `to`; only that member is extracted (the package's vmlinux is
 * over a gigabyte unpacked).
 */
async function extractSystemMap(deb: string, release: string, to: string): Promise<void> {
  const member = `./usr/lib/debug/boot/System.map-${release}`;
  const archive = new Deno.Command("dpkg-deb", {
    args: ["--fsys-tarfile", deb],
    stdout: "piped",
    // It complains of the broken pipe when tar stops early; tar's status says what matters.
    stderr: "null",
  })
    .spawn();
  const file = await Deno.open(to, { write: true, create: true, truncate: true });
  const tar = new Deno.Command("tar", {
    args: ["-xO", "--occurrence=1", "-f", "-", member],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const [, , status] = await Promise.all([
    archive.stdout.pipeTo(tar.stdin).catch(() => {}),
    tar.stdout.pipeTo(file.writable),
    tar.status,
  ]);
  // tar stops reading after the member: dpkg-deb then ends on a broken pipe.
  await archive.status;
  if (!status.success) throw new Error(`no ${member} in ${deb} (tar exit ${status.code})`);
  const text = await Deno.readTextFile(to);
  if (!/^[0-9a-f]{16} T start_kernel$/m.test(text)) {
    throw new Error(`${member} of ${deb} does not list start_kernel`);
  }
}

/** A busybox shell with the kernel's modules as the initramfs, for `vmkit run --initrd` by hand. */
async function writeInitramfs(busyboxPath: string): Promise<void> {
  const initrd = busyboxInitramfs(
    await Deno.readFile(busyboxPath),
    'echo "vmkit-init: a busybox shell; poweroff -f powers the machine off"',
    [],
    await initramfsModules(dir),
  );
  await Deno.writeFile(`${dir}/initramfs.cpio`, initrd);
}

const manifestPath = `${dir}/manifest.json`;
if (!values.force && await exists(manifestPath)) {
  const m = JSON.parse(await Deno.readTextFile(manifestPath)) as Manifest;
  // Modules from another kernel (or none, in a cache from before they were
  // carried) mean fetching the kernel again: Image and modules must match.
  if (
    await exists(`${dir}/${m.kernel}`) && await exists(`${dir}/${m.busybox}`) &&
    m.systemMap !== undefined && await exists(`${dir}/${m.systemMap}`) &&
    await cachedModules(dir, m) !== undefined
  ) {
    // Cheap to rebuild, and then always what this checkout's /init says.
    await writeInitramfs(`${dir}/${m.busybox}`);
    log(`guests present: ${m.kernelPackage} ${m.kernelVersion}, busybox ${m.busyboxVersion}`);
    Deno.exit(0);
  }
}

await Deno.mkdir(dir, { recursive: true });
const pkgs = parsePackages(await readIndex());

const meta = pkgs.get("linux-image-cloud-arm64");
const dep = meta?.get("Depends")?.split(",").map((s) => s.trim().split(/\s/)[0])
  .find((s) => s.startsWith("linux-image-"));
if (!dep) throw new Error("linux-image-cloud-arm64 does not depend on a versioned kernel package");

const kernelDeb = await unpack(await downloadDeb(pkgs, dep));
const boot = `${kernelDeb}/boot`;
let vmlinuz = "";
for await (const e of Deno.readDir(boot)) if (e.name.startsWith("vmlinuz-")) vmlinuz = e.name;
if (!vmlinuz) throw new Error(`${dep} has no /boot/vmlinuz-*`);
await Deno.copyFile(`${boot}/${vmlinuz}`, `${dir}/Image`);
const kernelVersion = pkgs.get(dep)!.get("Version")!;
const modules = await extractModules(kernelDeb, `${dir}/modules`, {
  kernelPackage: dep,
  kernelVersion,
});
await extractSystemMap(await downloadDeb(pkgs, `${dep}-dbg`), modules.release, `${dir}/System.map`);
log(
  `kernel modules for ${modules.release}: ${modules.load.map((m) => m.name).join(", ")}` +
    ` (built in: ${modules.builtin.join(", ")})`,
);

const bbDeb = await unpack(await downloadDeb(pkgs, "busybox-static"));
await Deno.copyFile(`${bbDeb}/bin/busybox`, `${dir}/busybox`);
await Deno.chmod(`${dir}/busybox`, 0o755);

const manifest: Manifest = {
  kernelPackage: dep,
  kernelVersion,
  busyboxVersion: pkgs.get("busybox-static")!.get("Version")!,
  kernel: "Image",
  busybox: "busybox",
  systemMap: "System.map",
};
await writeInitramfs(`${dir}/busybox`);
await Deno.writeTextFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
log(`guests ready in ${dir}: ${dep} ${manifest.kernelVersion}, busybox ${manifest.busyboxVersion}`);
for (const path of temporary) await Deno.remove(path, { recursive: true });

/**
 * Builds initramfs images (cpio "newc" archives): a busybox userland with an
 * `/init` script, assembled in memory. `scripts/fetch_guests.ts` (what
 * `./vmkit linux` runs) builds the shell initramfs with it, and the Linux
 * tests and benchmarks build theirs.
 *
 * @module
 */

/** One archive member. */
export type CpioEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array | string; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev"; path: string; major: number; minor: number; mode?: number };

const encoder = new TextEncoder();

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** Serializes entries as a newc cpio archive with its trailer. */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    size += b.length;
    const pad = (4 - (size % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
  };
  let ino = 1;
  const member = (
    name: string,
    mode: number,
    data: Uint8Array,
    rdev: [number, number] = [0, 0],
  ) => {
    const nameBytes = encoder.encode(name + "\0");
    const header = "070701" + hex8(ino++) + hex8(mode) + hex8(0) + hex8(0) +
      hex8(mode & 0o040000 ? 2 : 1) + hex8(0) + hex8(data.length) + hex8(0) + hex8(0) +
      hex8(rdev[0]) + hex8(rdev[1]) + hex8(nameBytes.length) + hex8(0);
    const head = new Uint8Array(header.length + nameBytes.length);
    head.set(encoder.encode(header));
    head.set(nameBytes, header.length);
    push(head);
    if (data.length) push(data);
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    switch (e.type) {
      case "dir":
        member(name, 0o040000 | (e.mode ?? 0o755), new Uint8Array(0));
        break;
      case "file":
        member(
          name,
          0o100000 | (e.mode ?? 0o644),
          typeof e.data === "string" ? encoder.encode(e.data) : e.data,
        );
        break;
      case "symlink":
        member(name, 0o120000 | 0o777, encoder.encode(e.target));
        break;
      case "chardev":
        member(name, 0o020000 | (e.mode ?? 0o600), new Uint8Array(0), [e.major, e.minor]);
        break;
    }
  }
  member("TRAILER!!!", 0, new Uint8Array(0));
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The marker `/init` prints once userspace runs. */
export const INIT_MARKER = "vmkit-init: userspace is up";

/** Kernel modules `/init` loads (see `scripts/_kernel_modules.ts`, `initramfsModules`). */
export interface InitModules {
  /** Files to add, by path inside the initramfs. */
  readonly files: readonly { readonly path: string; readonly data: Uint8Array }[];
  /** Absolute paths inside the initramfs, in load order. */
  readonly load: readonly string[];
}

/**
 * An initramfs with a static busybox, `/dev/console`, and an `/init` that
 * loads `modules` (if any), runs `extraInit` and starts a shell.
 */
export function busyboxInitramfs(
  busybox: Uint8Array,
  extraInit = "",
  extraFiles: readonly CpioEntry[] = [],
  modules?: InitModules,
): Uint8Array {
  const load = modules
    ? `# Drivers the kernel has as modules (virtio, ...), each after what it needs.
failed=""
for m in ${modules.load.join(" ")}; do
  insmod "$m" 2>>/tmp/insmod.log || failed="$failed \${m##*/}"
done
# A console whose driver was a module (hvc0 on virtio-console) did not exist
# when the kernel opened /dev/console for /init: open it again now.
exec 0<>/dev/console 1>&0 2>&0
[ -z "$failed" ] || { echo "vmkit-init: could not load:$failed"; cat /tmp/insmod.log; }
`
    : "";
  const init = `#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
${load}echo "${INIT_MARKER}"
${extraInit}
# A session of its own with the console as controlling terminal, so Ctrl-C and
# job control work in the shell.
exec setsid cttyhack sh
`;
  const dirs = new Set(
    [
      "bin",
      "sbin",
      "usr",
      "usr/bin",
      "usr/sbin",
      "dev",
      "proc",
      "sys",
      "tmp",
      "root",
      "etc",
      "mnt",
    ],
  );
  for (const f of modules?.files ?? []) {
    const parts = f.path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return cpioNewc([
    ...[...dirs].map((path) => ({ type: "dir" as const, path })),
    { type: "chardev", path: "dev/console", major: 5, minor: 1 },
    { type: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
    { type: "file", path: "init", data: init, mode: 0o755 },
    ...(modules?.files ?? []).map((f) => ({ type: "file" as const, path: f.path, data: f.data })),
    ...extraFiles,
  ]);
}

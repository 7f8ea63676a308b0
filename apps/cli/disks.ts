/**
 * `--disk FILE[,ro][,serial=ID]`: parsing the flag and opening the images,
 * with one line saying which file and why when one cannot be used.
 *
 * @module
 */

import { FileBlockBackend, VirtioError } from "@vmkit/virtio";
import type { DiskConfig } from "@vmkit/vmm";
import { CliError } from "./errors.ts";

/**
 * One `--disk` flag.
 *
 * @example
 * ```ts
 * import { type DiskSpec, parseDiskSpec } from "@vmkit/cli";
 *
 * const spec: DiskSpec = parseDiskSpec("rootfs.img,ro");
 * console.log(spec.path, spec.readOnly); // rootfs.img true
 * ```
 */
export interface DiskSpec {
  /** The image file. */
  readonly path: string;
  /** `,ro`: attach it read-only (the file is opened for reading only). */
  readonly readOnly: boolean;
  /** `,serial=ID`: what the guest reads as the disk's serial. */
  readonly serial?: string;
}

const SECTOR = 512;

/**
 * Parses `FILE[,ro][,serial=ID]`. Commas separate options, so the file's
 * name cannot hold one.
 *
 * @throws {CliError} `USAGE` for an empty file name, an unknown option, or a
 *   serial over 20 bytes.
 *
 * @example
 * ```ts
 * import { parseDiskSpec } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseDiskSpec("root.img,ro,serial=ROOT"), {
 *   path: "root.img",
 *   readOnly: true,
 *   serial: "ROOT",
 * });
 * assert.throws(() => parseDiskSpec(",ro"), { code: "USAGE" });
 * ```
 */
export function parseDiskSpec(value: string): DiskSpec {
  const [path, ...options] = value.split(",");
  if (path === "") throw new CliError("USAGE", `--disk ${value}: no file name`);
  let readOnly = false;
  let serial: string | undefined;
  for (const option of options) {
    if (option === "ro") readOnly = true;
    else if (option.startsWith("serial=")) {
      serial = option.slice("serial=".length);
      if (new TextEncoder().encode(serial).length > 20) {
        throw new CliError("USAGE", `--disk ${value}: the serial is over 20 bytes`);
      }
    } else {
      throw new CliError(
        "USAGE",
        `--disk ${value}: unknown option ${JSON.stringify(option)} (options: ro, serial=ID)`,
      );
    }
  }
  return { path, readOnly, serial };
}

/**
 * Opens every image (for reading and writing unless `ro`), in order. On a
 * failure the ones already open are closed and one line says which file and
 * why; the same file given twice with one of them writable is refused, as
 * two writers would corrupt it.
 *
 * @throws {CliError} `USAGE`, the line to print.
 *
 * @example
 * ```ts
 * import { closeDisks, openDisks, parseDiskSpec } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 1 << 20);
 * const disks = await openDisks([parseDiskSpec(`${path},ro`)]);
 * assert.equal(disks[0].readOnly, true);
 * closeDisks(disks); // no VM took them over
 * // The same file twice, written through one of them: refused.
 * await assert.rejects(openDisks([parseDiskSpec(path), parseDiskSpec(path)]), { code: "USAGE" });
 * await Deno.remove(path);
 * ```
 */
export async function openDisks(specs: readonly DiskSpec[]): Promise<DiskConfig[]> {
  const disks: DiskConfig[] = [];
  const seen = new Map<string, DiskSpec>();
  try {
    for (const spec of specs) {
      const backend = await openOne(spec);
      disks.push({ backend, readOnly: spec.readOnly, serial: spec.serial });
      const real = await Deno.realPath(spec.path).catch(() => spec.path);
      const earlier = seen.get(real);
      if (earlier && (!earlier.readOnly || !spec.readOnly)) {
        throw new CliError(
          "USAGE",
          `cannot use the disk ${JSON.stringify(spec.path)}: it is given twice and written ` +
            `through one of them (two writers would corrupt it)`,
        );
      }
      seen.set(real, spec);
    }
    return disks;
  } catch (e) {
    closeDisks(disks);
    throw e;
  }
}

/**
 * Closes the backends of `disks` (before a VM took them over).
 *
 * @example
 * ```ts
 * import { closeDisks, openDisks, parseDiskSpec } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 4096);
 * const disks = await openDisks([parseDiskSpec(path)]);
 * assert.equal(disks[0].backend.size, 4096);
 * closeDisks(disks);
 * await Deno.remove(path);
 * ```
 */
export function closeDisks(disks: readonly DiskConfig[]): void {
  for (const d of disks) (d.backend as FileBlockBackend).close?.();
}

async function openOne(spec: DiskSpec): Promise<FileBlockBackend> {
  const name = JSON.stringify(spec.path);
  let backend: FileBlockBackend;
  try {
    backend = await FileBlockBackend.open(spec.path, { readOnly: spec.readOnly });
  } catch (e) {
    if (!(e instanceof VirtioError)) throw e;
    throw new CliError("USAGE", `cannot open the disk ${name}: ${await why(spec, e.cause)}`);
  }
  if (backend.size < SECTOR) {
    backend.close();
    throw new CliError(
      "USAGE",
      `cannot use the disk ${name}: it is ${backend.size} bytes, less than one 512-byte sector`,
    );
  }
  return backend;
}

async function why(spec: DiskSpec, cause: unknown): Promise<string> {
  if (cause instanceof Deno.errors.NotFound) return "no such file";
  if (cause instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (cause instanceof Deno.errors.NotCapable) {
    return `Deno may not ${spec.readOnly ? "read" : "write"} it (--allow-${
      spec.readOnly ? "read" : "write"
    })`;
  }
  if (cause instanceof Deno.errors.PermissionDenied) {
    if (spec.readOnly) return "permission denied (it is not readable)";
    // Writable is what failed if reading alone works.
    const readable = await Deno.open(spec.path, { read: true }).then((f) => {
      f.close();
      return true;
    }, () => false);
    return readable
      ? "it is not writable (add ,ro to attach it read-only)"
      : "permission denied (it is not readable)";
  }
  return cause instanceof Error ? cause.message : String(cause);
}

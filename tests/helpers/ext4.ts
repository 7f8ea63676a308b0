/**
 * The host's side of the disk tests: e2fsprogs (`mkfs.ext4 -d` to make a
 * filesystem image from a directory, `e2fsck` to judge one, `debugfs` to
 * read files back out of it without mounting), and checksums.
 *
 * @module
 */

import { type Requirement, requirement } from "../../testing/requirements.ts";

/** Where e2fsprogs lives when the PATH (a user's) lacks the sbin directories. */
const SBIN = ["/usr/sbin", "/sbin"];

function find(tool: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d), ...SBIN];
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return `${dir}/${tool}`;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** mkfs.ext4, e2fsck and debugfs (Debian's e2fsprogs). */
export function e2fsprogs(): Requirement {
  const present = ["mkfs.ext4", "e2fsck", "debugfs"].every((t) => find(t) !== undefined);
  return requirement(
    "e2fsprogs (mkfs.ext4, e2fsck, debugfs)",
    present,
    "sudo apt-get install e2fsprogs",
  );
}

/** What a tool printed and how it ended. */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an e2fsprogs tool; throws when it cannot be started. */
export async function e2(tool: string, args: string[]): Promise<ToolResult> {
  const path = find(tool);
  if (!path) throw new Error(`${tool} is not installed (sudo apt-get install e2fsprogs)`);
  const out = await new Deno.Command(path, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Makes a `size`-byte ext4 image at `image`, holding the files under
 * `from` (an empty filesystem without it).
 */
export async function mkfsExt4(image: string, size: number, from?: string): Promise<void> {
  const file = await Deno.open(image, { write: true, create: true, truncate: true });
  await file.truncate(size);
  file.close();
  const r = await e2("mkfs.ext4", ["-q", "-F", ...(from ? ["-d", from] : []), image]);
  if (r.code !== 0) throw new Error(`mkfs.ext4 ${image} failed (${r.code}): ${r.stderr}`);
}

/** Copies `paths` (files or directories, recursively) out of `image` into the host directory `to`. */
export async function debugfsDump(image: string, paths: string[], to: string): Promise<void> {
  const r = await e2("debugfs", ["-R", `rdump ${paths.join(" ")} ${to}`, image]);
  if (r.code !== 0) throw new Error(`debugfs rdump failed (${r.code}): ${r.stderr}`);
}

/** The SHA-256 of bytes, as lowercase hex (what `sha256sum` prints). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `sha256sum` lines (`<hex>  <path>`) in `text`, by path. */
export function parseSha256sum(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const m of text.matchAll(/^([0-9a-f]{64}) {2}(\S+)\r?$/gm)) sums.set(m[2], m[1]);
  return sums;
}

/** `length` random bytes (`crypto.getRandomValues` fills 64 KiB per call). */
export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(length, at + 65536)));
  }
  return bytes;
}

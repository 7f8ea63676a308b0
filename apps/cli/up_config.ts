/**
 * The file `vmkit up` boots: several VMs and the networks between them, as JSON. It is read
 * and checked here in full before anything is opened, and a mistake is one line naming the key
 * (`vms[1].nets[0].switch`) and what was expected there. `up.schema.json` beside this module
 * describes the same format for editors.
 *
 * ```json
 * {
 *   "vms": [
 *     {
 *       "name": "server",
 *       "kernel": "Image",
 *       "initrd": "server.cpio",
 *       "cmdline": "console=ttyAMA0 quiet",
 *       "mem": "256M",
 *       "smp": 1,
 *       "disks": [{ "path": "data.img", "readonly": true }],
 *       "nets": [{ "switch": "lan" }, { "tap": "tap0", "mac": "52:54:00:12:34:56" }]
 *     }
 *   ]
 * }
 * ```
 *
 * Paths are relative to the file's folder.
 *
 * @module
 */

import { parseMemorySize } from "@vmkit/vmm";
import { formatMac, parseMac } from "@vmkit/virtio";
import { CliError } from "./errors.ts";

/**
 * One network card of an {@link UpVm}: on an in-process switch (made on first mention, shared
 * by every VM that names it) or on a TAP device.
 *
 * @example
 * ```ts
 * import type { UpNet } from "@vmkit/cli";
 *
 * const nic: UpNet = { kind: "switch", name: "lan", mac: "52:54:00:00:00:01" };
 * console.log(nic.kind); // switch
 * ```
 */
export interface UpNet {
  /** What the card is plugged into. */
  readonly kind: "switch" | "tap";
  /** The switch's name, or the TAP interface's. */
  readonly name: string;
  /** The MAC address, as given or made from the VM's name (stable from run to run). */
  readonly mac: string;
}

/**
 * One VM of an {@link UpFile}, checked, with its paths resolved.
 *
 * @example
 * ```ts
 * import { parseUpFile } from "@vmkit/cli";
 *
 * const file = parseUpFile('{"vms":[{"name":"a","kernel":"Image"}]}', "/srv/up.json");
 * console.log(file.vms[0].kernel, file.vms[0].memorySize); // /srv/Image 268435456
 * ```
 */
export interface UpVm {
  /** Its name: what its console lines and messages are prefixed with. */
  readonly name: string;
  /** The kernel Image's path. */
  readonly kernel: string;
  /** The initramfs's path, if any. */
  readonly initrd?: string;
  /** The kernel command line, if given. */
  readonly cmdline?: string;
  /** Bytes of RAM. */
  readonly memorySize: number;
  /** vCPUs. */
  readonly cpus: number;
  /** Disks, in order (vda, vdb, ...). */
  readonly disks: readonly { readonly path: string; readonly readOnly: boolean }[];
  /** Network cards, in order (eth0, eth1, ...). */
  readonly nets: readonly UpNet[];
}

/**
 * A checked `vmkit up` file.
 *
 * @example
 * ```ts
 * import type { UpFile } from "@vmkit/cli";
 *
 * const empty: UpFile = { vms: [] };
 * console.log(empty.vms.length); // 0
 * ```
 */
export interface UpFile {
  /** The VMs, in the file's order. */
  readonly vms: readonly UpVm[];
}

const VM_KEYS = ["name", "kernel", "initrd", "cmdline", "mem", "smp", "disks", "nets"];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const DEFAULT_MEM = 256 * 1024 * 1024;
/**
 * The most VMs one file may hold; each is a whole machine in this process.
 *
 * @example
 * ```ts
 * import { MAX_VMS, parseUpFile } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const vms = Array.from({ length: MAX_VMS + 1 }, (_, i) => ({ name: `vm${i}`, kernel: "Image" }));
 * assert.throws(() => parseUpFile(JSON.stringify({ vms }), "up.json"), { code: "USAGE" });
 * ```
 */
export const MAX_VMS = 64;

type Json = unknown;

function bad(where: string, what: string): never {
  throw new CliError("USAGE", `${where}: ${what}`);
}

function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function object(value: Json, where: string, keys: readonly string[]): Record<string, Json> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    bad(where, `expected an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      bad(`${where}.${key}`, `unknown key (expected one of ${keys.join(", ")})`);
    }
  }
  return value as Record<string, Json>;
}

function string(value: Json, where: string, what: string): string {
  if (typeof value !== "string" || value === "") {
    bad(where, `expected ${what}, got ${describe(value)}`);
  }
  return value;
}

function array(value: Json, where: string): Json[] {
  if (!Array.isArray(value)) bad(where, `expected an array, got ${describe(value)}`);
  return value;
}

/** Resolves `path` against the folder of the file at `file`. */
function resolve(path: string, file: string): string {
  if (path.startsWith("/")) return path;
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "./";
  return `${dir}${path}`;
}

/** 52:54:00 (QEMU's prefix, locally administered) and three bytes of a hash of `seed`. */
function derivedMac(seed: string): string {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(seed)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return formatMac(new Uint8Array([0x52, 0x54, 0x00, h >>> 16 & 0xff, h >>> 8 & 0xff, h & 0xff]));
}

function parseMem(value: Json, where: string): number {
  let bytes: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value <= 0) {
      bad(where, `expected a size such as "256M" or a whole number of MiB, got ${describe(value)}`);
    }
    bytes = value * 1024 * 1024;
  } else if (typeof value === "string") {
    try {
      bytes = parseMemorySize(value);
    } catch {
      bad(where, `expected a size such as "256M" or "1G", got ${describe(value)}`);
    }
  } else {
    bad(where, `expected a size such as "256M" or a whole number of MiB, got ${describe(value)}`);
  }
  if (bytes < 16 << 20 || bytes % (2 << 20) !== 0 || bytes > 16 * 1024 ** 3) {
    bad(where, `expected a multiple of 2 MiB from 16M to 16G, got ${describe(value)}`);
  }
  return bytes;
}

function parseNets(value: Json, where: string, vm: string, macs: Map<string, string>): UpNet[] {
  return array(value, where).map((entry, i) => {
    const at = `${where}[${i}]`;
    const n = object(entry, at, ["switch", "tap", "mac"]);
    if ((n.switch === undefined) === (n.tap === undefined)) {
      bad(
        at,
        `expected {"switch": NAME} or {"tap": IFNAME}, got ${
          n.switch === undefined ? "neither" : "both"
        }`,
      );
    }
    let kind: "switch" | "tap";
    let name: string;
    if (n.switch !== undefined) {
      kind = "switch";
      name = string(n.switch, `${at}.switch`, "a switch name");
      if (!NAME.test(name)) {
        bad(
          `${at}.switch`,
          `expected a name of letters, digits, _ . - (at most 32), got ${describe(name)}`,
        );
      }
    } else {
      kind = "tap";
      name = string(n.tap, `${at}.tap`, "an interface name");
      if (new TextEncoder().encode(name).length > 15 || /[\s/:]/.test(name)) {
        bad(
          `${at}.tap`,
          `expected an interface name of at most 15 bytes without spaces, / or :, got ${
            describe(name)
          }`,
        );
      }
    }
    let mac: string;
    if (n.mac !== undefined) {
      const text = string(n.mac, `${at}.mac`, "a MAC address such as 52:54:00:12:34:56");
      let bytes: Uint8Array;
      try {
        bytes = parseMac(text);
      } catch {
        bad(`${at}.mac`, `expected a MAC address such as 52:54:00:12:34:56, got ${describe(text)}`);
      }
      if ((bytes[0] & 1) !== 0) {
        bad(`${at}.mac`, `expected a unicast address, got multicast ${describe(text)}`);
      }
      mac = formatMac(bytes);
      const owner = macs.get(mac);
      if (owner !== undefined) bad(`${at}.mac`, `${mac} is already the address of ${owner}`);
    } else {
      mac = derivedMac(`${vm}/${i}`);
      for (let k = 1; macs.has(mac); k++) mac = derivedMac(`${vm}/${i}/${k}`);
    }
    macs.set(mac, at);
    return { kind, name, mac };
  });
}

/**
 * Parses and checks the text of a `vmkit up` file read from `path` (used to resolve the paths
 * in it and in messages).
 *
 * @throws {CliError} `USAGE`: one line naming the key and what was expected, e.g.
 *   `up.json: vms[0].smp: expected a whole number from 1 to 8, got 9`
 *
 * @example
 * ```ts
 * import { parseUpFile } from "@vmkit/cli";
 * import assert from "node:assert/strict";
 *
 * const text = JSON.stringify({
 *   vms: [{ name: "web", kernel: "Image", mem: "512M", smp: 2, nets: [{ switch: "lan" }] }],
 * });
 * const { vms } = parseUpFile(text, "/srv/lab/up.json");
 * assert.equal(vms[0].kernel, "/srv/lab/Image"); // relative to the file's folder
 * assert.equal(vms[0].memorySize, 512 << 20);
 * assert.equal(vms[0].nets[0].kind, "switch");
 * assert.throws(
 *   () => parseUpFile('{"vms":[{"name":"x","kernel":"Image","smp":9}]}', "up.json"),
 *   { message: /vms\[0\]\.smp/ },
 * );
 * ```
 */
export function parseUpFile(text: string, path: string): UpFile {
  const file = path.slice(path.lastIndexOf("/") + 1);
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError("USAGE", `${file}: not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  try {
    return check(json, path);
  } catch (e) {
    if (e instanceof CliError) throw new CliError("USAGE", `${file}: ${e.message}`);
    throw e;
  }
}

function check(json: Json, path: string): UpFile {
  const top = object(json, "(top level)", ["$schema", "vms"]);
  if (top.vms === undefined) bad("vms", "missing (expected an array of VMs)");
  const list = array(top.vms, "vms");
  if (list.length === 0) bad("vms", "expected at least one VM, got an empty array");
  if (list.length > MAX_VMS) bad("vms", `expected at most ${MAX_VMS} VMs, got ${list.length}`);
  const names = new Map<string, string>();
  const macs = new Map<string, string>();
  const taps = new Map<string, string>();
  const vms = list.map((entry, i): UpVm => {
    const at = `vms[${i}]`;
    const v = object(entry, at, VM_KEYS);
    if (v.name === undefined) bad(`${at}.name`, "missing (expected a name for the VM)");
    const name = string(v.name, `${at}.name`, "a name");
    if (!NAME.test(name)) {
      bad(
        `${at}.name`,
        `expected letters, digits, _ . - (at most 32, starting with a letter or digit), got ${
          describe(name)
        }`,
      );
    }
    const other = names.get(name);
    if (other !== undefined) bad(`${at}.name`, `"${name}" is already the name of ${other}`);
    names.set(name, at);
    if (v.kernel === undefined) {
      bad(`${at}.kernel`, "missing (expected the path of a kernel Image)");
    }
    const kernel = resolve(string(v.kernel, `${at}.kernel`, "the path of a kernel Image"), path);
    const initrd = v.initrd === undefined
      ? undefined
      : resolve(string(v.initrd, `${at}.initrd`, "the path of an initramfs"), path);
    if (v.cmdline !== undefined && typeof v.cmdline !== "string") {
      bad(`${at}.cmdline`, `expected a kernel command line (a string), got ${describe(v.cmdline)}`);
    }
    const memorySize = v.mem === undefined ? DEFAULT_MEM : parseMem(v.mem, `${at}.mem`);
    let cpus = 1;
    if (v.smp !== undefined) {
      if (typeof v.smp !== "number" || !Number.isInteger(v.smp) || v.smp < 1 || v.smp > 8) {
        bad(`${at}.smp`, `expected a whole number from 1 to 8, got ${describe(v.smp)}`);
      }
      cpus = v.smp;
    }
    const disks = v.disks === undefined ? [] : array(v.disks, `${at}.disks`).map((d, k) => {
      const where = `${at}.disks[${k}]`;
      const disk = object(d, where, ["path", "readonly"]);
      if (disk.path === undefined) {
        bad(`${where}.path`, "missing (expected the path of a raw disk image)");
      }
      const p = resolve(string(disk.path, `${where}.path`, "the path of a raw disk image"), path);
      if (disk.readonly !== undefined && typeof disk.readonly !== "boolean") {
        bad(`${where}.readonly`, `expected true or false, got ${describe(disk.readonly)}`);
      }
      return { path: p, readOnly: disk.readonly === true };
    });
    if (disks.length > 30) bad(`${at}.disks`, `expected at most 30 disks, got ${disks.length}`);
    const nets = v.nets === undefined ? [] : parseNets(v.nets, `${at}.nets`, name, macs);
    if (disks.length + nets.length > 30) {
      bad(
        `${at}.nets`,
        `expected at most ${30 - disks.length} cards with ${disks.length} disks (30 virtio slots)`,
      );
    }
    nets.forEach((n, k) => {
      if (n.kind !== "tap") return;
      const owner = taps.get(n.name);
      if (owner !== undefined) {
        bad(`${at}.nets[${k}].tap`, `${n.name} is already the TAP device of ${owner}`);
      }
      taps.set(n.name, `${at}.nets[${k}]`);
    });
    return {
      name,
      kernel,
      initrd,
      cmdline: v.cmdline as string | undefined,
      memorySize,
      cpus,
      disks,
      nets,
    };
  });
  return { vms };
}

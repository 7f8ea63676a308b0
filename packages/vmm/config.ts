/**
 * What a {@link VirtualMachine} is built from and fed with: its
 * configuration (checked once, with a typed error that says what is wrong),
 * the images it boots, and the records its runs report.
 *
 * @module
 */

import type { CpuModel, SliceCounter, UnicornLibrary } from "@vmkit/vcpu";
import type { BlockBackend } from "@vmkit/virtio";
import { VIRTIO_MMIO_SLOTS } from "./device_registry.ts";
import { VmmError } from "./errors.ts";
import type { VmGdbOptions } from "./debug_target.ts";
import { checkNets, type NetConfig } from "./net_config.ts";
import { DEFAULT_RAM_SIZE, RAM_BASE } from "./platform.ts";

/**
 * Where guest console output goes.
 *
 * @example
 * ```ts
 * import type { ConsoleSink } from "@vmkit/vmm";
 *
 * const chunks: Uint8Array[] = [];
 * const sink: ConsoleSink = { write: (bytes) => chunks.push(bytes) };
 * sink.write(new TextEncoder().encode("hi"));
 * console.log(chunks.length); // 1
 * ```
 */
export interface ConsoleSink {
  /** Called with bytes the guest transmitted, in order. */
  write(bytes: Uint8Array): void;
}

/**
 * A hypervisor or secure monitor call the VM's firmware does not answer itself.
 *
 * @example
 * ```ts
 * import type { GuestCall } from "@vmkit/vmm";
 *
 * const answer = (call: GuestCall) => call.imm === 0x42 ? 7n : undefined;
 * console.log(answer({ conduit: "hvc", imm: 0x42, args: new BigUint64Array(8), cpu: 0 })); // 7n
 * ```
 */
export interface GuestCall {
  /** `hvc` or `smc`. */
  readonly conduit: "hvc" | "smc";
  /** The instruction's immediate. */
  readonly imm: number;
  /** x0–x7 at the call. */
  readonly args: BigUint64Array;
  /** The calling vCPU. */
  readonly cpu: number;
}

/**
 * A virtio-blk disk of a {@link VirtualMachine}. The guest sees the disks in
 * the order of {@link VmConfig.disks}: Linux names them /dev/vda, /dev/vdb, ...
 *
 * Ownership: the VM takes the backend once its constructor returns and
 * closes it (its `close()` or `[Symbol.dispose]()`, whichever it has) when
 * the VM closes; if the constructor throws, the backend stays the caller's.
 *
 * @example
 * ```ts
 * import type { DiskConfig } from "@vmkit/vmm";
 * import { MemoryBlockBackend } from "@vmkit/virtio";
 *
 * const disk: DiskConfig = {
 *   backend: new MemoryBlockBackend(1 << 20),
 *   readOnly: true,
 *   serial: "scratch",
 * };
 * console.log(disk.backend.size); // 1048576
 * ```
 */
export interface DiskConfig {
  /** Where the data lives, e.g. `await FileBlockBackend.open(path)`. */
  readonly backend: BlockBackend;
  /** Refuse writes (the guest sees a read-only disk). Default: the backend's `readOnly`. */
  readonly readOnly?: boolean;
  /** What the guest reads as the disk's serial (VIRTIO_BLK_T_GET_ID), at most 20 bytes. */
  readonly serial?: string;
}

/**
 * How to build a {@link VirtualMachine}.
 *
 * @example
 * ```ts
 * import type { VmConfig } from "@vmkit/vmm";
 *
 * const config: VmConfig = { memorySize: 64 << 20, clock: "virtual", onReset: "exit" };
 * console.log(config.memorySize); // 67108864
 * ```
 */
export interface VmConfig {
  /** Bytes of RAM: a multiple of 2 MiB, at least 16 MiB, at most 16 GiB. Default 256 MiB. */
  memorySize?: number;
  /** Guest-physical start of RAM, 2 MiB aligned, at or above 0x4000_0000. Default 0x4000_0000. */
  memoryBase?: number;
  /** vCPUs described to the guest, 1–8. Default 1. */
  cpus?: number;
  /** CPU model. Default `cortex-a72`. */
  cpuModel?: CpuModel;
  /** PSCI conduit written into the device tree. Default `hvc`. */
  psciMethod?: "hvc" | "smc";
  /**
   * `host`: guest time follows host time, idle periods are slept through.
   * `virtual`: guest time jumps over idle periods, so timers fire at once.
   * Default `host`.
   */
  clock?: "host" | "virtual";
  /**
   * Instructions per slice (the longest the VMM waits to regain control).
   * Default: 200,000 with one vCPU, 50,000 with more (waiting vCPUs spin their slice out).
   */
  sliceInstructions?: number;
  /** How the vCPUs count slices (see `VcpuOptions.sliceCounter`). Default: the fastest available. */
  sliceCounter?: SliceCounter;
  /** What a guest SYSTEM_RESET does: reboot the images (`restart`) or end the run (`exit`). */
  onReset?: "restart" | "exit";
  /** The engine library; default: one the VM opens and closes itself. */
  library?: UnicornLibrary;
  /** Guest console output. Default: discarded. */
  console?: ConsoleSink;
  /**
   * The device the guest's console is on. `pl011` (default): the UART,
   * command line `console=ttyAMA0 earlycon`. `virtio`: a virtio-console
   * (Linux's hvc0) whose output goes to {@link VmConfig.console} and which
   * {@link VirtualMachine.sendInput} feeds; the default command line becomes
   * `console=hvc0`. The UART stays in the machine either way, and what it
   * transmits goes to the console sink too.
   */
  consoleDevice?: "pl011" | "virtio";
  /** virtio-blk disks, in the order the guest enumerates them. Default none. */
  disks?: readonly DiskConfig[];
  /** virtio-net cards (`net_config.ts`), in the order the guest enumerates them. Default none. */
  nets?: readonly NetConfig[];
  /** A virtio-rng entropy device (Linux's /dev/hwrng). Default true. */
  rng?: boolean;
  /**
   * Diagnostics from the VMM, one line each. Lines the guest can trigger
   * over and over (reboots, refused calls) are rate-limited per kind.
   */
  onLog?: (message: string) => void;
  /**
   * Answers calls the built-in PSCI does not: return the value for x0, or
   * `undefined` to let PSCI answer (NOT_SUPPORTED for unknown functions).
   */
  onCall?: (call: GuestCall) => bigint | undefined;
  /** Serve the GDB remote protocol on a TCP port (`debug_target.ts`). Default: no stub. */
  gdb?: VmGdbOptions;
}

/**
 * The Linux images and command line to boot.
 *
 * @example
 * ```ts
 * import type { LinuxImages } from "@vmkit/vmm";
 *
 * const images: LinuxImages = { kernel: new Uint8Array(64), cmdline: "console=ttyAMA0" };
 * console.log(images.initrd); // undefined
 * ```
 */
export interface LinuxImages {
  /** The kernel `Image`, uncompressed or gzip-compressed. */
  kernel: Uint8Array;
  /** An initramfs, if any. */
  initrd?: Uint8Array;
  /** A device tree to use instead of the generated one (its `/chosen` initrd range is patched). */
  dtb?: Uint8Array;
  /** Kernel command line. Default `DEFAULT_CMDLINE` for a generated tree. */
  cmdline?: string;
}

/**
 * Why {@link VirtualMachine.run} finished: the guest powered off, reset
 * (with `onReset: "exit"`), was stopped by the host, crashed, or the run
 * timed out.
 *
 * @example
 * ```ts
 * import type { VmExitReason } from "@vmkit/vmm";
 *
 * const ok = (reason: VmExitReason) => reason === "poweroff";
 * console.log(ok("crash")); // false
 * ```
 */
export type VmExitReason = "poweroff" | "reset" | "stopped" | "crash" | "timeout";

/**
 * How a run ended.
 *
 * @example
 * ```ts
 * import type { VmExit } from "@vmkit/vmm";
 *
 * const exit: VmExit = {
 *   reason: "poweroff",
 *   status: 0,
 *   message: "the guest powered off",
 *   instructions: 1000,
 *   seconds: 0.01,
 * };
 * console.log(exit.status); // 0
 * ```
 */
export interface VmExit {
  /** Why it ended. */
  readonly reason: VmExitReason;
  /**
   * The guest's exit status: 0 for a PSCI SYSTEM_OFF, the status it wrote
   * to the exit-status device otherwise (`poweroff` runs only; 0 for others).
   */
  readonly status: number;
  /** One line for humans. */
  readonly message: string;
  /** Guest instructions executed during the run. */
  readonly instructions: number;
  /** Wall-clock seconds the run took. */
  readonly seconds: number;
}

/**
 * Options for {@link VirtualMachine.run}.
 *
 * @example
 * ```ts
 * import type { VmRunOptions } from "@vmkit/vmm";
 *
 * const options: VmRunOptions = { timeoutMs: 30_000 };
 * console.log(options.timeoutMs); // 30000
 * ```
 */
export interface VmRunOptions {
  /** End the run with `timeout` after this many milliseconds of wall time (any positive number). */
  timeoutMs?: number;
}

/**
 * Something that puts the guest's images into RAM and says where to start.
 *
 * @example
 * ```ts
 * import type { ImageLoader } from "@vmkit/vmm";
 *
 * const loader: ImageLoader = () => ({ entry: 0x4000_0000, x0: 0 });
 * console.log(loader().entry.toString(16)); // 40000000
 * ```
 */
export type ImageLoader = () => { entry: number; x0: number };

/**
 * A {@link VmConfig} with every default filled in and every value checked.
 *
 * @example
 * ```ts
 * import { normalizeConfig, type NormalizedConfig } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * const config: NormalizedConfig = normalizeConfig({ memorySize: 64 << 20 });
 * assert.equal(config.cpus, 1);
 * assert.equal(config.consoleDevice, "pl011");
 * assert.deepEqual(config.disks, []);
 * ```
 */
export interface NormalizedConfig {
  /** See {@link VmConfig.memorySize}. */
  readonly memorySize: number;
  /** See {@link VmConfig.memoryBase}. */
  readonly memoryBase: number;
  /** See {@link VmConfig.cpus}. */
  readonly cpus: number;
  /** See {@link VmConfig.cpuModel}. */
  readonly cpuModel: CpuModel;
  /** See {@link VmConfig.psciMethod}. */
  readonly psciMethod: "hvc" | "smc";
  /** See {@link VmConfig.clock}. */
  readonly clock: "host" | "virtual";
  /** See {@link VmConfig.onReset}. */
  readonly onReset: "restart" | "exit";
  /** See {@link VmConfig.consoleDevice}. */
  readonly consoleDevice: "pl011" | "virtio";
  /** See {@link VmConfig.disks}. */
  readonly disks: readonly DiskConfig[];
  /** See {@link VmConfig.nets}. */
  readonly nets: readonly NetConfig[];
  /** See {@link VmConfig.rng}. */
  readonly rng: boolean;
}

/**
 * The slice of a VM with several vCPUs. A vCPU waiting for another (a spinlock, WFE, which the
 * engine does not leave) spins until its slice ends, so shorter slices waste less; measured with
 * `bench/smp.ts` on Linux with 4 vCPUs, boot to `/init` took 1.65× the 1-vCPU time with 200,000
 * and 1.34× with 50,000 (a switch itself costs about 1.3 µs).
 */
export const SMP_SLICE_INSTRUCTIONS = 50_000;

const MIN_RAM = 16 * 1024 * 1024;
const MAX_RAM = 16 * 1024 ** 3;
const TWO_MIB = 2 * 1024 * 1024;
const CPU_MODELS: readonly string[] = ["cortex-a72", "cortex-a53", "cortex-a57"];

/**
 * Fills in the defaults of `config` and checks every value.
 *
 * @throws {VmmError} `BAD_CONFIG` naming the value and what is allowed.
 * @example
 * ```ts
 * import { normalizeConfig } from "@vmkit/vmm";
 *
 * console.log(normalizeConfig({ cpus: 2 }).memorySize); // 268435456
 * ```
 */
export function normalizeConfig(config: VmConfig): NormalizedConfig {
  const memorySize = config.memorySize ?? DEFAULT_RAM_SIZE;
  const memoryBase = config.memoryBase ?? RAM_BASE;
  const cpus = config.cpus ?? 1;
  if (!Number.isSafeInteger(memorySize) || memorySize < MIN_RAM || memorySize % TWO_MIB !== 0) {
    throw new VmmError(
      "BAD_CONFIG",
      `memory size must be a multiple of 2 MiB and at least 16 MiB, got ${memorySize} bytes`,
    );
  }
  if (memorySize > MAX_RAM) {
    throw new VmmError("BAD_CONFIG", `memory size ${memorySize} bytes exceeds the 16 GiB limit`);
  }
  if (
    !Number.isSafeInteger(memoryBase) || memoryBase % TWO_MIB !== 0 || memoryBase < RAM_BASE ||
    memoryBase + memorySize > 2 ** 40
  ) {
    throw new VmmError(
      "BAD_CONFIG",
      `memory base must be 2 MiB aligned, at or above 0x40000000 and below 1 TiB with its size, got 0x${
        memoryBase.toString(16)
      }`,
    );
  }
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 8) {
    throw new VmmError("BAD_CONFIG", `cpus must be 1 to 8, got ${cpus}`);
  }
  const cpuModel = config.cpuModel ?? "cortex-a72";
  if ((cpuModel as string) === "max") {
    throw new VmmError(
      "BAD_CONFIG",
      'CPU model "max" is refused: its SVE support aborts the whole process inside the engine ' +
        "when Linux probes the vector length; choose cortex-a72, cortex-a53 or cortex-a57",
    );
  }
  if (!CPU_MODELS.includes(cpuModel)) {
    throw new VmmError(
      "BAD_CONFIG",
      `CPU model ${
        JSON.stringify(cpuModel)
      } is not supported; choose cortex-a72, cortex-a53 or cortex-a57`,
    );
  }
  const oneOf = <T extends string>(
    name: string,
    value: T | undefined,
    allowed: T[],
    fallback: T,
  ) => {
    if (value === undefined) return fallback;
    if (!allowed.includes(value)) {
      throw new VmmError(
        "BAD_CONFIG",
        `${name} must be ${allowed.join(" or ")}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const most = VIRTIO_MMIO_SLOTS - OTHER_VIRTIO_DEVICES;
  const disks = checkDisks(config.disks);
  if (config.rng !== undefined && typeof config.rng !== "boolean") {
    throw new VmmError(
      "BAD_CONFIG",
      `rng must be true or false, got ${JSON.stringify(config.rng)}`,
    );
  }
  return {
    memorySize,
    memoryBase,
    cpus,
    cpuModel,
    psciMethod: oneOf("psciMethod", config.psciMethod, ["hvc", "smc"], "hvc"),
    clock: oneOf("clock", config.clock, ["host", "virtual"], "host"),
    onReset: oneOf("onReset", config.onReset, ["restart", "exit"], "restart"),
    consoleDevice: oneOf("consoleDevice", config.consoleDevice, ["pl011", "virtio"], "pl011"),
    disks,
    nets: checkNets(config.nets, most - disks.length),
    rng: config.rng ?? true,
  };
}

/** The transports a VM can have besides the disks: a console and an entropy device. */
const OTHER_VIRTIO_DEVICES = 2;

function checkDisks(disks: readonly DiskConfig[] | undefined): readonly DiskConfig[] {
  if (disks === undefined) return [];
  if (!Array.isArray(disks)) throw new VmmError("BAD_CONFIG", "disks must be an array");
  const most = VIRTIO_MMIO_SLOTS - OTHER_VIRTIO_DEVICES;
  if (disks.length > most) {
    throw new VmmError("BAD_CONFIG", `at most ${most} disks, got ${disks.length}`);
  }
  disks.forEach((d, i) => {
    const b = d?.backend;
    if (
      typeof b?.read !== "function" || typeof b.write !== "function" ||
      typeof b.flush !== "function" || !Number.isSafeInteger(b.size)
    ) {
      throw new VmmError("BAD_CONFIG", `disk ${i}: backend is not a BlockBackend`);
    }
    if (d.readOnly !== undefined && typeof d.readOnly !== "boolean") {
      throw new VmmError("BAD_CONFIG", `disk ${i}: readOnly must be true or false`);
    }
    if (d.readOnly === false && b.readOnly) {
      throw new VmmError("BAD_CONFIG", `disk ${i}: its backend is read-only, readOnly: false`);
    }
    if (d.serial !== undefined && new TextEncoder().encode(String(d.serial)).length > 20) {
      throw new VmmError(
        "BAD_CONFIG",
        `disk ${i}: serial ${JSON.stringify(d.serial)} is over 20 bytes`,
      );
    }
  });
  return [...disks];
}

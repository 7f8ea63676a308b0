/**
 * A virtual machine: guest RAM, a vCPU, the GICv2, a PL011 UART, the virtual
 * timer on PPI 27, PSCI firmware, device-tree generation, and an asynchronous
 * run loop that keeps the host's event loop serviced.
 *
 * @module
 */

import { parseFdt, serializeFdt, setBootargs } from "@vmkit/fdt";
import {
  type GuestRam,
  type LinuxBootPlan,
  LoaderError,
  readKernelImage,
  setupLinuxImages,
} from "@vmkit/loader";
import { Gicv2, VirqController } from "@vmkit/vgic";
import {
  COUNTER_FREQUENCY_HZ,
  type CpuModel,
  type SliceCounter,
  UnicornLibrary,
  Vcpu,
  type VcpuExit,
} from "@vmkit/vcpu";
import { buildDeviceTree } from "./device_tree.ts";
import { VmmError } from "./errors.ts";
import { EventLoopYield } from "./event_loop.ts";
import { MmioBus } from "./mmio_bus.ts";
import {
  DEFAULT_CMDLINE,
  DEFAULT_RAM_SIZE,
  GICC_BASE,
  GICC_SIZE,
  GICD_BASE,
  GICD_SIZE,
  PHYSICAL_TIMER_INTID,
  RAM_BASE,
  UART_BASE,
  UART_SIZE,
  UART_SPI,
  VIRTUAL_TIMER_INTID,
} from "./platform.ts";
import { Pl011 } from "./pl011.ts";
import { handlePsci, PSCI_RET, type PsciPlatform } from "./psci.ts";
import { type ReferenceApi, referenceApi } from "./reference_api.ts";

/** Where guest console output goes. */
export interface ConsoleSink {
  /** Called with bytes the guest transmitted, in order. */
  write(bytes: Uint8Array): void;
}

/** A hypervisor or secure monitor call the VM's firmware does not answer itself. */
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

/** How to build a {@link VirtualMachine}. */
export interface VmConfig {
  /** Bytes of RAM: a multiple of 2 MiB, at least 16 MiB. Default 256 MiB. */
  memorySize?: number;
  /** Guest-physical start of RAM, 2 MiB aligned, at or above 0x4000_0000. Default 0x4000_0000. */
  memoryBase?: number;
  /** vCPUs described to the guest, 1–8. Default 1. Only the boot vCPU runs for now. */
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
  /** Instructions per slice (the longest the VMM waits to regain control). */
  sliceInstructions?: number;
  /** How the vCPU counts slices (see `VcpuOptions.sliceCounter`). Default: the fastest available. */
  sliceCounter?: SliceCounter;
  /** What a guest SYSTEM_RESET does: reboot the images (`restart`) or end the run (`exit`). */
  onReset?: "restart" | "exit";
  /** The engine library; default: one the VM opens and closes itself. */
  library?: UnicornLibrary;
  /** Guest console output. Default: discarded. */
  console?: ConsoleSink;
  /** Diagnostics from the VMM (one line each). */
  onLog?: (message: string) => void;
  /**
   * Answers calls the built-in PSCI does not: return the value for x0, or
   * `undefined` to let PSCI answer (NOT_SUPPORTED for unknown functions).
   */
  onCall?: (call: GuestCall) => bigint | undefined;
}

/** The Linux images and command line to boot. */
export interface LinuxImages {
  /** The kernel `Image`, uncompressed or gzip-compressed. */
  kernel: Uint8Array;
  /** An initramfs, if any. */
  initrd?: Uint8Array;
  /** A device tree to use instead of the generated one (its `/chosen` initrd range is patched). */
  dtb?: Uint8Array;
  /** Kernel command line. Default {@link DEFAULT_CMDLINE} for a generated tree. */
  cmdline?: string;
}

/** Why {@link VirtualMachine.run} finished. */
export type VmExitReason = "poweroff" | "reset" | "stopped" | "crash" | "timeout";

/** How a run ended. */
export interface VmExit {
  /** Why it ended. */
  readonly reason: VmExitReason;
  /** One line for humans. */
  readonly message: string;
  /** Guest instructions executed during the run. */
  readonly instructions: number;
  /** Wall-clock seconds the run took. */
  readonly seconds: number;
}

/** Options for {@link VirtualMachine.run}. */
export interface VmRunOptions {
  /** End the run with `timeout` after this many milliseconds of wall time. */
  timeoutMs?: number;
}

/** Something that puts the guest's images into RAM and says where to start. */
export type ImageLoader = () => { entry: number; x0: number };

type State = "created" | "ready" | "running" | "closed";

const MIN_RAM = 16 * 1024 * 1024;
const TWO_MIB = 2 * 1024 * 1024;
const YIELD_EVERY_MS = 10;
const CONSOLE_BUFFER = 4096;
const TICKS_PER_MS = COUNTER_FREQUENCY_HZ / 1000;

function normalizeConfig(config: VmConfig) {
  const memorySize = config.memorySize ?? DEFAULT_RAM_SIZE;
  const memoryBase = config.memoryBase ?? RAM_BASE;
  const cpus = config.cpus ?? 1;
  if (!Number.isSafeInteger(memorySize) || memorySize < MIN_RAM || memorySize % TWO_MIB !== 0) {
    throw new VmmError(
      "BAD_CONFIG",
      `memory size must be a multiple of 2 MiB and at least 16 MiB, got ${memorySize} bytes`,
    );
  }
  if (memorySize > 16 * 1024 ** 3) {
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
      'CPU model "max" is refused: in Unicorn 2.0.1 its SVE support aborts the whole process ' +
        "when Linux probes the vector length; choose cortex-a72, cortex-a53 or cortex-a57",
    );
  }
  if (!["cortex-a72", "cortex-a53", "cortex-a57"].includes(cpuModel)) {
    throw new VmmError(
      "BAD_CONFIG",
      `CPU model ${
        JSON.stringify(cpuModel)
      } is not supported; choose cortex-a72, cortex-a53 or cortex-a57`,
    );
  }
  return {
    memorySize,
    memoryBase,
    cpus,
    cpuModel,
    psciMethod: config.psciMethod ?? "hvc",
    clock: config.clock ?? "host",
    onReset: config.onReset ?? "restart",
  } as const;
}

/**
 * A whole machine around one running vCPU. Several can live in one process;
 * nothing is shared between them unless you pass the same `library`.
 *
 * ```ts ignore
 * using vm = new VirtualMachine({ memorySize: 256 << 20, console: { write: (b) => Deno.stdout.writeSync(b) } });
 * await vm.loadLinux({ kernel, initrd, cmdline: "console=ttyAMA0" });
 * const exit = await vm.run();
 * ```
 */
export class VirtualMachine implements Disposable {
  /** The guest's RAM: base address and the bytes the engine runs on. */
  readonly ram: GuestRam;
  /** Devices by guest-physical range. */
  readonly bus: MmioBus = new MmioBus();
  /** The interrupt controller. */
  readonly gic: Gicv2;
  /** The virq API over {@link gic}. */
  readonly virq: VirqController;
  /** The console UART. */
  readonly uart: Pl011;
  /** The running vCPUs (the boot vCPU). */
  readonly vcpus: readonly Vcpu[];
  /** Number of CPUs described to the guest. */
  readonly cpus: number;
  /** The CPU model. */
  readonly cpuModel: CpuModel;
  /** PSCI conduit. */
  readonly psciMethod: "hvc" | "smc";
  /** Clock policy. */
  readonly clock: "host" | "virtual";

  readonly #library: UnicornLibrary;
  readonly #ownsLibrary: boolean;
  readonly #events = new EventLoopYield();
  readonly #console: ConsoleSink | undefined;
  readonly #out = new Uint8Array(CONSOLE_BUFFER);
  #outLength = 0;
  readonly #log: (message: string) => void;
  readonly #onCall: ((call: GuestCall) => bigint | undefined) | undefined;
  readonly #onReset: "restart" | "exit";
  readonly #channelAcks = new Map<number, () => void>();
  readonly #psci: PsciPlatform;
  #state: State = "created";
  // True while the boot vCPU executes guest code (callbacks run inside it).
  #inGuest = false;
  #exited: Promise<VmExit> | undefined;
  #loader: ImageLoader | undefined;
  #entry = 0;
  #x0 = 0;
  #exitRequest: { reason: VmExitReason; message: string } | undefined;
  #resetRequest = false;
  // PSCI CPU_SUSPEND to a standby state: idle as after WFI before going on.
  #standby = false;
  #plan: LinuxBootPlan | undefined;
  #alive = false;
  #reference: ReferenceApi | undefined;

  /**
   * Builds the machine: RAM, the boot vCPU, GIC, UART and the MMIO bus.
   *
   * @throws {VmmError} `BAD_CONFIG` for a bad configuration.
   * @throws {VcpuError} when the engine cannot be loaded (the message says what to install).
   */
  constructor(config: VmConfig = {}) {
    const c = normalizeConfig(config);
    this.cpus = c.cpus;
    this.cpuModel = c.cpuModel;
    this.psciMethod = c.psciMethod;
    this.clock = c.clock;
    this.#onReset = c.onReset;
    this.#console = config.console;
    this.#log = config.onLog ?? (() => {});
    this.#onCall = config.onCall;
    this.#ownsLibrary = config.library === undefined;
    this.#library = config.library ?? UnicornLibrary.open();
    const created: Vcpu[] = [];
    try {
      this.ram = { base: c.memoryBase, bytes: new Uint8Array(c.memorySize) };
      const vcpu = new Vcpu({
        library: this.#library,
        id: 0,
        cpuModel: c.cpuModel,
        sliceInstructions: config.sliceInstructions,
        sliceCounter: config.sliceCounter,
        onTimerLevel: (level) => this.gic.setLevel(VIRTUAL_TIMER_INTID, level, 0),
        onPhysicalTimerLevel: (level) => this.gic.setLevel(PHYSICAL_TIMER_INTID, level, 0),
      });
      created.push(vcpu);
      this.vcpus = [vcpu];
      this.gic = new Gicv2({
        cpus: c.cpus,
        onIrq: (cpu, level) => {
          this.vcpus[cpu]?.setIrqLine(level);
          // An interrupt raised by the host (an injection, a device) ends an idle wait.
          if (level) this.#events.wake();
        },
      });
      this.virq = new VirqController(this.gic, {
        ackChannel: (channel) => this.#channelAcks.get(channel)?.(),
      });
      this.uart = new Pl011({
        onTransmit: (byte) => this.#emit(byte),
        onInterrupt: (level) => this.gic.setLevel(32 + UART_SPI, level),
      });
      this.bus.register("gic-distributor", GICD_BASE, GICD_SIZE, this.gic.distributor);
      this.bus.register("gic-cpu-interface", GICC_BASE, GICC_SIZE, this.gic.cpuInterface);
      this.bus.register("pl011", UART_BASE, UART_SIZE, this.uart);
      vcpu.mapRam(this.ram.base, this.ram.bytes as Uint8Array<ArrayBuffer>);
      for (const m of this.bus.mappings) {
        // The timer condition is re-evaluated when the guest acknowledges or
        // completes an interrupt, so a re-armed timer is seen at once.
        const after = m.base === GICC_BASE
          ? (a: { offset: number; cpu: number }) => {
            if (a.offset === 0x0c || a.offset === 0x10) this.vcpus[a.cpu]?.updateTimer();
          }
          : undefined;
        vcpu.mapMmio(m.base, m.size, MmioBus.handler(m.device, after));
      }
    } catch (e) {
      for (const v of created) v.close();
      if (this.#ownsLibrary) this.#library.close();
      throw e;
    }
    this.#psci = {
      cpuCount: c.cpus,
      isOn: (index) => index === 0,
      cpuOn: (index) => {
        this.#log(
          `guest asked to start CPU ${index} (PSCI CPU_ON): refused, VMKit runs one vCPU per VM for now`,
        );
        return PSCI_RET.INTERNAL_FAILURE;
      },
      cpuOff: () => PSCI_RET.DENIED,
      cpuStandby: () => {
        this.#standby = true;
      },
      systemOff: () => {
        this.#exitRequest ??= { reason: "poweroff", message: "the guest powered off" };
      },
      systemReset: () => {
        this.#resetRequest = true;
      },
    };
  }

  /** The boot plan of the last {@link loadLinux}, if any. */
  get bootPlan(): LinuxBootPlan | undefined {
    return this.#plan;
  }

  /** Whether {@link run} is in progress. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** The device tree this VM generates for the given command line and initrd range. */
  deviceTree(bootargs?: string, initrd?: { start: number; end: number }): Uint8Array {
    return serializeFdt(buildDeviceTree({
      memoryBase: this.ram.base,
      memorySize: this.ram.bytes.byteLength,
      cpus: this.cpus,
      cpuCompatible: `arm,${this.cpuModel}`,
      psciMethod: this.psciMethod,
      bootargs,
      initrd,
    }));
  }

  /**
   * Loads a Linux kernel (and initrd, and optionally a device tree) into RAM
   * following the arm64 boot protocol, and sets the boot vCPU's entry state.
   * The images are kept for reboots.
   *
   * @throws {VmmError} `LOAD_FAILED` with the loader's error as `cause`
   *   (the message says what and where), or `BAD_STATE` while running.
   */
  async loadLinux(images: LinuxImages): Promise<LinuxBootPlan> {
    this.#assertIdle("load images");
    let kernel: Uint8Array;
    try {
      kernel = await readKernelImage(images.kernel, {
        maxDecompressedSize: this.ram.bytes.byteLength,
      });
    } catch (e) {
      throw loadError(e, "kernel");
    }
    let dtb: Uint8Array;
    if (images.dtb) {
      try {
        const fdt = parseFdt(images.dtb);
        if (images.cmdline !== undefined) setBootargs(fdt, images.cmdline);
        dtb = images.cmdline !== undefined ? serializeFdt(fdt) : images.dtb;
      } catch (e) {
        throw loadError(e, "device tree");
      }
    } else {
      dtb = this.deviceTree(images.cmdline ?? DEFAULT_CMDLINE);
    }
    const initrd = images.initrd;
    const load = (): LinuxBootPlan => {
      try {
        return setupLinuxImages({ ram: this.ram, kernel, dtb, initrd, patchDtb: true });
      } catch (e) {
        throw loadError(e, "images");
      }
    };
    this.#plan = load();
    this.setImageLoader(() => {
      const plan = load();
      this.#plan = plan;
      return { entry: plan.entry, x0: plan.dtbAddress };
    }, { entry: this.#plan.entry, x0: this.#plan.dtbAddress });
    return this.#plan;
  }

  /**
   * Installs what a reboot re-runs to put the images back into RAM, and the
   * entry state for the first boot (`initial`; otherwise the loader runs now).
   */
  setImageLoader(loader: ImageLoader, initial?: { entry: number; x0: number }): void {
    this.#assertIdle("set the image loader");
    this.#loader = loader;
    const { entry, x0 } = initial ?? loader();
    this.setEntry(entry, x0);
  }

  /**
   * Installs what a reboot re-runs to put the images back, without running it
   * or changing the entry point (the images are already in place).
   */
  installImageLoader(loader: ImageLoader): void {
    this.#loader = loader;
  }

  /**
   * Sets where the boot vCPU starts (pc, x0) without loading anything. Allowed
   * while a run is in progress but not executing guest code (it then goes on
   * from there).
   */
  setEntry(entry: number, x0: number): void {
    if (this.#state === "closed") throw new VmmError("BAD_STATE", "the VM is closed");
    if (this.#inGuest) {
      throw new VmmError("BAD_STATE", "cannot set the entry point from inside a guest callback");
    }
    this.#entry = entry;
    this.#x0 = x0;
    this.vcpus[0].setEntry(entry, x0);
    if (this.#state === "created") this.#state = "ready";
  }

  /** The classic API bound to this VM (see {@link referenceApi}). */
  get reference(): ReferenceApi {
    this.#reference ??= referenceApi(this);
    return this.#reference;
  }

  /** Reports a diagnostic line through the configured `onLog`. */
  log(message: string): void {
    this.#log(message);
  }

  /** Whether a run loop is in progress (possibly about to stop). */
  get alive(): boolean {
    return this.#alive;
  }

  /** Whether a stop was requested and the run has not ended yet. */
  get stopping(): boolean {
    return this.#alive && this.#exitRequest?.reason === "stopped";
  }

  /** Withdraws a stop request the run has not acted on yet. */
  cancelStop(): void {
    if (this.#exitRequest?.reason === "stopped") this.#exitRequest = undefined;
  }

  /** Registers what acknowledging notification `channel` does (for passthrough interrupts). */
  onChannelAck(channel: number, ack: () => void): void {
    this.#channelAcks.set(channel, ack);
  }

  /** Queues console input for the guest and wakes it if it is idle. */
  sendInput(bytes: Uint8Array): void {
    this.uart.receive(bytes);
    this.#events.wake();
  }

  /** Asks a running guest to stop; `run()` then ends with `stopped`. */
  stop(message = "stopped by the host"): void {
    this.#exitRequest ??= { reason: "stopped", message };
    this.vcpus[0].requestStop();
    this.#events.wake();
  }

  /**
   * Reboots: clears RAM, puts the images back (re-running the image loader,
   * so images replaced since are used), and resets the vCPU, GIC and UART. A
   * running guest goes on from the new entry point; called from a device
   * callback while the guest executes, the reboot happens when the current
   * slice ends.
   *
   * @throws {VmmError} `BAD_STATE` if the VM is closed or nothing was loaded.
   */
  restart(options: { clear?: { offset: number; length: number } } = {}): void {
    if (this.#state === "closed") {
      throw new VmmError("BAD_STATE", "cannot restart: the VM is closed");
    }
    if (!this.#loader) throw new VmmError("BAD_STATE", "nothing to restart: no images were loaded");
    if (this.#inGuest) {
      this.#resetRequest = true;
      return;
    }
    this.#reboot(options.clear);
    // A run parked in an idle wait must look at the new state.
    this.#events.wake();
  }

  #reboot(clear?: { offset: number; length: number }): void {
    if (!this.#loader) {
      throw new VmmError("BAD_STATE", "nothing to reboot: no images were loaded");
    }
    if (clear) this.ram.bytes.fill(0, clear.offset, clear.offset + clear.length);
    else this.ram.bytes.fill(0);
    const vcpu = this.vcpus[0];
    vcpu.reset();
    const { entry, x0 } = this.#loader();
    // Code the engine translated before the reboot must not survive it; the
    // MMU is off after the reset, so guest-physical ranges are right here.
    vcpu.invalidateCode(this.ram.base, this.ram.bytes.byteLength);
    this.gic.reset();
    this.uart.reset();
    this.#entry = entry;
    this.#x0 = x0;
    vcpu.setEntry(entry, x0);
    if (this.#state === "created") this.#state = "ready";
  }

  /**
   * Starts {@link run} without waiting for it; the same promise is
   * {@link exited}. A failure of the run is also reported through `onLog`.
   */
  start(options: VmRunOptions = {}): Promise<VmExit> {
    const exited = this.run(options);
    exited.catch((e) => this.#log(`the VM stopped with an error: ${(e as Error).message}`));
    return exited;
  }

  /** The promise of the run in progress or last started, if any. */
  get exited(): Promise<VmExit> | undefined {
    return this.#exited;
  }

  /**
   * Runs the guest until it powers off, resets (with `onReset: "exit"`),
   * crashes, is stopped or times out. The host's event loop keeps running.
   *
   * @throws {VmmError} `BAD_STATE` if nothing was loaded or a run is in progress.
   * @throws {VcpuError} if a device model or listener threw while the guest ran.
   */
  run(options: VmRunOptions = {}): Promise<VmExit> {
    const exited = this.#run(options);
    this.#exited = exited;
    return exited;
  }

  async #run(options: VmRunOptions): Promise<VmExit> {
    if (this.#state === "closed") throw new VmmError("BAD_STATE", "the VM is closed");
    if (this.#state === "running") throw new VmmError("BAD_STATE", "the VM is already running");
    if (this.#state !== "ready") {
      throw new VmmError("BAD_STATE", "nothing to run: load images or set an entry point first");
    }
    this.#state = "running";
    this.#alive = true;
    this.#exitRequest = undefined;
    const started = performance.now();
    const instructionsBefore = this.vcpus[0].stats.instructions;
    const deadline = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs;
    let result: { reason: VmExitReason; message: string };
    try {
      result = await this.#loop(deadline);
    } finally {
      this.#alive = false;
      this.#flushConsole();
      if (this.#state === "running") this.#state = "ready";
    }
    return {
      ...result,
      instructions: this.vcpus[0].stats.instructions - instructionsBefore,
      seconds: (performance.now() - started) / 1000,
    };
  }

  async #loop(deadline: number): Promise<{ reason: VmExitReason; message: string }> {
    const vcpu = this.vcpus[0];
    let yieldAt = performance.now() + YIELD_EVERY_MS;
    for (;;) {
      if (this.#exitRequest) return this.#exitRequest;
      this.#inGuest = true;
      let exit: VcpuExit;
      try {
        exit = vcpu.run();
      } finally {
        this.#inGuest = false;
      }
      switch (exit.reason) {
        case "preempted":
        case "stopped":
          break;
        case "hvc":
        case "smc":
          this.#onGuestCall(vcpu, exit);
          if (this.#standby) {
            this.#standby = false;
            this.#flushConsole();
            await this.#idle(vcpu, deadline);
            yieldAt = performance.now() + YIELD_EVERY_MS;
          }
          break;
        case "wfi":
          this.#flushConsole();
          await this.#idle(vcpu, deadline);
          yieldAt = performance.now() + YIELD_EVERY_MS;
          break;
        case "exception-loop":
          return {
            reason: "crash",
            message: `the guest crashed: it keeps faulting on its exception vector at pc 0x${
              vcpu.getPc().toString(16)
            } (exception ${exit.exception}, ESR 0x${exit.syndrome.toString(16)})`,
          };
        case "unhandled-exception":
          return {
            reason: "crash",
            message: `the guest crashed: exception ${exit.exception} (ESR 0x${
              exit.syndrome.toString(16)
            }) at pc 0x${vcpu.getPc().toString(16)} cannot be delivered`,
          };
      }
      if (this.#resetRequest) {
        this.#resetRequest = false;
        if (this.#onReset === "exit") return { reason: "reset", message: "the guest rebooted" };
        this.#log("the guest rebooted; reloading its images");
        this.#flushConsole();
        this.#reboot();
      }
      const now = performance.now();
      if (now >= deadline) return { reason: "timeout", message: "the run timed out" };
      if (now >= yieldAt) {
        this.#flushConsole();
        await this.#events.yield();
        yieldAt = performance.now() + YIELD_EVERY_MS;
      }
    }
  }

  #onGuestCall(vcpu: Vcpu, exit: VcpuExit): void {
    const conduit = exit.reason as "hvc" | "smc";
    if (this.#onCall) {
      const answer = this.#onCall({ conduit, imm: exit.imm, args: exit.args, cpu: vcpu.id });
      if (answer !== undefined) {
        vcpu.setX(0, answer);
        return;
      }
    }
    if (conduit !== this.psciMethod || exit.imm !== 0) {
      vcpu.setX(0, BigInt.asUintN(64, BigInt(PSCI_RET.NOT_SUPPORTED)));
      return;
    }
    const result = handlePsci(exit.args, vcpu.id, this.#psci);
    if (result.returns) vcpu.setX(0, result.x0);
  }

  async #idle(vcpu: Vcpu, deadline: number): Promise<void> {
    // The timer may have fired since the run ended.
    vcpu.updateTimer();
    // An interrupt that arrived after the engine halted wakes it right away.
    if (vcpu.irqLine || this.#exitRequest || this.#resetRequest) return;
    // A timer whose output is already high and still left the IRQ line low is
    // one the GIC does not deliver (disabled, masked, or its priority too
    // low): it cannot end this wait, and waking for it would spin, so only
    // timers yet to fire count.
    const due = vcpu.timerDeadline();
    const now = vcpu.counter();
    if (due !== undefined && due <= now) return;
    if (this.clock === "virtual" && due !== undefined) {
      for (const v of this.vcpus) v.counterOffset -= due - now;
      return;
    }
    const timerMs = due === undefined ? Infinity : Number(due - now) / TICKS_PER_MS;
    await this.#events.sleep(Math.min(timerMs, deadline - performance.now()));
  }

  #emit(byte: number): void {
    if (!this.#console) return;
    this.#out[this.#outLength++] = byte;
    if (this.#outLength === CONSOLE_BUFFER) this.#flushConsole();
  }

  #flushConsole(): void {
    if (this.#outLength === 0 || !this.#console) return;
    const chunk = this.#out.slice(0, this.#outLength);
    this.#outLength = 0;
    this.#console.write(chunk);
  }

  #assertIdle(what: string): void {
    if (this.#state === "closed") {
      throw new VmmError("BAD_STATE", `cannot ${what}: the VM is closed`);
    }
    if (this.#state === "running") {
      throw new VmmError("BAD_STATE", `cannot ${what} while the VM is running`);
    }
  }

  /** Frees the engine and everything else. Idempotent; stop a run first. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#events[Symbol.dispose]();
    for (const v of this.vcpus) v.close();
    if (this.#ownsLibrary) this.#library.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function loadError(e: unknown, what: string): VmmError {
  if (e instanceof VmmError) return e;
  const message = e instanceof LoaderError || e instanceof Error ? e.message : String(e);
  return new VmmError("LOAD_FAILED", `cannot load the ${what}: ${message}`, { cause: e });
}

/**
 * A virtual machine: guest RAM, the vCPU, the GICv2, and the devices the
 * registry places (PL011 UART, exit-status device, any virtio device), the
 * timers on PPIs 27 and 30, PSCI firmware, a generated device tree, and an
 * asynchronous run loop that keeps the host's event loop serviced.
 *
 * Its lifecycle is the state machine in `lifecycle.ts`.
 *
 * @module
 */

import { serializeFdt } from "@vmkit/fdt";
import type { GuestRam, LinuxBootPlan } from "@vmkit/loader";
import { linuxImageLoader } from "./_linux_images.ts";
import { Gicv2, VirqController } from "@vmkit/vgic";
import { type CpuModel, type Pmu, UnicornLibrary, type Vcpu, VcpuGroup } from "@vmkit/vcpu";
import {
  type ImageLoader,
  type LinuxImages,
  normalizeConfig,
  SMP_SLICE_INSTRUCTIONS,
  type VmConfig,
  type VmExit,
  type VmRunOptions,
} from "./config.ts";
import { DeviceRegistry } from "./device_registry.ts";
import { buildDeviceTree, describeGicv2 } from "./device_tree.ts";
import { VmmError } from "./errors.ts";
import { EventLoopYield } from "./event_loop.ts";
import { EXIT_DEVICE_BASE, EXIT_DEVICE_SIZE, ExitStatusDevice } from "./exit_device.ts";
import { Lifecycle, type VmState } from "./lifecycle.ts";
import {
  GICC_BASE,
  GICC_REGISTERS_SIZE,
  GICC_SIZE,
  GICD_BASE,
  GICD_REGISTERS_SIZE,
  GICD_SIZE,
  PHYSICAL_TIMER_INTID,
  UART_BASE,
  UART_SIZE,
  UART_SPI,
  VIRTUAL_TIMER_INTID,
} from "./platform.ts";
import { Pl011 } from "./pl011.ts";
import { GuestCalls } from "./guest_calls.ts";
import { ConsoleBuffer } from "./console_buffer.ts";
import { RateLimitedLog } from "./rate_limited_log.ts";
import { type ReferenceApi, referenceApi } from "./reference_api.ts";
import { createPmus } from "./performance_monitors.ts";
import { cpuInterfaceLanes, distributorLanes } from "./gic_access.ts";
import { GuestTime, runLoop, type RunLoopHost, type RunOutcome } from "./run_loop.ts";
import { CpuStates } from "./cpu_states.ts";
import { RamGuestMemory } from "@vmkit/virtio";
import { VirtioDevices } from "./virtio_devices.ts";
import { startGdbStub, type VmDebugTarget } from "./debug_target.ts";
import type { GdbServer } from "@vmkit/gdb";

/**
 * A whole machine. Several can live in one process; nothing is shared
 * between them unless you pass the same `library`.
 *
 * @example A bare-metal program (booting Linux: see the module docs)
 * ```ts
 * import { VirtualMachine } from "@vmkit/vmm";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const console = { write: (bytes: Uint8Array) => void (out += new TextDecoder().decode(bytes)) };
 * using vm = new VirtualMachine({ memorySize: 16 << 20, console });
 * // Writes "ok" to the PL011 at 0x0900_0000, then PSCI SYSTEM_OFF over HVC.
 * [0xd2a12001, 0x52800de0, 0x39000020, 0x52800d60, 0x39000020, 0x52800100, 0x72b08000, 0xd4000002]
 *   .forEach((word, i) => new DataView(vm.ram.bytes.buffer).setUint32(4 * i, word, true));
 * vm.setEntry(vm.ram.base, 0);
 * assert.equal((await vm.run()).reason, "poweroff");
 * assert.equal(out, "ok");
 * ```
 */
export class VirtualMachine implements Disposable {
  /** The guest's RAM: base address and the bytes the engine runs on. */
  readonly ram: GuestRam;
  /** The interrupt controller. */
  readonly gic: Gicv2;
  /** The virq API over {@link gic}. */
  readonly virq: VirqController;
  /** The console UART. */
  readonly uart: Pl011;
  /** The device through which a guest ends the run with a status of its own. */
  readonly exitDevice: ExitStatusDevice;
  /** The virtio devices: disks, the virtio console, the entropy device (`virtio_devices.ts`). */
  readonly virtio: VirtioDevices;
  /**
   * The device registry: windows, interrupts, mappings, device-tree nodes
   * and resets. Add devices before the VM runs (while it is created or ready).
   */
  readonly devices: DeviceRegistry;
  /** The vCPUs, by id (MPIDR affinity 0). */
  readonly vcpus: readonly Vcpu[];
  /** Their power and wait states (PSCI's view). */
  readonly cpuStates: CpuStates;
  /** Number of CPUs described to the guest. */
  readonly cpus: number;
  /** The CPU model. */
  readonly cpuModel: CpuModel;
  /** PSCI conduit. */
  readonly psciMethod: "hvc" | "smc";
  /** Clock policy. */
  readonly clock: "host" | "virtual";
  /** The GDB stub serving this VM (the `gdb` option), e.g. for its address. */
  readonly gdb: GdbServer | undefined;
  readonly #debug: VmDebugTarget | undefined;

  readonly #life = new Lifecycle();
  readonly #library: UnicornLibrary;
  readonly #ownsLibrary: boolean;
  readonly #events = new EventLoopYield();
  readonly #out: ConsoleBuffer;
  readonly #onLog: (message: string) => void;
  readonly #guestLog: RateLimitedLog;
  readonly #onReset: "restart" | "exit";
  readonly #channelAcks = new Map<number, () => void>();
  readonly #calls: GuestCalls;
  readonly #group: VcpuGroup;
  readonly #time: GuestTime;
  // The vCPU a boot (and a reboot) starts.
  #bootCpu = 0;
  #loader: ImageLoader | undefined;
  #plan: LinuxBootPlan | undefined;
  #reference: ReferenceApi | undefined;
  #exited: Promise<VmExit> | undefined;

  /**
   * Builds the machine: RAM, the boot vCPU, the GIC, and the UART and
   * exit-status device placed by the registry.
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
    this.#out = new ConsoleBuffer(config.console);
    this.#onLog = config.onLog ?? (() => {});
    this.#guestLog = new RateLimitedLog(this.#onLog);
    this.#ownsLibrary = config.library === undefined;
    this.#library = config.library ?? UnicornLibrary.open();
    let group: VcpuGroup | undefined;
    this.#time = new GuestTime(c.clock);
    this.cpuStates = new CpuStates(c.cpus);
    try {
      this.ram = { base: c.memoryBase, bytes: new Uint8Array(c.memorySize) };
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
      const gic = this.gic;
      const timerLines = (intid: number) =>
        Array.from({ length: c.cpus }, (_, cpu) => gic.line(intid, cpu));
      const virtualLines = timerLines(VIRTUAL_TIMER_INTID);
      const physicalLines = timerLines(PHYSICAL_TIMER_INTID);
      const time = this.#time;
      const pmus = this.#pmus = createPmus(gic, c.cpus, (cpu) => this.vcpus[cpu].counter());
      group = new VcpuGroup({
        library: this.#library,
        count: c.cpus,
        cpuModel: c.cpuModel,
        sliceInstructions: config.sliceInstructions ??
          (c.cpus > 1 ? SMP_SLICE_INSTRUCTIONS : undefined),
        sliceCounter: config.sliceCounter,
        // Several vCPUs share translated code; on engines whose stores
        // through one address leave code translated at another stale, the
        // guest's cache maintenance keeps them coherent.
        clock: c.clock === "virtual" ? (retired) => time.now(retired) : undefined,
        onTimerLevel: (cpu, level) => virtualLines[cpu].set(level),
        onPhysicalTimerLevel: (cpu, level) => physicalLines[cpu].set(level),
        pmu: (cpu) => pmus[cpu],
      });
      this.#group = group;
      this.vcpus = group.vcpus;
      group.mapRam(this.ram.base, this.ram.bytes as Uint8Array<ArrayBuffer>);
      // A timer re-armed in its interrupt handler is seen when the guest
      // completes the interrupt, not only at the end of the slice.
      this.gic.addDeactivateListener((cpu) => this.vcpus[cpu]?.updateTimer());

      this.devices = new DeviceRegistry(this.gic);
      this.devices.attach(group);
      this.devices.addWindow({
        name: "gic-distributor",
        base: GICD_BASE,
        size: GICD_REGISTERS_SIZE,
        device: distributorLanes(gic.distributor),
      });
      this.devices.addWindow({
        name: "gic-cpu-interface",
        base: GICC_BASE,
        size: GICC_REGISTERS_SIZE,
        device: cpuInterfaceLanes(gic.cpuInterface),
      });
      this.devices.onReset(() => gic.reset());
      this.devices.onReset(() => pmus.forEach((pmu) => pmu.reset()));
      this.devices.onDescribe((fdt) =>
        describeGicv2(fdt, {
          distributor: { base: GICD_BASE, size: GICD_SIZE },
          cpuInterface: { base: GICC_BASE, size: GICC_SIZE },
        })
      );
      this.uart = this.devices.add({
        name: "pl011",
        base: UART_BASE,
        size: UART_SIZE,
        spis: [UART_SPI],
        device: ({ lines }) =>
          new Pl011({ onTransmit: (byte) => this.#out.emit(byte), interrupt: lines[0] }),
      }).device as Pl011;
      this.exitDevice = new ExitStatusDevice((request) => {
        this.#life.request(
          request.kind === "reset"
            ? { kind: "reset" }
            : { kind: "poweroff", status: request.status },
        );
        this.#stopRunning();
      });
      this.devices.add({
        name: "exit-status",
        base: EXIT_DEVICE_BASE,
        size: EXIT_DEVICE_SIZE,
        spis: [],
        device: this.exitDevice,
      });
      this.virtio = new VirtioDevices(this.devices, {
        ...c,
        memory: new RamGuestMemory(this.ram.base, this.ram.bytes),
        console: (bytes) => bytes.forEach((b) => this.#out.emit(b)),
      });
      const hooks = { wake: () => this.#events.wake(), reboot: () => this.#reboot() };
      const stub = config.gdb && startGdbStub(this, hooks, config.gdb, this.#onLog);
      this.#debug = stub ? stub.target : undefined;
      this.gdb = stub ? stub.server : undefined;
    } catch (e) {
      group?.close();
      if (this.#ownsLibrary) this.#library.close();
      throw e;
    }
    this.cpuStates.reset(0);
    this.#calls = new GuestCalls({
      vcpus: this.vcpus,
      states: this.cpuStates,
      ram: this.ram,
      conduit: c.psciMethod,
      irqAsserted: (cpu) => this.gic.irqAsserted(cpu),
      onCall: config.onCall,
      request: (kind) =>
        this.#life.request(kind === "reset" ? { kind } : { kind: "poweroff", status: 0 }),
      log: (kind, message) => this.#guestLog.log(kind, message),
    });
  }

  /** Where the VM is in its lifecycle (`lifecycle.ts`). */
  get state(): VmState {
    return this.#life.state;
  }

  /** The boot plan of the last {@link loadLinux}, if any. */
  get bootPlan(): LinuxBootPlan | undefined {
    return this.#plan;
  }

  /** Whether {@link run} is in progress. */
  get running(): boolean {
    return this.#life.state === "running";
  }

  /** The device tree this VM generates for the given command line and initrd range. */
  deviceTree(bootargs?: string, initrd?: { start: number; end: number }): Uint8Array {
    this.#life.require("generate a device tree", "created", "ready", "running");
    return serializeFdt(buildDeviceTree({
      memoryBase: this.ram.base,
      memorySize: this.ram.bytes.byteLength,
      cpus: this.cpus,
      cpuCompatible: `arm,${this.cpuModel}`,
      psciMethod: this.psciMethod,
      bootargs,
      initrd,
      devices: (fdt) => this.devices.describe(fdt),
    }));
  }

  /**
   * Loads a Linux kernel (and initrd, and optionally a device tree) into RAM
   * following the arm64 boot protocol, and sets the boot vCPU's entry state
   * with a fresh register context. The images are kept for reboots.
   *
   * @throws {VmmError} `LOAD_FAILED` with the loader's error as `cause`
   *   (the message says what and where), or `INVALID_STATE` while running.
   */
  async loadLinux(images: LinuxImages): Promise<LinuxBootPlan> {
    this.#life.require("load images", "created", "ready");
    const load = await linuxImageLoader(images, {
      ram: this.ram,
      recheck: () => this.#life.require("load images", "created", "ready"),
      deviceTree: (cmdline) => this.deviceTree(cmdline ?? this.virtio.defaultCmdline),
    });
    const plan = load();
    this.#plan = plan;
    this.setImageLoader(() => {
      const again = load();
      this.#plan = again;
      return { entry: again.entry, x0: again.dtbAddress };
    }, { entry: plan.entry, x0: plan.dtbAddress });
    return plan;
  }

  /**
   * Installs what a reboot re-runs to put the images back into RAM, and
   * boots the first time at `initial` (otherwise the loader runs now).
   *
   * @throws {VmmError} `INVALID_STATE` while running or after close.
   */
  setImageLoader(loader: ImageLoader, initial?: { entry: number; x0: number }): void {
    this.#life.require("set the image loader", "created", "ready");
    this.#loader = loader;
    const { entry, x0 } = initial ?? loader();
    this.setEntry(entry, x0);
  }

  /**
   * Installs what a reboot re-runs to put the images back, without running
   * it or changing the entry point (the images are already in place).
   *
   * @throws {VmmError} `INVALID_STATE` after close.
   */
  installImageLoader(loader: ImageLoader): void {
    this.#life.require("install an image loader", "created", "ready", "running");
    this.#loader = loader;
  }

  /**
   * The vCPU that boots (and reboots) the guest; the others start through
   * PSCI CPU_ON. Default 0. While running, the next boot or reboot uses it.
   *
   * @throws {VmmError} `BAD_CONFIG` for a vCPU that does not exist;
   *   `INVALID_STATE` after close.
   */
  setBootCpu(cpu: number): void {
    this.#life.require("choose the boot vCPU", "created", "ready", "running");
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new VmmError("BAD_CONFIG", `boot vCPU ${cpu} does not exist (0 to ${this.cpus - 1})`);
    }
    this.#bootCpu = cpu;
  }

  /** The vCPU that boots the guest. */
  get bootCpu(): number {
    return this.#bootCpu;
  }

  /**
   * Boots the boot vCPU at `entry` with x0 = `x0` and a fresh register
   * context (EL1h, DAIF masked, MMU off, no translated code from before),
   * without loading anything. While running (also from a callback), the
   * guest goes on from there at the run loop's next safe point.
   *
   * @throws {VmmError} `INVALID_STATE` after close.
   */
  setEntry(entry: number, x0: number): void {
    this.#life.require("set the entry point", "created", "ready", "running");
    if (this.#life.state === "running") {
      this.#life.request({ kind: "boot", entry, x0 });
      this.#stopRunning();
      return;
    }
    this.#boot(entry, x0);
    if (this.#life.state === "created") this.#life.to("ready");
  }

  /** The classic API bound to this VM (see {@link referenceApi}). */
  get reference(): ReferenceApi {
    this.#reference ??= referenceApi(this);
    return this.#reference;
  }

  /** Reports a diagnostic line through the configured `onLog`. */
  log(message: string): void {
    this.#onLog(message);
  }

  /** Whether a stop was asked for and the run has not ended yet. */
  get stopping(): boolean {
    return this.#life.state === "running" && this.#life.pending?.kind === "stop";
  }

  /** Withdraws a stop the run has not acted on yet. */
  cancelStop(): void {
    this.#life.cancelStop();
  }

  /** Registers what acknowledging notification `channel` does (for passthrough interrupts). */
  onChannelAck(channel: number, ack: () => void): void {
    this.#channelAcks.set(channel, ack);
  }

  /**
   * Queues console input for the guest's console device (the UART, or the
   * virtio-console with `consoleDevice: "virtio"`), which holds it until the
   * guest reads, and wakes the guest if it is idle.
   */
  sendInput(bytes: Uint8Array): void {
    this.#life.require("send input", "created", "ready", "running");
    if (!this.virtio.receive(bytes)) this.uart.receive(bytes);
    this.#events.wake();
  }

  /** Asks a running guest to stop; `run()` then ends with `stopped`. Does nothing otherwise. */
  stop(message = "stopped by the host"): void {
    if (this.#life.state !== "running") return;
    this.#life.request({ kind: "stop", message });
    this.#stopRunning();
  }

  // Ends the slice in progress (a request waits for the next safe point) and
  // an idle wait.
  #stopRunning(): void {
    for (const v of this.vcpus) v.requestStop();
    this.#events.wake();
    this.#debug?.hostRequest();
  }

  /**
   * Reboots: clears RAM (or `clear` of it), puts the images back
   * (re-running the image loader, so images replaced since are used), and
   * resets the vCPU and every device. A running guest goes on from the new
   * entry point; called while running (also from a callback) the reboot
   * happens at the run loop's next safe point.
   *
   * @throws {VmmError} `INVALID_STATE` if the VM is closed or nothing was loaded.
   */
  restart(options: { clear?: { offset: number; length: number } } = {}): void {
    this.#life.require("restart", "ready", "running");
    if (!this.#loader) {
      throw new VmmError("INVALID_STATE", "cannot restart: no images were loaded");
    }
    if (this.#life.state === "running") {
      this.#life.request({ kind: "restart", clear: options.clear });
      this.#stopRunning();
      return;
    }
    this.#reboot(options.clear);
  }

  /**
   * Starts {@link run} without waiting for it; the same promise is
   * {@link exited}. A failure of the run is also reported through `onLog`.
   */
  start(options: VmRunOptions = {}): Promise<VmExit> {
    const exited = this.run(options);
    exited.catch((e) => this.#onLog(`the VM stopped with an error: ${(e as Error).message}`));
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
   * @throws {VmmError} `INVALID_STATE` if nothing was loaded, a run is in
   *   progress or the VM is closed; `BAD_CONFIG` for a bad timeout.
   * @throws {VcpuError} if a device model or listener threw while the guest ran.
   */
  run(options: VmRunOptions = {}): Promise<VmExit> {
    const exited = this.#run(options);
    this.#exited = exited;
    return exited;
  }

  async #run(options: VmRunOptions): Promise<VmExit> {
    this.#life.require("run", "ready");
    const timeout = options.timeoutMs;
    if (timeout !== undefined && !(timeout > 0)) {
      throw new VmmError("BAD_CONFIG", `timeoutMs must be a positive number, got ${timeout}`);
    }
    this.#life.to("running");
    const started = performance.now();
    const instructionsBefore = this.#instructions();
    let outcome: RunOutcome | undefined;
    try {
      outcome = await runLoop(this.#loopHost, timeout === undefined ? Infinity : started + timeout);
    } finally {
      this.#debug?.ended(outcome);
      this.#out.flush();
      this.#guestLog.flush();
      const closing = this.#closeAfterRun;
      this.#life.clearEnd();
      if (this.#life.state === "running") this.#life.to("ready");
      if (closing) this.#dispose();
    }
    return {
      ...outcome,
      instructions: this.#instructions() - instructionsBefore,
      seconds: (performance.now() - started) / 1000,
    };
  }

  #instructions(): number {
    let n = 0;
    for (const v of this.vcpus) n += v.stats.instructions;
    return n;
  }

  // What the run loop needs from the VM, built once.
  get #loopHost(): RunLoopHost {
    return this.#loopHostCache ??= {
      vcpus: this.vcpus,
      cpus: this.cpuStates,
      life: this.#life,
      events: this.#events,
      time: this.#time,
      pmus: this.#pmus,
      guestCall: (vcpu, exit) => this.#calls.answer(vcpu, exit),
      reboot: (clear) => this.#reboot(clear),
      boot: (entry, x0) => this.#boot(entry, x0),
      onReset: () => this.#onReset,
      flushConsole: () => this.#out.flush(),
      log: (kind, message) => this.#guestLog.log(kind, message),
      debugger: this.#debug,
    };
  }
  #loopHostCache: RunLoopHost | undefined;
  #pmus: readonly Pmu[] = [];

  // A fresh register context at `entry` on the boot vCPU, every other vCPU
  // off: nothing of the previous boot's CPU state or translated code survives
  // (the IRQ inputs follow the GIC again, which reports only changes).
  #boot(entry: number, x0: number): void {
    for (const v of this.vcpus) {
      v.reset();
      v.setIrqLine(this.gic.irqAsserted(v.id));
    }
    const vcpu = this.vcpus[this.#bootCpu];
    vcpu.invalidateAllCode();
    vcpu.setEntry(entry, x0);
    this.cpuStates.reset(this.#bootCpu);
  }

  #reboot(clear?: { offset: number; length: number }): void {
    if (!this.#loader) throw new VmmError("INVALID_STATE", "cannot reboot: no images were loaded");
    if (clear) this.ram.bytes.fill(0, clear.offset, clear.offset + clear.length);
    else this.ram.bytes.fill(0);
    for (const v of this.vcpus) v.reset();
    this.devices.reset();
    const { entry, x0 } = this.#loader();
    this.#boot(entry, x0);
    // A run parked in an idle wait must look at the new state.
    this.#events.wake();
  }

  #closeAfterRun = false;

  /**
   * Frees the engine and everything else. Idempotent. Called while running
   * (also from a callback), the run ends first (`stopped`, "the VM was
   * closed") and the VM is freed when it has unwound.
   */
  close(): void {
    const state = this.#life.state;
    if (state === "closed") return;
    if (state === "running") {
      this.#closeAfterRun = true;
      this.#life.request({ kind: "close" });
      this.#stopRunning();
      return;
    }
    this.#dispose();
  }

  #dispose(): void {
    if (this.#life.state === "closed") return;
    this.#life.to("closed");
    this.#events[Symbol.dispose]();
    this.#group.close();
    if (this.#ownsLibrary) this.#library.close();
    this.virtio.close();
    void this.gdb?.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Runs a bare-metal proof program from `guests/vcpu/` on a real {@link Vcpu}
 * and collects what it reports through the test device (the protocol is in
 * `guests/vcpu/README.md`). The harness plays the VMM: it maps RAM and the
 * device, routes the virtual timer's output and the device's interrupt
 * request to the IRQ line, handles `wfi` by waiting for the deadline or by
 * moving guest time, answers HVC/SMC through a callback, and stops at the
 * guest's "done" call.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assetsRequired } from "../../../testing/requirements.ts";
import type { UnicornLibrary } from "../library.ts";
import { COUNTER_FREQUENCY_HZ, type SliceCounter, Vcpu } from "../vcpu.ts";
import type { MmioAccess, VcpuExit, VcpuExitReason, VcpuStats } from "../exits.ts";

/** Guest-physical base of RAM; the programs are linked to run here. */
export const RAM_BASE = 0x4000_0000;
/** RAM the programs' page tables cover (`guests/baremetal.ld`). */
export const RAM_SIZE = 0x20_0000;
/** Guest-physical base of the test device. */
export const TESTDEV_BASE = 0x0b00_0000;
/** What the guest reads from the device's MAGIC register: "TEST". */
export const TESTDEV_MAGIC = 0x5453_4554;
/** The immediate of the final HVC. */
export const HVC_DONE = 0xffff;
/** x2 of the final HVC: "DONE". */
export const DONE_MAGIC = 0x454e_4f44n;

/** Device registers (byte offsets). */
const REG = {
  MAGIC: 0x00,
  VERSION: 0x04,
  NAME: 0x08,
  OBSERVED_LO: 0x10,
  OBSERVED_HI: 0x14,
  EXPECTED_LO: 0x18,
  EXPECTED_HI: 0x1c,
  RESULT: 0x20,
  PUTC: 0x24,
  IRQ: 0x28,
} as const;

const MAX_NAME = 95;

/** One check as the guest reported it. */
export interface GuestCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly observed: bigint;
  readonly expected: bigint;
}

/** How the harness lets guest time pass at a `wfi` exit. */
export type GuestClock = "virtual" | "real";

/** Options for {@link runGuest}. */
export interface GuestRunOptions {
  /**
   * `virtual` (default) moves guest time to the deadline at once through
   * `counterOffset`; `real` waits until the counter reaches it.
   */
  clock?: GuestClock;
  /**
   * Answers an HVC or SMC that is not the final "done" call: set results with
   * `vcpu.setX`. Without it such a call is a protocol error.
   */
  onCall?: (exit: Readonly<VcpuExit>, vcpu: Vcpu) => void;
  /**
   * Upper bound on `run()` calls before the harness gives up. Default 100; the
   * programs need at most about 10 at the default slice length.
   */
  maxRuns?: number;
  /** The vCPU's slice length (instructions per run at most). */
  sliceInstructions?: number;
  /** How the vCPU counts slices (its default when absent). */
  sliceCounter?: SliceCounter;
  /** Whether the vCPU traps instruction-cache maintenance (its default when absent). */
  trapCacheMaintenance?: boolean;
}

/** How a run ended. */
export type GuestEnd =
  | "done"
  | "max-runs"
  | "wfi-forever"
  | "error"
  | Exclude<VcpuExitReason, "preempted" | "wfi" | "hvc" | "smc">;

/** Everything a run produced, for the test to assert on. */
export interface GuestRunResult {
  /** How the run ended; only `done` means the guest finished. */
  readonly end: GuestEnd;
  /** The error `run()` threw, when `end` is `error`. */
  readonly error: unknown;
  /** The reports, in the order the guest made them. */
  readonly checks: readonly GuestCheck[];
  /** The counts the guest's final call carried. */
  readonly done: { readonly passed: number; readonly failed: number } | undefined;
  /** Every exit except `preempted`, in order. */
  readonly exits: readonly VcpuExitReason[];
  /** `exit.deadline` at each `wfi` exit. */
  readonly deadlines: readonly (bigint | undefined)[];
  /** Every level the virtual timer's output changed to. */
  readonly timerLevels: readonly boolean[];
  /** How often the guest asked the device to raise the IRQ line. */
  readonly irqRaised: number;
  /** How often it asked to lower it. */
  readonly irqLowered: number;
  /** Accesses that do not follow the protocol. */
  readonly protocolErrors: readonly string[];
  /** Text the guest wrote to PUTC. */
  readonly log: string;
  /** The vCPU's counters at the end. */
  readonly stats: Readonly<VcpuStats>;
  /** The vCPU's program counter at the end. */
  readonly pc: bigint;
  /** The IRQ line's level at the end. */
  readonly irqLine: boolean;
}

/**
 * Loads `image` at {@link RAM_BASE}, enters it at EL1h and runs it to its
 * "done" call (or until something goes wrong, which the result records
 * rather than throws).
 */
export function runGuest(
  library: UnicornLibrary,
  image: Uint8Array,
  options: GuestRunOptions = {},
): GuestRunResult {
  if (image.byteLength > RAM_SIZE) {
    throw new RangeError(`guest image of ${image.byteLength} bytes does not fit in RAM`);
  }
  const clock = options.clock ?? "virtual";
  const maxRuns = options.maxRuns ?? 100;
  const ram = new Uint8Array(RAM_SIZE);
  ram.set(image);

  const checks: GuestCheck[] = [];
  const exits: VcpuExitReason[] = [];
  const deadlines: (bigint | undefined)[] = [];
  const timerLevels: boolean[] = [];
  const protocolErrors: string[] = [];
  let log = "";
  let irqRaised = 0;
  let irqLowered = 0;
  let deviceIrq = false;
  let timerIrq = false;
  const latch = { name: 0, observedLo: 0, observedHi: 0, expectedLo: 0, expectedHi: 0 };

  // Assigned right below; the callbacks only run once the guest does.
  let vcpu: Vcpu | undefined = undefined;
  // The vCPU has one IRQ input; the device's request and the timer share it
  // as wired-OR lines into an interrupt controller would.
  const drive = () => vcpu?.setIrqLine(deviceIrq || timerIrq);
  vcpu = new Vcpu({
    library,
    sliceInstructions: options.sliceInstructions,
    sliceCounter: options.sliceCounter,
    trapCacheMaintenance: options.trapCacheMaintenance,
    onTimerLevel: (level) => {
      timerLevels.push(level);
      timerIrq = level;
      drive();
    },
  });

  const readName = (address: number): string => {
    const start = address - RAM_BASE;
    if (start < 0 || start >= RAM_SIZE) {
      protocolErrors.push(`check name at 0x${address.toString(16)} is outside RAM`);
      return `<name at 0x${address.toString(16)}>`;
    }
    const end = ram.indexOf(0, start);
    if (end < 0 || end - start > MAX_NAME) {
      protocolErrors.push(`check name at 0x${address.toString(16)} is not terminated`);
      return `<name at 0x${address.toString(16)}>`;
    }
    return new TextDecoder().decode(ram.subarray(start, end));
  };

  const device = (a: MmioAccess) => {
    if (a.size !== 4 || (a.offset & 3) !== 0) {
      protocolErrors.push(`${a.size}-byte access at device offset 0x${a.offset.toString(16)}`);
      if (!a.write) a.value = 0;
      return;
    }
    if (!a.write) {
      a.value = a.offset === REG.MAGIC ? TESTDEV_MAGIC : a.offset === REG.VERSION ? 1 : 0;
      return;
    }
    const v = a.value >>> 0;
    switch (a.offset) {
      case REG.NAME:
        latch.name = v;
        break;
      case REG.OBSERVED_LO:
        latch.observedLo = v;
        break;
      case REG.OBSERVED_HI:
        latch.observedHi = v;
        break;
      case REG.EXPECTED_LO:
        latch.expectedLo = v;
        break;
      case REG.EXPECTED_HI:
        latch.expectedHi = v;
        break;
      case REG.RESULT:
        if (v > 1) protocolErrors.push(`RESULT written with ${v}`);
        checks.push({
          name: readName(latch.name),
          passed: v === 1,
          observed: (BigInt(latch.observedHi) << 32n) | BigInt(latch.observedLo),
          expected: (BigInt(latch.expectedHi) << 32n) | BigInt(latch.expectedLo),
        });
        latch.name =
          latch.observedLo =
          latch.observedHi =
          latch.expectedLo =
          latch.expectedHi =
            0;
        break;
      case REG.PUTC:
        log += String.fromCharCode(v & 0xff);
        break;
      case REG.IRQ:
        if (v === 1) {
          irqRaised++;
          deviceIrq = true;
        } else {
          irqLowered++;
          deviceIrq = false;
        }
        drive();
        break;
      default:
        protocolErrors.push(
          `write of 0x${v.toString(16)} to device offset 0x${a.offset.toString(16)}`,
        );
    }
  };

  let end: GuestEnd = "max-runs";
  let error: unknown = undefined;
  let done: { passed: number; failed: number } | undefined = undefined;
  try {
    vcpu.mapRam(RAM_BASE, ram);
    vcpu.mapMmio(TESTDEV_BASE, 0x1000, device);
    vcpu.setEntry(RAM_BASE, 0);
    runs: for (let i = 0; i < maxRuns; i++) {
      let exit: VcpuExit;
      try {
        exit = vcpu.run();
      } catch (e) {
        end = "error";
        error = e;
        break;
      }
      if (exit.reason === "preempted") continue;
      exits.push(exit.reason);
      switch (exit.reason) {
        case "hvc":
        case "smc":
          if (exit.reason === "hvc" && exit.imm === HVC_DONE && exit.args[2] === DONE_MAGIC) {
            done = { passed: Number(exit.args[0]), failed: Number(exit.args[1]) };
            end = "done";
            break runs;
          }
          if (options.onCall) options.onCall(exit, vcpu);
          else protocolErrors.push(`unexpected ${exit.reason} #0x${exit.imm.toString(16)}`);
          break;
        case "wfi":
          deadlines.push(exit.deadline);
          if (!waitForInterrupt(vcpu, exit.deadline, clock)) {
            end = "wfi-forever";
            break runs;
          }
          break;
        default:
          end = exit.reason;
          break runs;
      }
    }
    return {
      end,
      error,
      checks,
      done,
      exits,
      deadlines,
      timerLevels,
      irqRaised,
      irqLowered,
      protocolErrors,
      log,
      stats: { ...vcpu.stats },
      pc: vcpu.getPc(),
      irqLine: vcpu.irqLine,
    };
  } finally {
    vcpu.close();
  }
}

/**
 * What a VMM does at `wfi`: nothing if an interrupt is already pending,
 * otherwise let guest time reach the timer's deadline. Returns false when
 * nothing could ever wake the guest.
 */
function waitForInterrupt(vcpu: Vcpu, deadline: bigint | undefined, clock: GuestClock): boolean {
  if (vcpu.irqLine) return true;
  if (deadline === undefined) return false;
  const now = vcpu.counter();
  if (now >= deadline) return true;
  if (clock === "virtual") {
    vcpu.counterOffset -= deadline - now;
    return true;
  }
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const left = vcpu.counter();
    if (left >= deadline) return true;
    const ms = Number(deadline - left) / (COUNTER_FREQUENCY_HZ / 1000);
    Atomics.wait(wait, 0, 0, Math.max(1, Math.ceil(ms)));
  }
}

/** Where `make -C guests` puts the vCPU programs. */
export const GUEST_BUILD_DIR: URL = new URL("../../../guests/build/vcpu/", import.meta.url);

/** Whether missing assets must fail tests instead of being ignored (CI sets it). */
export const REQUIRE_ASSETS: boolean = assetsRequired();

/** A built program: where it is, and whether a test that needs it is ignored. */
export interface GuestProgram {
  readonly name: string;
  readonly path: string;
  readonly present: boolean;
  readonly ignore: boolean;
}

/**
 * Looks up built programs by name. Prints one line naming `make -C guests`
 * when some are missing: they are ignored, or, with `VMKIT_REQUIRE_ASSETS=1`,
 * their tests run and fail.
 */
export function findGuestPrograms(names: readonly string[]): Record<string, GuestProgram> {
  const found: Record<string, GuestProgram> = {};
  const missing: string[] = [];
  for (const name of names) {
    const path = decodeURIComponent(new URL(`${name}.bin`, GUEST_BUILD_DIR).pathname);
    let present = false;
    try {
      present = Deno.statSync(path).isFile;
    } catch {
      // Not built.
    }
    if (!present) missing.push(name);
    found[name] = { name, path, present, ignore: !present && !REQUIRE_ASSETS };
  }
  if (missing.length > 0) {
    const what = `guest programs not built (${
      missing.join(", ")
    }); build them with: make -C guests`;
    if (REQUIRE_ASSETS) console.error(`VMKIT_REQUIRE_ASSETS=1 and ${what}`);
    else console.warn(`ignoring tests: ${what}`);
  }
  return found;
}

/** Reads a program's image, or fails saying how to build it. */
export function loadGuestProgram(program: GuestProgram): Uint8Array {
  if (!program.present) {
    throw new Error(`${program.path} is missing: build the guest programs with: make -C guests`);
  }
  return Deno.readFileSync(program.path);
}

/** The checks every program reports before its own (lib/runtime.c). */
export const RUNTIME_CHECKS: readonly string[] = [
  "runtime: test device magic",
  "runtime: MMU on",
];

function describe(c: GuestCheck): string {
  return `${c.name}: observed 0x${c.observed.toString(16)}, expected 0x${c.expected.toString(16)}`;
}

/**
 * Asserts that a run reported exactly the `expected` checks (after
 * {@link RUNTIME_CHECKS}), in order, that all passed, and that it ended with a
 * "done" call whose counts agree, without protocol errors.
 */
export function assertGuestChecks(result: GuestRunResult, expected: readonly string[]): void {
  const context = () => {
    const error = result.error === undefined ? "" : `; error: ${String(result.error)}`;
    const log = result.log === "" ? "" : `; guest log: ${result.log.trimEnd()}`;
    return `${result.checks.length} checks reported${error}${log}`;
  };
  assert.deepEqual(
    result.checks.filter((c) => !c.passed).map(describe),
    [],
    `checks the guest reported as failed (${context()})`,
  );
  assert.equal(result.end, "done", `the run ended with "${result.end}" (${context()})`);
  assert.deepEqual(
    result.checks.map((c) => c.name),
    [...RUNTIME_CHECKS, ...expected],
    "the checks the guest reported",
  );
  assert.deepEqual(result.done, { passed: result.checks.length, failed: 0 }, "the final counts");
  assert.deepEqual(result.protocolErrors, [], "test-device protocol errors");
}

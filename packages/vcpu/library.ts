/**
 * Finding, loading and checking libunicorn.
 *
 * @module
 */

import { NativeBlockHook, selfTestBlockHook } from "./block_budget.ts";
import { calibrate, type EngineLayout } from "./calibration.ts";
import { probeStoresInvalidateCode } from "./_coherence_probe.ts";
import { probeMemoryHooksVirtual } from "./_mem_hook_probe.ts";
import { VcpuError } from "./errors.ts";
import { UNICORN_SYMBOLS, type UnicornSymbols } from "./symbols.ts";

/**
 * Options for {@link UnicornLibrary.open}.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, type UnicornLibraryOptions } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * // An explicit path is the only place tried; a wrong one says so.
 * const options: UnicornLibraryOptions = { path: "/nonexistent/libunicorn.so.2" };
 * assert.throws(() => UnicornLibrary.open(options), {
 *   name: "VcpuError",
 *   code: "LIBRARY_NOT_FOUND",
 * });
 * ```
 */
export interface UnicornLibraryOptions {
  /**
   * Path or soname of libunicorn to load. Default: `$VMKIT_UNICORN_PATH` when
   * set (and readable), else the usual names for this OS.
   */
  path?: string;
}

/**
 * A Unicorn version number.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, type UnicornVersion } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const { major, minor, patch }: UnicornVersion = library.version;
 * assert.equal(library.versionString, `${major}.${minor}.${patch}`);
 * assert.ok(library.atLeast(2, 0, 1)); // open() refuses anything older
 * ```
 */
export interface UnicornVersion {
  /** Major version. */
  readonly major: number;
  /** Minor version. */
  readonly minor: number;
  /** Patch level. */
  readonly patch: number;
}

const INSTALL_HINT = "Install the Unicorn CPU emulator (2.1 or newer is fastest; 2.0.1 works): " +
  "Debian 13, Ubuntu 25.10 and later: sudo apt-get install libunicorn2t64; " +
  "Debian 12, Ubuntu 24.04: sudo apt-get install libunicorn2 (2.0.1; ./vmkit fetches Debian 13's 2.1 " +
  "by itself); Fedora: sudo dnf install unicorn; macOS: brew install unicorn; " +
  "or set VMKIT_UNICORN_PATH to the library's path.";

/**
 * The names {@link UnicornLibrary.open} tries when neither a path nor
 * `VMKIT_UNICORN_PATH` is given, most specific first.
 *
 * @example
 * ```ts
 * import { candidateLibraryNames } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * assert.equal(candidateLibraryNames("linux")[0], "libunicorn.so.2");
 * assert.deepEqual(candidateLibraryNames("windows"), ["unicorn.dll"]);
 * ```
 */
export function candidateLibraryNames(os: typeof Deno.build.os = Deno.build.os): string[] {
  switch (os) {
    case "darwin":
      return ["libunicorn.2.dylib", "/usr/local/lib/libunicorn.2.dylib", "libunicorn.dylib"];
    case "windows":
      return ["unicorn.dll"];
    default:
      return [
        "libunicorn.so.2",
        "/usr/lib/x86_64-linux-gnu/libunicorn.so.2",
        "/usr/lib/aarch64-linux-gnu/libunicorn.so.2",
        "/usr/lib64/libunicorn.so.2",
        "/usr/local/lib/libunicorn.so.2",
        "libunicorn.so",
      ];
  }
}

/**
 * Why this host cannot drive the engine, or `undefined`. `uc_hook_add` and
 * `uc_ctl` are variadic, and Deno's FFI binds fixed-arity functions. That
 * is the same call on x86-64 (System V) and on AArch64 Linux, where the
 * extra integer arguments travel in the registers a fixed argument would
 * use; Apple's AArch64 ABI puts variadic arguments on the stack instead, so
 * the engine would read garbage.
 */
export function unsupportedPlatform(
  os: typeof Deno.build.os = Deno.build.os,
  arch: typeof Deno.build.arch = Deno.build.arch,
): string | undefined {
  if (os === "darwin" && arch === "aarch64") {
    return "VMKit does not run on Apple Silicon (macOS on arm64): Unicorn's variadic functions " +
      "take their extra arguments on the stack there, which Deno's FFI cannot pass. " +
      "Run it on Linux (x86-64 or arm64), or on an Intel Mac.";
  }
  return undefined;
}

function envPath(): string | undefined {
  try {
    return Deno.env.get("VMKIT_UNICORN_PATH") || undefined;
  } catch {
    // Without --allow-env the override is simply unavailable.
    return undefined;
  }
}

/**
 * A loaded libunicorn. Open one per process (or per VM) and share it between
 * vCPUs: loading checks the version and runs a short self-test that learns
 * where this build keeps two private values VMKit needs (see
 * {@link EngineLayout}).
 *
 * @example
 * ```ts
 * import { UnicornLibrary, Vcpu } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * const library = UnicornLibrary.open(); // $VMKIT_UNICORN_PATH, else the usual names
 * assert.ok(library.description.startsWith(`Unicorn ${library.versionString} at `));
 * {
 *   using vcpu = new Vcpu({ library });
 *   using other = new Vcpu({ library, id: 1 }); // one library, many vCPUs
 *   assert.equal(vcpu.id + other.id, 1);
 * }
 * library.close(); // after its vCPUs
 * assert.ok(library.closed);
 * ```
 */
export class UnicornLibrary implements Disposable {
  /** The path or name the library was loaded from. */
  readonly path: string;
  /** The library's version. */
  readonly version: UnicornVersion;
  /** The bound C functions. */
  readonly symbols: UnicornSymbols;
  readonly #lib: Deno.DynamicLibrary<typeof UNICORN_SYMBOLS>;
  #layout: EngineLayout | undefined;
  #blockHook: NativeBlockHook | undefined;
  #blockHookUnavailable: string | undefined;
  #storesInvalidateCode: boolean | undefined;
  #memoryHooksVirtual: boolean | undefined;
  #closed = false;

  private constructor(path: string, lib: Deno.DynamicLibrary<typeof UNICORN_SYMBOLS>) {
    this.path = path;
    this.#lib = lib;
    this.symbols = lib.symbols;
    const v = lib.symbols.uc_version(null, null);
    this.version = { major: v >>> 24, minor: (v >>> 16) & 0xff, patch: (v >>> 8) & 0xff };
  }

  /**
   * Loads libunicorn and checks it is 2.0.1 or newer.
   *
   * @throws {VcpuError} `LIBRARY_NOT_FOUND` naming every place tried and the
   *   package to install; `LIBRARY_TOO_OLD` for an older version.
   */
  static open(options: UnicornLibraryOptions = {}): UnicornLibrary {
    const unsupported = unsupportedPlatform();
    if (unsupported) throw new VcpuError("UNSUPPORTED_PLATFORM", unsupported);
    const explicit = options.path ?? envPath();
    const names = explicit ? [explicit] : candidateLibraryNames();
    const failures: string[] = [];
    for (const name of names) {
      let lib: Deno.DynamicLibrary<typeof UNICORN_SYMBOLS>;
      try {
        lib = Deno.dlopen(name, UNICORN_SYMBOLS);
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message.split("\n")[0]}`);
        continue;
      }
      const library = new UnicornLibrary(name, lib);
      const { major, minor, patch } = library.version;
      if (!library.atLeast(2, 0, 1)) {
        lib.close();
        throw new VcpuError(
          "LIBRARY_TOO_OLD",
          `${name} is Unicorn ${major}.${minor}.${patch}; VMKit needs 2.0.1 or newer. ${INSTALL_HINT}`,
        );
      }
      return library;
    }
    throw new VcpuError(
      "LIBRARY_NOT_FOUND",
      `libunicorn could not be loaded (tried ${failures.join("; ")}). ${INSTALL_HINT}`,
    );
  }

  /** A readable version string, e.g. `2.0.1`. */
  get versionString(): string {
    return `${this.version.major}.${this.version.minor}.${this.version.patch}`;
  }

  /**
   * Where this build of the engine keeps the exception syndrome and its
   * instruction counter, learned by a self-test on first use.
   *
   * @throws {VcpuError} `CALIBRATION_FAILED` when the self-test cannot find them.
   */
  get layout(): EngineLayout {
    this.#assertOpen();
    if (this.#layout === undefined) {
      try {
        this.#layout = calibrate(this.symbols);
      } catch (e) {
        if (!(e instanceof VcpuError) || e.code !== "CALIBRATION_FAILED") throw e;
        throw this.calibrationFailure(e.message, e);
      }
    }
    return this.#layout;
  }

  /**
   * Whether a guest store drops the code translated from its page whatever
   * virtual address it goes through (2.0.1), learned by a probe on first
   * use. Where it does not (2.1.x), vCPUs trap the guest's instruction-cache
   * maintenance to stay coherent.
   */
  get storesInvalidateCode(): boolean {
    this.#assertOpen();
    this.#storesInvalidateCode ??= probeStoresInvalidateCode(this.symbols);
    return this.#storesInvalidateCode;
  }

  /**
   * Whether memory hooks are told the virtual address of an access (2.0.x)
   * rather than the physical one (2.1.x), learned by a probe on first use;
   * watchpoints need to know.
   */
  get memoryHooksVirtual(): boolean {
    this.#assertOpen();
    this.#memoryHooksVirtual ??= probeMemoryHooksVirtual(this.symbols);
    return this.#memoryHooksVirtual;
  }

  /**
   * The native block hook that counts instruction slices (see
   * `block_budget.ts`), mapped and self-tested on first use; `undefined` when
   * this machine cannot have it ({@link sliceCounterUnavailable} says why).
   *
   * @internal
   */
  get blockHook(): NativeBlockHook | undefined {
    this.#assertOpen();
    if (this.#blockHook === undefined && this.#blockHookUnavailable === undefined) {
      const opened = NativeBlockHook.open(this.path);
      if (opened instanceof NativeBlockHook) {
        const problem = selfTestBlockHook(this.symbols, opened);
        if (problem === undefined) {
          this.#blockHook = opened;
        } else {
          opened.close();
          this.#blockHookUnavailable = `the native block hook failed its self-test: ${problem}`;
        }
      } else {
        this.#blockHookUnavailable = opened.unavailable;
      }
    }
    return this.#blockHook;
  }

  /**
   * Why vCPUs on this library count slices with the engine's slower
   * per-instruction counter, or `undefined` when the native block hook works.
   */
  get sliceCounterUnavailable(): string | undefined {
    this.blockHook;
    return this.#blockHookUnavailable;
  }

  /** Whether engines of this version let the translation buffer be sized (2.1 and later). */
  get canSizeTranslationBuffer(): boolean {
    return this.atLeast(2, 1, 0);
  }

  /** Whether this library's version is `major.minor.patch` or newer. */
  atLeast(major: number, minor: number, patch: number): boolean {
    const v = this.version;
    return v.major !== major
      ? v.major > major
      : v.minor !== minor
      ? v.minor > minor
      : v.patch >= patch;
  }

  /** `Unicorn 2.1.1 at /usr/lib/...`: which engine this is, for messages. */
  get description(): string {
    return `Unicorn ${this.versionString} at ${this.path}`;
  }

  /**
   * A `CALIBRATION_FAILED` error that names this engine and what to do.
   *
   * @internal
   */
  calibrationFailure(problem: string, cause?: unknown): VcpuError {
    return new VcpuError(
      "CALIBRATION_FAILED",
      `${this.description}: ${problem}. This build keeps its CPU state in a layout VMKit does not ` +
        `recognise. Use a supported engine (2.0.1, 2.1.1 or 2.1.4; ./vmkit fetches Debian 13's 2.1 ` +
        `by itself) by setting VMKIT_UNICORN_PATH to its libunicorn.so.2, and report this version.`,
      { cause },
    );
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new VcpuError("CLOSED", "the Unicorn library was closed");
  }

  /** Unloads the library. Close every vCPU using it first. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#blockHook?.close();
    this.#lib.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

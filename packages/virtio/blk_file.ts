/**
 * A raw disk image in a host file (or a block device) as a virtio-blk backend.
 *
 * @module
 */

import { type BlockBackend, checkRange } from "./blk_backend.ts";
import { VirtioError } from "./errors.ts";

/**
 * Options for {@link FileBlockBackend.open}.
 *
 * @example
 * ```ts
 * import type { FileBlockBackendOptions } from "@vmkit/virtio";
 *
 * const options: FileBlockBackendOptions = { readOnly: true };
 * console.log(options.readOnly); // true
 * ```
 */
export interface FileBlockBackendOptions {
  /** Open the file for reading only and refuse writes; default false. */
  readonly readOnly?: boolean;
}

/** Zeros written per call by `writeZeroes`. */
const ZERO_CHUNK = 1 << 16;

/**
 * A raw image file. The size is taken when the file is opened; flushes call `fdatasync`
 * (`syncData()`), so a flush resolves only once the data written before it is durable.
 * Discard does not deallocate (Deno has no hole punching): the data stays until overwritten,
 * which virtio allows. Operations run one at a time, because the file has one position.
 * `readSync` and `writeSync` are plain system calls on the calling thread (a page-cache hit
 * takes microseconds per MiB; virtio-blk uses them to complete requests inside the guest's
 * notification); they refuse with `INVALID_STATE` while a Promise operation is pending.
 *
 * @example
 * ```ts
 * import { FileBlockBackend } from "@vmkit/virtio";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(4096).fill(1));
 * using disk = await FileBlockBackend.open(path);
 * await disk.write(512, new Uint8Array(512).fill(2));
 * await disk.flush();
 * const back = new Uint8Array(4);
 * await disk.read(1022, back);
 * console.log(disk.size, [...back]); // 4096 [ 2, 2, 1, 1 ]
 * await Deno.remove(path);
 * ```
 */
export class FileBlockBackend implements BlockBackend, Disposable {
  /** See {@link BlockBackend.size}. */
  readonly size: number;
  /** See {@link BlockBackend.readOnly}. */
  readonly readOnly: boolean;
  /** The file's path. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();
  /** Promise operations not yet settled. */
  #pending = 0;
  #zeros: Uint8Array | null = null;

  private constructor(path: string, file: Deno.FsFile, size: number, readOnly: boolean) {
    this.path = path;
    this.#file = file;
    this.size = size;
    this.readOnly = readOnly;
  }

  /**
   * Opens an image.
   *
   * @throws {VirtioError} `BACKEND_OPEN_FAILED` when the file cannot be opened (for writing,
   *   unless `readOnly`), is a directory, or its size cannot be found; `cause` holds why
   */
  static async open(
    path: string,
    options: FileBlockBackendOptions = {},
  ): Promise<FileBlockBackend> {
    const readOnly = options.readOnly ?? false;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: !readOnly });
    } catch (cause) {
      throw new VirtioError(
        "BACKEND_OPEN_FAILED",
        `cannot open disk image ${path}${readOnly ? "" : " for writing"}: ${message(cause)}`,
        { cause },
      );
    }
    try {
      if ((await file.stat()).isDirectory) throw new Error("it is a directory");
      // Seeking to the end also sizes block devices, whose stat size is 0.
      const size = await file.seek(0, Deno.SeekMode.End);
      return new FileBlockBackend(path, file, size, readOnly);
    } catch (cause) {
      file.close();
      throw new VirtioError(
        "BACKEND_OPEN_FAILED",
        `cannot use disk image ${path}: ${message(cause)}`,
        { cause },
      );
    }
  }

  /** See {@link BlockBackend.read}; rejects when the file ends early. */
  read(offset: number, target: Uint8Array): Promise<void> {
    return this.#exclusive(false, offset, target.length, async (file) => {
      await file.seek(offset, Deno.SeekMode.Start);
      for (let done = 0; done < target.length;) {
        const n = await file.read(target.subarray(done));
        if (n === null) {
          throw new VirtioError("OUT_OF_RANGE", `${this.path} ends at ${offset + done}`);
        }
        done += n;
      }
    });
  }

  /** See {@link BlockBackend.write}. */
  write(offset: number, source: Uint8Array): Promise<void> {
    return this.#exclusive(true, offset, source.length, async (file) => {
      await file.seek(offset, Deno.SeekMode.Start);
      for (let done = 0; done < source.length;) {
        done += await file.write(source.subarray(done));
      }
    });
  }

  /** `fdatasync`: resolves once every write before it is durable. */
  flush(): Promise<void> {
    return this.#exclusive(false, 0, 0, (file) => file.syncData());
  }

  /** Checks the range and keeps the data (see the class docs). */
  discard(offset: number, length: number): Promise<void> {
    return this.#exclusive(true, offset, length, () => Promise.resolve());
  }

  /** See {@link BlockBackend.writeZeroes}. */
  writeZeroes(offset: number, length: number): Promise<void> {
    return this.#exclusive(true, offset, length, async (file) => {
      this.#zeros ??= new Uint8Array(ZERO_CHUNK);
      await file.seek(offset, Deno.SeekMode.Start);
      for (let left = length; left > 0;) {
        left -= await file.write(this.#zeros.subarray(0, Math.min(left, ZERO_CHUNK)));
      }
    });
  }

  /** See {@link BlockBackend.readSync}; throws where {@link read} would reject. */
  readSync(offset: number, target: Uint8Array): void {
    const file = this.#syncAccess(false, offset, target.length);
    file.seekSync(offset, Deno.SeekMode.Start);
    for (let done = 0; done < target.length;) {
      const n = file.readSync(done === 0 ? target : target.subarray(done));
      if (n === null) {
        throw new VirtioError("OUT_OF_RANGE", `${this.path} ends at ${offset + done}`);
      }
      done += n;
    }
  }

  /** See {@link BlockBackend.writeSync}; throws where {@link write} would reject. */
  writeSync(offset: number, source: Uint8Array): void {
    const file = this.#syncAccess(true, offset, source.length);
    file.seekSync(offset, Deno.SeekMode.Start);
    for (let done = 0; done < source.length;) {
      done += file.writeSync(done === 0 ? source : source.subarray(done));
    }
  }

  #syncAccess(write: boolean, offset: number, length: number): Deno.FsFile {
    // An awaited operation between its seek and its read must not see the position move.
    if (this.#pending > 0) {
      throw new VirtioError("INVALID_STATE", `${this.path} has an operation in progress`);
    }
    this.#check(write, offset, length);
    return this.#file;
  }

  #check(write: boolean, offset: number, length: number): void {
    if (this.#closed) throw new VirtioError("BACKEND_CLOSED", `${this.path} is closed`);
    if (write && this.readOnly) {
      throw new VirtioError("INVALID_STATE", `${this.path} is opened read-only`);
    }
    // The device checks requests against the capacity; this keeps any other caller from
    // growing the file or writing past the disk too.
    checkRange(this.size, offset, length);
  }

  #exclusive(
    write: boolean,
    offset: number,
    length: number,
    run: (file: Deno.FsFile) => Promise<void>,
  ): Promise<void> {
    this.#pending++;
    // Settles only once counted out, so whoever awaits it may use the sync forms at once.
    const op = this.#tail.then(() => {
      this.#check(write, offset, length);
      return run(this.#file);
    }).finally(() => this.#pending--);
    this.#tail = op.catch(() => {});
    return op;
  }

  /** Closes the file; later operations reject with `BACKEND_CLOSED`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  /** See {@link FileBlockBackend.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The part of Unicorn's C API that VMKit binds, as a `Deno.dlopen` symbol table.
 *
 * Engine handles are `pointer`s; out-parameters and register values pass
 * through `buffer`s (typed arrays) so a call allocates nothing.
 *
 * @module
 */

/**
 * FFI signatures of the Unicorn functions VMKit uses, for `Deno.dlopen`.
 *
 * @example
 * ```ts
 * import { UNICORN_SYMBOLS, UnicornLibrary } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * // The same table binds the same file again, outside the vCPU.
 * const raw = Deno.dlopen(library.path, UNICORN_SYMBOLS);
 * try {
 *   assert.equal(raw.symbols.uc_version(null, null) >>> 24, library.version.major);
 * } finally {
 *   raw.close();
 * }
 * ```
 */
export const UNICORN_SYMBOLS = {
  uc_version: { parameters: ["pointer", "pointer"], result: "u32" },
  uc_open: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  uc_close: { parameters: ["pointer"], result: "i32" },
  uc_strerror: { parameters: ["i32"], result: "pointer" },
  uc_mem_map_ptr: { parameters: ["pointer", "u64", "usize", "u32", "buffer"], result: "i32" },
  uc_mem_unmap: { parameters: ["pointer", "u64", "usize"], result: "i32" },
  uc_mem_protect: { parameters: ["pointer", "u64", "usize", "u32"], result: "i32" },
  uc_mem_read: { parameters: ["pointer", "u64", "buffer", "usize"], result: "i32" },
  uc_mem_write: { parameters: ["pointer", "u64", "buffer", "usize"], result: "i32" },
  uc_mmio_map: {
    parameters: ["pointer", "u64", "usize", "function", "pointer", "function", "pointer"],
    result: "i32",
  },
  uc_reg_read: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  uc_reg_write: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  // The guest runs inside this call and every hook re-enters JavaScript. V8
  // aborts the process if code that called a fast API function is
  // deoptimized while the call is on the stack, and Deno makes every symbol
  // without a struct a fast API candidate. A struct of one i32 is returned in
  // the same register as an i32 on every supported ABI, so declaring the
  // result that way keeps the ABI and the call on V8's ordinary path.
  uc_emu_start: {
    parameters: ["pointer", "u64", "u64", "u64", "usize"],
    result: { struct: ["i32"] },
  },
  uc_emu_stop: { parameters: ["pointer"], result: "i32" },
  uc_hook_add: {
    parameters: ["pointer", "buffer", "i32", "function", "pointer", "u64", "u64"],
    result: "i32",
  },
  // uc_hook_add is variadic; instruction hooks pass the instruction id as one
  // extra argument. Declaring it as a fixed parameter is correct on x86-64 and
  // AArch64 Linux, where the first eight integer arguments go in registers
  // whether or not they are variadic. Apple's AArch64 ABI puts variadic arguments
  // on the stack, which is why UnicornLibrary.open refuses that platform.
  uc_hook_add_insn: {
    name: "uc_hook_add",
    parameters: ["pointer", "buffer", "i32", "function", "pointer", "u64", "u64", "i32"],
    result: "i32",
  },
  uc_hook_del: { parameters: ["pointer", "usize"], result: "i32" },
  // uc_ctl is variadic too; every control VMKit uses takes one or two integers.
  uc_ctl_1: { name: "uc_ctl", parameters: ["pointer", "i32", "i64"], result: "i32" },
  uc_ctl_2: { name: "uc_ctl", parameters: ["pointer", "i32", "u64", "u64"], result: "i32" },
  uc_context_alloc: { parameters: ["pointer", "buffer"], result: "i32" },
  uc_context_save: { parameters: ["pointer", "pointer"], result: "i32" },
  uc_context_restore: { parameters: ["pointer", "pointer"], result: "i32" },
  uc_context_size: { parameters: ["pointer"], result: "usize" },
  uc_context_free: { parameters: ["pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The loaded symbol table's type: the C functions {@link UnicornLibrary.symbols}
 * holds. They take raw engine handles and check nothing; a VMM needs none of
 * them to run a guest.
 *
 * @example
 * ```ts
 * import { UnicornLibrary, type UnicornSymbols } from "@vmkit/vcpu";
 * import assert from "node:assert/strict";
 *
 * using library = UnicornLibrary.open();
 * const symbols: UnicornSymbols = library.symbols;
 * // uc_version packs major, minor and patch into the top three bytes.
 * const packed = symbols.uc_version(null, null);
 * assert.equal((packed >>> 16) & 0xff, library.version.minor);
 * ```
 */
export type UnicornSymbols = Deno.DynamicLibrary<typeof UNICORN_SYMBOLS>["symbols"];

/**
 * A GDB remote stub for AArch64 machines, engine-free: the GDB Remote Serial Protocol over TCP
 * (or any transport), driving a {@link DebugTarget} that a VM implements over its vCPUs.
 * gdb sees one thread per vCPU with the standard AArch64 registers (x0–x30, sp, pc, cpsr,
 * v0–v31, fpsr, fpcr), and gets breakpoints, watchpoints, stepping, Ctrl-C and `monitor`
 * commands.
 *
 * @module
 */

export { GdbError, type GdbErrorCode, type ProtocolFault } from "./errors.ts";
export { MAX_MEMORY_READ, MAX_PACKET_SIZE, MAX_POINTS, MAX_RETRANSMISSIONS } from "./limits.ts";
export { AARCH64_REGNUM, Aarch64Registers } from "./registers.ts";
export {
  type DebugTarget,
  type DebugThread,
  GDB_SIGNAL,
  MEMORY_OK,
  type MemoryFaultKind,
  type MemoryResult,
  type PointResult,
  type PointType,
  type ResumeAction,
  type StopRecord,
} from "./target.ts";
export { GdbSession } from "./session.ts";
export type {
  GdbSessionEnd,
  GdbSessionOptions,
  GdbSessionState,
  GdbSessionStats,
} from "./session_types.ts";
export { GdbServer, type GdbServerOptions } from "./server.ts";

import assert from "node:assert/strict";
import {
  handlePsci,
  isPsciCall,
  mpidrToIndex,
  PSCI_FN,
  PSCI_RET,
  PSCI_VERSION_1_1,
  type PsciPlatform,
} from "./psci.ts";

function platform(cpuCount = 2) {
  const on = new Set([0]);
  const log: string[] = [];
  const p: PsciPlatform = {
    cpuCount,
    affinity: (i) => (on.has(i) ? 0 : 1),
    cpuOn: (i, entry, ctx) => {
      log.push(`on ${i} 0x${entry.toString(16)} ${ctx}`);
      on.add(i);
      return PSCI_RET.SUCCESS;
    },
    cpuOff: (i) => {
      log.push(`off ${i}`);
      on.delete(i);
      return PSCI_RET.SUCCESS;
    },
    cpuStandby: (i) => log.push(`standby ${i}`),
    systemOff: () => log.push("system off"),
    systemReset: () => log.push("system reset"),
  };
  return { p, log, on };
}

const u64 = (n: number) => BigInt.asUintN(64, BigInt(n));
const call = (p: PsciPlatform, ...args: (number | bigint)[]) => {
  const a = [0, 1, 2, 3].map((i) => BigInt.asUintN(64, BigInt(args[i] ?? 0)));
  return handlePsci(a, 0, p);
};

Deno.test("psci: version, features, migrate info", () => {
  const { p } = platform();
  assert.deepEqual(call(p, PSCI_FN.VERSION), { returns: true, x0: u64(PSCI_VERSION_1_1) });
  assert.deepEqual(call(p, PSCI_FN.MIGRATE_INFO_TYPE), { returns: true, x0: 2n });
  for (
    const fid of [
      PSCI_FN.CPU_ON,
      0xc400_0003,
      PSCI_FN.CPU_SUSPEND,
      0xc400_0001,
      PSCI_FN.SYSTEM_OFF,
      PSCI_FN.FEATURES,
    ]
  ) {
    assert.deepEqual(call(p, PSCI_FN.FEATURES, fid), { returns: true, x0: 0n }, fid.toString(16));
  }
  for (const fid of [0x8400_000e, 0x8000_0000, PSCI_FN.MIGRATE]) {
    assert.deepEqual(
      call(p, PSCI_FN.FEATURES, fid),
      { returns: true, x0: u64(PSCI_RET.NOT_SUPPORTED) },
      fid.toString(16),
    );
  }
});

Deno.test("psci: unknown, unimplemented and non-PSCI function ids return NOT_SUPPORTED", () => {
  const { p } = platform();
  for (const fid of [PSCI_FN.MIGRATE, 0x8400_0012, 0x8400_001f, 0x8000_0000, 0xc600_0001, 5]) {
    assert.deepEqual(call(p, fid), { returns: true, x0: u64(PSCI_RET.NOT_SUPPORTED) });
  }
  assert.equal(isPsciCall(0x8400_0000), true);
  assert.equal(isPsciCall(0xc400_0003), true);
  assert.equal(isPsciCall(0x8400_0020), false);
  assert.equal(isPsciCall(0x8401_0000), false);
  assert.equal(isPsciCall(0x0400_0000), false, "yielding calls are not PSCI");
});

Deno.test("psci: CPU_ON in both widths, ALREADY_ON and bad targets", () => {
  const { p, log } = platform(2);
  assert.deepEqual(call(p, PSCI_FN.CPU_ON, 0, 0x4000_0000, 7), {
    returns: true,
    x0: u64(PSCI_RET.ALREADY_ON),
  });
  // SMC32: the upper halves of the arguments are not the caller's.
  assert.deepEqual(call(p, PSCI_FN.CPU_ON, 0xdead_0000_0000_0001n, 0xffff_0000_4008_0000n, 9), {
    returns: true,
    x0: 0n,
  });
  assert.deepEqual(log, ["on 1 0x40080000 9"]);
  assert.deepEqual(call(p, 0xc400_0003, 5, 0x4000_0000, 0), {
    returns: true,
    x0: u64(PSCI_RET.INVALID_PARAMETERS),
  });
  assert.equal(mpidrToIndex(0x1_0000_0000n, 2), -1, "Aff3 is part of the affinity");
  assert.equal(mpidrToIndex(1n, 2), 1);
});

Deno.test("psci: a target with bits set outside the affinity fields names no CPU", () => {
  const { p, log } = platform(2);
  for (const garbage of [0x8000_0000n, 0x100_0000n, 1n << 40n, 1n << 63n]) {
    assert.equal(mpidrToIndex(garbage | 1n, 2), -1, `bits 0x${garbage.toString(16)} must be zero`);
    // Not CPU 1, which is off and would be started.
    assert.deepEqual(call(p, 0xc400_0003, garbage | 1n, 0x4000_0000, 0), {
      returns: true,
      x0: u64(PSCI_RET.INVALID_PARAMETERS),
    });
    assert.deepEqual(call(p, 0xc400_0004, garbage | 1n, 0), {
      returns: true,
      x0: u64(PSCI_RET.INVALID_PARAMETERS),
    });
  }
  assert.deepEqual(log, []);
});

Deno.test("psci: AFFINITY_INFO, CPU_OFF, SYSTEM_OFF and SYSTEM_RESET", () => {
  const { p, log } = platform(2);
  assert.deepEqual(call(p, PSCI_FN.AFFINITY_INFO, 0, 0), { returns: true, x0: 0n });
  assert.deepEqual(call(p, 0xc400_0004, 1, 0), { returns: true, x0: 1n });
  assert.deepEqual(call(p, PSCI_FN.AFFINITY_INFO, 0, 1), {
    returns: true,
    x0: u64(PSCI_RET.INVALID_PARAMETERS),
  });
  assert.deepEqual(call(p, PSCI_FN.CPU_OFF), { returns: false });
  assert.deepEqual(call(p, PSCI_FN.SYSTEM_OFF), { returns: false });
  assert.deepEqual(call(p, PSCI_FN.SYSTEM_RESET), { returns: false });
  assert.deepEqual(log, ["off 0", "system off", "system reset"]);
});

Deno.test("psci: CPU_SUSPEND to a standby state idles the caller; power-down states are invalid", () => {
  const { p, log } = platform(2);
  assert.deepEqual(call(p, PSCI_FN.CPU_SUSPEND, 0x0000_0001), { returns: true, x0: 0n });
  assert.deepEqual(call(p, 0xc400_0001, 0x0100_0000, 0x4000_0000, 5), { returns: true, x0: 0n });
  for (const state of [0x0001_0000, 0x0101_0003, 0x8000_0000, 0x0002_0000]) {
    assert.deepEqual(
      call(p, PSCI_FN.CPU_SUSPEND, state, 0x4000_0000, 0),
      { returns: true, x0: u64(PSCI_RET.INVALID_PARAMETERS) },
      `power_state 0x${state.toString(16)}`,
    );
  }
  assert.deepEqual(log, ["standby 0", "standby 0"]);
});

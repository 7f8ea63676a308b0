/**
 * Two minutes of the soak (bench/soak.ts runs thirty): a Linux guest under
 * program churn, tmpfs writes, timers and console output, with the `vmkit`
 * process's RSS sampled every 2 s. After 30 s of warm-up its slope must stay
 * under 1 MB a minute. Over two minutes the engine's buffer of translated
 * code, which fills and is emptied in a sawtooth of up to ~100 MiB, would
 * swamp any slope, so this short run measures RSS without it; its size is
 * bounded by the peak check instead (and the thirty-minute soak gates on
 * the whole RSS).
 */
import assert from "node:assert/strict";
import { HOST_ALLOWANCE_MIB } from "./helpers/adversarial.ts";
import { runSoak, SOAK_SLOPE_LIMIT_MIB_PER_MIN, soakAssets } from "./helpers/soak.ts";

const MEM_MIB = 256;

Deno.test({
  name: "soak: 2 minutes of mixed Linux load; RSS (without translated code) grows < 1 MB/min",
  ignore: soakAssets().ignore,
  fn: async () => {
    const result = await runSoak({
      minutes: 2,
      warmupMinutes: 0.5,
      sampleSeconds: 2,
      memMiB: MEM_MIB,
    });
    const peak = Math.max(...result.samples.map((s) => s.mib));
    const code = Math.max(...result.samples.map((s) => s.codeMiB));
    console.log(
      `soak: RSS slope ${result.slopeMiBPerMinute.toFixed(3)} MiB/min, without translated code ` +
        `${result.slopeWithoutCodeMiBPerMinute.toFixed(3)} MiB/min over ${result.slopeSamples} ` +
        `samples; peak ${peak.toFixed(1)} MiB (translated code up to ${code.toFixed(1)} MiB); ` +
        `${result.ticks} ticks, ${result.rewrites} programs rewritten and run`,
    );
    assert.equal(result.status.code, 0, result.stderr.slice(-2000));
    assert.deepEqual(result.failures, []);
    assert.ok(result.ticks >= 60, `only ${result.ticks} console ticks in 2 minutes`);
    assert.ok(result.rewrites > 0, "no program was rewritten and run");
    assert.ok(result.slopeSamples >= 30, `only ${result.slopeSamples} samples after the warm-up`);
    assert.ok(
      result.slopeWithoutCodeMiBPerMinute < SOAK_SLOPE_LIMIT_MIB_PER_MIN,
      `RSS without translated code grows ${
        result.slopeWithoutCodeMiBPerMinute.toFixed(3)
      } MiB/min (limit ${SOAK_SLOPE_LIMIT_MIB_PER_MIN.toFixed(3)})`,
    );
    assert.ok(
      peak <= MEM_MIB + HOST_ALLOWANCE_MIB,
      `peak RSS ${peak.toFixed(1)} MiB is over ${MEM_MIB + HOST_ALLOWANCE_MIB} MiB`,
    );
  },
});

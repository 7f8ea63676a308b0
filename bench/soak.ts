/**
 * The soak benchmark: a Linux guest under mixed load (program churn, file
 * writes to tmpfs, timers, console output) for 30 minutes, with the
 * `vmkit` process's RSS sampled every few seconds. After the warm-up it
 * reports the RSS slope (least squares) and fails if the process grows by
 * 1 MB a minute or more.
 *
 *   deno task soak [--minutes 30] [--warmup 5] [--interval 5] [--mem 256]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runSoak, SOAK_SLOPE_LIMIT_MIB_PER_MIN, soakAssets } from "../tests/helpers/soak.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "30" },
      warmup: { type: "string" },
      interval: { type: "string", default: "5" },
      mem: { type: "string", default: "256" },
    },
  });
  const minutes = Number(values.minutes);
  const warmupMinutes = values.warmup !== undefined
    ? Number(values.warmup)
    : Math.min(5, minutes / 4);
  const sampleSeconds = Number(values.interval);
  const memMiB = Number(values.mem);
  for (const [name, v] of Object.entries({ minutes, warmupMinutes, sampleSeconds, memMiB })) {
    if (!Number.isFinite(v) || v <= 0) {
      console.error(`soak: ${name} must be a positive number`);
      Deno.exit(2);
    }
  }
  const assets = soakAssets();
  if (assets.ignore) {
    console.error("soak: missing assets (make -C guests; deno run -A scripts/fetch_guests.ts)");
    Deno.exit(2);
  }
  console.log(
    `soak: ${minutes} min of mixed load, ${warmupMinutes} min warm-up, RSS every ${sampleSeconds} s, --mem ${memMiB}M`,
  );
  let lastPrinted = -1;
  const result = await runSoak({
    minutes,
    warmupMinutes,
    sampleSeconds,
    memMiB,
    onSample: (m, mib, code) => {
      // One line a minute (and the first sample).
      if (Math.floor(m) === lastPrinted) return;
      lastPrinted = Math.floor(m);
      console.log(
        `  ${m.toFixed(1).padStart(5)} min  ${mib.toFixed(1).padStart(7)} MiB` +
          `  (translated code ${code.toFixed(1)} MiB)`,
      );
    },
  });
  const peak = Math.max(...result.samples.map((s) => s.mib));
  const limit = SOAK_SLOPE_LIMIT_MIB_PER_MIN;
  console.log(
    `soak: ${result.ticks} console ticks, ${result.rewrites} programs rewritten and run, ` +
      `${result.failures.length} failures; vmkit exit status ${result.status.code}`,
  );
  console.log(
    `soak: RSS slope after warm-up ${result.slopeMiBPerMinute.toFixed(3)} MiB/min over ` +
      `${result.slopeSamples} samples (limit ${limit.toFixed(3)} MiB/min = 1 MB/min); peak ${
        peak.toFixed(1)
      } MiB`,
  );
  console.log(
    `soak: without translated code ${result.slopeWithoutCodeMiBPerMinute.toFixed(3)} MiB/min`,
  );
  const ok = result.status.code === 0 && result.failures.length === 0 &&
    result.slopeMiBPerMinute < limit;
  if (!ok) {
    console.error(`soak: FAILED\n${result.stderr.slice(-2000)}\n${result.failures.join("\n")}`);
    Deno.exit(1);
  }
  console.log("soak: ok");
}

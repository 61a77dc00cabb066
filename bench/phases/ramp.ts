// A new action under an open loop (issue 13, "scale-up that matches the load"): a
// concurrency-1 action nobody has invoked, hit at a fixed rate from the first request. Reports
// per-second p99, when the p99 settled (time to steady state), the p99 during the ramp, and the
// containers Gust ended with against Little's law (rate × mean run time / slots).
import type { LoadResult } from '../lib/load-worker';
import { containersOf, invokeTemplate, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';

/** Issue 13's bound on the p99 while a new action ramps up. */
const RAMP_P99_TARGET_MS = 1000;

export interface RampResult {
  rate: number;
  durationMs: number;
  result: LoadResult;
  /** First second from which every second's p99 stays within the settled bound. */
  steadyAtSecond: number | null;
  /** p99 of the seconds before steady state (the ramp), ms. */
  rampP99: number;
  containers: number;
  /** Containers leased to the controller for the action at the end of each second of the loop. */
  containersPerSecond: number[];
  meanRunMs: number | null;
  littlesLaw: number;
}

export async function ramp(
  ctx: PhaseContext & { rate: number; durationMs: number },
): Promise<{ result: RampResult; figures: Figure[] }> {
  const { stack, load, rate, durationMs, log } = ctx;
  const name = `${ctx.prefix}-ramp`;
  await ctx.putAction(name, { memory: 256, concurrency: 1 });
  const containersPerSecond: number[] = [];
  const sampler = setInterval(() => containersPerSecond.push(containersOf(stack, name).length), 1000);
  const result = await load
    .run({
      type: 'open',
      origin: stack.url,
      requests: [invokeTemplate(name)],
      ratePerSecond: rate,
      warmupMs: 0,
      durationMs,
      maxOutstanding: 4096,
      timeline: true,
    })
    .finally(() => clearInterval(sampler));
  // NaN crosses IPC as null: a second without successes has no p99.
  const timeline = (result.timeline ?? []).map((t) => ({ ...t, p99: t.p99 ?? NaN }));
  const containers = containersOf(stack, name);
  // The action's mean /run time over its recent runs, as the router sizes the pool by it.
  const ref = containers[0]?.action;
  const meanRunMs = (ref && stack.router.load(ref).meanRunMs) ?? null;
  const littlesLaw = meanRunMs === null ? NaN : (rate * meanRunMs) / 1000;
  // Settled: the last third's median p99, with room (×2, at least +20 ms).
  const tail = timeline
    .slice(Math.floor((timeline.length * 2) / 3))
    .map((t) => t.p99)
    .sort((a, b) => a - b);
  const settled = tail.length ? tail[Math.floor(tail.length / 2)]! : NaN;
  const bound = Math.max(settled * 2, settled + 20);
  let steadyAtSecond: number | null = null;
  // A standing backlog of seconds is no steady state, however flat its p99: it never settled.
  for (let s = timeline.length - 1; settled <= RAMP_P99_TARGET_MS && s >= 0; s--) {
    if (!(timeline[s]!.p99 <= bound) || timeline[s]!.failed > 0) break;
    steadyAtSecond = s;
  }
  const rampSeconds = timeline.slice(0, steadyAtSecond ?? timeline.length);
  const rampP99 = rampSeconds.length ? Math.max(...rampSeconds.map((t) => t.p99).filter(Number.isFinite)) : 0;
  log(
    `  ramp ${rate} req/s on a new action: achieved ${result.throughput.toFixed(0)} req/s, p99 ${Number(result.latency.p99).toFixed(1)} ms, ` +
      `steady from second ${steadyAtSecond ?? 'never'}, ramp p99 ≤ ${rampP99.toFixed(0)} ms, ${containers.length} containers ` +
      `(Little's law ${littlesLaw.toFixed(2)} at ${meanRunMs?.toFixed(2)} ms per run), overflow ${result.overflow}, statuses ${JSON.stringify(result.statuses)}`,
  );
  log(`  per-second p99: ${timeline.map((t) => t.p99.toFixed(0)).join(' ')}`);
  log(`  containers at each second's end: ${containersPerSecond.join(' ')}`);
  const target = 2 * Math.ceil(littlesLaw) + 1;
  return {
    result: {
      rate,
      durationMs,
      result,
      steadyAtSecond,
      rampP99,
      containers: containers.length,
      containersPerSecond,
      meanRunMs,
      littlesLaw,
    },
    figures: [
      {
        figure: `New action under a ${rate} req/s open loop: time to steady state (ramp p99 ${rampP99.toFixed(0)} ms)`,
        value: steadyAtSecond ?? durationMs / 1000,
        unit: 's',
        target: '≤ 2 s, ramp p99 ≤ 1 s',
        met: steadyAtSecond !== null && steadyAtSecond <= 2 && rampP99 <= RAMP_P99_TARGET_MS,
      },
      {
        figure: `New action at ${rate} req/s: containers at steady state vs Little's law (${littlesLaw.toFixed(2)} = rate × ${meanRunMs?.toFixed(2)} ms)`,
        value: containers.length,
        unit: 'containers',
        floor: littlesLaw,
        floorName: 'rate × mean run time / slots',
        target: '≤ 2× (+1), at a steady state',
        met: steadyAtSecond !== null && containers.length <= target,
      },
    ],
  };
}

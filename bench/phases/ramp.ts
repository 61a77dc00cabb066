// A new action under an open loop (issue 13, "scale-up that matches the load"): a
// concurrency-1 action nobody has invoked, hit at a fixed rate from the first request. Reports
// per-second p99, when the p99 settled (time to steady state), the p99 during the ramp, and the
// containers Gust ended with against Little's law (rate × mean run time / slots).
import type { LoadResult } from '../lib/load-worker';
import { containersOf, invokeTemplate, type PhaseContext } from '../lib/phase-context';
import { cpuBetween, SERVICE_COMMS, snapshot, type CpuGroups, type CpuSnapshot } from '../lib/proc-cpu';
import type { Figure } from '../lib/report';

/** Issue 13's bound on the p99 while a new action ramps up. */
const RAMP_P99_TARGET_MS = 1000;

export interface RampResult {
  rate: number;
  durationMs: number;
  result: LoadResult;
  /** First second from which the p99 stays within the settled bound, single-second blips aside (steadyFrom). */
  steadyAtSecond: number | null;
  /** p99 of the seconds before steady state (the ramp), ms. */
  rampP99: number;
  containers: number;
  /** Containers leased to the controller for the action at the end of each second of the loop. */
  containersPerSecond: number[];
  /** The router's view at each second's end: arrivals/s / mean run ms / queued. */
  loadPerSecond: string[];
  /** CPU by process group each second, % of one core ('other': the rest of the machine, containers included). */
  cpuPerSecond: Record<string, number[]>;
  meanRunMs: number | null;
  littlesLaw: number;
}

/**
 * The first second from which the load is served at its settled latency: the last third's median
 * p99, with room (×2, at least +20 ms). A single second above it between seconds within it is a
 * blip (a GC, a flush), not a backlog; a failed request or two seconds above it in a row are not.
 * A standing backlog of seconds is no steady state, however flat its p99: null, never settled.
 */
export function steadyFrom(timeline: readonly { p99: number; failed: number }[]): number | null {
  const tail = timeline
    .slice(Math.floor((timeline.length * 2) / 3))
    .map((t) => t.p99)
    .sort((a, b) => a - b);
  const settled = tail.length ? tail[Math.floor(tail.length / 2)]! : NaN;
  if (!(settled <= RAMP_P99_TARGET_MS)) return null;
  const bound = Math.max(settled * 2, settled + 20);
  const within = (s: number): boolean => timeline[s]!.p99 <= bound;
  const blip = (s: number): boolean => s > 0 && within(s - 1) && (s === timeline.length - 1 || within(s + 1));
  let steady: number | null = null;
  for (let s = timeline.length - 1; s >= 0; s--) {
    if (timeline[s]!.failed > 0 || !(within(s) || blip(s))) break;
    steady = s;
  }
  // A steady state does not begin with a blip.
  while (steady !== null && !within(steady)) steady = steady + 1 < timeline.length ? steady + 1 : null;
  return steady;
}

export async function ramp(
  ctx: PhaseContext & { rate: number; durationMs: number },
): Promise<{ result: RampResult; figures: Figure[] }> {
  const { stack, load, rate, durationMs, log } = ctx;
  const name = `${ctx.prefix}-ramp`;
  await ctx.putAction(name, { memory: 256, concurrency: 1 });
  const containersPerSecond: number[] = [];
  // The router's view each second, which sizes the pool: arrival rate, mean run time, queue.
  const loadPerSecond: string[] = [];
  // Which processes hold the CPU each second: a ramp's creations compete with its hot path.
  const groups: CpuGroups = {
    pids: {
      controller: [process.pid],
      'control plane': [stack.controlProcess.pid],
      'load generator': [load.pid],
    },
    comms: SERVICE_COMMS,
  };
  const cpuPerSecond: Record<string, number[]> = {};
  let lastSnapshot: CpuSnapshot = snapshot(groups);
  const sampler = setInterval(() => {
    const next = snapshot(groups);
    const { byGroup, wallMs, machineBusyMs } = cpuBetween(lastSnapshot, next);
    lastSnapshot = next;
    const named = Object.values(byGroup).reduce((a, b) => a + b, 0);
    for (const [group, ms] of Object.entries({ ...byGroup, other: machineBusyMs - named }))
      (cpuPerSecond[group] ??= []).push(Math.round((ms * 100) / wallMs));
    const leased = containersOf(stack, name);
    containersPerSecond.push(leased.length);
    const ref = leased[0]?.action;
    const seen = ref && stack.router.load(ref);
    loadPerSecond.push(
      seen ? `${seen.arrivalsPerSecond.toFixed(0)}/${seen.meanRunMs?.toFixed(1)}/${seen.queued}` : '-',
    );
  }, 1000);
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
  const steadyAtSecond = steadyFrom(timeline);
  const rampSeconds = timeline.slice(0, steadyAtSecond ?? timeline.length);
  const rampP99 = rampSeconds.length ? Math.max(...rampSeconds.map((t) => t.p99).filter(Number.isFinite)) : 0;
  log(
    `  ramp ${rate} req/s on a new action: achieved ${result.throughput.toFixed(0)} req/s, p99 ${Number(result.latency.p99).toFixed(1)} ms, ` +
      `steady from second ${steadyAtSecond ?? 'never'}, ramp p99 ≤ ${rampP99.toFixed(0)} ms, ${containers.length} containers ` +
      `(Little's law ${littlesLaw.toFixed(2)} at ${meanRunMs?.toFixed(2)} ms per run), overflow ${result.overflow}, statuses ${JSON.stringify(result.statuses)}`,
  );
  log(`  per-second p99: ${timeline.map((t) => t.p99.toFixed(0)).join(' ')}`);
  log(`  containers at each second's end: ${containersPerSecond.join(' ')}`);
  log(`  router's arrivals/s / mean run ms / queued each second: ${loadPerSecond.join(' ')}`);
  for (const [group, shares] of Object.entries(cpuPerSecond))
    log(`  CPU % of a core, ${group}: ${shares.join(' ')}`);
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
      loadPerSecond,
      cpuPerSecond,
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

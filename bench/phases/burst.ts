// A burst on a new action: 0 → 100 concurrent requests at once (action concurrency 10;
// BENCH_BURST_CONCURRENCY=1 for one container per request): the share that succeeds, the time
// until all have, and the 5xx answers, against one direct create + /init + /run.
import { summarizeLatency, type LatencySummary } from '../lib/latency';
import { containersOf, invokeTemplate, stemCellsAtTarget, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';
import { newContainerFloorP50, type ColdResult } from './cold';

export interface BurstSettings {
  burstRequests: number;
  burstConcurrency: number;
}

export interface BurstResult {
  requests: number;
  actionConcurrency: number;
  statuses: Record<string, number>;
  successRate: number;
  timeUntilAllSucceededMs: number | null;
  fiveXX: number;
  latency: LatencySummary;
  containers: number;
}

/** `coldFloor`: the cold-start phase's direct floors, when it ran (the time's floor). */
export async function burst(
  ctx: PhaseContext & { settings: BurstSettings; coldFloor?: ColdResult['floor'] },
): Promise<{ result: BurstResult; figures: Figure[] }> {
  const { stack, load, log, prefix, settings } = ctx;
  const name = `${prefix}-burst`;
  await stemCellsAtTarget(ctx);
  await ctx.putAction(name, { memory: 256, concurrency: settings.burstConcurrency });
  const run = await load.run({
    type: 'burst',
    origin: stack.url,
    request: invokeTemplate(name),
    count: settings.burstRequests,
    timeoutMs: 90_000,
  });
  const ok = run.requests.filter((r) => r.status === '200');
  const fiveXX = run.requests.filter((r) => r.status.startsWith('5')).length;
  const successRate = ok.length / run.requests.length;
  const allMs = successRate === 1 ? Math.max(...ok.map((r) => r.ms)) : null;
  const result: BurstResult = {
    requests: settings.burstRequests,
    actionConcurrency: settings.burstConcurrency,
    statuses: run.statuses,
    successRate,
    timeUntilAllSucceededMs: allMs,
    fiveXX,
    latency: summarizeLatency(ok.map((r) => r.ms)),
    containers: containersOf(stack, name).length,
  };
  log(
    `  ${settings.burstRequests} requests: ${JSON.stringify(run.statuses)}, all done in ${allMs?.toFixed(0) ?? 'n/a'} ms, ${result.containers} containers`,
  );
  const newFloor = ctx.coldFloor ? newContainerFloorP50(ctx.coldFloor) : NaN;
  return {
    result,
    figures: [
      {
        figure: `Burst 0 → ${settings.burstRequests} concurrent on a new action (concurrency ${settings.burstConcurrency}): success`,
        value: successRate * 100,
        unit: '%',
        target: '100%, no 5xx',
        met: successRate === 1 && fiveXX === 0,
      },
      {
        figure: 'Burst: time until all succeeded',
        value: allMs ?? NaN,
        unit: 'ms',
        floor: newFloor,
        floorName: 'one direct create + /init + /run',
        ratio: (allMs ?? NaN) / newFloor,
      },
      { figure: 'Burst: 5xx answers', value: fiveXX, unit: 'count', target: '0', met: fiveXX === 0 },
    ],
  };
}

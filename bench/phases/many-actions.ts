// Many actions: the same total load (closed loop, c = 32) spread over 1, 10 and 100 warm actions
// (quick: 30), each with its own container; a platform that scales keeps the throughput of one.
import { inParallel } from '../lib/gust-stack';
import { spread, type LatencySummary } from '../lib/latency';
import { invokeTemplate, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';
import { groupedBars } from '../lib/svg';

/** Issue 13's target: the most actions keep this share of one action's throughput. */
const MANY_ACTIONS_TARGET_RATIO = 0.8;

export interface ManyActionsSettings {
  manyActions: number[];
  repeats: number;
  warmupMs: number;
  durationMs: number;
}

export interface ManyActionsResult {
  counts: number[];
  runs: {
    actions: number;
    throughput: number;
    latency: LatencySummary;
    statuses: Record<string, number>;
  }[];
}

export async function manyActions(
  ctx: PhaseContext & { settings: ManyActionsSettings },
): Promise<{ result: ManyActionsResult; figures: Figure[] }> {
  const { stack, load, log, prefix, settings } = ctx;
  const counts = settings.manyActions;
  const max = Math.max(...counts);
  const names = Array.from({ length: max }, (_, i) => `${prefix}-many${i}`);
  await inParallel(names, 8, (name) => ctx.putAction(name, { memory: 128, concurrency: 32 }));
  // One warm container per action (128 MB: no stem cell, each comes through its pool workflow).
  let failed = 0;
  await inParallel(names, 8, async (name) => {
    const res = await load.run({
      type: 'single',
      origin: stack.url,
      request: invokeTemplate(name),
      timeoutMs: 90_000,
    });
    if (res.status !== '200') failed++;
  });
  if (failed > 0) throw new Error(`${failed} of ${max} actions did not warm up`);
  log(`  ${max} actions warm (${stack.router.leased().length} containers leased to the controller)`);
  const runs: ManyActionsResult['runs'] = [];
  for (let rep = 0; rep < settings.repeats; rep++) {
    for (const count of rep % 2 === 0 ? counts : [...counts].reverse()) {
      const result = await load.run({
        type: 'closed',
        origin: stack.url,
        requests: names.slice(0, count).map(invokeTemplate),
        concurrency: 32,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
      });
      runs.push({
        actions: count,
        throughput: result.throughput,
        latency: result.latency,
        statuses: result.statuses,
      });
      log(
        `  ${String(count).padStart(3)} actions c=32: ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms`,
      );
    }
  }
  const of = (count: number) => runs.filter((r) => r.actions === count).map((r) => r.throughput);
  const one = of(1);
  const figures: Figure[] = [];
  for (const count of counts.filter((c) => c !== 1)) {
    const ratios = of(count).map((v, i) => v / one[i]!);
    const ratio = spread(ratios).median;
    figures.push({
      figure: `${count} warm actions, c=32 total: throughput vs 1 action`,
      value: spread(of(count)).median,
      unit: 'req/s',
      floor: spread(one).median,
      floorName: '1 action, c=32',
      ratio,
      target:
        count === max
          ? `≥ ${MANY_ACTIONS_TARGET_RATIO * 100}% of 1 action${max < 100 ? ` (100 in full mode)` : ''}`
          : undefined,
      met: count === max ? ratio >= MANY_ACTIONS_TARGET_RATIO : undefined,
      noise: spread(ratios),
    });
  }
  return { result: { counts, runs }, figures };
}

/** The many-actions chart: throughput at each action count, with the target line. */
export function manyActionsChart(result: ManyActionsResult): string {
  const { counts, runs } = result;
  const throughput = (n: number) =>
    spread(runs.filter((r) => r.actions === n).map((r) => r.throughput)).median;
  return groupedBars({
    title: 'Throughput at c=32 spread over N warm actions (median of repeats)',
    yLabel: 'req/s',
    series: ['Gust'],
    groups: counts.map((n) => ({ label: `${n} action${n === 1 ? '' : 's'}`, values: [throughput(n)] })),
    reference: {
      value: throughput(1) * MANY_ACTIONS_TARGET_RATIO,
      label: `target: ${MANY_ACTIONS_TARGET_RATIO * 100}% of 1 action`,
    },
  });
}

// Many actions: the same total load (closed loop, c = 32) spread over 1, 10 and 100 warm actions
// (quick: 30), each with its own container; a platform that scales keeps the throughput of one.
// The same containers called directly, spread the same way, are the machine's own floor: CPU per
// request by process says which one pays for the spread.
import { inParallel } from '../lib/gust-stack';
import { spread, type LatencySummary } from '../lib/latency';
import { containersOf, directTemplate, invokeTemplate, type PhaseContext } from '../lib/phase-context';
import { cpuOverWindow, msPerRequest, pidsInCgroup, SERVICE_COMMS, type CpuGroups } from '../lib/proc-cpu';
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
    target: 'gust' | 'direct';
    actions: number;
    throughput: number;
    latency: LatencySummary;
    statuses: Record<string, number>;
    /** CPU ms per completed request, by process group (containers: all the actions' together). */
    cpuMsPerRequest: Record<string, number>;
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
  const containers = names.map((name) => {
    const container = containersOf(stack, name)[0];
    if (!container) throw new Error(`no leased container for ${name}`);
    return container;
  });
  const groups: CpuGroups = {
    pids: {
      controller: [process.pid],
      'control plane': [stack.controlProcess.pid],
      'load generator': [load.pid],
      containers: containers.flatMap((c) => pidsInCgroup(c.id)),
    },
    comms: SERVICE_COMMS,
  };
  const runs: ManyActionsResult['runs'] = [];
  for (let rep = 0; rep < settings.repeats; rep++) {
    for (const count of rep % 2 === 0 ? counts : [...counts].reverse()) {
      for (const target of ['direct', 'gust'] as const) {
        const window = cpuOverWindow(groups, settings.warmupMs, settings.durationMs);
        const result = await load.run({
          type: 'closed',
          origin: stack.url,
          requests:
            target === 'gust'
              ? names.slice(0, count).map(invokeTemplate)
              : containers.slice(0, count).map((c) => directTemplate(c.address)),
          concurrency: 32,
          warmupMs: settings.warmupMs,
          durationMs: settings.durationMs,
        });
        const cpu = window.end();
        const cpuMsPerRequest = msPerRequest(cpu.byGroup, result.completed);
        runs.push({
          target,
          actions: count,
          throughput: result.throughput,
          latency: result.latency,
          statuses: result.statuses,
          cpuMsPerRequest,
        });
        log(
          `  ${target.padEnd(6)} ${String(count).padStart(3)} actions c=32: ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms; CPU ms/req ` +
            Object.entries(cpuMsPerRequest)
              .map(([group, ms]) => `${group} ${ms.toFixed(3)}`)
              .join(', '),
        );
      }
    }
  }
  const of = (target: 'gust' | 'direct', count: number) =>
    runs.filter((r) => r.target === target && r.actions === count).map((r) => r.throughput);
  const one = of('gust', 1);
  const directOne = of('direct', 1);
  const figures: Figure[] = [];
  for (const count of counts.filter((c) => c !== 1)) {
    const ratios = of('gust', count).map((v, i) => v / one[i]!);
    const ratio = spread(ratios).median;
    const directRatios = of('direct', count).map((v, i) => v / directOne[i]!);
    figures.push({
      figure: `${count} warm actions, c=32 total: throughput vs 1 action`,
      value: spread(of('gust', count)).median,
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
    figures.push({
      figure: `${count} containers called directly, c=32 total: throughput vs 1 container (the machine's floor)`,
      value: spread(of('direct', count)).median,
      unit: 'req/s',
      floor: spread(directOne).median,
      floorName: '1 container called directly, c=32',
      ratio: spread(directRatios).median,
      noise: spread(directRatios),
    });
  }
  return { result: { counts, runs }, figures };
}

/** The many-actions chart: throughput at each action count, with the target line. */
export function manyActionsChart(result: ManyActionsResult): string {
  const { counts, runs } = result;
  const throughput = (target: 'gust' | 'direct', n: number) =>
    spread(runs.filter((r) => r.target === target && r.actions === n).map((r) => r.throughput)).median;
  return groupedBars({
    title: 'Throughput at c=32 spread over N warm actions (median of repeats)',
    yLabel: 'req/s',
    series: ['Gust', 'containers called directly'],
    groups: counts.map((n) => ({
      label: `${n} action${n === 1 ? '' : 's'}`,
      values: [throughput('gust', n), throughput('direct', n)],
    })),
    reference: {
      value: throughput('gust', 1) * MANY_ACTIONS_TARGET_RATIO,
      label: `target: ${MANY_ACTIONS_TARGET_RATIO * 100}% of 1 action`,
    },
  });
}

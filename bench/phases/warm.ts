// The warm path: Gust's blocking invoke vs the same container's /run, closed loops at each
// concurrency (repeated, the two sides alternating), then open loops at half of Gust's and half of
// direct's maximum rate — what a steady arrival rate costs, queueing included.
import { spread, type LatencySummary, type Spread } from '../lib/latency';
import type { LoadResult } from '../lib/load-worker';
import { directTemplate, invokeTemplate, warmAction, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';
import { groupedBars } from '../lib/svg';

/** Issue 13's target: what Gust adds to the container's p50 at c = 1. */
const ADDED_P50_TARGET_MS = 0.5;

export interface WarmSettings {
  repeats: number;
  warmupMs: number;
  durationMs: number;
  openDurationMs: number;
  concurrencies: number[];
}

type Side = 'gust' | 'direct';

export interface ClosedRun {
  concurrency: number;
  target: Side;
  latency: LatencySummary;
  throughput: number;
  statuses: Record<string, number>;
  /** CPU of this (the Gust) process per completed request, ms: all its threads, Temporal's included. */
  gustCpuMsPerRequest: number;
}

export interface WarmResult {
  closed: ClosedRun[];
  open: { target: Side; rate: number; result: LoadResult }[];
  summary: Record<string, { addedP50: Spread; addedP99: Spread; throughputRatio: Spread }>;
}

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

export async function warm(
  ctx: PhaseContext & { name: string; settings: WarmSettings },
): Promise<{ result: WarmResult; figures: Figure[] }> {
  const { stack, load, log, name, settings } = ctx;
  const { container, firstMs } = await warmAction(ctx, name);
  log(
    `  warm container ${container.id.slice(0, 12)} at ${container.address} (first invoke ${firstMs.toFixed(1)} ms)`,
  );
  const origin = (target: Side): string => (target === 'gust' ? stack.url : container.address);
  const template = (target: Side) =>
    target === 'gust' ? invokeTemplate(name) : directTemplate(container.address);

  const closed: ClosedRun[] = [];
  const measure = async (target: Side, concurrency: number): Promise<void> => {
    const cpu0 = process.cpuUsage();
    const result = await load.run({
      type: 'closed',
      origin: origin(target),
      requests: [template(target)],
      concurrency,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
    });
    closed.push({
      concurrency,
      target,
      latency: result.latency,
      throughput: result.throughput,
      statuses: result.statuses,
      gustCpuMsPerRequest: cpuMs(process.cpuUsage(cpu0)) / Math.max(1, result.completed),
    });
    const bad = Object.entries(result.statuses).filter(([s]) => s !== '200');
    log(
      `  ${target.padEnd(6)} c=${String(concurrency).padEnd(2)} ${result.throughput.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms${bad.length ? `  non-200: ${JSON.stringify(Object.fromEntries(bad))}` : ''}`,
    );
  };
  for (let rep = 0; rep < settings.repeats; rep++) {
    for (const c of settings.concurrencies) {
      // Alternate which side goes first, so drift over a repeat does not favour one.
      const order: Side[] = rep % 2 === 0 ? ['direct', 'gust'] : ['gust', 'direct'];
      for (const target of order) await measure(target, c);
    }
  }
  const median = (c: number, t: Side, f: (r: ClosedRun) => number) =>
    spread(closed.filter((r) => r.concurrency === c && r.target === t).map(f)).median;
  const summary: WarmResult['summary'] = {};
  for (const c of settings.concurrencies) {
    const pairs = Array.from({ length: settings.repeats }, (_, rep) => {
      const of = (t: Side) => closed.filter((r) => r.concurrency === c && r.target === t)[rep]!;
      return { gust: of('gust'), direct: of('direct') };
    });
    summary[`c${c}`] = {
      addedP50: spread(pairs.map((p) => p.gust.latency.p50 - p.direct.latency.p50)),
      addedP99: spread(pairs.map((p) => p.gust.latency.p99 - p.direct.latency.p99)),
      throughputRatio: spread(pairs.map((p) => p.gust.throughput / p.direct.throughput)),
    };
  }

  // Open loop at half the best direct rate: what a steady arrival rate costs, queueing included.
  const maxThroughput = (t: Side) =>
    Math.max(...settings.concurrencies.map((c) => median(c, t, (r) => r.throughput)));
  const rate = Math.max(10, Math.round(maxThroughput('direct') * 0.5));
  const gentle = Math.max(10, Math.round(maxThroughput('gust') * 0.5));
  const open: WarmResult['open'] = [];
  const pairs = [
    ['direct', gentle],
    ['gust', gentle],
    ['direct', rate],
    ['gust', rate],
  ] as const;
  for (const [target, rate] of pairs) {
    const result = await load.run({
      type: 'open',
      origin: origin(target),
      requests: [template(target)],
      ratePerSecond: rate,
      warmupMs: settings.warmupMs,
      durationMs: settings.openDurationMs,
      maxOutstanding: 512,
    });
    open.push({ target, rate, result });
    log(
      `  open   ${target.padEnd(6)} at ${rate} req/s: achieved ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} p99.9 ${result.latency.p999.toFixed(2)} ms, overflow ${result.overflow}`,
    );
  }

  const c1 = summary.c1!;
  // What Gust adds to the container's latency at c = 1 (a target on the p50 only).
  const addedAtC1 = (key: 'p50' | 'p99', figure: string, targetMs?: number): Figure => {
    const added = key === 'p50' ? c1.addedP50 : c1.addedP99;
    const latency = (t: Side) => median(1, t, (r) => r.latency[key]);
    return {
      figure,
      value: added.median,
      unit: 'ms',
      floor: latency('direct'),
      floorName: `direct /run ${key}`,
      ratio: latency('gust') / latency('direct'),
      target: targetMs === undefined ? undefined : `≤ ${targetMs} ms`,
      met: targetMs === undefined ? undefined : added.median <= targetMs,
      noise: added,
    };
  };
  const figures = [
    addedAtC1('p50', 'Warm added latency p50, c=1 (Gust − direct)', ADDED_P50_TARGET_MS),
    addedAtC1('p99', 'Warm added latency p99, c=1'),
  ];
  const throughputFigure = (c: number): Figure => ({
    figure: `Warm throughput, c=${c} (Gust / direct)`,
    value: median(c, 'gust', (r) => r.throughput),
    unit: 'req/s',
    floor: median(c, 'direct', (r) => r.throughput),
    floorName: `direct /run c=${c}`,
    ratio: summary[`c${c}`]!.throughputRatio.median,
    noise: summary[`c${c}`]!.throughputRatio,
  });
  figures.push(throughputFigure(32), {
    figure: 'Gust process CPU per warm request, c=32 (why throughput is what it is)',
    value: median(32, 'gust', (r) => r.gustCpuMsPerRequest),
    unit: 'ms',
    floor: 1000 / median(32, 'direct', (r) => r.throughput),
    floorName: 'wall time per request of direct /run c=32',
    ratio:
      median(32, 'gust', (r) => r.gustCpuMsPerRequest) / (1000 / median(32, 'direct', (r) => r.throughput)),
  });
  for (const c of settings.concurrencies.filter((c) => c !== 1 && c !== 32))
    figures.push(throughputFigure(c));
  const at = (t: Side, r: number) => open.find((o) => o.target === t && o.rate === r)!;
  const added = (r: number, key: 'p50' | 'p99') =>
    at('gust', r).result.latency[key] - at('direct', r).result.latency[key];
  figures.push({
    figure: `Open loop at ${gentle} req/s (half of Gust's max): added p50 (Gust − direct)`,
    value: added(gentle, 'p50'),
    unit: 'ms',
    floor: at('direct', gentle).result.latency.p50,
    floorName: `direct /run p50 at the same rate; added p99 ${added(gentle, 'p99').toFixed(1)} ms`,
    ratio: at('gust', gentle).result.latency.p50 / at('direct', gentle).result.latency.p50,
  });
  const [openDirect, openGust] = [at('direct', rate), at('gust', rate)];
  figures.push({
    figure: `Open loop at ${rate} req/s (half of direct's max): added p99 (Gust − direct)`,
    value: openGust.result.latency.p99 - openDirect.result.latency.p99,
    unit: 'ms',
    floor: openDirect.result.latency.p99,
    floorName: `direct /run p99 at the same rate; Gust achieved ${openGust.result.throughput.toFixed(0)} req/s`,
    ratio: openGust.result.latency.p99 / openDirect.result.latency.p99,
  });
  return { result: { closed, open, summary }, figures };
}

/** The latency chart: p50 … p99.9 of Gust and direct /run at each concurrency (median of repeats). */
export function warmLatencyChart(result: WarmResult, concurrencies: number[]): string {
  const groups: { label: string; values: number[] }[] = [];
  for (const c of concurrencies) {
    for (const [p, key] of [
      ['p50', 'p50'],
      ['p90', 'p90'],
      ['p99', 'p99'],
      ['p99.9', 'p999'],
    ] as const) {
      const med = (t: Side) =>
        spread(result.closed.filter((r) => r.concurrency === c && r.target === t).map((r) => r.latency[key]))
          .median;
      groups.push({ label: `c=${c} ${p}`, values: [med('direct'), med('gust')] });
    }
  }
  return groupedBars({
    title: 'Warm no-op latency: Gust blocking invoke vs direct /run (closed loop, median of repeats)',
    yLabel: 'ms',
    series: ['direct /run (floor)', 'Gust'],
    groups,
  });
}

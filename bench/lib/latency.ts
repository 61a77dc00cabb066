// Latency summaries with the tail the load benchmarks report (p90, p99.9), on sorted Float64Arrays
// (no histogram library: a run holds at most a few hundred thousand samples).
import { percentile } from './stats';

export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarizeLatency(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const view = sorted as unknown as readonly number[];
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? NaN : total / sorted.length,
    min: sorted.length === 0 ? NaN : sorted[0]!,
    p50: percentile(view, 50),
    p90: percentile(view, 90),
    p95: percentile(view, 95),
    p99: percentile(view, 99),
    p999: percentile(view, 99.9),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

/** min / median / max of repeated measurements of one figure: the noise a report shows. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: NaN, median: NaN, max: NaN, values: [...values] };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, values: [...values] };
}

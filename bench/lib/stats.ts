// Percentiles and summaries for every benchmark, so the figures are computed one way everywhere.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of ascending `sorted` samples (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? NaN,
    mean: sorted.length === 0 ? NaN : total / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** Milliseconds since `start` (a `process.hrtime.bigint()` reading), with microsecond precision. */
export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A fixed-width table of summaries, in milliseconds. */
export function formatTable(rows: [string, Summary][]): string {
  const header = ['measure', 'n', 'p50', 'p95', 'p99', 'min', 'max', 'mean'];
  const body = rows.map(([name, s]) => [
    name,
    String(s.count),
    ...[s.p50, s.p95, s.p99, s.min, s.max, s.mean].map((v) => v.toFixed(3)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** The repository's root, whether this runs from its sources or compiled under dist/. */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Writes `report` as bench/results/<benchmark>-<timestamp>.json and says where, on stdout. */
export function writeResults(benchmark: string, report: Record<string, unknown>): string {
  const dir = join(repositoryRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = join(dir, `${benchmark}-${at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ benchmark, at, node: process.version, ...report }, null, 2)}\n`);
  // A benchmark's report is for the human at the terminal: plain stdout, not the log.
  console.log(`wrote ${file}`);
  return file;
}

// The report of a run of bench/suite.ts — its JSON shape, one result per phase (bench/phases/*.ts)
// — and its Markdown summary: the figures table (value, floor, ratio, target, met?), the machine,
// the noise across repeats, and the detail tables behind the figures.
import type { LatencySummary, Spread } from './latency';
import { percentile } from './stats';
import type { MachineInfo } from './machine';
import type { KnativeBenchResult } from '../knative';
import type { BurstResult } from '../phases/burst';
import type { ColdResult, ColdSample } from '../phases/cold';
import type { ManyActionsResult } from '../phases/many-actions';
import type { ProvisioningResult } from '../phases/provisioning';
import type { RampResult } from '../phases/ramp';
import type { StoreResult } from '../phases/store';
import type { MemoryResult } from '../phases/memory';
import type { SustainedResult } from '../phases/sustained';
import type { WarmResult } from '../phases/warm';

export interface Figure {
  figure: string;
  value: number;
  unit: string;
  floor?: number;
  floorName?: string;
  /** value / floor (or the ratio the figure is about, e.g. Gust / direct throughput). */
  ratio?: number;
  target?: string;
  met?: boolean;
  /** min / median / max over repeats (of the ratio when there is one). */
  noise?: Spread;
}

/** The JSON report of a run of bench/suite.ts (the driver narrows `settings` to its own). */
export interface Report {
  benchmark: 'gust';
  mode: 'quick' | 'full';
  at: string;
  /** `git describe --always --dirty` of the tree that ran. */
  commit: string;
  /** Set when the machine was busy before or after the run: its figures are not to be trusted. */
  busyWarning?: string;
  sustained?: SustainedResult;
  ramp?: RampResult;
  machine: { before: MachineInfo; after?: MachineInfo };
  settings: { repeats: number; warmupMs: number; durationMs: number };
  setup: {
    store: string;
    loadGenerator: string;
    controllerId: string;
    scope: string;
    allowConcurrentSetByPlatform?: boolean;
    notes: string[];
  };
  warm?: WarmResult;
  cold?: ColdResult;
  provisioning?: ProvisioningResult;
  manyActions?: ManyActionsResult;
  store?: StoreResult;
  memory?: MemoryResult;
  burst?: BurstResult;
  knative?: KnativeBenchResult;
  figures: Figure[];
  errors: { phase: string; error: string }[];
  cleanup?: { containersRemoved: number; workflowsTerminated: number; actionsDeleted: number };
  durationMs?: number;
}

/** Rounds for the JSON report (a non-finite value stays as it is). */
export const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

const num = (v: number | undefined, digits = 2): string =>
  v === undefined ? '' : !Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(digits);

const percentOrTimes = (ratio: number | undefined): string =>
  ratio === undefined
    ? ''
    : !Number.isFinite(ratio)
      ? 'n/a'
      : ratio < 2
        ? `${(ratio * 100).toFixed(1)}%`
        : `×${ratio.toFixed(2)}`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function renderMarkdown(report: Report, svgs: Record<string, string>): string {
  const m = report.machine.before;
  const lines: string[] = [
    `# Gust benchmark — ${report.mode} mode, ${report.at}, commit ${report.commit ?? 'unknown'}`,
    '',
    ...(report.busyWarning ? [`> **${report.busyWarning}**`, ''] : []),
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAverage.join(' / ')} before` +
      (report.machine.after ? `, ${report.machine.after.loadAverage.join(' / ')} after` : '') +
      `. Run took ${num((report.durationMs ?? 0) / 1000, 0)} s.`,
    '',
    `Setup: Gust as a deployment runs it (controller \`${report.setup.controllerId}\` alone in its process; provisioner and agent in another; docker backend, ${report.setup.store} store); load from a separate process (${report.setup.loadGenerator}). ` +
      `${report.settings.repeats} repeats of ${report.settings.durationMs} ms after ${report.settings.warmupMs} ms warm-up per closed-loop run; a figure is the median of the repeats, noise is min / median / max.`,
    '',
    '| figure | value | floor | ratio | target | met? | noise (min / median / max) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of report.figures) {
    const floor =
      f.floor === undefined
        ? ''
        : `${num(f.floor)} ${f.unit === 'ms' || f.unit.includes('/s') ? f.unit : ''} (${f.floorName ?? ''})`;
    const noise = f.noise
      ? `${num(f.noise.min, 3)} / ${num(f.noise.median, 3)} / ${num(f.noise.max, 3)}`
      : '';
    const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
    lines.push(
      `| ${f.figure} | ${num(f.value)} ${f.unit} | ${floor} | ${percentOrTimes(f.ratio)} | ${f.target ?? ''} | ${met} | ${noise} |`,
    );
  }
  lines.push('');
  for (const [name, file] of Object.entries(svgs)) lines.push(`![${name}](${file})`);
  lines.push('');

  if (report.warm) {
    lines.push(
      '## Warm path (closed loop, median of repeats)',
      '',
      '| c | target | req/s | p50 | p90 | p99 | p99.9 | max | non-200 | Gust process CPU ms/req (whole job) |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    const keys = [...new Set(report.warm.closed.map((r) => `${r.concurrency}|${r.target}`))];
    for (const key of keys) {
      const [c, target] = key.split('|') as [string, string];
      const runs = report.warm.closed.filter((r) => String(r.concurrency) === c && r.target === target);
      const med = (f: (l: LatencySummary) => number) => num(median(runs.map((r) => f(r.latency))), 3);
      const bad = runs.reduce(
        (n, r) => n + Object.entries(r.statuses).reduce((s, [k, v]) => s + (k === '200' ? 0 : v), 0),
        0,
      );
      lines.push(
        `| ${c} | ${target} | ${num(median(runs.map((r) => r.throughput)), 0)} | ${med((l) => l.p50)} | ${med((l) => l.p90)} | ${med((l) => l.p99)} | ${med((l) => l.p999)} | ${med((l) => l.max)} | ${bad} | ${target === 'gust' ? num(median(runs.map((r) => r.gustCpuMsPerRequest)), 3) : ''} |`,
      );
    }
    lines.push(
      '',
      '| open loop | rate | achieved req/s | p50 | p90 | p99 | p99.9 | overflow |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const o of report.warm.open) {
      const l = o.result.latency;
      lines.push(
        `| ${o.target} | ${o.rate} | ${num(o.result.throughput, 0)} | ${num(l.p50, 3)} | ${num(l.p90, 3)} | ${num(l.p99, 3)} | ${num(l.p999, 3)} | ${o.result.overflow ?? 0} |`,
      );
    }
    lines.push('');
  }
  if (report.sustained) lines.push(...sustainedSection(report.sustained));
  if (report.cold) {
    // Nearest-rank, as the figures above (cold.ts): the table and the ratio read the same p50.
    const p = (values: number[], q: number): string =>
      values.length
        ? num(
            percentile(
              [...values].sort((a, b) => a - b),
              q,
            ),
            1,
          )
        : 'n/a';
    const row = (name: string, s: ColdSample[]) => {
      const of = (f: (x: ColdSample) => number, q = 50): string => p(s.map(f), q);
      return `| ${name} | ${s.length} | ${of((x) => x.e2e)} | ${of((x) => x.e2e, 95)} | ${of((x) => x.waitTime)} | ${of((x) => x.initTime)} | ${of((x) => x.run)} | ${of((x) => x.other)} |`;
    };
    const f = report.cold.floor;
    lines.push(
      '## Cold start (ms; parts are p50 of each part)',
      '',
      '| path | n | end-to-end p50 | p95 | waitTime | initTime | run | other |',
      '|---|---|---|---|---|---|---|---|',
      row('stem cell', report.cold.stemCell),
      row('new container', report.cold.newContainer),
      `| floor: direct create / /init / /run | ${f.create.length} | ${p(
        f.create.map((v, i) => v + f.init[i]! + f.run[i]!),
        50,
      )} | | ${p(f.create, 50)} (create) | ${p(f.init, 50)} | ${p(f.run, 50)} | |`,
      '',
    );
  }
  if (report.burst) {
    lines.push(
      `## Burst`,
      '',
      `Statuses ${JSON.stringify(report.burst.statuses)}; ${report.burst.containers} containers served it; latency of the successes p50 ${num(report.burst.latency.p50, 0)} ms, max ${num(report.burst.latency.max, 0)} ms.`,
      '',
    );
  }
  if (report.setup.notes.length > 0)
    lines.push('## Notes', '', ...report.setup.notes.map((n) => `- ${n}`), '');
  if (report.errors.length > 0) {
    lines.push(
      '## Errors',
      '',
      ...report.errors.map((e) => `- **${e.phase}**: \`${e.error.split('\n')[0]}\``),
      '',
    );
  }
  if (report.cleanup) {
    lines.push(
      `Cleanup: ${report.cleanup.actionsDeleted} actions deleted, ${report.cleanup.workflowsTerminated} workflows terminated, ${report.cleanup.containersRemoved} containers removed.`,
      '',
    );
  }
  return lines.join('\n');
}

const CPU_GROUPS = [
  'controller',
  'control plane',
  'bare proxy',
  'load generator',
  'container',
  'docker-proxy',
  'dockerd',
  'cassandra',
  'temporal',
] as const;

function sustainedSection(result: SustainedResult): string[] {
  const lines = [
    '## Sustained load: CPU per request by process, bare-proxy floor, open loop',
    '',
    `Pinning: ${result.pinned ?? 'none'}. Closed loops with records discarded, except one c=32 closed loop with the run's store as long as the open loops (Gust's sustained maximum); open loops at half of it, ${result.openRate} req/s, with that store. ` +
      'CPU is read from /proc (threads of each process; the container from its cgroup) at the edges of the measured window and divided by the requests completed in it. ' +
      '"controller" is the bench process, the controller alone; "control plane" is the provisioner and agent\'s process. dockerd, cassandra and temporal are whole services, which on a shared machine also serve other work (an upper bound). ELD: the controller\'s event-loop delay; GC: minor / major collections in the window.',
    '',
    `| loop | target | c / rate (connections) | store | req/s | p50 | p99 | ${CPU_GROUPS.map((g) => `${g} ms/req`).join(' | ')} | machine busy (cores) | ELD p99 ms | GC minor/major (pause ms) | writer pending max / end |`,
    `|${'---|'.repeat(7 + CPU_GROUPS.length + 4)}`,
  ];
  for (const r of result.runs) {
    const cpu = CPU_GROUPS.map((g) => num(r.cpuMsPerRequest[g], 3)).join(' | ');
    const c = r.controller;
    lines.push(
      `| ${r.loop} | ${r.target} | ${r.concurrency ?? `${r.rate} (${r.connections})`} | ${r.store} | ${num(r.throughput, 0)} | ${num(r.latency.p50, 3)} | ${num(r.latency.p99, 3)} | ${cpu} | ${num(r.machineBusyCores)} | ${c ? num(c.eventLoopDelayMs.p99) : ''} | ${c ? `${c.gc.minor}/${c.gc.major} (${num(c.gc.pauseMs, 1)})` : ''} | ${r.writer ? `${r.writer.pendingMax} / ${r.writer.pendingEnd}` : ''} |`,
    );
  }
  lines.push('');
  return lines;
}

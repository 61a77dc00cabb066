// `npm run bench [-- --quick]`: every performance regime of Gust in one run, each figure against
// its floor measured in the same run on the same machine (see README "Benchmarks").
//   1 warm path      Gust blocking invoke vs the same container's /run, c = 1, 8, 32, closed loop;
//                    plus an open loop at half the direct maximum rate
//   2 cold start     from a stem cell, and with a new container (no stem cell of 384 MB), split
//                    into waitTime / initTime / run / other; floor: backend create + /init + /run
//   3 provisioning   containers per second through the pool workflow vs backend.create directly
//   4 many actions   1, 10, 100 (quick: 30) warm actions at the same total load (c = 32)
//   5 store          warm throughput with the Cassandra store vs records discarded
//   6 burst          0 → 100 concurrent requests on a new action: success, time, 5xx
//                    (action concurrency 10; BENCH_BURST_CONCURRENCY=1 for one container per request)
//   9 knative        GUST_BACKEND=knative (Knative Serving SIMULATED, real pods): warm latency and
//                    throughput vs the gateway and the pod, scale from zero vs the gateway (knative.ts)
// The controller runs in this process, the provisioner and agent in a child
// (bench/lib/control-plane-process.ts); the load comes from another child (bench/lib/load-worker.ts). Writes
// bench/results/<timestamp>.{json,md}, three SVG charts, and the *latest* copies.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { GUEST_API_KEY } from '../api/api-keys';
import type { Action } from '../common/types';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../runtimes/runtime-client';
import { startBenchStack, inParallel, type BenchStack } from './lib/gust-stack';
import { spread, summarizeLatency, type LatencySummary, type Spread } from './lib/latency';
import { LoadGenerator } from './lib/load-client';
import { runtimeHeaders } from './lib/runtime-origin';
import type { LoadResult, RequestTemplate } from './lib/load-worker';
import { describeMachine, type MachineInfo } from './lib/machine';
import { renderMarkdown, type Figure } from './lib/report';
import { groupedBars, stackedBars } from './lib/svg';
import { sustained, type SustainedResult } from './phases/sustained';
import { ramp, type RampResult } from './phases/ramp';
import { KNATIVE_FULL, KNATIVE_QUICK, knativeBench, type KnativeBenchResult } from './knative';
import { execFileSync } from 'node:child_process';

const QUICK = process.argv.includes('--quick');
const NO_CASSANDRA = process.argv.includes('--sqlite');
/** `--only=warm,store` runs those phases alone (warm, sustained, ramp, store, cold, provisioning, burst, many, knative). */
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (phase: string): boolean => ONLY === undefined || ONLY.includes(phase);
const REPO = join(__dirname, '..', '..');
const RESULTS = join(REPO, 'bench', 'results');

const SETTINGS = QUICK
  ? {
      mode: 'quick' as const,
      repeats: 2,
      warmupMs: 300,
      durationMs: 1500,
      openDurationMs: 2000,
      concurrencies: [1, 8, 32],
      coldStemSamples: 5,
      coldNewSamples: 3,
      floorSamples: 3,
      provisionContainers: 4,
      provisionRepeats: 1,
      manyActions: [1, 10, 30],
      burstRequests: 100,
      burstConcurrency: Number(process.env.BENCH_BURST_CONCURRENCY ?? 10),
      sustained: { repeats: 2, warmupMs: 2000, closedMs: 5000, openMs: 30_000 },
      rampMs: 15_000,
      store: { repeats: 1, durationMs: 10_000 },
      deadlineMs: 600_000,
    }
  : {
      mode: 'full' as const,
      repeats: 3,
      warmupMs: 1000,
      durationMs: 5000,
      openDurationMs: 5000,
      concurrencies: [1, 8, 32],
      coldStemSamples: 10,
      coldNewSamples: 8,
      floorSamples: 6,
      provisionContainers: 8,
      provisionRepeats: 2,
      manyActions: [1, 10, 100],
      burstRequests: 100,
      burstConcurrency: Number(process.env.BENCH_BURST_CONCURRENCY ?? 10),
      sustained: { repeats: 5, warmupMs: 3000, closedMs: 10_000, openMs: 30_000 },
      rampMs: 30_000,
      store: { repeats: 1, durationMs: 60_000 },
      deadlineMs: 40 * 60_000,
    };

/** Issue 13's targets: ratios against floors measured in the same run. */
const TARGETS = {
  warmAddedP50Ms: 0.5,
  stemCellColdRatio: 1.5,
  newContainerColdRatio: 1.1,
  manyActionsRatio: 0.8,
  storeRatio: 0.9,
};

const NOOP_CODE = 'function main() { return {}; }';
const AUTH = `Basic ${Buffer.from(GUEST_API_KEY).toString('base64')}`;
const PREFIX = `bench-${process.pid}`;
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (line: string): void => console.log(`[bench +${elapsed()}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

// ---------------------------------------------------------------------------------------------
// The API, from this process (setup only: actions are created and deleted here, never timed).

async function api(
  stack: BenchStack,
  method: 'PUT' | 'DELETE',
  name: string,
  body?: unknown,
): Promise<number> {
  const response = await request(
    `${stack.url}/api/v1/namespaces/_/actions/${name}${method === 'PUT' ? '?overwrite=true' : ''}`,
    {
      method,
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  );
  const text = await response.body.text();
  if (response.statusCode >= 300 && !(method === 'DELETE' && response.statusCode === 404))
    throw new Error(`${method} action ${name}: ${response.statusCode} ${text}`);
  return response.statusCode;
}

const created = new Set<string>();
async function putAction(
  stack: BenchStack,
  name: string,
  limits: { memory: number; concurrency: number },
): Promise<void> {
  await api(stack, 'PUT', name, { exec: { kind: NODEJS_RUNTIME_KIND, code: NOOP_CODE }, limits });
  created.add(name);
}

const invokeTemplate = (name: string): RequestTemplate => ({
  path: `/api/v1/namespaces/_/actions/${name}?blocking=true`,
  headers: { authorization: AUTH, 'content-type': 'application/json' },
  body: '{}',
});

const RUN_BODY = JSON.stringify({
  value: {},
  namespace: 'guest',
  action_name: '/guest/noop',
  activation_id: '0'.repeat(32),
  deadline: String(Date.now() + 24 * 3600_000),
});
/** A /run straight to a container's runtime (with its secret when it listens on a unix socket). */
const directTemplate = (address: string): RequestTemplate => ({
  path: '/run',
  headers: { 'content-type': 'application/json', ...runtimeHeaders(address) },
  body: RUN_BODY,
});

// ---------------------------------------------------------------------------------------------
// Router observations

const stemCells = (stack: BenchStack, memoryMB = 256): number =>
  stack.router
    .leased()
    .filter((c) => c.action === null && !c.revoked && c.lease.container.memoryMB === memoryMB).length;
const containersOf = (stack: BenchStack, name: string) =>
  stack.router.leased().filter((c) => c.action?.name === name && !c.revoked);

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      log(`  (gave up waiting for ${what} after ${timeoutMs} ms)`);
      return false;
    }
    await sleep(20);
  }
  return true;
}

/**
 * Lets the previous phase's after-effects die down: records written, no container being created
 * (an overloaded run makes the router ask for more), stem cells back at target.
 */
async function settle(stack: BenchStack): Promise<void> {
  const t0 = Date.now();
  await Promise.race([stack.writer.flush(), sleep(30_000)]);
  let creates = -1;
  while (creates !== stack.controlProcess.creates && Date.now() - t0 < 60_000) {
    creates = stack.controlProcess.creates;
    await sleep(1_500);
  }
  const target = stack.config.pools.stemCells[0]!.count;
  await waitFor('stem cells at target', () => stemCells(stack) >= target, 30_000);
  const waited = Date.now() - t0;
  if (waited > 2_000) log(`  settled in ${(waited / 1000).toFixed(1)}s`);
}

// ---------------------------------------------------------------------------------------------
// Results

interface ClosedRun {
  concurrency: number;
  target: 'gust' | 'direct';
  latency: LatencySummary;
  throughput: number;
  statuses: Record<string, number>;
  /** CPU of this (the Gust) process per completed request, ms: all its threads, Temporal's included. */
  gustCpuMsPerRequest: number;
}

interface ColdSample {
  e2e: number;
  waitTime: number;
  initTime: number;
  run: number;
  other: number;
  status: string;
}

interface Report {
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
  settings: typeof SETTINGS;
  setup: {
    store: string;
    loadGenerator: string;
    controllerId: string;
    scope: string;
    allowConcurrentSetByPlatform?: boolean;
    notes: string[];
  };
  warm?: {
    closed: ClosedRun[];
    open: { target: 'gust' | 'direct'; rate: number; result: LoadResult }[];
    summary: Record<string, { addedP50: Spread; addedP99: Spread; throughputRatio: Spread }>;
  };
  cold?: {
    stemCell: ColdSample[];
    newContainer: ColdSample[];
    floor: { create: number[]; init: number[]; run: number[] };
  };
  provisioning?: { containers: number; directPerSecond: number[]; workflowsPerSecond: number[] };
  manyActions?: {
    counts: number[];
    runs: {
      actions: number;
      throughput: number;
      latency: LatencySummary;
      statuses: Record<string, number>;
    }[];
  };
  store?: {
    runs: {
      store: 'cassandra' | 'discard';
      throughput: number;
      latency: LatencySummary;
      pendingEnd: number;
      drainMs: number;
    }[];
  };
  burst?: {
    requests: number;
    actionConcurrency: number;
    statuses: Record<string, number>;
    successRate: number;
    timeUntilAllSucceededMs: number | null;
    fiveXX: number;
    latency: LatencySummary;
    containers: number;
  };
  knative?: KnativeBenchResult;
  figures: Figure[];
  errors: { phase: string; error: string }[];
  cleanup?: { containersRemoved: number; workflowsTerminated: number; actionsDeleted: number };
  durationMs?: number;
}

function commitId(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** A warning when the 1-minute load average says other work shared the cores. */
function busyWarning(before: MachineInfo, after: MachineInfo | undefined): string | undefined {
  const quiet = 0.5 * before.cpus;
  const loads = [before.loadAverage[0], after?.loadAverage[0] ?? 0];
  if (Math.max(...loads) <= quiet) return undefined;
  return (
    `BUSY MACHINE: 1-minute load average ${loads.join(' → ')} on ${before.cpus} cores (quiet is ≤ ${quiet}). ` +
    'Other work shared the cores during this run; ratios in this report are not the platform alone.'
  );
}

const report: Report = {
  benchmark: 'gust',
  mode: SETTINGS.mode,
  at: new Date().toISOString(),
  commit: commitId(),
  machine: { before: describeMachine() },
  settings: SETTINGS,
  setup: { store: '', loadGenerator: '', controllerId: '', scope: '', notes: [] },
  figures: [],
  errors: [],
};

async function phase(name: string, fn: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  log(`phase ${name}: start`);
  try {
    await fn();
    log(`phase ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    report.errors.push({ phase: name, error: message });
    log(`phase ${name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)}s: ${message.split('\n')[0]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Warm path

async function warmPath(stack: BenchStack, load: LoadGenerator): Promise<void> {
  const name = `${PREFIX}-noop`;
  await putAction(stack, name, { memory: 256, concurrency: 32 });
  const first = await load.run({
    type: 'single',
    origin: stack.url,
    request: invokeTemplate(name),
    timeoutMs: 60_000,
  });
  if (first.status !== '200') throw new Error(`first invoke of ${name}: ${first.status} ${first.body}`);
  const container = containersOf(stack, name)[0];
  if (!container) throw new Error(`no leased container for ${name}`);
  log(
    `  warm container ${container.id.slice(0, 12)} at ${container.address} (first invoke ${first.ms.toFixed(1)} ms)`,
  );

  const closed: ClosedRun[] = [];
  const measure = async (target: 'gust' | 'direct', concurrency: number): Promise<void> => {
    const cpu0 = process.cpuUsage();
    const result = await load.run({
      type: 'closed',
      origin: target === 'gust' ? stack.url : container.address,
      requests: [target === 'gust' ? invokeTemplate(name) : directTemplate(container.address)],
      concurrency,
      warmupMs: SETTINGS.warmupMs,
      durationMs: SETTINGS.durationMs,
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
  for (let rep = 0; rep < SETTINGS.repeats; rep++) {
    for (const c of SETTINGS.concurrencies) {
      // Alternate which side goes first, so drift over a repeat does not favour one.
      const order: ('gust' | 'direct')[] = rep % 2 === 0 ? ['direct', 'gust'] : ['gust', 'direct'];
      for (const target of order) await measure(target, c);
    }
  }
  const summary: NonNullable<Report['warm']>['summary'] = {};
  for (const c of SETTINGS.concurrencies) {
    const pairs = Array.from({ length: SETTINGS.repeats }, (_, rep) => {
      const of = (t: 'gust' | 'direct') => closed.filter((r) => r.concurrency === c && r.target === t)[rep]!;
      return { gust: of('gust'), direct: of('direct') };
    });
    summary[`c${c}`] = {
      addedP50: spread(pairs.map((p) => p.gust.latency.p50 - p.direct.latency.p50)),
      addedP99: spread(pairs.map((p) => p.gust.latency.p99 - p.direct.latency.p99)),
      throughputRatio: spread(pairs.map((p) => p.gust.throughput / p.direct.throughput)),
    };
  }

  // Open loop at half the best direct rate: what a steady arrival rate costs, queueing included.
  const directMax = Math.max(
    ...SETTINGS.concurrencies.map(
      (c) =>
        spread(closed.filter((r) => r.concurrency === c && r.target === 'direct').map((r) => r.throughput))
          .median,
    ),
  );
  const gustMax = Math.max(
    ...SETTINGS.concurrencies.map(
      (c) =>
        spread(closed.filter((r) => r.concurrency === c && r.target === 'gust').map((r) => r.throughput))
          .median,
    ),
  );
  const rate = Math.max(10, Math.round(directMax * 0.5));
  const gentle = Math.max(10, Math.round(gustMax * 0.5));
  const open: NonNullable<Report['warm']>['open'] = [];
  const pairs = [
    ['direct', gentle],
    ['gust', gentle],
    ['direct', rate],
    ['gust', rate],
  ] as const;
  for (const [target, rate] of pairs) {
    const result = await load.run({
      type: 'open',
      origin: target === 'gust' ? stack.url : container.address,
      requests: [target === 'gust' ? invokeTemplate(name) : directTemplate(container.address)],
      ratePerSecond: rate,
      warmupMs: SETTINGS.warmupMs,
      durationMs: SETTINGS.openDurationMs,
      maxOutstanding: 512,
    });
    open.push({ target, rate, result });
    log(
      `  open   ${target.padEnd(6)} at ${rate} req/s: achieved ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} p99.9 ${result.latency.p999.toFixed(2)} ms, overflow ${result.overflow}`,
    );
  }
  report.warm = { closed, open, summary };

  const c1 = summary.c1!;
  const c32 = summary.c32!;
  const median = (c: number, t: 'gust' | 'direct', f: (r: ClosedRun) => number) =>
    spread(closed.filter((r) => r.concurrency === c && r.target === t).map(f)).median;
  report.figures.push(
    {
      figure: 'Warm added latency p50, c=1 (Gust − direct)',
      value: c1.addedP50.median,
      unit: 'ms',
      floor: median(1, 'direct', (r) => r.latency.p50),
      floorName: 'direct /run p50',
      ratio: median(1, 'gust', (r) => r.latency.p50) / median(1, 'direct', (r) => r.latency.p50),
      target: `≤ ${TARGETS.warmAddedP50Ms} ms`,
      met: c1.addedP50.median <= TARGETS.warmAddedP50Ms,
      noise: c1.addedP50,
    },
    {
      figure: 'Warm added latency p99, c=1',
      value: c1.addedP99.median,
      unit: 'ms',
      floor: median(1, 'direct', (r) => r.latency.p99),
      floorName: 'direct /run p99',
      ratio: median(1, 'gust', (r) => r.latency.p99) / median(1, 'direct', (r) => r.latency.p99),
      noise: c1.addedP99,
    },
    {
      figure: 'Warm throughput, c=32 (Gust / direct)',
      value: median(32, 'gust', (r) => r.throughput),
      unit: 'req/s',
      floor: median(32, 'direct', (r) => r.throughput),
      floorName: 'direct /run c=32',
      ratio: c32.throughputRatio.median,
      noise: c32.throughputRatio,
    },
    {
      figure: 'Gust process CPU per warm request, c=32 (why throughput is what it is)',
      value: median(32, 'gust', (r) => r.gustCpuMsPerRequest),
      unit: 'ms',
      floor: 1000 / median(32, 'direct', (r) => r.throughput),
      floorName: 'wall time per request of direct /run c=32',
      ratio:
        median(32, 'gust', (r) => r.gustCpuMsPerRequest) / (1000 / median(32, 'direct', (r) => r.throughput)),
    },
  );
  for (const c of SETTINGS.concurrencies.filter((c) => c !== 1 && c !== 32)) {
    report.figures.push({
      figure: `Warm throughput, c=${c} (Gust / direct)`,
      value: median(c, 'gust', (r) => r.throughput),
      unit: 'req/s',
      floor: median(c, 'direct', (r) => r.throughput),
      floorName: `direct /run c=${c}`,
      ratio: summary[`c${c}`]!.throughputRatio.median,
      noise: summary[`c${c}`]!.throughputRatio,
    });
  }
  const at = (t: 'gust' | 'direct', r: number) => open.find((o) => o.target === t && o.rate === r)!;
  const added = (r: number, key: 'p50' | 'p99') =>
    at('gust', r).result.latency[key] - at('direct', r).result.latency[key];
  report.figures.push({
    figure: `Open loop at ${gentle} req/s (half of Gust's max): added p50 (Gust − direct)`,
    value: added(gentle, 'p50'),
    unit: 'ms',
    floor: at('direct', gentle).result.latency.p50,
    floorName: `direct /run p50 at the same rate; added p99 ${added(gentle, 'p99').toFixed(1)} ms`,
    ratio: at('gust', gentle).result.latency.p50 / at('direct', gentle).result.latency.p50,
  });
  const [openDirect, openGust] = [at('direct', rate), at('gust', rate)];
  report.figures.push({
    figure: `Open loop at ${rate} req/s (half of direct's max): added p99 (Gust − direct)`,
    value: openGust.result.latency.p99 - openDirect.result.latency.p99,
    unit: 'ms',
    floor: openDirect.result.latency.p99,
    floorName: `direct /run p99 at the same rate; Gust achieved ${openGust.result.throughput.toFixed(0)} req/s`,
    ratio: openGust.result.latency.p99 / openDirect.result.latency.p99,
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Cold starts

function parseCold(body: string, e2e: number, status: string): ColdSample {
  const activation = JSON.parse(body) as {
    duration?: number;
    annotations?: { key: string; value: unknown }[];
  };
  const annotation = (key: string): number =>
    Number(activation.annotations?.find((a) => a.key === key)?.value ?? 0);
  const waitTime = annotation('waitTime');
  const initTime = annotation('initTime');
  const duration = Number(activation.duration ?? NaN);
  return { e2e, waitTime, initTime, run: duration - initTime, other: e2e - waitTime - duration, status };
}

async function coldStarts(stack: BenchStack, load: LoadGenerator): Promise<void> {
  const runtime = new RuntimeClient({ secrets: stack.backend });
  const floor = { create: [] as number[], init: [] as number[], run: [] as number[] };
  const stemCell: ColdSample[] = [];
  const newContainer: ColdSample[] = [];
  let seq = 0;
  const directSample = async (): Promise<void> => {
    let t = performance.now();
    const container = await stack.backend.create({
      name: `gust_${PREFIX}_floor_${seq++}`,
      image: NODEJS_RUNTIME_IMAGE,
      kind: NODEJS_RUNTIME_KIND,
      memoryMB: 384,
      env: {},
      labels: stack.labels,
    });
    floor.create.push(performance.now() - t);
    t = performance.now();
    const init = await runtime.init(
      container.address,
      { value: { name: 'noop', main: 'main', code: NOOP_CODE, binary: false } },
      10_000,
    );
    floor.init.push(performance.now() - t);
    t = performance.now();
    const run = await runtime.run(container.address, JSON.parse(RUN_BODY), 10_000);
    floor.run.push(performance.now() - t);
    if (init.outcome !== 'response' || run.outcome !== 'response')
      throw new Error('direct floor container failed');
    await runtime.close(container.address);
    await stack.backend.destroy(container.id);
  };
  try {
    const target = stack.config.pools.stemCells[0]!.count;
    for (let i = 0; i < SETTINGS.coldStemSamples; i++) {
      // Stem cells back at target: no replenishing create competes with the sample.
      await waitFor('stem cells at target', () => stemCells(stack) >= target, 30_000);
      const name = `${PREFIX}-cold-s${i}`;
      await putAction(stack, name, { memory: 256, concurrency: 1 });
      const res = await load.run({
        type: 'single',
        origin: stack.url,
        request: invokeTemplate(name),
        timeoutMs: 60_000,
      });
      if (res.status !== '200') throw new Error(`stem-cell cold start ${name}: ${res.status} ${res.body}`);
      stemCell.push(parseCold(res.body, res.ms, res.status));
    }
    const s = summarizeLatency(stemCell.map((x) => x.e2e));
    log(`  stem cell: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (n=${s.count})`);
    for (let i = 0; i < Math.max(SETTINGS.coldNewSamples, SETTINGS.floorSamples); i++) {
      if (i < SETTINGS.floorSamples) await directSample();
      if (i >= SETTINGS.coldNewSamples) continue;
      const name = `${PREFIX}-cold-n${i}`;
      await putAction(stack, name, { memory: 384, concurrency: 1 });
      const res = await load.run({
        type: 'single',
        origin: stack.url,
        request: invokeTemplate(name),
        timeoutMs: 90_000,
      });
      if (res.status !== '200')
        throw new Error(`new-container cold start ${name}: ${res.status} ${res.body}`);
      newContainer.push(parseCold(res.body, res.ms, res.status));
    }
    const n = summarizeLatency(newContainer.map((x) => x.e2e));
    log(`  new container: p50 ${n.p50.toFixed(1)} ms, p95 ${n.p95.toFixed(1)} ms (n=${n.count})`);
  } finally {
    report.cold = { stemCell, newContainer, floor };
    await runtime.closeAll();
  }
  const p50 = (xs: number[]) => summarizeLatency(xs).p50;
  const floorStem = p50(floor.init.map((v, i) => v + floor.run[i]!));
  const floorNew = p50(floor.create.map((v, i) => v + floor.init[i]! + floor.run[i]!));
  const stemP50 = p50(stemCell.map((x) => x.e2e));
  const newP50 = p50(newContainer.map((x) => x.e2e));
  report.figures.push(
    {
      figure: 'Cold start from a stem cell, p50',
      value: stemP50,
      unit: 'ms',
      floor: floorStem,
      floorName: 'direct /init + /run on a started container',
      ratio: stemP50 / floorStem,
      target: `≤ ${TARGETS.stemCellColdRatio}× the floor`,
      met: stemP50 / floorStem <= TARGETS.stemCellColdRatio,
      noise: spread(stemCell.map((x) => x.e2e)),
    },
    {
      figure: 'Cold start from a stem cell, p95',
      value: summarizeLatency(stemCell.map((x) => x.e2e)).p95,
      unit: 'ms',
    },
    {
      figure: 'Cold start with a new container (384 MB), p50',
      value: newP50,
      unit: 'ms',
      floor: floorNew,
      floorName: 'direct docker create + /init + /run',
      ratio: newP50 / floorNew,
      target: `≤ ${TARGETS.newContainerColdRatio}× the floor`,
      met: newP50 / floorNew <= TARGETS.newContainerColdRatio,
      noise: spread(newContainer.map((x) => x.e2e)),
    },
    {
      figure: 'Cold start with a new container, p95',
      value: summarizeLatency(newContainer.map((x) => x.e2e)).p95,
      unit: 'ms',
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 3. Provisioning throughput

async function provisioning(stack: BenchStack): Promise<void> {
  const n = SETTINGS.provisionContainers;
  const direct: number[] = [];
  const workflows: number[] = [];
  for (let rep = 0; rep < SETTINGS.provisionRepeats; rep++) {
    let t = performance.now();
    const made = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        stack.backend.create({
          name: `gust_${PREFIX}_prov_${rep}_${i}`,
          image: NODEJS_RUNTIME_IMAGE,
          kind: NODEJS_RUNTIME_KIND,
          memoryMB: 256,
          env: {},
          labels: stack.labels,
        }),
      ),
    );
    direct.push(n / ((performance.now() - t) / 1000));
    await inParallel(made, 6, (c) => stack.backend.destroy(c.id));

    const name = `${PREFIX}-prov${rep}`;
    const action: Action = {
      namespace: 'guest',
      name,
      version: '0.0.1',
      exec: { kind: NODEJS_RUNTIME_KIND, code: NOOP_CODE },
      parameters: [],
      annotations: [],
      limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
      publish: false,
      updated: Date.now(),
    };
    t = performance.now();
    await stack.controlPlane.requestContainers(action, n);
    const ok = await waitFor(
      `${n} leased containers of ${name}`,
      () => containersOf(stack, name).length >= n,
      120_000,
    );
    if (!ok) throw new Error(`only ${containersOf(stack, name).length}/${n} containers leased`);
    workflows.push(n / ((performance.now() - t) / 1000));
    log(
      `  ${n} containers: ${direct.at(-1)!.toFixed(2)}/s directly, ${workflows.at(-1)!.toFixed(2)}/s through the workflows`,
    );
  }
  report.provisioning = { containers: n, directPerSecond: direct, workflowsPerSecond: workflows };
  const d = spread(direct).median;
  const w = spread(workflows).median;
  report.figures.push({
    figure: `Provisioning, ${n} containers at once (pool workflow → leased)`,
    value: w,
    unit: 'containers/s',
    floor: d,
    floorName: 'backend.create directly',
    ratio: w / d,
    noise: spread(workflows.map((v, i) => v / direct[i]!)),
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Many actions

async function manyActions(stack: BenchStack, load: LoadGenerator): Promise<void> {
  const counts = SETTINGS.manyActions;
  const max = Math.max(...counts);
  const names = Array.from({ length: max }, (_, i) => `${PREFIX}-many${i}`);
  await inParallel(names, 8, (name) => putAction(stack, name, { memory: 128, concurrency: 32 }));
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
  const runs: NonNullable<Report['manyActions']>['runs'] = [];
  for (let rep = 0; rep < SETTINGS.repeats; rep++) {
    for (const count of rep % 2 === 0 ? counts : [...counts].reverse()) {
      const result = await load.run({
        type: 'closed',
        origin: stack.url,
        requests: names.slice(0, count).map(invokeTemplate),
        concurrency: 32,
        warmupMs: SETTINGS.warmupMs,
        durationMs: SETTINGS.durationMs,
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
  report.manyActions = { counts, runs };
  const of = (count: number) => runs.filter((r) => r.actions === count).map((r) => r.throughput);
  const one = of(1);
  for (const count of counts.filter((c) => c !== 1)) {
    const ratios = of(count).map((v, i) => v / one[i]!);
    const ratio = spread(ratios).median;
    report.figures.push({
      figure: `${count} warm actions, c=32 total: throughput vs 1 action`,
      value: spread(of(count)).median,
      unit: 'req/s',
      floor: spread(one).median,
      floorName: '1 action, c=32',
      ratio,
      target:
        count === max
          ? `≥ ${TARGETS.manyActionsRatio * 100}% of 1 action${max < 100 ? ` (100 in full mode)` : ''}`
          : undefined,
      met: count === max ? ratio >= TARGETS.manyActionsRatio : undefined,
      noise: spread(ratios),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Activation store

async function store(stack: BenchStack, load: LoadGenerator): Promise<void> {
  const name = `${PREFIX}-noop`;
  if (containersOf(stack, name).length === 0) throw new Error('the warm-path action is not warm');
  const runs: NonNullable<Report['store']>['runs'] = [];
  for (let rep = 0; rep < SETTINGS.store.repeats; rep++) {
    for (const kind of rep % 2 === 0
      ? (['cassandra', 'discard'] as const)
      : (['discard', 'cassandra'] as const)) {
      stack.activations.discard = kind === 'discard';
      await stack.writer.flush();
      const result = await load.run({
        type: 'closed',
        origin: stack.url,
        requests: [invokeTemplate(name)],
        concurrency: 32,
        warmupMs: SETTINGS.warmupMs,
        durationMs: SETTINGS.store.durationMs,
      });
      // Sustained only if what was accepted got written: the backlog at the end, and its drain.
      const pendingEnd = stack.writer.pending;
      const t0 = Date.now();
      await stack.writer.flush();
      const drainMs = Date.now() - t0;
      runs.push({ store: kind, throughput: result.throughput, latency: result.latency, pendingEnd, drainMs });
      log(
        `  ${kind.padEnd(9)} c=32: ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms, writer pending at the end ${pendingEnd}, drained in ${drainMs} ms`,
      );
    }
  }
  stack.activations.discard = false;
  await stack.writer.flush();
  report.store = { runs };
  const of = (kind: 'cassandra' | 'discard') => runs.filter((r) => r.store === kind).map((r) => r.throughput);
  const ratios = of('cassandra').map((v, i) => v / of('discard')[i]!);
  const ratio = spread(ratios).median;
  report.figures.push({
    figure: `Warm throughput c=32 over ${SETTINGS.store.durationMs / 1000} s with the ${stack.storeKind} store vs records discarded (writer pending at the end ${runs.find((r) => r.store === 'cassandra')?.pendingEnd})`,
    value: spread(of('cassandra')).median,
    unit: 'req/s',
    floor: spread(of('discard')).median,
    floorName: 'ActivationStore that discards',
    ratio,
    target: `≥ ${TARGETS.storeRatio * 100}% of no store`,
    met: ratio >= TARGETS.storeRatio,
    noise: spread(ratios),
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Burst

async function burst(stack: BenchStack, load: LoadGenerator): Promise<void> {
  const name = `${PREFIX}-burst`;
  const target = stack.config.pools.stemCells[0]!.count;
  await waitFor('stem cells at target', () => stemCells(stack) >= target, 30_000);
  await putAction(stack, name, { memory: 256, concurrency: SETTINGS.burstConcurrency });
  const result = await load.run({
    type: 'burst',
    origin: stack.url,
    request: invokeTemplate(name),
    count: SETTINGS.burstRequests,
    timeoutMs: 90_000,
  });
  const ok = result.requests.filter((r) => r.status === '200');
  const fiveXX = result.requests.filter((r) => r.status.startsWith('5')).length;
  const successRate = ok.length / result.requests.length;
  const allMs = successRate === 1 ? Math.max(...ok.map((r) => r.ms)) : null;
  report.burst = {
    requests: SETTINGS.burstRequests,
    actionConcurrency: SETTINGS.burstConcurrency,
    statuses: result.statuses,
    successRate,
    timeUntilAllSucceededMs: allMs,
    fiveXX,
    latency: summarizeLatency(ok.map((r) => r.ms)),
    containers: containersOf(stack, name).length,
  };
  log(
    `  ${SETTINGS.burstRequests} requests: ${JSON.stringify(result.statuses)}, all done in ${allMs?.toFixed(0) ?? 'n/a'} ms, ${report.burst.containers} containers`,
  );
  const newFloor = report.cold
    ? summarizeLatency(
        report.cold.floor.create.map((v, i) => v + report.cold!.floor.init[i]! + report.cold!.floor.run[i]!),
      ).p50
    : NaN;
  report.figures.push(
    {
      figure: `Burst 0 → ${SETTINGS.burstRequests} concurrent on a new action (concurrency ${SETTINGS.burstConcurrency}): success`,
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
  );
}

// ---------------------------------------------------------------------------------------------
// Output

function charts(): Record<string, string> {
  const out: Record<string, string> = {};
  if (report.warm) {
    const groups: { label: string; values: number[] }[] = [];
    for (const c of SETTINGS.concurrencies) {
      for (const [p, key] of [
        ['p50', 'p50'],
        ['p90', 'p90'],
        ['p99', 'p99'],
        ['p99.9', 'p999'],
      ] as const) {
        const med = (t: 'gust' | 'direct') =>
          spread(
            report
              .warm!.closed.filter((r) => r.concurrency === c && r.target === t)
              .map((r) => r.latency[key]),
          ).median;
        groups.push({ label: `c=${c} ${p}`, values: [med('direct'), med('gust')] });
      }
    }
    out.latency = groupedBars({
      title: 'Warm no-op latency: Gust blocking invoke vs direct /run (closed loop, median of repeats)',
      yLabel: 'ms',
      series: ['direct /run (floor)', 'Gust'],
      groups,
    });
  }
  if (report.cold) {
    const med = (xs: number[]) => summarizeLatency(xs).p50;
    const bar = (label: string, s: ColdSample[]) => ({
      label,
      values: [
        med(s.map((x) => x.waitTime)),
        med(s.map((x) => x.initTime)),
        med(s.map((x) => x.run)),
        med(s.map((x) => x.other)),
      ],
    });
    const f = report.cold.floor;
    out['cold-start'] = stackedBars({
      title: 'Cold start, p50 of each part (ms)',
      yLabel: 'ms',
      segments: ['wait / create', 'init', 'run', 'other (HTTP, auth, record)'],
      bars: [
        { label: 'floor: direct\n/init + /run', values: [0, med(f.init), med(f.run), 0] },
        bar('Gust\nstem cell', report.cold.stemCell),
        {
          label: 'floor: direct create\n+ /init + /run',
          values: [med(f.create), med(f.init), med(f.run), 0],
        },
        bar('Gust new\ncontainer (384 MB)', report.cold.newContainer),
      ],
    });
  }
  if (report.manyActions) {
    const { counts, runs } = report.manyActions;
    const one = spread(runs.filter((r) => r.actions === 1).map((r) => r.throughput)).median;
    out['many-actions'] = groupedBars({
      title: 'Throughput at c=32 spread over N warm actions (median of repeats)',
      yLabel: 'req/s',
      series: ['Gust'],
      groups: counts.map((n) => ({
        label: `${n} action${n === 1 ? '' : 's'}`,
        values: [spread(runs.filter((r) => r.actions === n).map((r) => r.throughput)).median],
      })),
      reference: {
        value: one * TARGETS.manyActionsRatio,
        label: `target: ${TARGETS.manyActionsRatio * 100}% of 1 action`,
      },
    });
  }
  return out;
}

function writeOutputs(): string {
  mkdirSync(RESULTS, { recursive: true });
  const stamp = report.at.replace(/[:.]/g, '-');
  const svgs = charts();
  const svgFiles: Record<string, string> = {};
  for (const [name, svg] of Object.entries(svgs)) {
    const file = `${stamp}-${name}.svg`;
    writeFileSync(join(RESULTS, file), svg);
    if (ONLY === undefined) copyFileSync(join(RESULTS, file), join(RESULTS, `${name}-latest.svg`));
    svgFiles[name] = ONLY === undefined ? `${name}-latest.svg` : file;
  }
  const json = `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' ? round(v) : v), 2)}\n`;
  writeFileSync(join(RESULTS, `${stamp}.json`), json);
  const md = renderMarkdown(report, svgFiles);
  writeFileSync(join(RESULTS, `${stamp}.md`), md);
  // A partial run (--only) is not "the latest figures".
  if (ONLY === undefined) {
    copyFileSync(join(RESULTS, `${stamp}.json`), join(RESULTS, 'latest.json'));
    copyFileSync(join(RESULTS, `${stamp}.md`), join(RESULTS, 'latest.md'));
  }
  return join(RESULTS, `${stamp}.md`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`mode ${SETTINGS.mode}; machine ${JSON.stringify(report.machine.before)}`);
  const load = new LoadGenerator();
  report.setup.loadGenerator = `child process pid ${load.pid} (bench/lib/load-worker.ts, undici Pool); the controller in the parent pid ${process.pid}, the provisioner and agent in its child (bench/lib/control-plane-process.ts)`;
  let stack: BenchStack | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      let actionsDeleted = 0;
      if (stack) {
        log('cleanup: deleting actions, stopping workers, removing containers');
        await inParallel([...created], 8, async (name) => {
          await api(stack!, 'DELETE', name)
            .then(() => actionsDeleted++)
            .catch(() => undefined);
        });
        const result = await stack.stop();
        report.cleanup = { ...result, actionsDeleted };
        log(
          `cleanup: ${actionsDeleted} actions deleted, ${result.workflowsTerminated} workflows terminated, ${result.containersRemoved} containers removed`,
        );
      }
      await load.close();
    })());
  // BENCH_DEADLINE_MS: a shorter bound when the run must end by a given time (a quiet window).
  const deadlineMs = Number(process.env.BENCH_DEADLINE_MS ?? SETTINGS.deadlineMs);
  const deadline = setTimeout(() => {
    log(`deadline of ${deadlineMs / 1000}s passed: cleaning up and exiting`);
    report.errors.push({ phase: 'deadline', error: `the run passed ${deadlineMs} ms` });
    void cleanup().finally(() => {
      report.machine.after = describeMachine();
      report.busyWarning = busyWarning(report.machine.before, report.machine.after);
      report.durationMs = Date.now() - started;
      writeOutputs();
      process.exit(2);
    });
  }, deadlineMs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    await phase('setup (Temporal workers, agent, controller)', async () => {
      stack = await startBenchStack({ stemCells: 2, cassandra: !NO_CASSANDRA, log });
      report.setup.store = stack.storeKind;
      report.setup.controllerId = stack.controllerId;
      report.setup.scope = stack.scope.prefix;
      log(
        `  controller ${stack.controllerId} at ${stack.url}, ${stack.storeKind} store, host ${stack.hostId}`,
      );
      await waitFor('stem cells', () => stemCells(stack!) >= 2, 60_000);
    });
    if (!stack) throw new Error('the stack did not start');
    const s = stack;
    if (wanted('warm') || wanted('store')) await phase('1 warm path', () => warmPath(s, load));
    report.setup.allowConcurrentSetByPlatform = s.controlProcess.allowConcurrentSetByPlatform;
    if (!s.controlProcess.allowConcurrentSetByPlatform)
      report.setup.notes.push(
        'activities/host.ts creates containers with env {} (no __OW_ALLOW_CONCURRENT=true): the bench wraps the agent backend to add it, otherwise actions with limits.concurrency > 1 get 403 from the runtime on overlapping /run.',
      );
    await settle(s);
    if (wanted('sustained'))
      await phase('7 sustained load (CPU per process, bare proxy, open loop)', async () => {
        const { result, figures } = await sustained({
          stack: s,
          load,
          settings: SETTINGS.sustained,
          log,
          warmAction: async () => {
            const name = `${PREFIX}-sustained`;
            await putAction(s, name, { memory: 256, concurrency: 32 });
            const first = await load.run({
              type: 'single',
              origin: s.url,
              request: invokeTemplate(name),
              timeoutMs: 60_000,
            });
            if (first.status !== '200')
              throw new Error(`first invoke of ${name}: ${first.status} ${first.body}`);
            const container = containersOf(s, name)[0];
            if (!container) throw new Error(`no leased container for ${name}`);
            return { name, address: container.address, containerId: container.id };
          },
          invokeTemplate,
          directTemplate,
          runBody: RUN_BODY,
        });
        report.sustained = result;
        report.figures.push(...figures);
      });
    await settle(s);
    await settle(s);
    if (wanted('store')) await phase('5 activation store', () => store(s, load));
    await settle(s);
    if (wanted('cold')) await phase('2 cold start', () => coldStarts(s, load));
    await settle(s);
    if (wanted('provisioning')) await phase('3 provisioning', () => provisioning(s));
    await settle(s);
    if (wanted('burst')) await phase('6 burst', () => burst(s, load));
    await settle(s);
    if (wanted('many')) await phase('4 many actions', () => manyActions(s, load));
    await settle(s);
    // Last: on a busy machine the ramp can leave many containers behind for settle to wait out.
    if (wanted('ramp'))
      await phase('8 new action under an open loop (scale-up)', async () => {
        const name = `${PREFIX}-ramp`;
        const { result, figures } = await ramp({
          stack: s,
          load,
          rate: 400,
          durationMs: SETTINGS.rampMs,
          name,
          putAction: () => putAction(s, name, { memory: 256, concurrency: 1 }),
          invokeTemplate,
          log,
        });
        report.ramp = result;
        report.figures.push(...figures);
      });
    await settle(s);
    // Its own Gust (knative backend) and simulated Knative Serving, beside the docker stack's.
    if (wanted('knative'))
      await phase('9 knative backend (Knative Serving simulated)', async () => {
        const { result, figures } = await knativeBench(QUICK ? KNATIVE_QUICK : KNATIVE_FULL, log);
        report.knative = result;
        report.figures.push(...figures);
      });
  } finally {
    await cleanup();
    clearTimeout(deadline);
    report.machine.after = describeMachine();
    report.busyWarning = busyWarning(report.machine.before, report.machine.after);
    if (report.busyWarning) log(report.busyWarning);
    report.durationMs = Date.now() - started;
    const file = writeOutputs();
    log(`wrote ${file} (and latest.{json,md}, *-latest.svg)`);
  }
  if (report.errors.length > 0) {
    log(`${report.errors.length} phase(s) failed: ${report.errors.map((e) => e.phase).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

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
//   7 sustained      CPU per request by process vs direct /run and a bare proxy; open loops (sustained.ts)
//   8 ramp           a new action under a 400 req/s open loop: time to steady state (ramp.ts)
//   9 knative        GUST_BACKEND=knative (Knative Serving SIMULATED, real pods): warm latency and
//                    throughput vs the gateway and the pod, scale from zero vs the gateway (knative.ts)
//  10 memory         the controller's RSS over a long open loop at half its maximum (full: 10 min)
// The controller runs in this process, the provisioner and agent in a child
// (bench/lib/control-plane-process.ts); the load comes from another child (bench/lib/load-worker.ts). Writes
// bench/results/<timestamp>.{json,md}, three SVG charts, and the *latest* copies.
// This file is the driver: it starts the stack, runs the selected phases in order (each regime is a
// module in bench/phases/, given a PhaseContext: bench/lib/phase-context.ts), settles the stack
// between them, and assembles and writes the report (bench/lib/report.ts).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNATIVE_FULL, KNATIVE_QUICK, knativeBench } from './knative';
import { startBenchStack, inParallel, type BenchStack } from './lib/gust-stack';
import { LoadGenerator } from './lib/load-client';
import { describeMachine, type MachineInfo } from './lib/machine';
import {
  actionApi,
  putNoopAction,
  sleep,
  stemCells,
  stemCellsAtTarget,
  waitFor,
  type ActionLimits,
  type PhaseContext,
} from './lib/phase-context';
import { renderMarkdown, round, type Figure, type Report } from './lib/report';
import { burst } from './phases/burst';
import { coldStartChart, coldStarts } from './phases/cold';
import { manyActions, manyActionsChart } from './phases/many-actions';
import { memory } from './phases/memory';
import { provisioning } from './phases/provisioning';
import { ramp } from './phases/ramp';
import { store } from './phases/store';
import { sustained } from './phases/sustained';
import { warm, warmLatencyChart } from './phases/warm';

const QUICK = process.argv.includes('--quick');
const NO_CASSANDRA = process.argv.includes('--sqlite');
/** `--only=warm,store` runs those phases alone (warm, sustained, ramp, store, memory, cold, provisioning, burst, many, knative). */
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (phase: string): boolean => ONLY === undefined || ONLY.includes(phase);
const REPO = join(__dirname, '..', '..');
const RESULTS = join(REPO, 'bench', 'results');

/** What both modes measure alike. */
const COMMON_SETTINGS = {
  concurrencies: [1, 8, 32],
  burstRequests: 100,
  burstConcurrency: Number(process.env.BENCH_BURST_CONCURRENCY ?? 10),
};

const SETTINGS = QUICK
  ? {
      ...COMMON_SETTINGS,
      mode: 'quick' as const,
      repeats: 2,
      warmupMs: 300,
      durationMs: 1500,
      openDurationMs: 2000,
      coldStemSamples: 5,
      coldNewSamples: 3,
      floorSamples: 3,
      provisionContainers: 4,
      provisionRepeats: 1,
      manyActions: [1, 10, 30],
      sustained: { repeats: 2, warmupMs: 2000, closedMs: 5000, openMs: 30_000 },
      rampMs: 15_000,
      store: { repeats: 1, durationMs: 10_000 },
      memory: { durationMs: 60_000, warmupMs: 15_000 },
      deadlineMs: 600_000,
    }
  : {
      ...COMMON_SETTINGS,
      mode: 'full' as const,
      repeats: 3,
      warmupMs: 1000,
      durationMs: 5000,
      openDurationMs: 5000,
      coldStemSamples: 10,
      coldNewSamples: 8,
      floorSamples: 6,
      provisionContainers: 8,
      provisionRepeats: 2,
      manyActions: [1, 10, 100],
      sustained: { repeats: 5, warmupMs: 3000, closedMs: 10_000, openMs: 30_000 },
      rampMs: 30_000,
      store: { repeats: 1, durationMs: 60_000 },
      memory: { durationMs: 600_000, warmupMs: 60_000 },
      deadlineMs: 50 * 60_000,
    };

/** `BENCH_COLD_SAMPLES=stem,new,floor` (e.g. `30,0,30`): the cold phase's sample counts, overriding the mode's. */
const COLD_SAMPLES = process.env.BENCH_COLD_SAMPLES?.split(',').map(Number);
if (COLD_SAMPLES !== undefined) {
  if (COLD_SAMPLES.length !== 3 || !COLD_SAMPLES.every((n) => Number.isInteger(n) && n >= 0))
    throw new Error('BENCH_COLD_SAMPLES must be three counts: stem,new,floor');
  [SETTINGS.coldStemSamples, SETTINGS.coldNewSamples, SETTINGS.floorSamples] = COLD_SAMPLES as [
    number,
    number,
    number,
  ];
}

const PREFIX = `bench-${process.pid}`;
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
// A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
const log = (line: string): void => console.log(`[bench +${elapsed()}] ${line}`);

/** Every action this run created: deleted at cleanup. */
const created = new Set<string>();
async function putAction(stack: BenchStack, name: string, limits: ActionLimits): Promise<void> {
  await putNoopAction(stack, name, limits);
  created.add(name);
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
  await stemCellsAtTarget({ stack, log });
  const waited = Date.now() - t0;
  if (waited > 2_000) log(`  settled in ${(waited / 1000).toFixed(1)}s`);
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

const report: Report & { settings: typeof SETTINGS } = {
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

type PhaseKey =
  | 'warm'
  | 'sustained'
  | 'store'
  | 'memory'
  | 'cold'
  | 'provisioning'
  | 'burst'
  | 'manyActions'
  | 'ramp'
  | 'knative';

/** Puts a phase's result into the report under `key` and its figures into the figures table. */
const keep =
  <K extends PhaseKey>(key: K) =>
  ({ result, figures }: { result: NonNullable<Report[K]>; figures: Figure[] }): void => {
    const results: Pick<Report, PhaseKey> = report;
    results[key] = result;
    report.figures.push(...figures);
  };

function charts(): Record<string, string> {
  const out: Record<string, string> = {};
  if (report.warm) out.latency = warmLatencyChart(report.warm, SETTINGS.concurrencies);
  if (report.cold) out['cold-start'] = coldStartChart(report.cold);
  if (report.manyActions) out['many-actions'] = manyActionsChart(report.manyActions);
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

/** The machine after the run, the busy warning and the duration, then the files. */
function finishReport(): string {
  report.machine.after = describeMachine();
  report.busyWarning = busyWarning(report.machine.before, report.machine.after);
  if (report.busyWarning) log(report.busyWarning);
  report.durationMs = Date.now() - started;
  return writeOutputs();
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
          await actionApi(stack!, 'DELETE', name)
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
      finishReport();
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
      await waitFor({ log }, 'stem cells', () => stemCells(stack!) >= 2, 60_000);
    });
    if (!stack) throw new Error('the stack did not start');
    const s = stack;
    const ctx: PhaseContext = {
      stack: s,
      load,
      log,
      prefix: PREFIX,
      putAction: (name, limits) => putAction(s, name, limits),
    };
    // The warm path's action: the store and memory phases measure on it, so it runs for them too.
    const warmName = `${PREFIX}-noop`;
    if (wanted('warm') || wanted('store') || wanted('memory'))
      await phase('1 warm path', () =>
        warm({ ...ctx, name: warmName, settings: SETTINGS }).then(keep('warm')),
      );
    report.setup.allowConcurrentSetByPlatform = s.controlProcess.allowConcurrentSetByPlatform;
    if (!s.controlProcess.allowConcurrentSetByPlatform)
      report.setup.notes.push(
        'activities/host.ts creates containers with env {} (no __OW_ALLOW_CONCURRENT=true): the bench wraps the agent backend to add it, otherwise actions with limits.concurrency > 1 get 403 from the runtime on overlapping /run.',
      );
    await settle(s);
    if (wanted('sustained'))
      await phase('7 sustained load (CPU per process, bare proxy, open loop)', () =>
        sustained({ ...ctx, settings: SETTINGS.sustained }).then(keep('sustained')),
      );
    // Twice: the sustained open loops write through the store, and their backlog can outlast one
    // settle's 30 s flush.
    await settle(s);
    await settle(s);
    if (wanted('store'))
      await phase('5 activation store', () =>
        store({ ...ctx, name: warmName, settings: SETTINGS }).then(keep('store')),
      );
    await settle(s);
    if (wanted('memory'))
      await phase('10 controller memory under a long steady load', () =>
        memory({ ...ctx, name: warmName, settings: SETTINGS.memory }).then(keep('memory')),
      );
    await settle(s);
    if (wanted('cold'))
      await phase('2 cold start', () =>
        coldStarts({ ...ctx, settings: SETTINGS, measured: (cold) => (report.cold = cold) }).then(
          keep('cold'),
        ),
      );
    await settle(s);
    if (wanted('provisioning'))
      await phase('3 provisioning', () =>
        provisioning({ ...ctx, settings: SETTINGS }).then(keep('provisioning')),
      );
    await settle(s);
    if (wanted('burst'))
      await phase('6 burst', () =>
        burst({ ...ctx, settings: SETTINGS, coldFloor: report.cold?.floor }).then(keep('burst')),
      );
    await settle(s);
    if (wanted('many'))
      await phase('4 many actions', () =>
        manyActions({ ...ctx, settings: SETTINGS }).then(keep('manyActions')),
      );
    await settle(s);
    // Last: on a busy machine the ramp can leave many containers behind for settle to wait out.
    if (wanted('ramp'))
      await phase('8 new action under an open loop (scale-up)', () =>
        ramp({ ...ctx, rate: 400, durationMs: SETTINGS.rampMs }).then(keep('ramp')),
      );
    await settle(s);
    // Its own Gust (knative backend) and simulated Knative Serving, beside the docker stack's.
    if (wanted('knative'))
      await phase('9 knative backend (Knative Serving simulated)', () =>
        knativeBench(QUICK ? KNATIVE_QUICK : KNATIVE_FULL, log).then(keep('knative')),
      );
  } finally {
    await cleanup();
    clearTimeout(deadline);
    const file = finishReport();
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

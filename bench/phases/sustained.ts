// The sustained-load protocol (issue 13): what one warm request costs each process, against two
// floors measured in the same run on the same container — direct /run, and a bare Fastify→undici
// proxy (bench/lib/bare-proxy.ts) — and whether Gust holds an open loop at half its own maximum.
//   closed loops  c = 1 and 32, each target in turn, repeated; CPU per request by process read
//                 from /proc at the window's edges; records discarded (the hot path alone)
//   open loops    at 50% of Gust's sustained c=32 maximum with the activation store the run uses
//                 (a closed loop as long as the open ones, so the writer's backlog shows in it), for
//                 ≥ 30 s: the writer's pending count sampled, event-loop delay and GCs. Clients share
//                 OPEN_LOOP_CONNECTIONS connections, as behind a reverse proxy (OpenWhisk's nginx);
//                 Gust is also measured with a connection per outstanding request (independent
//                 clients), where a stall makes the client open more and the controller pays for them.
// Closed loops (throughput) are pinned when the machine has 2+ cores (taskset): the controller
// (this process) and the bare proxy on the last core, the load generator, the container and its
// docker-proxy on the others. Shared services (dockerd, Cassandra, Temporal) are not moved. Open
// loops run unpinned.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { spread, type LatencySummary } from '../lib/latency';
import type { LoadResult, RequestTemplate } from '../lib/load-worker';
import { watchLoop, type LoopStats } from '../lib/loop-stats';
import {
  cpuBetween,
  msPerRequest,
  pidsInCgroup,
  pidsWithArgs,
  SERVICE_COMMS,
  snapshot,
  type CpuGroups,
} from '../lib/proc-cpu';
import { startBareProxy } from '../lib/bare-proxy';
import {
  directTemplate,
  invokeTemplate,
  RUN_BODY,
  warmAction,
  type PhaseContext,
} from '../lib/phase-context';
import { round, type Figure } from '../lib/report';

export type Target = 'direct' | 'proxy' | 'gust';

/** Connections an open loop's requests share (a reverse proxy's upstream keep-alive pool). */
const OPEN_LOOP_CONNECTIONS = 64;
/** Requests an open loop lets be outstanding; past it they are counted as overflow. */
const MAX_OUTSTANDING = 2048;

export interface SustainedSettings {
  repeats: number;
  warmupMs: number;
  closedMs: number;
  openMs: number;
}

export interface SustainedRun {
  target: Target;
  loop: 'closed' | 'open';
  concurrency?: number;
  rate?: number;
  /** Open loops: the connections the requests shared. */
  connections?: number;
  store: 'discard' | 'cassandra' | 'sqlite';
  throughput: number;
  latency: LatencySummary;
  statuses: Record<string, number>;
  overflow?: number;
  /** CPU ms per completed request, by process group. */
  cpuMsPerRequest: Record<string, number>;
  /** Machine busy share over the window (0..cores) and steal. */
  machineBusyCores: number;
  stealMs: number;
  /** The controller process (this one): event-loop delay, GCs (only meaningful for target gust). */
  controller?: LoopStats;
  /** Activation writer: pending at the end and the most seen during the window. */
  writer?: { pendingEnd: number; pendingMax: number; drainMs: number };
}

export interface SustainedResult {
  pinned: string | null;
  runs: SustainedRun[];
  openRate: number;
}

function taskset(cpuList: string, pid: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function sustained(
  ctx: PhaseContext & { settings: SustainedSettings },
): Promise<{ result: SustainedResult; figures: Figure[] }> {
  const { stack, load, settings, log } = ctx;
  const name = `${ctx.prefix}-sustained`;
  const { container } = await warmAction(ctx, name);
  const { address, id: containerId } = container;
  const proxy = await startBareProxy(address, RUN_BODY);
  // A runtime on a unix socket has no docker-proxy; one published on a TCP port has.
  const port = /^https?:/.test(address) ? new URL(address).port : '';
  const containerPids = pidsInCgroup(containerId);
  const dockerProxies = port ? pidsWithArgs('docker-proxy', '-host-port', port) : [];
  const groups: CpuGroups = {
    pids: {
      controller: [process.pid],
      'control plane': [stack.controlProcess.pid],
      'load generator': [load.pid],
      'bare proxy': [proxy.pid],
      container: containerPids,
      'docker-proxy': dockerProxies,
    },
    comms: SERVICE_COMMS,
  };

  const cores = cpus().length;
  const all = `0-${cores - 1}`;
  let pinned: string | null = null;
  const pin = (): void => {
    if (cores < 2) return;
    const last = String(cores - 1);
    const rest = cores === 2 ? '0' : `0-${cores - 2}`;
    const ok =
      taskset(last, process.pid) &&
      taskset(last, proxy.pid) &&
      load.pid !== undefined &&
      taskset(rest, load.pid) &&
      containerPids.every((pid) => taskset(rest, pid)) &&
      dockerProxies.every((pid) => taskset(rest, pid));
    pinned = ok
      ? `controller and bare proxy on CPU ${last}; load generator, container, docker-proxy on CPU ${rest}`
      : null;
  };
  const unpin = (): void => {
    for (const pid of [process.pid, proxy.pid, load.pid, ...containerPids, ...dockerProxies]) {
      if (pid !== undefined) taskset(all, pid);
    }
  };

  const runs: SustainedRun[] = [];
  const origin = (t: Target): string => (t === 'gust' ? stack.url : t === 'proxy' ? proxy.url : address);
  const template = (t: Target): RequestTemplate =>
    t === 'gust'
      ? invokeTemplate(name)
      : t === 'proxy'
        ? { path: '/run', headers: { 'content-type': 'application/json' }, body: '{}' }
        : directTemplate(address);

  const measure = async (
    target: Target,
    job:
      | { loop: 'closed'; concurrency: number; durationMs?: number }
      | { loop: 'open'; rate: number; connections: number },
  ): Promise<SustainedRun> => {
    const store = stack.activations.discard ? 'discard' : stack.storeKind;
    await stack.writer.flush();
    // Edges: CPU is read when the measured window starts and ends (the warm-up is excluded).
    let startSnap = snapshot(groups);
    let loopWatch = watchLoop();
    let pendingMax = 0;
    const startTimer = setTimeout(() => {
      startSnap = snapshot(groups);
      loopWatch.stop();
      loopWatch = watchLoop();
      pendingMax = 0;
    }, settings.warmupMs);
    const sampler = setInterval(() => {
      pendingMax = Math.max(pendingMax, stack.writer.pending);
    }, 100);
    const duration = job.loop === 'closed' ? (job.durationMs ?? settings.closedMs) : settings.openMs;
    let endSnap = startSnap;
    let ended = false;
    let loopStats: LoopStats | undefined;
    let pendingEnd = 0;
    const endTimer = setTimeout(() => {
      ended = true;
      endSnap = snapshot(groups);
      loopStats = loopWatch.stop();
      pendingEnd = stack.writer.pending;
    }, settings.warmupMs + duration);
    const result: LoadResult =
      job.loop === 'closed'
        ? await load.run({
            type: 'closed',
            origin: origin(target),
            requests: [template(target)],
            concurrency: job.concurrency,
            warmupMs: settings.warmupMs,
            durationMs: duration,
          })
        : await load.run({
            type: 'open',
            origin: origin(target),
            requests: [template(target)],
            ratePerSecond: job.rate,
            warmupMs: settings.warmupMs,
            durationMs: duration,
            maxOutstanding: MAX_OUTSTANDING,
            connections: job.connections,
          });
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    clearInterval(sampler);
    if (!ended) {
      endSnap = snapshot(groups);
      loopStats = loopWatch.stop();
      pendingEnd = stack.writer.pending;
    }
    const t0 = performance.now();
    await stack.writer.flush();
    const drainMs = performance.now() - t0;
    const cpu = cpuBetween(startSnap, endSnap);
    const cpuMsPerRequest = msPerRequest(cpu.byGroup, result.throughput * (duration / 1000));
    const run: SustainedRun = {
      target,
      loop: job.loop,
      ...(job.loop === 'closed'
        ? { concurrency: job.concurrency }
        : { rate: job.rate, connections: job.connections }),
      store,
      throughput: round(result.throughput, 1),
      latency: result.latency,
      statuses: result.statuses,
      overflow: result.overflow,
      cpuMsPerRequest,
      machineBusyCores: round(cpu.machineBusyMs / cpu.wallMs, 2),
      stealMs: cpu.stealMs,
      controller: target === 'gust' ? loopStats : undefined,
      writer: target === 'gust' ? { pendingEnd, pendingMax, drainMs: round(drainMs, 1) } : undefined,
    };
    const own = target === 'gust' ? 'controller' : target === 'proxy' ? 'bare proxy' : undefined;
    log(
      `  ${job.loop} ${target.padEnd(6)} ${job.loop === 'closed' ? `c=${job.concurrency}` : `${job.rate}/s over ${job.connections} connections`}` +
        ` ${result.throughput.toFixed(0).padStart(6)} req/s p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms` +
        (own ? ` ${own} CPU ${cpuMsPerRequest[own]?.toFixed(3)} ms/req` : '') +
        ` machine ${run.machineBusyCores} cores` +
        (run.controller
          ? ` eld p99 ${run.controller.eventLoopDelayMs.p99} ms gc ${run.controller.gc.minor}/${run.controller.gc.major}`
          : '') +
        (run.writer ? ` writer pending max ${run.writer.pendingMax}` : '') +
        (result.overflow ? ` overflow ${result.overflow}` : ''),
    );
    runs.push(run);
    return run;
  };

  try {
    pin();
    log(`  pinning: ${pinned ?? 'none (fewer than 2 cores or taskset failed)'}`);
    stack.activations.discard = true;
    const order: Target[] = ['direct', 'proxy', 'gust'];
    for (let rep = 0; rep < settings.repeats; rep++) {
      for (const c of [1, 32]) {
        const rotated = [...order.slice(rep % 3), ...order.slice(0, rep % 3)];
        for (const target of rotated) await measure(target, { loop: 'closed', concurrency: c });
      }
    }
    // The rate Gust sustains with its store, not the hot path's alone: records are written, and a
    // closed loop as long as the open loops lets the writer's backlog bound it as it bounds them.
    stack.activations.discard = false;
    const sustainedMax = await measure('gust', {
      loop: 'closed',
      concurrency: 32,
      durationMs: settings.openMs,
    });
    const openRate = Math.max(10, Math.round(sustainedMax.throughput * 0.5));
    // Open loops measure a sustained rate's latency, not a throughput: unpinned.
    unpin();
    for (const target of order) {
      await measure(target, { loop: 'open', rate: openRate, connections: OPEN_LOOP_CONNECTIONS });
    }
    await measure('gust', { loop: 'open', rate: openRate, connections: MAX_OUTSTANDING });
    return { result: { pinned, runs, openRate }, figures: figuresOf(runs, openRate, stack.storeKind) };
  } finally {
    stack.activations.discard = false;
    unpin();
    await proxy.close();
  }
}

function figuresOf(runs: SustainedRun[], openRate: number, storeKind: string): Figure[] {
  const closed = (t: Target, c: number) =>
    runs.filter((r) => r.loop === 'closed' && r.store === 'discard' && r.target === t && r.concurrency === c);
  const med = (xs: number[]) => spread(xs).median;
  const pairs = (c: number, f: (gust: SustainedRun, other: SustainedRun) => number, other: Target) => {
    const g = closed('gust', c);
    const o = closed(other, c);
    return spread(g.map((run, i) => f(run, o[i]!)));
  };
  const cpuRatio = pairs(
    32,
    (g, p) => g.cpuMsPerRequest.controller! / p.cpuMsPerRequest['bare proxy']!,
    'proxy',
  );
  const thrRatio = pairs(32, (g, p) => g.throughput / p.throughput, 'proxy');
  // What Gust adds to the container's latency at c = 1, pinned.
  const addedAtC1 = (key: 'p50' | 'p99', targetMs: number): Figure => {
    const added = pairs(1, (g, d) => g.latency[key] - d.latency[key], 'direct');
    return {
      figure: `Warm added latency ${key}, c=1 (Gust − direct, pinned)`,
      value: added.median,
      unit: 'ms',
      floor: med(closed('direct', 1).map((r) => r.latency[key])),
      floorName: `direct /run ${key}`,
      target: `≤ ${targetMs} ms`,
      met: added.median <= targetMs,
      noise: added,
    };
  };
  const open = (t: Target, connections = OPEN_LOOP_CONNECTIONS) =>
    runs.find((r) => r.loop === 'open' && r.target === t && r.connections === connections)!;
  const og = open('gust');
  const od = open('direct');
  const ogClients = open('gust', MAX_OUTSTANDING);
  return [
    {
      figure: 'Controller CPU per warm request, c=32, vs the bare proxy (pinned, records discarded)',
      value: med(closed('gust', 32).map((r) => r.cpuMsPerRequest.controller!)),
      unit: 'ms',
      floor: med(closed('proxy', 32).map((r) => r.cpuMsPerRequest['bare proxy']!)),
      floorName: 'bare Fastify→undici proxy CPU per request',
      ratio: cpuRatio.median,
      target: '≤ 1.5×',
      met: cpuRatio.median <= 1.5,
      noise: cpuRatio,
    },
    addedAtC1('p50', 0.5),
    addedAtC1('p99', 2),
    {
      figure: 'Warm throughput c=32, Gust / bare proxy (pinned)',
      value: med(closed('gust', 32).map((r) => r.throughput)),
      unit: 'req/s',
      floor: med(closed('proxy', 32).map((r) => r.throughput)),
      floorName: 'bare proxy c=32',
      ratio: thrRatio.median,
      target: '≥ 0.8',
      met: thrRatio.median >= 0.8,
      noise: thrRatio,
    },
    {
      figure: `Open loop at ${openRate} req/s (50% of Gust's sustained c=32 max with the ${storeKind} store), over ${OPEN_LOOP_CONNECTIONS} connections: added p50`,
      value: og.latency.p50 - od.latency.p50,
      unit: 'ms',
      floor: od.latency.p50,
      floorName: `direct p50 at the same rate; Gust achieved ${og.throughput} req/s`,
      target: '≤ 1 ms',
      met: og.latency.p50 - od.latency.p50 <= 1,
    },
    {
      figure: `Open loop at ${openRate} req/s, ${storeKind} store: added p99 (writer pending max ${og.writer?.pendingMax}, end ${og.writer?.pendingEnd})`,
      value: og.latency.p99 - od.latency.p99,
      unit: 'ms',
      floor: od.latency.p99,
      floorName: 'direct p99 at the same rate',
      target: '≤ 10 ms, backlog bounded',
      met: og.latency.p99 - od.latency.p99 <= 10 && (og.overflow ?? 0) === 0,
    },
    {
      figure: `Open loop at ${openRate} req/s, a connection per outstanding request (independent clients, up to ${MAX_OUTSTANDING}): added p50 (added p99 ${round(ogClients.latency.p99 - od.latency.p99, 1)} ms, overflow ${ogClients.overflow ?? 0})`,
      value: ogClients.latency.p50 - od.latency.p50,
      unit: 'ms',
      floor: od.latency.p50,
      floorName: `direct p50 over ${OPEN_LOOP_CONNECTIONS} connections; Gust achieved ${ogClients.throughput} req/s`,
    },
  ];
}

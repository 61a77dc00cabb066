// The load generator: a child process (forked by bench/lib/load-client.ts) so that the client's
// CPU is not the controller's. It takes one job at a time over IPC and answers with a summary.
//   closed  c loops, each sends its next request when the previous answered (throughput, latency)
//   open    requests at a fixed rate whatever the answers (latency from the intended send time,
//           so queueing is not hidden: no coordinated omission)
//   burst   n requests at once, each timed, every status kept
//   single  one request; the answer's body comes back (cold starts read the annotations)
//   sequence requests one after another over one new connection, each timed (a floor's /init + /run)
// Every job is bounded in time and in count.
import type { Pool } from 'undici';
import { poolFor } from './runtime-origin';
import { summarizeLatency, type LatencySummary } from './latency';

export interface RequestTemplate {
  /** Closed loops: this request's origin when not the job's (many containers called directly). */
  origin?: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type LoadJob =
  | {
      type: 'closed';
      origin: string;
      /** Rotated over, one per request (many actions); one entry for a single target. */
      requests: RequestTemplate[];
      concurrency: number;
      warmupMs: number;
      durationMs: number;
    }
  | {
      type: 'open';
      origin: string;
      requests: RequestTemplate[];
      ratePerSecond: number;
      warmupMs: number;
      durationMs: number;
      /** Requests outstanding above this are not sent and counted as `overflow` (the target is overloaded). */
      maxOutstanding: number;
      /**
       * Connections the requests share; more outstanding wait for one (their latency still counts
       * from the intended send time), as behind a reverse proxy's keep-alive pool.
       * @default maxOutstanding: a connection per outstanding request, as independent clients.
       */
      connections?: number;
      /** Also answer p99 and count per second of intended send time (a ramp's shape). */
      timeline?: boolean;
    }
  | { type: 'burst'; origin: string; request: RequestTemplate; count: number; timeoutMs: number }
  | { type: 'single'; origin: string; request: RequestTemplate; timeoutMs: number }
  | { type: 'sequence'; origin: string; requests: RequestTemplate[]; timeoutMs: number };

export interface LoadResult {
  latency: LatencySummary;
  /** Requests completed inside the measured window. */
  completed: number;
  /** Completed per second of the measured window. */
  throughput: number;
  /** Count per HTTP status in the window ('error' for transport failures). */
  statuses: Record<string, number>;
  /** Open loop: requests scheduled in the window, and those skipped because too many were outstanding. */
  scheduled?: number;
  overflow?: number;
  /** Open loop with `timeline`: per second since the start (warm-up included), p99 ms and successes. */
  timeline?: { second: number; p99: number; ok: number; failed: number }[];
}

export interface BurstResult {
  statuses: Record<string, number>;
  /** Latency of every request in send order (ms); status alongside. */
  requests: { status: string; ms: number }[];
}

export interface SingleResult {
  status: string;
  ms: number;
  body: string;
}

export type JobResult = LoadResult | BurstResult | SingleResult | SingleResult[];

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

async function send(
  pool: Pool,
  request: RequestTemplate,
  timeoutMs = 120_000,
): Promise<{ status: string; body: string }> {
  try {
    const response = await pool.request({
      method: 'POST',
      path: request.path,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.body.text();
    return { status: String(response.statusCode), body };
  } catch (error) {
    return { status: 'error', body: error instanceof Error ? error.message : String(error) };
  }
}

function count(statuses: Record<string, number>, status: string): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
}

async function closedLoop(job: Extract<LoadJob, { type: 'closed' }>): Promise<LoadResult> {
  const pools = new Map<string, Pool>();
  const poolOf = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) pools.set(origin, (pool = poolFor(origin, { connections: job.concurrency, pipelining: 1 })));
    return pool;
  };
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  const begin = nowMs();
  const measureFrom = begin + job.warmupMs;
  const end = measureFrom + job.durationMs;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (nowMs() < end) {
          const request = job.requests[next++ % job.requests.length]!;
          const t0 = nowMs();
          const { status } = await send(poolOf(request.origin ?? job.origin), request);
          const t1 = nowMs();
          if (t0 >= measureFrom && t1 <= end) {
            count(statuses, status);
            if (status === '200') samples.push(t1 - t0);
          }
        }
      }),
    );
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  return {
    latency: summarizeLatency(samples),
    completed: samples.length,
    throughput: samples.length / (job.durationMs / 1000),
    statuses,
  };
}

async function openLoop(job: Extract<LoadJob, { type: 'open' }>): Promise<LoadResult> {
  const pool = poolFor(job.origin, { connections: job.connections ?? job.maxOutstanding, pipelining: 1 });
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  const interval = 1000 / job.ratePerSecond;
  const begin = nowMs();
  const measureFrom = begin + job.warmupMs;
  const end = measureFrom + job.durationMs;
  const total = Math.floor((job.warmupMs + job.durationMs) / interval);
  let outstanding = 0;
  let scheduled = 0;
  let overflow = 0;
  const inFlight = new Set<Promise<void>>();
  const perSecond: { samples: number[]; failed: number }[] = [];
  const second = (intended: number) =>
    (perSecond[Math.floor((intended - begin) / 1000)] ??= { samples: [], failed: 0 });
  try {
    for (let k = 0; k < total;) {
      const now = nowMs();
      // Send every request whose intended time has come (timers are coarse: catch up in a batch).
      while (k < total && begin + k * interval <= now) {
        const intended = begin + k * interval;
        const request = job.requests[k % job.requests.length]!;
        k++;
        const measured = intended >= measureFrom;
        if (measured) scheduled++;
        if (outstanding >= job.maxOutstanding) {
          if (measured) overflow++;
          continue;
        }
        outstanding++;
        const done = send(pool, request, 30_000).then(({ status }) => {
          outstanding--;
          const t1 = nowMs();
          if (job.timeline) {
            const bucket = second(intended);
            if (status === '200') bucket.samples.push(t1 - intended);
            else bucket.failed++;
          }
          if (measured) {
            count(statuses, status);
            if (status === '200') samples.push(t1 - intended);
          }
        });
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
      }
      if (k < total) {
        const wait = Math.max(0, begin + k * interval - nowMs());
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    // Stragglers still count (their latency is the queueing this mode exists to show), bounded.
    await Promise.race([Promise.all(inFlight), new Promise((resolve) => setTimeout(resolve, 30_000))]);
  } finally {
    await pool.destroy();
  }
  return {
    latency: summarizeLatency(samples),
    completed: samples.length,
    throughput: samples.length / ((end - measureFrom) / 1000),
    statuses,
    scheduled,
    overflow,
    timeline: job.timeline
      ? Array.from(perSecond, (b, i) => ({
          second: i,
          p99: b ? summarizeLatency(b.samples).p99 : NaN,
          ok: b?.samples.length ?? 0,
          failed: b?.failed ?? 0,
        }))
      : undefined,
  };
}

async function burst(job: Extract<LoadJob, { type: 'burst' }>): Promise<BurstResult> {
  const pool = poolFor(job.origin, { connections: job.count, pipelining: 1 });
  const statuses: Record<string, number> = {};
  try {
    const t0 = nowMs();
    const requests = await Promise.all(
      Array.from({ length: job.count }, async () => {
        const { status } = await send(pool, job.request, job.timeoutMs);
        count(statuses, status);
        return { status, ms: nowMs() - t0 };
      }),
    );
    return { statuses, requests };
  } finally {
    await pool.destroy();
  }
}

/** Each request after the one before, over one new connection (the first pays its connect); stops at a failure. */
async function sequence(
  origin: string,
  requests: RequestTemplate[],
  timeoutMs: number,
): Promise<SingleResult[]> {
  const pool = poolFor(origin, { connections: 1, pipelining: 1 });
  const results: SingleResult[] = [];
  try {
    for (const request of requests) {
      const t0 = nowMs();
      const { status, body } = await send(pool, request, timeoutMs);
      results.push({ status, ms: nowMs() - t0, body });
      if (status !== '200') break;
    }
    return results;
  } finally {
    await pool.destroy();
  }
}

export function runJob(job: LoadJob): Promise<JobResult> {
  switch (job.type) {
    case 'closed':
      return closedLoop(job);
    case 'open':
      return openLoop(job);
    case 'burst':
      return burst(job);
    case 'single':
      return sequence(job.origin, [job.request], job.timeoutMs).then((results) => results[0]!);
    case 'sequence':
      return sequence(job.origin, job.requests, job.timeoutMs);
  }
}

if (require.main === module && process.send) {
  process.on('message', (message: { id: number; job: LoadJob }) => {
    runJob(message.job).then(
      (result) => process.send!({ id: message.id, result }),
      (error: unknown) =>
        process.send!({ id: message.id, error: error instanceof Error ? error.stack : String(error) }),
    );
  });
  // The parent going away ends this process (no orphaned load generator).
  process.on('disconnect', () => process.exit(0));
}

// The controller's memory under a long steady load (issue 13: "controller RSS over a 10-minute run
// at 50% load, flat"): a short closed loop at c = 32 finds Gust's maximum on the warm action, then
// an open loop at half of it runs for the phase's duration with the run's store, while this
// process's RSS (the controller alone: the provisioner and agent are in another) is sampled. The
// figure is the RSS at the end against the RSS once warmed up; the writer's backlog and the rate
// achieved say whether growth is a leak or load the stack could not carry.
import type { LoadResult } from '../lib/load-worker';
import { invokeTemplate, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';

export interface MemorySettings {
  /** The open loop's length, warm-up included. */
  durationMs: number;
  /** RSS before this is warm-up (JIT, pools, caches filling). */
  warmupMs: number;
}

export interface MemoryResult {
  rate: number;
  achieved: number;
  latencyMs: { p50: number; p99: number };
  statuses: Record<string, number>;
  /** RSS in MB, one sample every SAMPLE_MS from the loop's start. */
  rssMB: number[];
  warmedMB: number;
  endMB: number;
  writer: { pendingMax: number; pendingEnd: number };
}

const SAMPLE_MS = 5_000;
const MB = 1024 * 1024;

/** `name`: the warm path's action (concurrency 32, already warm). */
export async function memory(
  ctx: PhaseContext & { name: string; settings: MemorySettings },
): Promise<{ result: MemoryResult; figures: Figure[] }> {
  const { stack, load, log, name, settings } = ctx;
  const request = invokeTemplate(name);
  const probe = await load.run({
    type: 'closed',
    origin: stack.url,
    requests: [request],
    concurrency: 32,
    warmupMs: 500,
    durationMs: 3_000,
  });
  const rate = Math.max(10, Math.round(probe.throughput / 2));
  log(
    `  c=32 maximum ${probe.throughput.toFixed(0)} req/s: open loop at ${rate} req/s for ${settings.durationMs / 1000} s`,
  );
  const rssMB: number[] = [];
  let pendingMax = 0;
  const sampleRss = (): void => void rssMB.push(Math.round((process.memoryUsage().rss / MB) * 10) / 10);
  sampleRss();
  const sampler = setInterval(sampleRss, SAMPLE_MS);
  const pending = setInterval(() => (pendingMax = Math.max(pendingMax, stack.writer.pending)), 100);
  const result: LoadResult = await load
    .run({
      type: 'open',
      origin: stack.url,
      requests: [request],
      ratePerSecond: rate,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs - settings.warmupMs,
      maxOutstanding: 2048,
    })
    .finally(() => {
      clearInterval(sampler);
      clearInterval(pending);
    });
  sampleRss();
  const pendingEnd = stack.writer.pending;
  await stack.writer.flush();
  // Once warmed: the sample at the end of the warm-up; at the end: the last sample.
  const warmedMB = rssMB[Math.min(rssMB.length - 1, Math.ceil(settings.warmupMs / SAMPLE_MS))]!;
  const endMB = rssMB[rssMB.length - 1]!;
  const growth = endMB / warmedMB;
  log(
    `  RSS ${warmedMB} MB after warm-up → ${endMB} MB at the end (×${growth.toFixed(3)}), ` +
      `${result.throughput.toFixed(0)} of ${rate} req/s, p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms, ` +
      `writer pending max ${pendingMax} end ${pendingEnd}`,
  );
  return {
    result: {
      rate,
      achieved: result.throughput,
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      statuses: result.statuses,
      rssMB,
      warmedMB,
      endMB,
      writer: { pendingMax, pendingEnd },
    },
    figures: [
      {
        figure:
          `Controller RSS over ${Math.round(settings.durationMs / 60_000)} min at 50% load ` +
          `(${rate} req/s offered, ${result.throughput.toFixed(0)} achieved, ${stack.storeKind} store, ` +
          `writer pending max ${pendingMax})`,
        value: endMB,
        unit: 'MB',
        floor: warmedMB,
        floorName: `RSS after the first ${settings.warmupMs / 1000} s`,
        ratio: growth,
        target: 'flat (≤ +10% after warm-up)',
        met: growth <= 1.1,
      },
    ],
  };
}

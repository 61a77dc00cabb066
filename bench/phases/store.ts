// The activation store: warm throughput at c = 32 with the run's store (Cassandra) vs a store that
// discards the records, on the warm path's action. Sustained only if what was accepted got
// written, so each run also reports the writer's backlog at its end and the time to drain it.
import { spread, type LatencySummary } from '../lib/latency';
import { containersOf, invokeTemplate, type PhaseContext } from '../lib/phase-context';
import type { Figure } from '../lib/report';

/** Issue 13's target: share of the no-store throughput kept with the store. */
const STORE_TARGET_RATIO = 0.9;

export interface StoreSettings {
  warmupMs: number;
  store: { repeats: number; durationMs: number };
}

type StoreKind = 'cassandra' | 'discard';

export interface StoreResult {
  runs: {
    store: StoreKind;
    throughput: number;
    latency: LatencySummary;
    pendingEnd: number;
    drainMs: number;
  }[];
}

/** `name`: the warm path's action, already warm. */
export async function store(
  ctx: PhaseContext & { name: string; settings: StoreSettings },
): Promise<{ result: StoreResult; figures: Figure[] }> {
  const { stack, load, log, name, settings } = ctx;
  if (containersOf(stack, name).length === 0) throw new Error('the warm-path action is not warm');
  const runs: StoreResult['runs'] = [];
  for (let rep = 0; rep < settings.store.repeats; rep++) {
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
        warmupMs: settings.warmupMs,
        durationMs: settings.store.durationMs,
      });
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
  const of = (kind: StoreKind) => runs.filter((r) => r.store === kind).map((r) => r.throughput);
  const ratios = of('cassandra').map((v, i) => v / of('discard')[i]!);
  const ratio = spread(ratios).median;
  return {
    result: { runs },
    figures: [
      {
        figure: `Warm throughput c=32 over ${settings.store.durationMs / 1000} s with the ${stack.storeKind} store vs records discarded (writer pending at the end ${runs.find((r) => r.store === 'cassandra')?.pendingEnd})`,
        value: spread(of('cassandra')).median,
        unit: 'req/s',
        floor: spread(of('discard')).median,
        floorName: 'ActivationStore that discards',
        ratio,
        target: `≥ ${STORE_TARGET_RATIO * 100}% of no store`,
        met: ratio >= STORE_TARGET_RATIO,
        noise: spread(ratios),
      },
    ],
  };
}

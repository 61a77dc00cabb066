// The controller's Prometheus metrics, in the process registry (common/metrics.ts):
//
//   gust_invocations_total{action, status}      activations ended, by action path and status
//   gust_invocations_refused_total{reason}      refused before they started (429 queue-full, 503 overloaded)
//   gust_activation_phase_seconds{phase}        histogram: wait (for a container), init, run
//   gust_cold_starts_total{kind}                stem-cell | new-container
//   gust_router_queued_requests                 requests waiting for a container
//   gust_router_containers{state}               stem-cell | idle | busy | draining
//   gust_activation_writer_pending              records accepted and not yet stored
//   gust_activation_writer_written_total, gust_activation_writer_failed_attempts_total
//   gust_cache_requests_total{cache, result}    entities | auth, hit | miss
//
// The invoke core calls `coldStart`, `refused` and `completed` (InvokeObserver): each increments
// counters resolved once per (action, status), no string is built per call. Everything else is read
// at scrape time. Past `maxActions` distinct actions, further ones count under action="(other)".
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { counterFrom } from '../common/metrics';
import type { Action, Activation } from '../common/types';
import type { ActivationWriterStats } from './activation-writer';
import type { ColdStartKind, InvokeObserver, RefusalReason } from './invoke/observer';
import type { RouterStats } from './invoke/router';

/** Cache hit and miss totals (EntityCache, Authenticator). */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

/** What the controller's metrics read at scrape time. */
export interface ControllerMetricsSources {
  router: { stats(): RouterStats };
  writer: { stats(): ActivationWriterStats };
  caches: { entities: { stats(): CacheCounts }; auth: { stats(): CacheCounts } };
}

export interface ControllerMetricsOptions {
  /** Distinct action labels before the rest share one. @default 1000 */
  maxActions?: number;
}

/** Status label by activation statusCode (0 success … 3 whisk internal error). */
const STATUSES = ['success', 'application_error', 'developer_error', 'whisk_error'] as const;
const OTHER_ACTION = '(other)';

/** Seconds-scale buckets from 1 ms to 60 s (action time limits go up to minutes). */
const PHASE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class ControllerMetrics implements InvokeObserver {
  readonly #invocations: Counter<'action' | 'status'>;
  /** namespace → action name → counters by statusCode. */
  readonly #byAction = new Map<string, Map<string, Counter.Internal[]>>();
  #actions = 0;
  readonly #maxActions: number;
  readonly #other: Counter.Internal[];
  readonly #wait: Histogram.Internal<'phase'>;
  readonly #init: Histogram.Internal<'phase'>;
  readonly #run: Histogram.Internal<'phase'>;
  readonly #coldStarts: Record<ColdStartKind, Counter.Internal>;
  readonly #refused: Record<RefusalReason, Counter.Internal>;
  readonly #registry: Registry;
  /** The metrics this controller added to the shared registry, removed again by close(). */
  readonly #names: string[];

  constructor(registry: Registry, sources: ControllerMetricsSources, options: ControllerMetricsOptions = {}) {
    this.#registry = registry;
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    this.#maxActions = options.maxActions ?? 1000;
    const registers = [registry];
    this.#invocations = new Counter({
      name: 'gust_invocations_total',
      help: 'Activations that ended, by action path and status',
      labelNames: ['action', 'status'],
      registers,
    });
    this.#other = this.#countersOf(OTHER_ACTION);
    const phases = new Histogram({
      name: 'gust_activation_phase_seconds',
      help: 'Activation latency by phase: wait (for a container), init (/init), run (/run)',
      labelNames: ['phase'],
      buckets: PHASE_BUCKETS,
      registers,
    });
    this.#wait = phases.labels('wait');
    this.#init = phases.labels('init');
    this.#run = phases.labels('run');
    const coldStarts = new Counter({
      name: 'gust_cold_starts_total',
      help: 'Activations that initialised a container, by where it came from',
      labelNames: ['kind'],
      registers,
    });
    this.#coldStarts = {
      'stem-cell': coldStarts.labels('stem-cell'),
      'new-container': coldStarts.labels('new-container'),
    };
    const refused = new Counter({
      name: 'gust_invocations_refused_total',
      help: 'Activations refused before they started (queue-full: 429, overloaded: 503)',
      labelNames: ['reason'],
      registers,
    });
    this.#refused = { 'queue-full': refused.labels('queue-full'), overloaded: refused.labels('overloaded') };
    watchSources(registry, sources);
    this.#names = registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => !before.has(name));
  }

  /** Takes this controller's metrics out of the registry (a controller restarted in the process adds them again). */
  close(): void {
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
  }

  coldStart(kind: ColdStartKind): void {
    this.#coldStarts[kind].inc();
  }

  refused(reason: RefusalReason): void {
    this.#refused[reason].inc();
  }

  completed(action: Action, activation: Activation): void {
    this.#counters(action)[activation.response.statusCode]?.inc();
    let waitMs = 0;
    let initMs = 0;
    for (const { key, value } of activation.annotations) {
      if (key === 'waitTime' && typeof value === 'number') waitMs = value;
      else if (key === 'initTime' && typeof value === 'number') initMs = value;
    }
    this.#wait.observe(waitMs / 1000);
    if (initMs > 0) this.#init.observe(initMs / 1000);
    this.#run.observe(Math.max(0, activation.duration - initMs) / 1000);
  }

  #counters(action: Action): Counter.Internal[] {
    let names = this.#byAction.get(action.namespace);
    if (!names) this.#byAction.set(action.namespace, (names = new Map()));
    let counters = names.get(action.name);
    if (!counters) {
      counters =
        this.#actions < this.#maxActions
          ? this.#countersOf(`${action.namespace}/${action.name}`)
          : this.#other;
      this.#actions += 1;
      names.set(action.name, counters);
    }
    return counters;
  }

  #countersOf(path: string): Counter.Internal[] {
    return STATUSES.map((status) => this.#invocations.labels(path, status));
  }
}

/** The scrape-time metrics: router, activation writer and caches. */
function watchSources(registry: Registry, { router, writer, caches }: ControllerMetricsSources): void {
  const registers = [registry];
  new Gauge({
    name: 'gust_router_queued_requests',
    help: 'Requests waiting in the router for a container',
    registers,
    collect() {
      this.set(router.stats().queued);
    },
  });
  new Gauge({
    name: 'gust_router_containers',
    help: 'Containers leased to this controller, by state (stem-cell, idle, busy, draining)',
    labelNames: ['state'],
    registers,
    collect() {
      const { containers } = router.stats();
      this.set({ state: 'stem-cell' }, containers.stemCell);
      this.set({ state: 'idle' }, containers.idle);
      this.set({ state: 'busy' }, containers.busy);
      this.set({ state: 'draining' }, containers.draining);
    },
  });
  new Gauge({
    name: 'gust_activation_writer_pending',
    help: 'Activation records accepted and not yet stored (the writer backlog)',
    registers,
    collect() {
      this.set(writer.stats().pending);
    },
  });
  counterFrom(registry, 'gust_activation_writer_written_total', 'Activation records stored', [], () => [
    [{}, writer.stats().written],
  ]);
  counterFrom(
    registry,
    'gust_activation_writer_failed_attempts_total',
    'Batches of activation records the store refused (each is retried until written)',
    [],
    () => [[{}, writer.stats().failedAttempts]],
  );
  counterFrom(
    registry,
    'gust_activation_writer_dead_lettered_total',
    'Activation records the store refused even shrunk (dropped, each logged with its id)',
    [],
    () => [[{}, writer.stats().deadLettered]],
  );
  counterFrom(
    registry,
    'gust_cache_requests_total',
    'Cache lookups by cache (entities, auth) and result (hit, miss)',
    ['cache', 'result'],
    function* () {
      for (const [cache, source] of Object.entries(caches)) {
        const { hits, misses } = source.stats();
        yield [{ cache, result: 'hit' }, hits];
        yield [{ cache, result: 'miss' }, misses];
      }
    },
  );
}

// Prometheus metrics of one Gust process (prom-client): a registry, the health of its Temporal
// workers, and the HTTP listener that separate worker processes serve it on. The controller adds
// its own metrics to the same registry (api/controller-metrics.ts) and serves it at GET /metrics.
//
//   const metrics = new ProcessMetrics({ processMetrics: true });
//   metrics.watchWorker('agent', running.worker);
//   const server = await metrics.serve('127.0.0.1', 9465);     // GET /metrics
//
// Values that other objects already count (the activation writer's totals, cache hits) are read
// when Prometheus scrapes (`counterFrom`, gauges with `collect`), so the request path pays nothing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** What a Temporal Worker reports about itself (`Worker.getStatus()` and its task queue). */
export interface WatchedWorker {
  readonly options: { readonly taskQueue: string };
  getStatus(): {
    runState: string;
    workflowPollerState: string;
    activityPollerState: string;
    numInFlightActivities: number;
    numInFlightWorkflowActivations: number;
    numCachedWorkflows: number;
  };
}

type WorkerStatus = ReturnType<WatchedWorker['getStatus']>;

export interface ProcessMetricsOptions {
  /** Node's own metrics (CPU, memory, event-loop lag, GC): once per process. @default false */
  processMetrics?: boolean;
}

export class ProcessMetrics {
  readonly registry = new Registry();
  readonly #workers: { role: string; worker: WatchedWorker }[] = [];

  constructor(options: ProcessMetricsOptions = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'gust_process_' });
    const workers = this.#workers;
    // Each watched worker's labels and status; a worker that cannot report is skipped.
    function* statuses(): Generator<[{ role: string; task_queue: string }, WorkerStatus]> {
      for (const { role, worker } of workers) {
        try {
          yield [{ role, task_queue: worker.options.taskQueue }, worker.getStatus()];
        } catch {
          // stopped or not started: nothing to report
        }
      }
    }
    new Gauge({
      name: 'gust_temporal_worker_up',
      help: 'Temporal worker health: 1 while it runs and its pollers poll, else 0',
      labelNames: ['role', 'task_queue'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, s] of statuses()) {
          const up =
            s.runState === 'RUNNING' &&
            s.workflowPollerState !== 'FAILED' &&
            s.activityPollerState !== 'FAILED';
          this.set(labels, up ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'gust_temporal_worker_in_flight',
      help: 'Tasks a Temporal worker is processing now, by kind (activities, workflow activations)',
      labelNames: ['role', 'task_queue', 'kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, s] of statuses()) {
          this.set({ ...labels, kind: 'activities' }, s.numInFlightActivities);
          this.set({ ...labels, kind: 'workflow_activations' }, s.numInFlightWorkflowActivations);
        }
      },
    });
    new Gauge({
      name: 'gust_temporal_worker_cached_workflows',
      help: 'Workflow executions a Temporal worker keeps in its cache',
      labelNames: ['role', 'task_queue'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, s] of statuses()) this.set(labels, s.numCachedWorkflows);
      },
    });
  }

  /** Reports this worker's health under `role` (controller, provisioner, agent). */
  watchWorker(role: string, worker: WatchedWorker): () => void {
    const watched = { role, worker };
    this.#workers.push(watched);
    return () => {
      const i = this.#workers.indexOf(watched);
      if (i >= 0) this.#workers.splice(i, 1);
    };
  }

  /** The exposition text and its content type (what GET /metrics answers). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Serves GET /metrics on host:port (port 0: any free port); anything else is 404. */
  async serve(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.scrape().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return {
      url: `http://${host}:${address.port}/metrics`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}

/**
 * A counter whose value another object already keeps (a monotonic total): read at scrape time.
 * `read` returns the current totals by label value (a single '' key when there are no labels).
 */
export function counterFrom<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): Counter<L> {
  const seen = new Map<string, number>();
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, total] of read()) {
        const key = JSON.stringify(labels);
        const delta = total - (seen.get(key) ?? 0);
        if (delta > 0) this.inc(labels, delta);
        seen.set(key, Math.max(total, seen.get(key) ?? 0));
      }
    },
  });
}

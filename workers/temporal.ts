// Shared Temporal plumbing for the control path's workers: one NativeConnection per process, one
// workflow bundle per process, and the small handle every started worker returns.
//
//   const connection = await connectTemporal(config);
//   const bundle = await bundleControlPathWorkflows();   // webpack, ~10 s: do it once
//   const client = createTemporalClient(connection, config);
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker, type WorkflowBundle } from '@temporalio/worker';
import type { GustConfig } from '../common/config';
import type { Logger } from '../common/logger';
import { ProcessMetrics } from '../common/metrics';

export async function connectTemporal(config: Pick<GustConfig, 'temporal'>): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address });
}

/** A Client over the process's NativeConnection (needed for eager start; no second connection). */
export function createTemporalClient(
  connection: NativeConnection,
  config: Pick<GustConfig, 'temporal'>,
): Client {
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Bundles workflows/ once; pass the result to every Worker that runs workflows. */
export async function bundleControlPathWorkflows(): Promise<WorkflowBundle> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  return { code };
}

/** A started worker (and its background loops). `stop` shuts it down and resolves when it has. */
export interface RunningWorker {
  readonly worker: Worker;
  /** Settles when the worker stops; rejects if it failed. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** Runs `worker` in the background; `onStop` runs first when stopping (timers, heartbeats). */
export function runInBackground(worker: Worker, onStop: () => void = () => {}): RunningWorker {
  const done = worker.run();
  return {
    worker,
    done,
    async stop() {
      onStop();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * A process entry point's life: runs a started worker until SIGINT or SIGTERM stops it, then
 * `close` runs (connections, backends), however the worker ended.
 */
export async function runUntilSignal(running: RunningWorker, close: () => Promise<void>): Promise<void> {
  const stop = (): void => void running.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await running.done;
  } finally {
    await close();
  }
}

/** Heartbeats on an interval, never overlapping, errors reported and survived. Returns a stop function. */
export function every(
  intervalMs: number,
  beat: () => Promise<void>,
  onError: (err: unknown) => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      await beat();
    } catch (err) {
      if (!stopped) onError(err);
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * A separate worker process's metrics (GUST_METRICS): its Temporal worker's health and Node's own
 * metrics, served on GUST_METRICS_HOST and this role's port. Undefined when metrics are off.
 */
export async function serveWorkerMetrics(
  config: Pick<GustConfig, 'observability'>,
  role: 'provisioner' | 'agent',
  running: RunningWorker,
  log: Logger,
): Promise<{ close(): Promise<void> } | undefined> {
  const { metrics, metricsHost, provisionerMetricsPort, agentMetricsPort } = config.observability;
  if (!metrics) return undefined;
  const registry = new ProcessMetrics({ processMetrics: true });
  registry.watchWorker(role, running.worker);
  const server = await registry.serve(
    metricsHost,
    role === 'agent' ? agentMetricsPort : provisionerMetricsPort,
  );
  log.info({ url: server.url }, `${role} metrics`);
  return server;
}

/** How often agents and controllers heartbeat: three beats per lease timeout. */
export const heartbeatIntervalMs = (config: Pick<GustConfig, 'pools'>): number =>
  Math.max(200, Math.floor(config.pools.leaseTimeoutMs / 3));

// Shared Temporal plumbing for the control path's workers: one NativeConnection per process, one
// workflow bundle per process, and the small handle every started worker returns.
//
//   const connection = await connectTemporal(config);
//   const bundle = await bundleControlPathWorkflows();   // webpack, ~10 s: do it once
//   const client = createTemporalClient(connection, config);
import { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, type SignalDefinition } from '@temporalio/common';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import type pino from 'pino';
import { loadConfig, type GustConfig } from '../common/config';
import { createLogger, noMoreVerboseThan, temporalLogger, type Logger } from '../common/logger';
import { ProcessMetrics } from '../common/metrics';
import { installTracing, tracing } from '../common/tracing';
import { withDeadline } from '../common/deadline';
import { scopedNames, type Scope } from '../workflows/scope';
import { hostsStartOptions } from '../workflows/start-options';

let runtimeInstalled = false;

/**
 * Installs the process's Temporal Runtime, its SDK logging through `log` (common/logger.ts), by
 * default a new logger at GUST_LOG_LEVEL. The Runtime is process-wide and installed once: later
 * calls do nothing.
 */
export function installTemporalRuntime(
  options: { log?: pino.Logger; shutdownSignals?: NodeJS.Signals[] } = {},
): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const { log = createLogger(loadConfig().observability.logLevel), shutdownSignals } = options;
  Runtime.install({ logger: temporalLogger(log), ...(shutdownSignals && { shutdownSignals }) });
}

/**
 * A worker process's start (agent, provisioner, controller): its logger at GUST_LOG_LEVEL, the
 * Temporal Runtime logging through it, tracing when configured, one connection and its client.
 */
export async function openWorkerProcess(config: Pick<GustConfig, 'temporal' | 'observability'>): Promise<{
  log: pino.Logger;
  connection: NativeConnection;
  client: Client;
  /** Closes the connection and flushes tracing: the process's last step. */
  close(): Promise<void>;
}> {
  const log = createLogger(config.observability.logLevel);
  installTemporalRuntime({ log });
  await installTracing(config);
  const connection = await connectTemporal(config);
  return {
    log,
    connection,
    client: createTemporalClient(connection, config),
    async close() {
      await connection.close();
      await tracing()?.shutdown();
    },
  };
}

export async function connectTemporal(config: Pick<GustConfig, 'temporal'>): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address });
}

/**
 * A Client over the process's NativeConnection (needed for eager start; no second connection).
 * With tracing installed (common/tracing.ts), its calls carry the caller's trace context.
 */
export function createTemporalClient(
  connection: NativeConnection,
  config: Pick<GustConfig, 'temporal'>,
): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    interceptors: tracing()?.clientInterceptors,
  });
}

/**
 * Bundles workflows/ once; pass the result to every Worker that runs workflows. `workflowsPath`:
 * another tree's workflows/ (the upgrade test bundles the previous release's). With tracing
 * installed, the bundle holds its workflow interceptors. The bundler's warnings and errors go to
 * `log` (@default a logger at `warn`); its `info` (webpack's build report) is dropped.
 */
export async function bundleControlPathWorkflows(
  options: { workflowsPath?: string; log?: pino.Logger } = {},
): Promise<WorkflowBundle> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? require.resolve('../workflows'),
    workflowInterceptorModules: tracing()?.workflowInterceptorModules,
    logger: temporalLogger(noMoreVerboseThan(options.log ?? createLogger(), 'warn')),
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

/** What `superviseWorker` needs of a worker (a Temporal Worker). */
export interface SupervisedWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): string;
}

/**
 * Runs the worker `start` makes, and when it fails (a fatal worker error, the server gone at
 * start), logs and starts a new one after a back-off, until `stop` (audit M4): a controller
 * outlives its Temporal worker. The first start is awaited; if it fails, the retries go on in the
 * background and the caller carries on. `done` settles once stopped.
 */
export async function superviseWorker<W extends SupervisedWorker>(
  start: () => Promise<W>,
  options: { onStop?: () => void; onError: (err: unknown) => void; retryMs?: { first: number; max: number } },
): Promise<Omit<RunningWorker, 'worker'> & { readonly restarts: number; readonly current: W | undefined }> {
  const { first, max } = options.retryMs ?? { first: 500, max: 10_000 };
  let stopping = false;
  let current: W | undefined;
  let restarts = 0;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const started = await start().then(
    (worker) => worker,
    (err: unknown) => {
      options.onError(err);
      return undefined;
    },
  );
  const loop = async (): Promise<void> => {
    let worker = started;
    for (let delay = first; !stopping; delay = Math.min(delay * 2, max)) {
      if (worker !== undefined) {
        current = worker;
        try {
          await worker.run();
          delay = first / 2; // ran until told to stop (or shut down cleanly): start afresh
        } catch (err) {
          if (stopping) break;
          options.onError(err);
        }
      }
      if (stopping) break;
      await pause(delay);
      if (stopping) break;
      restarts++;
      worker = await start().then(
        (w) => w,
        (err: unknown) => {
          options.onError(err);
          return undefined;
        },
      );
    }
  };
  const done = loop();
  return {
    done,
    get restarts() {
      return restarts;
    },
    get current() {
      return current ?? started;
    },
    async stop() {
      stopping = true;
      options.onStop?.();
      wake?.();
      if (current?.getState() === 'RUNNING') current.shutdown();
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

/**
 * One heartbeat of an agent or a controller to the hosts workflow, by signal-with-start: either may
 * come up before the provisioner has started that workflow.
 */
export async function signalHostsWorkflow<T>(
  client: Client,
  scope: Scope,
  config: Pick<GustConfig, 'pools'>,
  signal: SignalDefinition<[T]>,
  signalArg: T,
): Promise<void> {
  await client.workflow.signalWithStart('hostsWorkflow', {
    ...hostsStartOptions({ scope, leaseTimeoutMs: config.pools.leaseTimeoutMs }),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    signal: signal as SignalDefinition<[unknown]>,
    signalArgs: [signalArg],
  });
}

/** How long a stopping controller or agent waits to tell the registry it left. */
const LEAVE_DEADLINE_MS = 2_000;

/**
 * A controller or agent that stops cleanly leaves the registry (hosts workflow) at once: its id
 * is free for the next start without the duplicate-id wait. If Temporal does not answer, the lease
 * timeout does the same a little later. A plain signal: leaving starts no registry.
 */
export async function leaveRegistry<T>(
  client: Client,
  scope: Scope,
  signal: SignalDefinition<[T]>,
  signalArg: T,
  log: Logger,
): Promise<void> {
  const registry = client.workflow.getHandle(scopedNames(scope).hostsWorkflowId);
  await withDeadline(registry.signal(signal, signalArg), LEAVE_DEADLINE_MS).catch((err: unknown) =>
    log.warn({ err, left: signalArg }, 'could not tell the registry this process left'),
  );
}

/** How often agents and controllers heartbeat: three beats per lease timeout. */
export const heartbeatIntervalMs = (config: Pick<GustConfig, 'pools'>): number =>
  Math.max(200, Math.floor(config.pools.leaseTimeoutMs / 3));

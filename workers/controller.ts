// The controller process: the OpenWhisk REST API (Fastify), the router and hot path, the
// activation writer, and the Temporal worker through which workflows lease containers to it.
//
// Public surface:
//   startController(options: ControllerOptions): Promise<RunningController>
//   `node dist/workers/controller.js` runs it alone (GUST_* configuration).
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app';
import { ActivationWriter } from '../api/activation-writer';
import { Authenticator } from '../api/authenticator';
import { EntityCache } from '../api/entity-cache';
import { EntityChangeFeed } from '../api/entity-change-feed';
import { AlarmFeeds } from '../api/catalog/alarm-feeds';
import { rulesOf } from '../api/compositions/trigger-fire';
import { keyValuesToObject } from '../api/key-values';
import type { Trigger } from '../api/trigger-model';
import { createAlarmActivities } from '../activities/alarms';
import { ALARMS_TASK_QUEUE } from '../common/names';
import type { AlarmFire } from '../workflows/alarm-messages';
import { ContainerInvoker } from '../api/invoke/container-invoker';
import { KnativeInvoker } from '../api/invoke/knative-invoker';
import type { InvokeObserver } from '../api/invoke/observer';
import { KnativePods } from '../backends/knative/pods';
import { serviceRuntimeSecret } from '../backends/knative/service-spec';
import { Router } from '../api/invoke/router';
import type { ContainerHostAccess } from '../backends/backend';
import { HostRoutes } from '../backends/host-routes';
import { ControllerMetrics } from '../api/controller-metrics';
import { loadConfig, type GustConfig, type LogLevel } from '../common/config';
import { createLogger, type Logger } from '../common/logger';
import { ProcessMetrics } from '../common/metrics';
import { traceMethod, tracing } from '../common/tracing';
import { RuntimeClient } from '../runtimes/runtime-client';
import { openStores, type Stores } from '../store/open-stores';
import { DEFAULT_SCOPE, type Scope } from '../workflows/scope';
import { createAgentBackend } from './agent';
import { createControlPlane } from './control-plane';
import { createKnativeControl } from './knative-control';
import { startControllerWorker } from './controller-worker';
import { watchLiveControllers } from './live-controllers';
import { openWorkerProcess, runInBackground, type RunningWorker } from './temporal';
import { generateTransactionId } from '../api/transaction-id';

export interface ControllerOptions {
  config: GustConfig;
  connection: NativeConnection;
  client: Client;
  /**
   * This machine's host: the controller reads its containers' logs, OOM state and secrets through
   * it; other hosts' containers through their agents (backends/host-routes.ts).
   */
  hostAccess?: ContainerHostAccess;
  /** @default DEFAULT_SCOPE (no prefix) */
  scope?: Scope;
  /** Stores to use instead of the configured ones (benchmarks swap the activation store). */
  stores?: Stores;
  /** Listen on this port instead of the configured one (0: any free port). */
  port?: number;
  /** The process's logger (common/logger.ts). @default a new one at `logLevel` */
  log?: pino.Logger;
  /** pino level of the controller's logger when it makes its own. @default config.observability.logLevel */
  logLevel?: LogLevel;
  /**
   * The process's metrics registry, when several parts of Gust share the process (npm start).
   * @default a registry of its own when config.observability.metrics, else none
   */
  metrics?: ProcessMetrics;
  /**
   * Take alarm fires from the shared alarms queue. One process may run one worker per queue, so a
   * second controller in the same process (tests) passes false. @default true
   */
  alarmFires?: boolean;
  /** The incarnation of a controller this one replaces in the same process (a restart). */
  replaces?: string;
}

export interface RunningController {
  app: FastifyInstance;
  /** e.g. `http://127.0.0.1:3233` */
  url: string;
  router: Router;
  writer: ActivationWriter;
  /** This run's registration with the hosts workflow (a restart gets a new one). */
  incarnation: string;
  /** Stops taking requests, finishes in-flight ones, flushes activation records, closes everything. */
  stop(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const { config, connection, client, hostAccess } = options;
  const { controller } = config;
  const stores = options.stores ?? (await openStores(config.store));
  const log = options.log ?? createLogger(options.logLevel ?? config.observability.logLevel);
  const metrics =
    options.metrics ??
    (config.observability.metrics ? new ProcessMetrics({ processMetrics: false }) : undefined);
  const writer = new ActivationWriter(stores.activations, {
    batchSize: config.store.activationBatchSize,
    highWaterMark: config.store.activationHighWaterMark,
    flushIntervalMs: config.store.activationFlushMs,
    onWriteError: (error, attempt, size) =>
      log.warn({ err: error, attempt, size }, 'activation store: writing records failed, retrying'),
    onDeadLetter: (record, error) =>
      log.error(
        { err: error, activationId: record.activationId, namespace: record.namespace },
        'activation store: refused this record even shrunk; it was dropped (dead-lettered)',
      ),
  });
  // Containers on this machine over their sockets; other hosts' through their agents.
  const hosts = new HostRoutes({
    local: hostAccess,
    localHosts: controller.localHosts ?? [config.agent.hostId],
    secretKey: config.agent.runtimeSecretKey,
  });
  const router = new Router({ maxQueuePerAction: controller.maxQueuePerAction, addressOf: hosts.addressOf });
  const entityCache = new EntityCache(stores.entities, {
    refreshAfterMs: controller.entityCacheRefreshMs,
    maxBytes: controller.entityCacheMB * 1024 * 1024,
  });
  const auth = new Authenticator(stores.entities, { revalidateAfterMs: controller.authRevalidateMs });
  const observe =
    metrics &&
    new ControllerMetrics(metrics.registry, { router, writer, caches: { entities: entityCache, auth } });
  // With tracing on, a span per container /init and /run, child of the request's.
  const runtime = new RuntimeClient({ secrets: hosts });
  traceMethod(runtime, 'init', 'container /init', (address) => ({ 'server.address': String(address) }));
  traceMethod(runtime, 'run', 'container /run', (address) => ({ 'server.address': String(address) }));
  const invoker =
    config.agent.backend === 'knative'
      ? knativeInvoker(options, log, runtime, observe)
      : new ContainerInvoker({
          router,
          runtime,
          log,
          control: createControlPlane({
            client,
            controllerId: controller.id,
            scope: options.scope,
            maxCreating: config.pools.maxCreatingPerPool,
          }),
          openLogs: (container) => hosts.logs(container),
          containerState: (container) => hosts.state(container, { awaitExitMs: 2_000 }),
          provisionTimeoutMs: controller.provisionTimeoutMs,
          apiHost: controller.apiHost,
          observe,
        });
  // Writes through other controllers (and `npm run admin`) reach this one's caches within a poll.
  const changes = new EntityChangeFeed({
    store: stores.entities,
    cache: entityCache,
    auth,
    onError: (error) => log.warn({ err: error }, 'entity change feed: reading the store failed'),
  });
  await changes.start();
  const scope = options.scope ?? DEFAULT_SCOPE;
  const alarms = new AlarmFeeds({ client, scope, entities: entityCache });
  const app = buildApp({
    config,
    alarms,
    entities: stores.entities,
    entityCache,
    activations: stores.activations,
    writer,
    invoker,
    auth,
    logger: log,
    observe,
    metrics,
  });
  /** What this start opened, closed in order (after the HTTP server and the Temporal workers). */
  const release = async (): Promise<void> => {
    await writer.close();
    invoker.close();
    await runtime.closeAll();
    await stores.close();
    observe?.close();
  };
  let worker: Awaited<ReturnType<typeof startControllerWorker>>;
  try {
    worker = await startControllerWorker({
      connection,
      client,
      controllerId: controller.id,
      routerLeases: router,
      knativeRoutes: invoker instanceof KnativeInvoker ? invoker : undefined,
      config,
      scope,
      log,
      replaces: options.replaces,
    });
  } catch (err) {
    // Refused (its id is in use) or no Temporal: nothing this start opened may keep running.
    await app.close();
    await changes.stop();
    await release();
    throw err;
  }
  // Throttles are namespace-wide: this controller enforces its share (audit L2).
  const stopSharing = watchLiveControllers({
    client,
    scope,
    selfId: controller.id,
    intervalMs: controller.throttleShareRefreshMs,
    staleAfterMs: config.pools.leaseTimeoutMs,
    onCount: (controllers) => {
      if (controllers !== app.gust.throttles.controllers)
        log.info(
          { controllers },
          'namespace throttles: this controller now enforces its share among live controllers',
        );
      app.gust.throttles.shareAmong(controllers);
      app.gust.fireThrottles.shareAmong(controllers);
    },
    onError: (err) => log.debug({ err }, 'reading the live controllers for the throttles failed'),
  });
  // The first worker; a worker started again after a failure is not watched (metrics lag there).
  const unwatchWorker = worker.worker ? metrics?.watchWorker('controller', worker.worker) : undefined;
  const alarmWorker =
    options.alarmFires === false ? undefined : await startAlarmWorker({ connection, client, scope, app });
  const url = await app.listen({ host: controller.host, port: options.port ?? controller.port });
  return {
    app,
    url,
    router,
    writer,
    incarnation: worker.incarnation,
    async stop() {
      stopSharing();
      await app.close();
      await changes.stop();
      await alarmWorker?.stop();
      await worker.stop();
      await release();
      unwatchWorker?.();
    },
  };
}

/**
 * Every controller takes alarm fires from the shared alarms queue and fires the trigger as the
 * identity that created the feed, through its ordinary fire path.
 */
async function startAlarmWorker(options: {
  connection: NativeConnection;
  client: Client;
  scope: Scope;
  app: FastifyInstance;
}): Promise<RunningWorker> {
  const { gust } = options.app;
  const fire = async (alarm: AlarmFire): Promise<'fired' | 'no-active-rule' | 'missing'> => {
    const trigger = await gust.entities.get<Trigger>('triggers', alarm.namespace, alarm.trigger);
    if (!trigger) {
      // A once-alarm whose trigger went after its fire (a retry after a partial clean-up): the schedule goes too.
      if (alarm.deleteAfterFire !== undefined)
        await gust.alarms?.deleteSchedule(alarm.namespace, alarm.trigger);
      return 'missing';
    }
    const identity = { namespace: alarm.namespace, subject: alarm.subject, uuid: '' };
    gust.fireThrottles.admit(alarm.namespace);
    const args = { ...keyValuesToObject(trigger.parameters), ...alarm.payload };
    // One transaction per fire, shared by the rules' activations (as the provider's POST would be).
    const fired = await gust.firing.fire(trigger, identity, args, alarm.payload, generateTransactionId());
    if (alarm.deleteAfterFire !== undefined) {
      if (alarm.deleteAfterFire === 'rules') {
        for (const rule of await rulesOf(gust.entities, trigger))
          await gust.entities.delete('rules', rule.namespace, rule.name);
      }
      await gust.entities.delete('triggers', alarm.namespace, alarm.trigger);
      await gust.alarms?.deleteSchedule(alarm.namespace, alarm.trigger);
    }
    return fired ? 'fired' : 'no-active-rule';
  };
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.client.options.namespace,
    taskQueue: options.scope.prefix + ALARMS_TASK_QUEUE,
    ...tracing()?.workerOptions,
    activities: createAlarmActivities({ fire }),
  });
  return runInBackground(worker);
}

/** GUST_BACKEND=knative: /run goes to the Service's host through the Knative gateway. */
function knativeInvoker(
  options: ControllerOptions,
  log: Logger,
  runtime: RuntimeClient,
  observe: InvokeObserver | undefined,
): KnativeInvoker {
  const { config, client } = options;
  return new KnativeInvoker({
    runtime,
    log,
    control: createKnativeControl({ client, controllerId: config.controller.id, scope: options.scope }),
    gateway: config.knative.gateway,
    provisionTimeoutMs: Math.max(config.controller.provisionTimeoutMs, config.knative.readyTimeoutMs),
    coldStartAllowanceMs: config.knative.coldStartAllowanceMs,
    maxQueuePerAction: config.controller.maxQueuePerAction,
    pods: new KnativePods({ kubeconfig: config.kubernetes.kubeconfig, namespace: config.knative.namespace }),
    runtimeSecretOf: (ref) =>
      serviceRuntimeSecret(config.agent.runtimeSecretKey, ref.namespace, ref.name, ref.invoker),
    observe,
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { log, connection, client, close } = await openWorkerProcess(config);
  const backend = await createAgentBackend(config, { client, log });
  const metrics = config.observability.metrics ? new ProcessMetrics({ processMetrics: true }) : undefined;
  const running = await startController({
    config,
    connection,
    client,
    hostAccess: backend,
    log,
    metrics,
  });
  log.info({ controllerId: config.controller.id, url: running.url }, 'controller listening');
  const shutdown = async (): Promise<void> => {
    await running.stop();
    await backend.close();
    await close();
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

if (require.main === module) {
  main().catch((err) => {
    createLogger('error').error({ err }, 'controller failed');
    process.exit(1);
  });
}

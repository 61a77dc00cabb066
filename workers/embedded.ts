// Gust in one process: the provisioner, one agent and a controller over one NativeConnection and
// one workflow bundle. `npm start` (workers/all-in-one.ts) and the end-to-end tests run this.
//
// Public surface:
//   startEmbeddedGust(options: EmbeddedOptions): Promise<EmbeddedGust>
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type pino from 'pino';
import type { ContainerBackend } from '../backends/backend';
import type { GustConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { ProcessMetrics } from '../common/metrics';
import { installTracing } from '../common/tracing';
import { LABELS } from '../common/names';
import type { Stores } from '../store/open-stores';
import type { Scope } from '../workflows/scope';
import { createAgentBackend, startAgent } from './agent';
import { type RunningController, startController } from './controller';
import { startProvisioner } from './provisioner';
import { type KnativeActivitiesOptions } from '../activities/knative';
import { KnativeServices } from '../backends/knative/services';
import { openStores } from '../store/open-stores';
import { bundleControlPathWorkflows, connectTemporal, createTemporalClient } from './temporal';

export interface EmbeddedOptions {
  config: GustConfig;
  /** Prefix of every workflow id and task queue (tests); @default no prefix */
  scope?: Scope;
  /** @default the configured backend (docker, process or mesos) */
  backend?: ContainerBackend;
  /** @default the configured stores */
  stores?: Stores;
  /** Create the scale-down and reconcile schedules. @default true */
  schedules?: boolean;
  /** Controller port instead of the configured one (0: any free port). */
  port?: number;
  /** The process's logger. @default a new one at config.observability.logLevel */
  log?: pino.Logger;
  /** The process's metrics (served at the controller's /metrics). @default one when GUST_METRICS */
  metrics?: ProcessMetrics;
}

export interface EmbeddedGust {
  connection: NativeConnection;
  client: Client;
  backend: ContainerBackend;
  /** The running controller (a new one after `restartController`). */
  controller: RunningController;
  /**
   * Stops the controller and starts a new incarnation (on a new port when `port` was 0), after
   * `whileDown` settles when given (tests: what happens while no controller runs).
   */
  restartController(whileDown?: () => Promise<unknown>): Promise<RunningController>;
  log: pino.Logger;
  /** undefined when metrics are off */
  metrics: ProcessMetrics | undefined;
  /** Stops every worker, removes this host's containers, closes connections. */
  stop(): Promise<{ containersRemoved: number }>;
}

export async function startEmbeddedGust(options: EmbeddedOptions): Promise<EmbeddedGust> {
  const { config, scope } = options;
  const log = options.log ?? createLogger(config.observability.logLevel);
  const metrics =
    options.metrics ??
    (config.observability.metrics ? new ProcessMetrics({ processMetrics: false }) : undefined);
  await installTracing(config);
  const connection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const backend = options.backend ?? (await createAgentBackend(config, { client, scope, log }));
  await backend.health();
  const bundle = await bundleControlPathWorkflows({ log });
  // knative: no agent and no stem cells; the provisioner applies Services, Knative makes the pods.
  const knative = config.agent.backend === 'knative';
  // The provisioner's (knative activities read actions); the controller opens its own, since it
  // closes them when it stops (restartController).
  const ownStores = knative && !options.stores ? await openStores(config.store) : undefined;
  const stores = options.stores ?? ownStores;
  let knativeActivities: KnativeActivitiesOptions | undefined;
  if (knative) {
    const services = new KnativeServices({
      kubeconfig: config.kubernetes.kubeconfig,
      namespace: config.knative.namespace,
    });
    await services.health();
    knativeActivities = { services, entities: stores!.entities, config };
  }
  // A cluster backend (kubernetes) has no agent: the provisioner creates its containers.
  const clusterHost = config.agent.backend === 'kubernetes' ? config.kubernetes.hostId : undefined;
  const provisioner = await startProvisioner({
    connection,
    client,
    bundle,
    config,
    scope,
    schedules: options.schedules,
    cluster: clusterHost ? { backend, hostId: clusterHost, capacityMB: config.agent.capacityMB } : undefined,
    mesos:
      config.agent.backend === 'mesos'
        ? { ...config.mesos, runtimeSecretKey: config.agent.runtimeSecretKey }
        : undefined,
    knative: knativeActivities,
  });
  const agent =
    clusterHost || knative
      ? undefined
      : await startAgent({ connection, client, backend, config, scope, log });
  metrics?.watchWorker('provisioner', provisioner.worker);
  if (agent) metrics?.watchWorker('agent', agent.worker);
  const controllerOptions = {
    config,
    connection,
    client,
    hostAccess: backend,
    scope,
    stores: options.stores,
    port: options.port,
    log,
    metrics,
  };
  const gust: EmbeddedGust = {
    connection,
    client,
    backend,
    controller: await startController(controllerOptions),
    log,
    metrics,
    async restartController(whileDown) {
      await gust.controller.stop();
      await whileDown?.();
      gust.controller = await startController(controllerOptions);
      return gust.controller;
    },
    async stop() {
      // Each step is bounded by its own parts; one still running after 10 s says so, by name.
      const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        const slow = setTimeout(
          () => log.warn({ step: name }, 'stopping Gust: this step takes long'),
          10_000,
        );
        try {
          return await fn();
        } finally {
          clearTimeout(slow);
        }
      };
      try {
        await step('controller', () => gust.controller.stop());
        await step('agent', async () => agent?.stop());
        // kubernetes: the provisioner creates the pods itself, so it stops before the leftovers are
        // listed; mesos: its backend kills tasks through the framework workflow, so it stops after.
        if (clusterHost) await step('provisioner', () => provisioner.stop());
        // This process owns its host: leave no container behind (the pools reconcile on next start).
        const leftovers = await step('remove leftover containers', async () => {
          const found = await backend.list({
            [LABELS.managed]: 'true',
            [LABELS.host]: clusterHost ?? config.agent.hostId,
          });
          await Promise.all(found.map((c) => backend.destroy(c.id)));
          return found;
        });
        if (!clusterHost) await step('provisioner', () => provisioner.stop());
        return { containersRemoved: leftovers.length };
      } catch (err) {
        // A step that failed leaves no worker running behind it (a process that could not exit).
        if (!clusterHost) await provisioner.stop().catch(() => undefined);
        throw err;
      } finally {
        await ownStores?.close();
        await backend.close();
        await connection.close();
      }
    },
  };
  return gust;
}

// The composition root: the parts of Gust one process runs (the controller, the provisioner, one
// agent) over one NativeConnection, one workflow bundle and one host backend. `npm start`
// (workers/all-in-one.ts) and the end-to-end tests run all three parts; the benchmark runs the
// controller in its own process and the provisioner and agent in a child (bench/lib/gust-stack.ts,
// bench/lib/control-plane-process.ts), as a deployment runs them apart. The deployment entry points
// (controller.ts, provisioner.ts, agent.ts) each start their one part directly: they also serve a
// worker's metrics, keep the host's containers across a restart, and refuse shapes a role cannot run.
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

/** The parts of Gust a process can run (docs/design.md "Processes"). */
export type GustPart = 'controller' | 'provisioner' | 'agent';

export interface EmbeddedOptions<P extends GustPart = GustPart> {
  config: GustConfig;
  /**
   * What this process runs. Without the controller it serves no port; without the provisioner it
   * bundles no workflows; only a process that runs its host's agent (or a cluster's provisioner)
   * removes that host's containers when it stops. @default all three
   */
  parts?: readonly P[];
  /** Prefix of every workflow id and task queue (tests); @default no prefix */
  scope?: Scope;
  /** This host's backend; the caller closes it. @default the configured backend, closed on stop */
  backend?: ContainerBackend;
  /** The controller's stores. @default the configured stores */
  stores?: Stores;
  /** Create the scale-down and reconcile schedules. @default true */
  schedules?: boolean;
  /** Controller port instead of the configured one (0: any free port). */
  port?: number;
  /** The process's logger. @default a new one at config.observability.logLevel */
  log?: pino.Logger;
  /**
   * The process's metrics (served at the controller's /metrics).
   * @default one when GUST_METRICS and this process runs the controller
   */
  metrics?: ProcessMetrics;
}

export interface EmbeddedGust<P extends GustPart = GustPart> {
  connection: NativeConnection;
  client: Client;
  backend: ContainerBackend;
  /** The running controller (a new one after `restartController`); undefined without that part. */
  controller: 'controller' extends P ? RunningController : undefined;
  /**
   * Stops the controller and starts a new incarnation (on a new port when `port` was 0), after
   * `whileDown` settles when given (tests: what happens while no controller runs).
   */
  restartController(whileDown?: () => Promise<unknown>): Promise<RunningController>;
  log: pino.Logger;
  /** undefined when metrics are off */
  metrics: ProcessMetrics | undefined;
  /** Stops every part, removes the containers of the host it owns, closes connections. */
  stop(): Promise<{ containersRemoved: number }>;
}

export async function startEmbeddedGust<P extends GustPart = GustPart>(
  options: EmbeddedOptions<P>,
): Promise<EmbeddedGust<P>> {
  const { config, scope } = options;
  const parts: readonly GustPart[] = options.parts ?? ['controller', 'provisioner', 'agent'];
  const runs = (part: GustPart): boolean => parts.includes(part);
  const log = options.log ?? createLogger(config.observability.logLevel);
  const metrics =
    options.metrics ??
    (config.observability.metrics && runs('controller')
      ? new ProcessMetrics({ processMetrics: false })
      : undefined);
  await installTracing(config);
  const connection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const backend = options.backend ?? (await createAgentBackend(config, { client, scope, log }));
  await backend.health();
  // knative: no agent and no stem cells; the provisioner applies Services, Knative makes the pods.
  const knative = config.agent.backend === 'knative';
  // A cluster backend (kubernetes) has no agent: the provisioner creates its containers.
  const clusterHost = config.agent.backend === 'kubernetes' ? config.kubernetes.hostId : undefined;
  // The provisioner's (knative activities read actions); the controller opens its own, since it
  // closes them when it stops (restartController).
  const ownStores =
    knative && runs('provisioner') && !options.stores ? await openStores(config.store) : undefined;
  const provisioner = runs('provisioner')
    ? await startProvisioner({
        connection,
        client,
        bundle: await bundleControlPathWorkflows({ log }),
        config,
        scope,
        schedules: options.schedules,
        cluster: clusterHost
          ? { backend, hostId: clusterHost, capacityMB: config.agent.capacityMB }
          : undefined,
        mesos:
          config.agent.backend === 'mesos'
            ? { ...config.mesos, runtimeSecretKey: config.agent.runtimeSecretKey }
            : undefined,
        knative: knative ? await knativeActivities(config, (options.stores ?? ownStores)!) : undefined,
      })
    : undefined;
  const agent =
    runs('agent') && !clusterHost && !knative
      ? await startAgent({ connection, client, backend, config, scope, log })
      : undefined;
  if (provisioner) metrics?.watchWorker('provisioner', provisioner.worker);
  if (agent) metrics?.watchWorker('agent', agent.worker);
  // The host whose containers this process removes when it stops: the one it creates them on.
  const ownedHost = clusterHost ? provisioner && clusterHost : runs('agent') && config.agent.hostId;
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
  const gust: Omit<EmbeddedGust, 'controller'> & { controller: RunningController | undefined } = {
    connection,
    client,
    backend,
    controller: runs('controller') ? await startController(controllerOptions) : undefined,
    log,
    metrics,
    async restartController(whileDown) {
      if (!gust.controller) throw new Error('this process runs no controller');
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
        await step('controller', async () => gust.controller?.stop());
        await step('agent', async () => agent?.stop());
        // kubernetes: the provisioner creates the pods itself, so it stops before the leftovers are
        // listed; mesos: its backend kills tasks through the framework workflow, so it stops after.
        if (clusterHost) await step('provisioner', async () => provisioner?.stop());
        // A process that owns its host leaves no container behind (the pools reconcile on next start).
        const leftovers = ownedHost
          ? await step('remove leftover containers', async () => {
              const found = await backend.list({ [LABELS.managed]: 'true', [LABELS.host]: ownedHost });
              await Promise.all(found.map((c) => backend.destroy(c.id)));
              return found;
            })
          : [];
        if (!clusterHost) await step('provisioner', async () => provisioner?.stop());
        return { containersRemoved: leftovers.length };
      } catch (err) {
        // A step that failed leaves no worker running behind it (a process that could not exit).
        if (!clusterHost) await provisioner?.stop().catch(() => undefined);
        throw err;
      } finally {
        await ownStores?.close();
        if (!options.backend) await backend.close();
        await connection.close();
      }
    },
  };
  // The controller is there exactly when P names it (EmbeddedGust's conditional type).
  return gust as unknown as EmbeddedGust<P>;
}

/** GUST_BACKEND=knative: the provisioner's Service activities (they read actions from `stores`). */
async function knativeActivities(config: GustConfig, stores: Stores): Promise<KnativeActivitiesOptions> {
  const services = new KnativeServices({
    kubeconfig: config.kubernetes.kubeconfig,
    namespace: config.knative.namespace,
  });
  await services.health();
  return { services, entities: stores.entities, config };
}

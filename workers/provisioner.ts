// The provisioner: a Temporal worker on `gust-provisioning` running every control-path workflow
// and the cluster-wide activities. At start it makes sure (idempotently) that the hosts workflow,
// one stem-cell pool per configured (kind, memory) and the scale-down and reconcile schedules exist.
//
// Public surface:
//   startProvisioner(options: ProvisionerOptions): Promise<RunningWorker>
//   `node dist/workers/provisioner.js` runs it alone (GUST_* configuration).
import type { Client } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { createClusterActivities } from '../activities/cluster';
import { createKnativeActivities, type KnativeActivitiesOptions } from '../activities/knative';
import { KnativeServices } from '../backends/knative/services';
import { openStores } from '../store/open-stores';
import { createHostActivities } from '../activities/host';
import type { ContainerBackend } from '../backends/backend';
import { createMesosActivities } from '../activities/mesos';
import { MesosSchedulerApi } from '../backends/mesos/api';
import { loadConfig, type GustConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { isClusterHost } from '../common/names';
import { tracing } from '../common/tracing';
import type {
  HostsInput,
  ReconcileWorkflowInput,
  ScaleDownWorkflowInput,
  StemCellPoolInput,
} from '../workflows/messages';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import {
  hostsStartOptions,
  mesosFrameworkStartOptions,
  stemCellPoolStartOptions,
} from '../workflows/start-options';
import { setStemCellTargetSignal } from '../workflows/messages';
import {
  bundleControlPathWorkflows,
  openWorkerProcess,
  runInBackground,
  runUntilSignal,
  serveWorkerMetrics,
  type RunningWorker,
} from './temporal';
import { createAgentBackend, defaultImageForKind, registerHost } from './agent';

/** A cluster whose own scheduler places containers (Kubernetes): its activities run here, no agent. */
export interface ClusterHost {
  backend: ContainerBackend;
  /** Starts with `cluster.` (common/names.ts isClusterHost). */
  hostId: string;
  /** Memory placement lets Gust's containers take in the cluster. */
  capacityMB: number;
  /** @default the runtime manifest's image of the kind */
  imageForKind?: (kind: string) => string;
  /** Pod creations this provisioner runs at once (a cluster spreads them over its nodes). @default 8 */
  maxConcurrentCreates?: number;
}

export interface ProvisionerOptions {
  connection: NativeConnection;
  client: Client;
  /** From bundleControlPathWorkflows(), shared with any other workflow worker of the process. */
  bundle: WorkflowBundle;
  config: Pick<GustConfig, 'pools'>;
  /** @default DEFAULT_SCOPE (no prefix) */
  scope?: Scope;
  /** Containers per action (`namespace/name`) that scale-down keeps however idle. @default {} */
  minContainersPerAction?: Record<string, number>;
  /** Reconcile leaves alone containers younger than this. @default config.pools.orphanGraceMs */
  orphanGraceMs?: number;
  /** Create the scale-down and reconcile schedules. @default true */
  schedules?: boolean;
  /** Serve a cluster's container activities (create, destroy, list) and register it as a host. */
  cluster?: ClusterHost;
  /** GUST_BACKEND=mesos: run the framework workflow and its activities (subscription, calls). */
  /** `runtimeSecretKey`: config.agent.runtimeSecretKey, the key of the tasks' runtime secrets. */
  mesos?: GustConfig['mesos'] & { historyLimit?: number; runtimeSecretKey?: string };
  /**
   * GUST_BACKEND=knative: run the Knative service workflows' activities (apply, wait Ready,
   * delete). No stem cells: Knative scales the revisions.
   */
  knative?: KnativeActivitiesOptions;
  /** Test seam: pool workflows the visibility listing misses (its lag after a continue-as-new). */
  unindexedPools?: (workflowId: string) => boolean;
}

export async function startProvisioner(options: ProvisionerOptions): Promise<RunningWorker> {
  const { connection, client, bundle, config } = options;
  const scope = options.scope ?? DEFAULT_SCOPE;
  const names = scopedNames(scope);
  const { cluster } = options;
  if (cluster && !isClusterHost(cluster.hostId))
    throw new Error(`a cluster's host id must start with 'cluster.', got '${cluster.hostId}'`);
  const mesosApi = options.mesos && new MesosSchedulerApi(options.mesos.masterUrl);
  const worker = await Worker.create({
    connection,
    namespace: client.options.namespace,
    taskQueue: names.provisioningQueue,
    workflowBundle: bundle,
    // Heartbeats (and with their answers, cancellations) travel at least this often, whatever
    // an activity's heartbeat timeout: the Mesos subscription relies on it.
    maxHeartbeatThrottleInterval: '2s',
    ...tracing()?.workerOptions,
    activities: {
      ...createClusterActivities({
        minContainers: config.pools.minContainersPerAction,
        namespaceQuotaMB: config.pools.namespaceMemoryQuotaMB,
        maxCreating: config.pools.maxCreatingPerPool,
        unindexedPools: options.unindexedPools,
      }),
      ...(mesosApi ? createMesosActivities(mesosApi, { secretKey: options.mesos?.runtimeSecretKey }) : {}),
      ...(options.knative ? createKnativeActivities(options.knative) : {}),
      ...(cluster
        ? createHostActivities({
            backend: cluster.backend,
            hostId: cluster.hostId,
            imageForKind: cluster.imageForKind ?? defaultImageForKind,
            maxConcurrentCreates: cluster.maxConcurrentCreates ?? 8,
          })
        : {}),
    },
  });
  const stopBeating = cluster ? await registerHost(client, scope, config, cluster) : undefined;
  const running = runInBackground(worker, stopBeating);
  const stop = running.stop.bind(running);
  running.stop = async () => {
    await stop();
    await mesosApi?.close();
  };
  // The worker polls already, so what we start below makes progress at once.
  await ensureHostsWorkflow(client, { scope, leaseTimeoutMs: config.pools.leaseTimeoutMs });
  if (options.mesos) await ensureMesosFramework(client, scope, options.mesos);
  if (!options.knative) await ensureStemCellPools(client, scope, config.pools.stemCells);
  if (options.schedules ?? true) {
    await ensureSchedules(
      client,
      scope,
      config,
      options.minContainersPerAction ?? config.pools.minContainersPerAction,
      options.orphanGraceMs ?? config.pools.orphanGraceMs,
    );
  }
  return running;
}

export async function ensureHostsWorkflow(client: Client, input: HostsInput): Promise<void> {
  await client.workflow.start('hostsWorkflow', {
    ...hostsStartOptions(input),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

/** The framework workflow; an existing one keeps its framework id and tasks. */
export async function ensureMesosFramework(
  client: Client,
  scope: Scope,
  mesos: NonNullable<ProvisionerOptions['mesos']>,
): Promise<void> {
  const { frameworkName, user, failoverTimeoutMs, historyLimit } = mesos;
  await client.workflow.start('mesosFrameworkWorkflow', {
    ...mesosFrameworkStartOptions({
      scope,
      frameworkName,
      user,
      failoverTimeoutMs,
      ...(historyLimit ? { historyLimit } : {}),
    }),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

async function ensureStemCellPools(
  client: Client,
  scope: Scope,
  targets: GustConfig['pools']['stemCells'],
): Promise<void> {
  for (const { kind, memoryMB, count } of targets) {
    const input: StemCellPoolInput = { scope, kind, memoryMB, perController: count };
    const handle = await client.workflow.start('stemCellPoolWorkflow', {
      ...stemCellPoolStartOptions(input),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    // An existing pool keeps its state; the configured target still applies.
    await handle.signal(setStemCellTargetSignal, { perController: count });
  }
}

async function ensureSchedules(
  client: Client,
  scope: Scope,
  config: Pick<GustConfig, 'pools'>,
  minContainers: Record<string, number>,
  orphanGraceMs: number,
): Promise<void> {
  const names = scopedNames(scope);
  const scaleDown: ScaleDownWorkflowInput = { scope, keepAliveMs: config.pools.keepAliveMs, minContainers };
  const reconcile: ReconcileWorkflowInput = { scope, orphanGraceMs };
  await upsertSchedule(client, names.scaleDownScheduleId, config.pools.scaleDownIntervalMs, {
    type: 'startWorkflow',
    workflowType: 'scaleDownWorkflow',
    taskQueue: names.provisioningQueue,
    args: [scaleDown],
    workflowId: names.scaleDownScheduleId,
    staticSummary: `Remove containers idle longer than ${config.pools.keepAliveMs} ms`,
    workflowExecutionTimeout: '5m',
  });
  await upsertSchedule(client, names.reconcileScheduleId, config.pools.reconcileIntervalMs, {
    type: 'startWorkflow',
    workflowType: 'reconcileWorkflow',
    taskQueue: names.provisioningQueue,
    args: [reconcile],
    workflowId: names.reconcileScheduleId,
    staticSummary: 'Remove orphaned containers; replace leased containers that died',
    workflowExecutionTimeout: '5m',
  });
}

type StartWorkflowAction = Parameters<Client['schedule']['create']>[0]['action'];

/** Creates the schedule, or brings an existing one's interval and action up to date. */
async function upsertSchedule(
  client: Client,
  scheduleId: string,
  everyMs: number,
  action: StartWorkflowAction,
): Promise<void> {
  const spec = { intervals: [{ every: Math.max(1000, everyMs) }] };
  // A run still going when the next is due is not doubled; missed runs are not caught up.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 60_000 };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
  } catch (err) {
    if ((err as { name?: string }).name !== 'ScheduleAlreadyRunning') throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, spec, action, policies }));
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { log, connection, client, close } = await openWorkerProcess(config);
  const bundle = await bundleControlPathWorkflows({ log });
  const mesos = config.agent.backend === 'mesos' ? config.mesos : undefined;
  const backend =
    config.agent.backend === 'kubernetes' ? await createAgentBackend(config, { client, log }) : undefined;
  await backend?.health();
  const cluster = backend && {
    backend,
    hostId: config.kubernetes.hostId,
    capacityMB: config.agent.capacityMB,
  };
  // knative: the activities read actions (their code) from the entity store.
  const stores = config.agent.backend === 'knative' ? await openStores(config.store) : undefined;
  const knative = stores && {
    services: new KnativeServices({
      kubeconfig: config.kubernetes.kubeconfig,
      namespace: config.knative.namespace,
    }),
    entities: stores.entities,
    config,
  };
  await knative?.services.health();
  const running = await startProvisioner({ connection, client, bundle, config, mesos, cluster, knative });
  const metrics = await serveWorkerMetrics(config, 'provisioner', running, log);
  await runUntilSignal(running, async () => {
    await metrics?.close();
    await stores?.close();
    await backend?.close();
    await close();
  });
}

if (require.main === module) {
  main().catch((err) => {
    createLogger('error').error({ err }, 'provisioner failed');
    process.exit(1);
  });
}

// The agent: one per container host, a Temporal worker on `host-<hostId>` whose activities create,
// list and destroy containers through this host's ContainerBackend. It registers with the hosts
// workflow (capacity) and heartbeats; a host not heard from for the lease timeout gets no placements.
//
// Public surface:
//   startAgent(options: AgentOptions): Promise<RunningWorker>
//   createAgentBackend(config): Promise<ContainerBackend>   (docker, process or kubernetes)
//   registerHost(...): heartbeats a host's capacity (and agent endpoint) to the hosts workflow
//   With GUST_AGENT_ENDPOINT_PORT the agent also serves the agent endpoint
//   (backends/docker/agent-endpoint.ts) and advertises it with every container it creates.
//   `node dist/workers/agent.js` runs it alone (GUST_* configuration).
// A container that dies between activations is reported to its pool from the engine's events
// (container-exits.ts).
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createHostActivities } from '../activities/host';
import { resolveRuntimeKind, runtimeImage } from '../api/runtimes';
import type { ContainerBackend } from '../backends/backend';
import { startAgentEndpoint, type HostedContainers } from '../backends/docker/agent-endpoint';
import { derivedRuntimeSecret } from '../backends/runtime-secret-key';
import { assertProductionSafe, loadConfig, type GustConfig } from '../common/config';
import { createLogger, type Logger } from '../common/logger';
import { tracing } from '../common/tracing';
import { hostHeartbeatSignal, hostLeftSignal } from '../workflows/messages';
import { refuseDuplicateId } from './duplicate-ids';
import { reportContainerExits } from './container-exits';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import {
  every,
  heartbeatIntervalMs,
  leaveRegistry,
  openWorkerProcess,
  signalHostsWorkflow,
  runInBackground,
  runUntilSignal,
  serveWorkerMetrics,
  type RunningWorker,
} from './temporal';

export interface AgentOptions {
  connection: NativeConnection;
  client: Client;
  backend: ContainerBackend;
  config: Pick<GustConfig, 'agent' | 'pools'>;
  /** @default DEFAULT_SCOPE (no prefix) */
  scope?: Scope;
  /** @default the runtime manifest's image of the kind (api/runtimes.ts) */
  imageForKind?: (kind: string) => string;
  /** Where heartbeat failures go. @default a pino logger at `warn` */
  log?: Logger;
}

export function defaultImageForKind(kind: string): string {
  const runtime = resolveRuntimeKind(kind);
  if (!runtime) throw new Error(`no runtime image for kind '${kind}'`);
  return runtimeImage(runtime);
}

/** A running agent; `endpointUrl`: the agent endpoint it advertises, if it serves one. */
export type RunningAgent = RunningWorker & { endpointUrl?: string };

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { connection, client, backend, config } = options;
  const scope = options.scope ?? DEFAULT_SCOPE;
  const names = scopedNames(scope);
  const { hostId } = config.agent;
  const log = options.log ?? createLogger('warn');
  if (config.agent.endpoint && !config.agent.runtimeSecretKey)
    throw new Error(
      "GUST_AGENT_ENDPOINT_PORT needs GUST_RUNTIME_SECRET_KEY: controllers on other machines derive the runtime secrets of this host's containers from it",
    );
  const hosted = config.agent.endpoint ? dockerHost(backend) : undefined;
  // Before polling the host's queue: a second agent with this id would take half its activities.
  await refuseDuplicateId(client, scope, { kind: 'host', id: hostId }, heartbeatIntervalMs(config));
  const endpoint =
    hosted && (await startAgentEndpoint({ containers: hosted, ...config.agent.endpoint!, log }));
  let agentUrl: string | undefined;
  // Mesos reports lost and failed tasks to their pools itself (the framework workflow).
  let exits: ReturnType<typeof reportContainerExits> | undefined;
  let worker: Worker;
  try {
    agentUrl = endpoint && advertisedUrl(config.agent.endpoint!, endpoint.url);
    exits =
      config.agent.backend === 'mesos' ? undefined : reportContainerExits({ backend, client, hostId, log });
    worker = await Worker.create({
      connection,
      namespace: client.options.namespace,
      taskQueue: names.hostQueue(hostId),
      ...tracing()?.workerOptions,
      activities: createHostActivities({
        backend,
        hostId,
        imageForKind: options.imageForKind ?? defaultImageForKind,
        maxConcurrentCreates: config.agent.maxConcurrentCreates,
        // Mesos runs its tasks on its agents, not here: this machine's CPU says nothing of theirs.
        ...(config.agent.backend === 'mesos'
          ? {}
          : { createMaxCpu: config.agent.createMaxCpu, createCpuWaitMs: config.agent.createCpuWaitMs }),
        destroying: exits?.expectExit,
        agentUrl,
      }),
    });
  } catch (error) {
    exits?.stop();
    await endpoint?.close();
    throw error;
  }
  const stopBeating = await registerHost(client, scope, config, { ...config.agent, endpoint: agentUrl }, log);
  const running = runInBackground(worker, () => {
    stopBeating();
    exits?.stop();
  });
  return {
    ...running,
    endpointUrl: agentUrl,
    async stop() {
      await running.stop();
      await endpoint?.close();
      // Placement passes the host by from now on.
      await leaveRegistry(client, scope, hostLeftSignal, { hostId }, log);
    },
  };
}

/**
 * The URL the agent advertises: GUST_AGENT_ADVERTISE_URL, else the address it listens on, which
 * must then be one a controller can dial (not 0.0.0.0 or ::).
 */
export function advertisedUrl(
  endpoint: NonNullable<GustConfig['agent']['endpoint']>,
  boundUrl: string,
): string {
  if (endpoint.advertiseUrl) return endpoint.advertiseUrl.replace(/\/+$/, '');
  if (endpoint.host === '0.0.0.0' || endpoint.host === '::')
    throw new Error(
      `GUST_AGENT_ENDPOINT_HOST=${endpoint.host} listens on every interface: set GUST_AGENT_ADVERTISE_URL to the address controllers reach this agent at`,
    );
  return boundUrl;
}

/** The agent endpoint serves Docker hosts only (other backends' runtimes are reached directly). */
function dockerHost(backend: ContainerBackend): HostedContainers {
  const hosted = backend as Partial<HostedContainers>;
  if (backend.name !== 'docker' || !hosted.runtimeOf || !hosted.ownContainerId || !hosted.followRawLogs)
    throw new Error(
      `GUST_AGENT_ENDPOINT_PORT: the agent endpoint serves the docker backend only, not '${backend.name}'`,
    );
  return backend as unknown as HostedContainers;
}

/**
 * Tells the hosts workflow a host's capacity now and every heartbeat interval (signal-with-start:
 * the host may come up before the provisioner has started the hosts workflow). Returns the stop.
 */
export async function registerHost(
  client: Client,
  scope: Scope,
  config: Pick<GustConfig, 'pools'>,
  host: { hostId: string; capacityMB: number; endpoint?: string },
  log: Logger = createLogger('warn'),
): Promise<() => void> {
  const { hostId, capacityMB, endpoint } = host;
  const beat = (): Promise<void> =>
    signalHostsWorkflow(client, scope, config, hostHeartbeatSignal, {
      hostId,
      capacityMB,
      ...(endpoint !== undefined ? { endpoint } : {}),
    });
  await beat();
  return every(heartbeatIntervalMs(config), beat, (err) =>
    log.warn({ err, hostId }, 'host heartbeat failed'),
  );
}

/**
 * The configured backend: docker, the process backend when GUST_BACKEND=process (never in
 * production), the mesos backend (GUST_BACKEND=mesos), which talks to the framework workflow
 * through `temporal.client`, or the Kubernetes API (GUST_BACKEND=kubernetes). `temporal.log`: where
 * the process backend's no-isolation warning goes.
 */
export async function createAgentBackend(
  config: Pick<GustConfig, 'agent' | 'mesos' | 'controller'> &
    Partial<Pick<GustConfig, 'kubernetes' | 'knative'>>,
  temporal?: { client: Client; scope?: Scope; log?: Logger },
): Promise<ContainerBackend> {
  assertProductionSafe(config);
  if (config.agent.backend === 'knative') {
    // Knative makes the pods; Gust reads them (pods/log, OOM state) through the Kubernetes API.
    if (!config.kubernetes || !config.knative)
      throw new Error('GUST_BACKEND=knative needs the kubernetes and knative configuration');
    const { KubernetesBackend } = await import('../backends/kubernetes/backend');
    return new KubernetesBackend({
      ...config.kubernetes,
      namespace: config.knative.namespace,
      hostId: KNATIVE_HOST_ID,
    });
  }
  if (config.agent.backend === 'kubernetes') {
    if (!config.kubernetes) throw new Error('GUST_BACKEND=kubernetes needs the kubernetes configuration');
    const { KubernetesBackend } = await import('../backends/kubernetes/backend');
    return new KubernetesBackend(config.kubernetes);
  }
  if (config.agent.backend === 'mesos') {
    if (!temporal)
      throw new Error('the mesos backend needs a Temporal client (the framework workflow holds its tasks)');
    const { MesosBackend } = await import('../backends/mesos/backend');
    return new MesosBackend({
      ...temporal,
      hostId: config.agent.hostId,
      masterUrl: config.mesos.masterUrl,
      secretKey: config.agent.runtimeSecretKey,
    });
  }
  if (config.agent.backend === 'process') {
    const { ProcessBackend } = await import('../backends/process/backend');
    return new ProcessBackend({ hostId: config.agent.hostId, log: temporal?.log });
  }
  const { DockerBackend } = await import('../backends/docker/backend');
  const { hostId, capacityMB, dockerSocket, runtimeDir, runtimeSecretKey } = config.agent;
  return new DockerBackend({
    hostId,
    capacityMB,
    socketPath: dockerSocket,
    runtimeDir,
    // Controllers on other machines derive the secrets of this host's containers (host-routes.ts).
    ...(config.agent.endpoint
      ? { runtimeSecretOf: (name: string) => derivedRuntimeSecret(runtimeSecretKey, name) }
      : {}),
  });
}

/** The host id of Knative's pods as a backend sees them (Gust places nothing there). */
export const KNATIVE_HOST_ID = 'cluster.knative';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.agent.backend === 'kubernetes' || config.agent.backend === 'knative')
    throw new Error(
      `GUST_BACKEND=${config.agent.backend} needs no agent: the provisioner makes the pods or Services`,
    );
  const { log, connection, client, close } = await openWorkerProcess(config);
  const backend = await createAgentBackend(config, { client, log });
  await backend.health();
  const running = await startAgent({ connection, client, backend, config, log });
  const metrics = await serveWorkerMetrics(config, 'agent', running, log);
  await runUntilSignal(running, async () => {
    await metrics?.close();
    await backend.close();
    await close();
  });
}

if (require.main === module) {
  main().catch((err) => {
    createLogger('error').error({ err }, 'agent failed');
    process.exit(1);
  });
}

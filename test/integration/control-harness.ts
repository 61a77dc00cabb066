// Test harness for the control-path integration tests: a provisioner, agents and controllers on
// the shared Temporal dev server, all under one id/task-queue prefix, plus a recording router.
import { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerBackend } from '../../backends/backend';
import { ProcessBackend } from '../../backends/process/backend';
import type { GustConfig } from '../../common/config';
import type { RouterLeases } from '../../common/contracts';
import type { Action, ContainerUsage, Lease } from '../../common/types';
import { startAgent } from '../../workers/agent';
import { startControllerWorker, type RunningController } from '../../workers/controller-worker';
import { createControlPlane } from '../../workers/control-plane';
import { startProvisioner, type ClusterHost } from '../../workers/provisioner';
import {
  bundleControlPathWorkflows,
  installTemporalRuntime,
  type RunningWorker,
} from '../../workers/temporal';
import { DEFAULT_MAX_CREATING } from '../../workflows/action-pool-state';
import { inventoryQuery, type PoolInventory } from '../../workflows/messages';
import { scopedNames, type Scope } from '../../workflows/scope';
import { deleteSchedulesOf, terminateRunningWorkflows } from '../temporal-leftovers';

export const TEMPORAL_ADDRESS = process.env.GUST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

/** The test's stand-in for a controller's router: records what the workflows lease and revoke. */
export class RecordingRouter implements RouterLeases {
  readonly leases = new Map<string, Lease>();
  readonly revoked: string[] = [];
  /** Usage the test wants scale-down to see, by container id. */
  readonly usageById = new Map<string, { idleMs: number; inFlight: number }>();

  lease(leases: Lease[]): void {
    for (const l of leases) this.leases.set(l.container.id, l);
  }
  async revoke(containerIds: string[]): Promise<void> {
    for (const id of containerIds) {
      this.leases.delete(id);
      this.revoked.push(id);
    }
  }
  usage(): ContainerUsage[] {
    return [...this.leases.values()].map((l) => ({
      containerId: l.container.id,
      action: l.action,
      inFlight: this.usageById.get(l.container.id)?.inFlight ?? 0,
      idleMs: this.usageById.get(l.container.id)?.idleMs ?? 0,
    }));
  }
  forAction(name: string): Lease[] {
    return [...this.leases.values()].filter((l) => l.action?.name === name);
  }
  stemCells(): Lease[] {
    return [...this.leases.values()].filter((l) => l.action === null);
  }
}

export function testConfig(
  overrides: Partial<GustConfig['pools']> = {},
): Pick<GustConfig, 'pools' | 'agent'> {
  return {
    pools: {
      stemCells: [],
      keepAliveMs: 2000,
      minContainersPerAction: {},
      namespaceMemoryQuotaMB: 0,
      maxCreatingPerPool: DEFAULT_MAX_CREATING,
      scaleDownIntervalMs: 1000,
      reconcileIntervalMs: 1000,
      leaseTimeoutMs: 3000,
      orphanGraceMs: 60_000,
      ...overrides,
    },
    agent: {
      hostId: 'unused',
      backend: 'process',
      dockerSocket: '',
      runtimeDir: '',
      runtimeSecretKey: '',
      capacityMB: 4096,
      maxConcurrentCreates: 2,
      createMaxCpu: 1,
      createCpuWaitMs: 0,
    },
  };
}

export function testAction(namespace: string, name: string, version = '0.0.1', updated = 1): Action {
  return {
    namespace,
    name,
    version,
    exec: { kind: 'nodejs:20', code: 'function main(){return {}}' },
    parameters: [],
    annotations: [],
    limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
    publish: false,
    updated,
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ControlPathHarness {
  scope: Scope;
  names: ReturnType<typeof scopedNames>;
  connection: NativeConnection;
  client: Client;
  bundle: WorkflowBundle;
  config: Pick<GustConfig, 'pools' | 'agent'>;
  startProvisioner(opts?: {
    orphanGraceMs?: number;
    minContainersPerAction?: Record<string, number>;
    mesos?: GustConfig['mesos'] & { historyLimit?: number; runtimeSecretKey?: string };
    /** A cluster backend served by the provisioner (kubernetes). */
    cluster?: ClusterHost;
    /** Workflow code other than the harness's (an earlier release's, for the upgrade test). */
    bundle?: WorkflowBundle;
    /** Pool workflows the reconcile's visibility listing misses (its lag, simulated). */
    unindexedPools?: (workflowId: string) => boolean;
  }): Promise<RunningWorker>;
  startAgent(hostId: string, backend: ContainerBackend, capacityMB?: number): Promise<RunningWorker>;
  startController(
    controllerId: string,
    router?: RecordingRouter,
  ): Promise<{ router: RecordingRouter; running: RunningController }>;
  controlPlane(controllerId: string): ReturnType<typeof createControlPlane>;
  inventory(workflowId: string): Promise<PoolInventory>;
  /** With GUST_RECORD_HISTORIES=1: writes test/fixtures/histories/<workflowType>.<label>.json. */
  recordHistories(label: string): Promise<void>;
  close(): Promise<void>;
}

export async function createHarness(
  prefix: string,
  config = testConfig(),
  bundle?: WorkflowBundle,
  address = TEMPORAL_ADDRESS,
): Promise<ControlPathHarness> {
  installTemporalRuntime();
  const scope: Scope = { prefix };
  const names = scopedNames(scope);
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const workflowBundle = bundle ?? (await bundleControlPathWorkflows());
  const workers: Pick<RunningWorker, 'stop'>[] = [];

  const harness: ControlPathHarness = {
    scope,
    names,
    connection,
    client,
    bundle: workflowBundle,
    config,
    async startProvisioner(opts = {}) {
      const w = await startProvisioner({
        connection,
        client,
        bundle: workflowBundle,
        config,
        scope,
        orphanGraceMs: 1000,
        ...opts,
      });
      workers.push(w);
      return w;
    },
    async startAgent(hostId, backend, capacityMB = 4096) {
      const w = await startAgent({
        connection,
        client,
        backend,
        config: { ...config, agent: { ...config.agent, hostId, capacityMB } },
        scope,
      });
      workers.push(w);
      return w;
    },
    async startController(controllerId, router = new RecordingRouter()) {
      const running = await startControllerWorker({
        connection,
        client,
        controllerId,
        routerLeases: router,
        config,
        scope,
      });
      workers.push(running);
      return { router, running };
    },
    controlPlane: (controllerId) => createControlPlane({ client, controllerId, scope }),
    inventory: (workflowId) => client.workflow.getHandle(workflowId).query(inventoryQuery),
    recordHistories: (label) => recordHistories(client, prefix, label),
    async close() {
      // Workers first: a running agent or controller would restart the hosts workflow with its heartbeat.
      await Promise.allSettled(workers.map((w) => w.stop()));
      await deleteSchedulesOf(client, prefix);
      await terminateRunningWorkflows(client, prefix, 'test over');
      await connection.close();
    },
  };
  return harness;
}

/** A harness with one process-backend host and controller c1, both started (no provisioner yet). */
export interface SingleHostStack {
  h: ControlPathHarness;
  c1: RecordingRouter;
  /** Stops the workers, terminates the scope's workflows, removes the host's containers. */
  close(): Promise<void>;
}

/** The restart and upgrade tests' stack: one host `<prefix>h1`, one stem cell per controller. */
export async function createSingleHostStack(prefix: string, keepAliveMs: number): Promise<SingleHostStack> {
  const h = await createHarness(
    prefix,
    testConfig({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], keepAliveMs }),
  );
  const host = new ProcessBackend({ hostId: `${prefix}h1`, warn: false });
  await h.startAgent(`${prefix}h1`, host);
  const c1 = (await h.startController('c1')).router;
  return {
    h,
    c1,
    async close() {
      await h.close();
      await host.close();
    },
  };
}

export interface RecordedHistory {
  workflowId: string;
  type: string;
  history: temporal.api.history.v1.IHistory;
}

/** The history of every workflow run whose id starts with `prefix` (of the `types` given, or all). */
export async function historiesUnder(
  client: Client,
  prefix: string,
  types?: readonly string[],
): Promise<RecordedHistory[]> {
  const found: RecordedHistory[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) {
    if (types && !types.includes(wf.type)) continue;
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    found.push({ workflowId: wf.workflowId, type: wf.type, history });
  }
  return found;
}

/** Replays `histories` on `bundle` (a fresh worker each): the failures, as `workflowId: message`. */
export async function replayFailures(
  bundle: WorkflowBundle,
  histories: readonly Pick<RecordedHistory, 'workflowId' | 'history'>[],
): Promise<string[]> {
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  if (replayed !== histories.length) failures.push(`replayed ${replayed} of ${histories.length} histories`);
  return failures;
}

/**
 * With GUST_RECORD_HISTORIES=1: writes test/fixtures/histories/<workflowType>.<label>.json, per
 * workflow type the longest history of the workflows whose id starts with `prefix` (it exercises
 * the most code), for control-replay.test.ts.
 */
export async function recordHistories(
  client: Client,
  prefix: string,
  label: string,
  types?: readonly string[],
): Promise<void> {
  if (process.env.GUST_RECORD_HISTORIES !== '1') return;
  const dir = join(__dirname, '..', 'fixtures', 'histories');
  mkdirSync(dir, { recursive: true });
  const best = new Map<string, { length: number; json: string }>();
  for (const { type, history } of await historiesUnder(client, prefix, types)) {
    const length = history.events?.length ?? 0;
    if ((best.get(type)?.length ?? -1) < length) best.set(type, { length, json: JSON.stringify(history) });
  }
  for (const [type, { json }] of best) writeFileSync(join(dir, `${type}.${label}.json`), json);
}

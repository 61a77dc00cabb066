// Gust composed for a benchmark as a production deployment runs it: the controller in this process,
// the provisioner and the bench host's agent in a child process (control-plane-process.ts), docker
// backend. Isolated: its own Temporal scope prefix, host id and controller id (`bench-<pid>`), an
// ephemeral port, throttles raised, and an activation store that can be switched to "discard"
// between runs. `stop()` leaves nothing behind: workflows of the scope terminated, workers
// stopped, every container of the bench host removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { ContainerBackend } from '../../backends/backend';
import { DockerBackend } from '../../backends/docker/backend';
import { loadConfig, type GustConfig } from '../../common/config';
import type { ControlPlane } from '../../common/contracts';
import { LABELS } from '../../common/names';
import type { Router } from '../../api/invoke/router';
import type { ActivationWriter } from '../../api/activation-writer';
import { openStores } from '../../store/open-stores';
import { createControlPlane } from '../../workers/control-plane';
import { startController } from '../../workers/controller';
import { connectTemporal, createTemporalClient, installTemporalRuntime } from '../../workers/temporal';
import type { Scope } from '../../workflows/scope';
import { terminateRunningWorkflows } from '../../test/temporal-leftovers';
import { startControlPlaneProcess, type ControlPlaneProcess } from './control-plane-process';
import { SwitchableActivationStore } from './discard-store';

export interface BenchStack {
  config: GustConfig;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  router: Router;
  writer: ActivationWriter;
  controlPlane: ControlPlane;
  client: Client;
  /** This process's docker backend: the controller reads logs through it; direct floors create with it. */
  backend: ContainerBackend;
  /** The provisioner and agent's process (its pid, the agent's create count). */
  controlProcess: ControlPlaneProcess;
  activations: SwitchableActivationStore;
  storeKind: 'cassandra' | 'sqlite';
  hostId: string;
  controllerId: string;
  scope: Scope;
  /** Labels that mark a container as this bench's (cleanup lists by them). */
  labels: Record<string, string>;
  stop(): Promise<{ containersRemoved: number; workflowsTerminated: number }>;
}

export interface BenchStackOptions {
  /** Stem cells kept for this controller (kind nodejs:20, memory 256). */
  stemCells: number;
  /** Use Cassandra for both stores (else SQLite in a temporary file). */
  cassandra: boolean;
  log: (line: string) => void;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  installTemporalRuntime();
  const base = loadConfig();
  const pid = process.pid;
  const hostId = `bench${pid}`;
  const controllerId = `bench-${pid}`;
  const scope: Scope = { prefix: `bench${pid}-` };
  const sqliteDir = options.cassandra ? undefined : mkdtempSync(join(tmpdir(), 'gust-bench-'));
  const config: GustConfig = {
    ...base,
    controller: {
      ...base.controller,
      id: controllerId,
      host: '127.0.0.1',
      port: 0,
      // Throttles out of the way: the bench measures the platform, not its limits.
      invocationsPerMinute: 1_000_000_000,
      concurrentInvocations: 1_000_000,
      maxQueuePerAction: 100_000,
    },
    store: {
      ...base.store,
      kind: options.cassandra ? 'cassandra' : 'sqlite',
      sqlitePath: sqliteDir ? join(sqliteDir, 'gust.sqlite') : base.store.sqlitePath,
    },
    agent: { ...base.agent, backend: 'docker', hostId, capacityMB: 64 * 1024 },
    pools: {
      ...base.pools,
      stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: options.stemCells }],
      keepAliveMs: 60 * 60_000,
    },
  };
  const connection: NativeConnection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const backend = new DockerBackend({
    hostId,
    capacityMB: config.agent.capacityMB,
    socketPath: config.agent.dockerSocket,
  });
  await backend.health();
  const controlProcess = await startControlPlaneProcess(config, scope);
  const activations = new SwitchableActivationStore();
  const stores = await openStores(config.store);
  activations.inner = stores.activations;
  const controller = await startController({
    config,
    connection,
    client,
    hostAccess: backend,
    scope,
    port: 0,
    stores: { ...stores, activations },
  });
  const labels = { [LABELS.managed]: 'true', [LABELS.host]: hostId };

  let stopped = false;
  return {
    config,
    url: controller.url,
    router: controller.router,
    writer: controller.writer,
    controlPlane: createControlPlane({ client, controllerId, scope }),
    client,
    backend,
    controlProcess,
    activations,
    storeKind: config.store.kind,
    hostId,
    controllerId,
    scope,
    labels,
    async stop() {
      if (stopped) return { containersRemoved: 0, workflowsTerminated: 0 };
      stopped = true;
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (error) {
          options.log(`cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      };
      await step('controller stop', () => controller.stop());
      // No pool may create more containers once we start removing them.
      let workflowsTerminated = 0;
      await step('terminate workflows', async () => {
        workflowsTerminated = await terminateRunningWorkflows(client, scope.prefix, 'benchmark over');
      });
      await step('control plane stop', () => controlProcess.stop());
      let containersRemoved = 0;
      await step('remove containers', async () => {
        // Twice: a create that was in flight when the workers stopped may land after the first pass.
        for (let pass = 0; pass < 2; pass++) {
          const leftovers = await backend.list({ [LABELS.host]: hostId });
          await inParallel(leftovers, 6, (c) => backend.destroy(c.id));
          containersRemoved += leftovers.length;
        }
      });
      await step('backend close', () => backend.close());
      await step('connection close', () => connection.close());
      if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
      return { containersRemoved, workflowsTerminated };
    },
  };
}

export async function inParallel<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(width, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

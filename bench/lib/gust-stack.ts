// Gust composed for a benchmark as a production deployment runs it, through the composition root
// (workers/embedded.ts): the controller in this process, the provisioner and the bench host's
// agent in a child process (control-plane-process.ts), docker backend. Isolated: its own Temporal
// scope prefix, host id and controller id (`bench-<pid>`), an ephemeral port, throttles raised,
// and an activation store that can be switched to "discard" between runs. `stop()` leaves nothing
// behind: workers stopped, every container of the bench host removed, workflows of the scope
// terminated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { ContainerBackend } from '../../backends/backend';
import { loadConfig, type GustConfig } from '../../common/config';
import type { ControlPlane } from '../../common/contracts';
import { LABELS } from '../../common/names';
import type { Router } from '../../api/invoke/router';
import type { ActivationWriter } from '../../api/activation-writer';
import { openStores } from '../../store/open-stores';
import { createAgentBackend } from '../../workers/agent';
import { createControlPlane } from '../../workers/control-plane';
import { startEmbeddedGust } from '../../workers/embedded';
import { installTemporalRuntime } from '../../workers/temporal';
import type { Scope } from '../../workflows/scope';
import { terminateStoppedScope } from '../../test/temporal-leftovers';
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
  const backend = await createAgentBackend(config);
  const controlProcess = await startControlPlaneProcess(config, scope);
  const activations = new SwitchableActivationStore();
  const stores = await openStores(config.store);
  activations.inner = stores.activations;
  const gust = await startEmbeddedGust({
    config,
    parts: ['controller'],
    scope,
    backend,
    stores: { ...stores, activations },
    port: 0,
  });
  const { controller, client } = gust;
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
      await step('controller stop', () => gust.stop());
      // The child removes the host's containers when its agent has stopped: no pool creates any after.
      let containersRemoved = 0;
      await step('control plane stop', async () => {
        containersRemoved += (await controlProcess.stop()).containersRemoved;
      });
      // With no worker left, the scope's pools would wait on the server for good.
      let workflowsTerminated = 0;
      await step('terminate workflows', async () => {
        workflowsTerminated = await terminateStoppedScope(config, scope.prefix, 'benchmark over');
      });
      await step('remove containers', async () => {
        // What the child did not remove: the direct floors' containers, or all if it was killed.
        const leftovers = await backend.list({ [LABELS.host]: hostId });
        await inParallel(leftovers, 6, (c) => backend.destroy(c.id));
        containersRemoved += leftovers.length;
      });
      await step('backend close', () => backend.close());
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

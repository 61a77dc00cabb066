// What the control path costs: containers provisioned per second through the workflows (place →
// create on the agent → lease to the controller) against the backend directly, in the same run
// (the ratio is the workflow overhead), and cold-start latency — request to a ready, leased
// container — for a new action (update-with-start creates its pool) and for an existing pool.
// BACKEND=kubernetes (the stack's cluster: npm run stack -- start kubernetes) has no agent: the
// provisioner creates the pods; it also times the same pod created straight through the API
// (create → runtime answering, no Gust code) as the floor.
//   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop --skipLibCheck bench/provisioning.ts
//   node dist/bench/provisioning.js      (env: BACKEND=docker|process|kubernetes CONTAINERS=16 CONCURRENCY=4 COLD=20)
// Prints a table and writes bench/results/provisioning-<timestamp>.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerBackend } from '../backends/backend';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DockerBackend } from '../backends/docker/backend';
import { KubernetesBackend } from '../backends/kubernetes/backend';
import { buildPod } from '../backends/kubernetes/spec';
import { waitForHttp } from '../backends/wait-for-http';
import { ProcessBackend } from '../backends/process/backend';
import { loadConfig } from '../common/config';
import type { RouterLeases } from '../common/contracts';
import { LABELS } from '../common/names';
import type { Action, Lease } from '../common/types';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../runtimes/nodejs/runtime-entry';
import { startAgent } from '../workers/agent';
import { createControlPlane } from '../workers/control-plane';
import { startControllerWorker } from '../workers/controller-worker';
import { startProvisioner } from '../workers/provisioner';
import {
  bundleControlPathWorkflows,
  connectTemporal,
  createTemporalClient,
  installTemporalRuntime,
} from '../workers/temporal';
import type { Scope } from '../workflows/scope';
import { terminateRunningWorkflows } from '../test/temporal-leftovers';
import { elapsedMs, formatTable, summarize, type Summary } from './lib/stats';

const BACKEND = (process.env.BACKEND ?? 'docker') as 'docker' | 'process' | 'kubernetes';
const CONTAINERS = Number(process.env.CONTAINERS ?? 16);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const COLD = Number(process.env.COLD ?? 20);
const PREFIX = `bench${process.pid}-`;
const HOST_ID = BACKEND === 'kubernetes' ? `cluster.${PREFIX}k8s` : `${PREFIX}host`;
const REPO = join(__dirname, '..', '..');

/** The controller's router, reduced to "tell me when a lease arrives". */
class WaitingRouter implements RouterLeases {
  readonly leases = new Map<string, Lease>();
  #waiters: { name: string; count: number; resolve: () => void }[] = [];
  lease(leases: Lease[]): void {
    for (const l of leases) this.leases.set(l.container.id, l);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.count(w.name) < w.count) return true;
      w.resolve();
      return false;
    });
  }
  async revoke(ids: string[]): Promise<void> {
    for (const id of ids) this.leases.delete(id);
  }
  usage() {
    return [];
  }
  count(name: string): number {
    return [...this.leases.values()].filter((l) => l.action?.name === name).length;
  }
  waitFor(name: string, count: number): Promise<void> {
    if (this.count(name) >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ name, count, resolve }));
  }
}

const action = (name: string): Action => ({
  namespace: 'bench',
  name,
  version: '0.0.1',
  exec: { kind: NODEJS_RUNTIME_KIND, code: 'function main() { return {}; }' },
  parameters: [],
  annotations: [],
  limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  publish: false,
  updated: 1,
});

async function inBatches<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

async function destroyAll(backend: ContainerBackend): Promise<void> {
  for (const c of await backend.list({ [LABELS.host]: HOST_ID })) await backend.destroy(c.id);
}

async function main(): Promise<void> {
  installTemporalRuntime();
  const config = loadConfig();
  const pools = { ...config.pools, stemCells: [] };
  const backend: ContainerBackend =
    BACKEND === 'docker'
      ? new DockerBackend({ hostId: HOST_ID, capacityMB: 1 << 20, socketPath: config.agent.dockerSocket })
      : BACKEND === 'kubernetes'
        ? new KubernetesBackend({ ...config.kubernetes, hostId: HOST_ID })
        : new ProcessBackend({ hostId: HOST_ID, warn: false });
  await backend.health();
  const connection = await connectTemporal(config);
  const client = createTemporalClient(connection, config);
  const bundle = await bundleControlPathWorkflows();
  const scope: Scope = { prefix: PREFIX };
  const router = new WaitingRouter();
  const cluster = BACKEND === 'kubernetes' ? { backend, hostId: HOST_ID, capacityMB: 1 << 20 } : undefined;
  const workers = [
    await startProvisioner({
      connection,
      client,
      bundle,
      config: { pools },
      scope,
      schedules: false,
      cluster,
    }),
    ...(cluster
      ? []
      : [
          await startAgent({
            connection,
            client,
            backend,
            config: { pools, agent: { ...config.agent, hostId: HOST_ID, capacityMB: 1 << 20 } },
            scope,
          }),
        ]),
    await startControllerWorker({
      connection,
      client,
      controllerId: 'c1',
      routerLeases: router,
      config: { pools },
      scope,
    }),
  ];
  const controlPlane = createControlPlane({ client, controllerId: 'c1', scope });

  try {
    // 1. The backend directly: throughput at CONCURRENCY, then sequential create-to-ready.
    let seq = 0;
    const spec = () => ({
      name: `gust_${PREFIX}direct_${seq++}`,
      image: NODEJS_RUNTIME_IMAGE,
      kind: NODEJS_RUNTIME_KIND,
      memoryMB: 256,
      env: {},
      labels: { [LABELS.managed]: 'true', [LABELS.host]: HOST_ID },
    });
    let start = process.hrtime.bigint();
    await inBatches(
      [...Array(CONTAINERS).keys()],
      CONCURRENCY,
      async () => void (await backend.create(spec())),
    );
    const directMs = elapsedMs(start);
    await destroyAll(backend);
    const directCold: number[] = [];
    for (let i = 0; i < COLD; i++) {
      const t = process.hrtime.bigint();
      await backend.create(spec());
      directCold.push(elapsedMs(t));
    }
    await destroyAll(backend);
    const rawApiCold = BACKEND === 'kubernetes' ? await rawApiColdStarts(config, spec) : [];
    await destroyAll(backend);

    // 2. Through the workflows: CONTAINERS requested in requests of CONCURRENCY (the pool runs
    //    each request's creates in parallel), timed until the router holds them all.
    start = process.hrtime.bigint();
    for (let n = 0; n < CONTAINERS; n += CONCURRENCY) {
      await controlPlane.requestContainers(action('throughput'), Math.min(CONCURRENCY, CONTAINERS - n));
      await router.waitFor('throughput', n + Math.min(CONCURRENCY, CONTAINERS - n));
    }
    const workflowMs = elapsedMs(start);

    // 3. Cold starts: request → leased and ready. A new action each time (update-with-start
    //    creates the pool), then one existing pool asked for one more container each time.
    const newPool: number[] = [];
    for (let i = 0; i < COLD; i++) {
      const t = process.hrtime.bigint();
      await controlPlane.requestContainers(action(`cold${i}`), 1);
      await router.waitFor(`cold${i}`, 1);
      newPool.push(elapsedMs(t));
    }
    const existingPool: number[] = [];
    for (let i = 0; i < COLD; i++) {
      const t = process.hrtime.bigint();
      await controlPlane.requestContainers(action('cold0'), 1);
      await router.waitFor('cold0', i + 2);
      existingPool.push(elapsedMs(t));
    }
    const requestOnly: number[] = [];
    for (let i = 0; i < Math.min(COLD, 10); i++) {
      const t = process.hrtime.bigint();
      await controlPlane.requestContainers(action('cold1'), 1); // the update's own round trip
      requestOnly.push(elapsedMs(t));
      await router.waitFor('cold1', i + 2);
    }

    const rows: [string, Summary][] = [
      ...(rawApiCold.length
        ? [['cold start, pod created straight through the API', summarize(rawApiCold)] as [string, Summary]]
        : []),
      [`cold start, backend directly (${BACKEND})`, summarize(directCold)],
      ['cold start via workflows, new action (pool created)', summarize(newPool)],
      ['cold start via workflows, existing pool', summarize(existingPool)],
      ['requestContainers update (accepted)', summarize(requestOnly)],
    ];
    const throughput = {
      containers: CONTAINERS,
      concurrency: CONCURRENCY,
      directPerSecond: CONTAINERS / (directMs / 1000),
      workflowsPerSecond: CONTAINERS / (workflowMs / 1000),
    };
    const ratio = throughput.directPerSecond / throughput.workflowsPerSecond;
    // A benchmark's progress and report are for the human at the terminal: plain stdout, not the log.
    console.log(formatTable(rows));
    console.log(
      `throughput: ${throughput.directPerSecond.toFixed(2)}/s directly, ${throughput.workflowsPerSecond.toFixed(2)}/s via workflows — overhead ×${ratio.toFixed(2)}`,
    );
    const dir = join(REPO, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `provisioning-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { backend: BACKEND, throughput, workflowOverheadRatio: ratio, latencyMs: Object.fromEntries(rows) },
        null,
        2,
      ),
    );
    console.log(`wrote ${file}`);
  } finally {
    await terminateRunningWorkflows(client, PREFIX, 'benchmark over');
    for (const w of workers) await w.stop();
    await destroyAll(backend);
    await backend.close();
    await connection.close();
  }
}

/**
 * The floor for the kubernetes backend: the same pod (host network, a fixed port from the top of
 * the range, the secret's init container) created through the API, timed until its runtime answers
 * HTTP — no watch, no Gust.
 */
async function rawApiColdStarts(
  config: ReturnType<typeof loadConfig>,
  spec: () => Parameters<ContainerBackend['create']>[0],
): Promise<number[]> {
  const kube = new KubeConfig();
  kube.loadFromFile(config.kubernetes.kubeconfig);
  const api = kube.makeApiClient(CoreV1Api);
  const times: number[] = [];
  for (let i = 0; i < COLD; i++) {
    const port = config.kubernetes.hostPorts.last - (i % 50);
    const body = buildPod(spec(), HOST_ID, {
      namespace: config.kubernetes.namespace,
      network: 'host',
      port,
      imagePullPolicy: config.kubernetes.imagePullPolicy,
      terminationGraceSeconds: 1,
      secret: randomBytes(32).toString('base64url'), // the same pod: with the secret's init container
    });
    const t = process.hrtime.bigint();
    await api.createNamespacedPod({ namespace: config.kubernetes.namespace, body });
    await waitForHttp({ host: '127.0.0.1', port }, { timeoutMs: 60_000 });
    times.push(elapsedMs(t));
    await api.deleteNamespacedPod({ name: body.metadata!.name!, namespace: config.kubernetes.namespace });
    // The next pod may reuse the port only once this one's runtime has let it go.
    for (let deadline = Date.now() + 30_000; Date.now() < deadline;) {
      try {
        await api.readNamespacedPod({ name: body.metadata!.name!, namespace: config.kubernetes.namespace });
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        break;
      }
    }
  }
  return times;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

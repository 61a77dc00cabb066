// Starts a whole Gust for end-to-end tests: provisioner, one agent and a controller on
// 127.0.0.1:<ephemeral>, on the shared Temporal dev server under a scope of its own. By default
// the real stack: docker backend and the Cassandra store (keyspace gust_e2e, emptied first).
// GUST_E2E_BACKEND=mesos runs the same suites with the mesos backend, against a SIMULATED Mesos
// master of its own (test/mesos/) whose tasks are Docker containers on the stack's dockerd.
// GUST_E2E_BACKEND=kubernetes runs the same suites on the stack's Kubernetes (pods through the
// real apiserver, scheduler and kubelet; the provisioner creates them, no agent).
// GUST_E2E_BACKEND=knative runs them with one Knative Service per action, on that Kubernetes,
// with a SIMULATED Knative Serving (test/knative/serving-simulator.ts) in a namespace of its own.
// Tests talk to it only through the official `openwhisk` client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openwhisk from 'openwhisk';
import { masterKeyOf } from '../../api/action-keys';
import { GUEST_API_KEY, makeAuthKey } from '../../api/api-keys';
import type { GustConfig } from '../../common/config';
import { loadConfig } from '../../common/config';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';
import type { Stores } from '../../store/open-stores';
import { migrateCassandraSchema } from '../../store/cassandra/cassandra-schema';
import type { Scope } from '../../workflows/scope';
import { startController, type RunningController } from '../../workers/controller';
import { type EmbeddedGust, startEmbeddedGust } from '../../workers/embedded';
import { installTemporalRuntime } from '../../workers/temporal';
import { startKnativeTestCluster, type KnativeTestCluster } from '../knative/harness';
import { deleteSchedulesOf, terminateStoppedScope } from '../temporal-leftovers';
import { startTestCluster, type TestCluster } from '../mesos/test-cluster';
import { runId } from '../run-names';

export interface GustUnderTest {
  /** `http://127.0.0.1:<port>` */
  apihost: string;
  apiKey: string;
  config: GustConfig;
  /** An `openwhisk` client for this Gust (guest credentials unless `apiKey` is given). */
  client(options?: { apiKey?: string; namespace?: string }): ReturnType<typeof openwhisk>;
  /** The running Gust (a second controller can join it on the same Temporal and store). */
  embedded: EmbeddedGust;
  /**
   * Another controller in this process joined to this Gust (any free port; the first controller
   * takes the alarm fires: one worker per queue and process). Its id defaults to this one's.
   */
  startController(controller?: Partial<GustConfig['controller']>): Promise<RunningController>;
  scope: Scope;
  /** GUST_E2E_BACKEND=knative: the namespace and the SIMULATED Knative Serving on it. */
  knative?: KnativeTestCluster;
  stop(): Promise<void>;
}

export interface StartGustOptions {
  controller?: Partial<GustConfig['controller']>;
  /** @default GUST_E2E_BACKEND, else 'docker' */
  backend?: GustConfig['agent']['backend'];
  /** @default 'cassandra' */
  store?: GustConfig['store']['kind'];
  /** e.g. a short lease timeout for the fault tests. */
  pools?: Partial<GustConfig['pools']>;
  /** e.g. a small host, to fill it. */
  agent?: Partial<GustConfig['agent']>;
  /** e.g. a private Temporal dev server that a fault test may freeze. */
  temporal?: Partial<GustConfig['temporal']>;
  /** e.g. tracing on (GUST_OTEL) */
  observability?: Partial<GustConfig['observability']>;
  /** Cassandra keyspace, emptied first: a test file that runs beside others needs its own. @default gust_e2e */
  keyspace?: string;
}

/** GUST_E2E_KEYSPACE: one per checkout when two run the e2e suite against the same Cassandra at once. */
const E2E_KEYSPACE = process.env.GUST_E2E_KEYSPACE ?? 'gust_e2e';

/** Creates the e2e keyspace if needed and empties it, so every run starts from nothing. */
async function emptyCassandraKeyspace(config: GustConfig): Promise<void> {
  const keyspace = config.store.cassandraKeyspace;
  const client = createCassandraClient({ contactPoints: config.store.cassandraContactPoints, keyspace });
  try {
    await client.connect();
    await migrateCassandraSchema(client, keyspace);
    const tables = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?',
      [keyspace],
    );
    for (const row of tables.rows) await client.execute(`TRUNCATE ${keyspace}.${row['table_name']}`);
  } finally {
    await client.shutdown();
  }
}

function e2eBackend(): GustConfig['agent']['backend'] {
  const backend = process.env.GUST_E2E_BACKEND ?? 'docker';
  const backends = ['docker', 'process', 'mesos', 'kubernetes', 'knative'] as const;
  if (!(backends as readonly string[]).includes(backend))
    throw new Error(`GUST_E2E_BACKEND must be one of ${backends.join(', ')}, got '${backend}'`);
  return backend as (typeof backends)[number];
}

export async function startGust(options: StartGustOptions = {}): Promise<GustUnderTest> {
  installTemporalRuntime();
  const id = runId();
  const stateDir = mkdtempSync(join(tmpdir(), 'gust-e2e-'));
  const base = loadConfig();
  const backend = options.backend ?? e2eBackend();
  // Two agents of 3 CPUs and 3 GB (advertised by the simulated master; containers use what they
  // use): room for the largest suite's containers (openwhisk-parity: ~20 actions and stem cells of
  // three controllers, never scaled down here), and offers to choose from.
  const mesos: TestCluster | undefined =
    backend === 'mesos'
      ? await startTestCluster([
          { cpus: 3, memMB: 3072 },
          { cpus: 3, memMB: 3072 },
        ])
      : undefined;
  // knative: a namespace of its own with the SIMULATED Knative Serving (test/knative/) on it.
  const knative: KnativeTestCluster | undefined =
    backend === 'knative' ? await startKnativeTestCluster(`e2e${id}`) : undefined;
  const config: GustConfig = {
    ...base,
    stateDir,
    controller: { ...base.controller, id: `e2e-${id}`, port: 0, ...options.controller },
    temporal: { ...base.temporal, ...options.temporal },
    observability: { ...base.observability, ...options.observability },
    store: {
      ...base.store,
      kind: options.store ?? 'cassandra',
      sqlitePath: join(stateDir, 'gust.sqlite'),
      cassandraKeyspace: options.keyspace ?? E2E_KEYSPACE,
    },
    agent: { ...base.agent, ...options.agent, hostId: `e2e-${id}`, backend },
    mesos: {
      ...base.mesos,
      masterUrl: mesos?.master.url ?? base.mesos.masterUrl,
      frameworkName: `gust-e2e-${id}`,
    },
    kubernetes: { ...base.kubernetes, hostId: `cluster.e2e-${id}` },
    knative: knative
      ? { ...base.knative, namespace: knative.namespace, gateway: knative.simulator.gatewayUrl }
      : base.knative,
    // One stem cell, so the cold path from a stem cell runs end to end too.
    pools: { ...base.pools, stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], ...options.pools },
  };
  if (config.store.kind === 'cassandra') await emptyCassandraKeyspace(config);
  const scope: Scope = { prefix: `e2e-${id}-` };
  const gust = await startEmbeddedGust({
    config,
    scope,
    schedules: false,
    port: 0,
  });
  const apihost = gust.controller.url;

  return {
    apihost,
    apiKey: GUEST_API_KEY,
    config,
    client: (o = {}) => openwhisk({ apihost, api_key: o.apiKey ?? GUEST_API_KEY, namespace: o.namespace }),
    embedded: gust,
    scope,
    startController: (controller = {}) =>
      startController({
        config: { ...config, controller: { ...config.controller, ...controller } },
        connection: gust.connection,
        client: gust.client,
        hostAccess: gust.backend,
        scope,
        port: 0,
        alarmFires: false,
      }),
    knative,
    async stop() {
      try {
        // Alarms a failed test left: they would fire every few seconds for good.
        await deleteSchedulesOf(gust.client, scope.prefix);
        await gust.stop();
      } finally {
        // With their workers gone, the scope's pools and alarm fires would wait on the server for
        // good (over a connection of its own: Gust's is closed by now).
        await terminateStoppedScope(config, scope.prefix, 'test over').catch(() => undefined);
        // Removes whatever tasks a failed stop left behind.
        await mesos?.close();
        await knative?.close();
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Gives `namespace` a new key in the store this Gust runs on (sealed under its master key, so
 * actions annotated provide-api-key get it) and returns a client with that key.
 */
export async function namespaceClient(
  gust: GustUnderTest,
  stores: Stores,
  namespace: string,
): Promise<ReturnType<typeof openwhisk>> {
  const key = makeAuthKey(namespace, {
    masterKey: masterKeyOf(gust.config.controller.keyEncryptionKey, false),
  });
  await stores.entities.putAuthKey(key.record);
  return gust.client({ apiKey: key.apiKey });
}

// The one place that reads GUST_* environment variables. Every setting has a documented default;
// the README's configuration table mirrors this file. Durations are milliseconds.
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CREATE_MAX_CPU_WAIT_MS } from '../activities/creation-turns';
import { DEFAULT_MAX_CREATING } from '../workflows/action-pool-state';

/**
 * Container creations a host runs at once by default: half its cores. A creation (the engine's
 * work, then the runtime booting) keeps a core busy for a few hundred ms; measured on 2 cores, a
 * new action under a 400 req/s open loop settled in 3–5 s with 11–17 containers at one creation at
 * a time, against 5–10 s and 18–39 containers at two (bench/results/invoke-measurements-2026-11-30.md §9).
 */
export const DEFAULT_HOST_MAX_CREATES = Math.max(1, Math.floor(availableParallelism() / 2));

export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GustConfig {
  /** Directory for runtime state: Temporal's database, dockerd, Cassandra data, SQLite stores. */
  stateDir: string;
  /** Where downloads and builds are cached (Temporal CLI, Cassandra jars, images). */
  cacheDir: string;
  controller: {
    id: string;
    host: string;
    port: number;
    /**
     * Production mode: refuse OpenWhisk's well-known guest key, the process backend (no isolation)
     * and any silent fallback to it (`assertProductionSafe`, scripts/start.sh).
     */
    production: boolean;
    /**
     * GUST_KEY_ENCRYPTION_KEY: the master key (32 bytes, hex or base64) that seals the API keys
     * actions get (`provide-api-key`, api/action-keys.ts); '' = the public development key,
     * which production refuses.
     */
    keyEncryptionKey: string;
    /** Bounded per-action queue length before 429/503. */
    maxQueuePerAction: number;
    /** Blocking invokes wait this long before answering 202. */
    blockingWaitMs: number;
    /** A request must arrive whole (headers and body) within this (slow clients get 408). */
    requestTimeoutMs: number;
    /** How long a stopping controller waits for its running activations before recording them as whisk errors. */
    shutdownGraceMs: number;
    /** Sockets open at once; more are refused. */
    maxConnections: number;
    /** A cold start waits this long for the pool workflow to lease a container. */
    provisionTimeoutMs: number;
    /** The API URL actions are told (`__OW_API_HOST`). */
    apiHost: string;
    /** Per-namespace throttles (OpenWhisk standalone defaults). */
    invocationsPerMinute: number;
    concurrentInvocations: number;
    /** Trigger fires per namespace and minute (OpenWhisk's `firesPerMinute`). */
    firesPerMinute: number;
    /**
     * The three throttles above are namespace-wide: each controller enforces its share, the limit
     * divided by the live controllers, a count it reads from the hosts registry this often
     * (workers/live-controllers.ts). @default 5000
     */
    throttleShareRefreshMs: number;
    /** Cached entities older than this are refreshed in the background (api/entity-cache.ts). */
    entityCacheRefreshMs: number;
    /** What the entity cache may hold, in MB (code included). */
    entityCacheMB: number;
    /** Cached API keys older than this are re-checked in the background (api/authenticator.ts). */
    authRevalidateMs: number;
    /**
     * GUST_LOCAL_HOSTS: ids of the Docker hosts this controller shares a machine with; it calls
     * their containers over their unix sockets (the fast path). Containers of any other host that
     * advertises an agent endpoint are called through that endpoint (backends/host-routes.ts).
     * `[]` (GUST_LOCAL_HOSTS=none) sends every call through the agents. @default [agent.hostId]
     */
    localHosts?: string[];
  };
  /** `npm run admin` (workers/admin.ts). */
  admin: {
    /**
     * GUST_ADMIN_API_KEY: the key (`uuid:secret`) `user create` gives the namespace instead of a
     * new one, kept out of the process list and shell history (unlike `--key`). @default '' (a new key)
     */
    apiKey: string;
  };
  /** Logs (common/logger.ts) and Prometheus metrics (common/metrics.ts, api/controller-metrics.ts). */
  observability: {
    /** pino level of every Gust process's logger (`silent` turns it off). */
    logLevel: LogLevel;
    /** One `info` line per API request (method, url, status, time, activation id if any). */
    requestLog: boolean;
    /** Prometheus metrics: the controller at GET /metrics, other processes on their own port. */
    metrics: boolean;
    /** Address the provisioner's and the agent's metrics listeners bind. */
    metricsHost: string;
    provisionerMetricsPort: number;
    agentMetricsPort: number;
    /** OpenTelemetry tracing across controller, workflows and activities: where spans go (`off`: none). */
    tracing: 'off' | 'otlp' | 'console' | 'memory';
  };
  temporal: {
    address: string;
    namespace: string;
    uiPort: number;
  };
  store: {
    /** `sqlite` (embedded default) or `cassandra`. */
    kind: 'sqlite' | 'cassandra';
    sqlitePath: string;
    cassandraContactPoints: string[];
    cassandraKeyspace: string;
    /** Activation records expire after this many seconds (Cassandra TTL). */
    activationTtlSeconds: number;
    /** CQL port of every contact point. */
    cassandraPort: number;
    /** The driver's local data centre (SimpleSnitch's is `datacenter1`). */
    cassandraDataCenter: string;
    /** Activation records the writer stores per batch (api/activation-writer.ts). */
    activationBatchSize: number;
    /** Records accepted and not yet stored above which invokes answer 503. */
    activationHighWaterMark: number;
    /** How long a partial batch of records waits for company before it is written (api/activation-writer.ts). */
    activationFlushMs: number;
  };
  agent: {
    hostId: string;
    /**
     * `docker`, `process`, `mesos` (tasks of a Mesos framework; see `mesos`), `kubernetes` (pods; no
     * agent) or `knative` (one Knative Service per action; Knative routes and scales; see `knative`).
     */
    backend: 'docker' | 'process' | 'mesos' | 'kubernetes' | 'knative';
    dockerSocket: string;
    /** Host directory of the containers' runtime sockets and secrets (docker backend). */
    runtimeDir: string;
    /**
     * The key the runtime secrets of Mesos tasks, Knative Services and the containers of an agent
     * with an endpoint derive from (backends/runtime-secret-key.ts); the same in every provisioner,
     * agent and controller. '' lets each process make up its own (a one-process Gust only).
     */
    runtimeSecretKey: string;
    /** Memory this host offers to action containers. */
    capacityMB: number;
    /**
     * Container creations this host runs at once; more wait their turn, so a scale-up does not
     * take the CPU the warm path needs. @default DEFAULT_HOST_MAX_CREATES
     */
    maxConcurrentCreates: number;
    /**
     * A creation waits while the host's CPU is at least this busy (0–1; 1: never), at most
     * createCpuWaitMs, so a scale-up does not starve the runs whose times size it
     * (activities/creation-turns.ts). @default 0.8
     */
    createMaxCpu: number;
    /** @default 2000 */
    createCpuWaitMs: number;
    /**
     * The agent endpoint (backends/docker/agent-endpoint.ts): what a controller on another machine
     * calls this host's containers through. Absent (GUST_AGENT_ENDPOINT_PORT unset): none, the
     * single-host default, where every controller shares the machine and calls the containers'
     * unix sockets.
     */
    endpoint?: {
      /** Address the endpoint binds (GUST_AGENT_ENDPOINT_HOST). @default 127.0.0.1 */
      host: string;
      /** GUST_AGENT_ENDPOINT_PORT; 0: any free port (tests). */
      port: number;
      /**
       * The URL controllers reach it at, advertised in the host's registration and with every
       * container (GUST_AGENT_ADVERTISE_URL). @default http://<host>:<port>
       */
      advertiseUrl?: string;
    };
  };
  /** GUST_BACKEND=kubernetes: where and how action pods are made. */
  kubernetes: {
    /** A kubeconfig file; '' for the in-cluster service account. */
    kubeconfig: string;
    namespace: string;
    /** Host id of the cluster in placement (label io.gust.host). Starts with `cluster.`. */
    hostId: string;
    /** `pod`: podIP:8080 (a real cluster); `host`: host network, 127.0.0.1 and a port Gust assigns. */
    network: 'pod' | 'host';
    /** Host network: the ports Gust assigns to pods (inclusive). */
    hostPorts: { first: number; last: number };
    imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
  };
  /** The Mesos framework, used when `agent.backend` is `mesos`. */
  mesos: {
    /** The master's scheduler API base URL. */
    masterUrl: string;
    /** FrameworkInfo.name. */
    frameworkName: string;
    /** FrameworkInfo.user: the user tasks run as on the agents. */
    user: string;
    /** FrameworkInfo.failover_timeout: how long the master keeps the tasks while Gust is away. */
    failoverTimeoutMs: number;
  };
  /** Knative Serving, used when `agent.backend` is `knative`. */
  knative: {
    /** Namespace of the actions' Services. */
    namespace: string;
    /** The Knative ingress every /run goes to, with the Service's host in `Host`. */
    gateway: string;
    imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
    /** How long a rollout may take to become Ready before the invocations waiting for it fail. */
    readyTimeoutMs: number;
    /** Extra time a /run may take beyond the action's limit while its revision scales from zero. */
    coldStartAllowanceMs: number;
    /** autoscaling.knative.dev/max-scale of every revision; 0 = unbounded. */
    maxScale: number;
  };
  pools: {
    /** Stem cells kept per controller for each (kind, memory), e.g. `nodejs:20:256=2`. */
    stemCells: { kind: string; memoryMB: number; count: number }[];
    /** Containers idle longer than this are removed by the scale-down schedule. */
    keepAliveMs: number;
    /** Containers scale-down keeps however idle, per action path (`guest/hello=2`). */
    minContainersPerAction: Record<string, number>;
    /** Memory one namespace's containers may reserve in all; 0: no quota. */
    namespaceMemoryQuotaMB: number;
    /**
     * Containers one action's pool creates at once (the rest of a request waits, withdrawable);
     * raise it for many hosts or a cluster that creates many pods at once. Read when a pool starts.
     */
    maxCreatingPerPool: number;
    scaleDownIntervalMs: number;
    reconcileIntervalMs: number;
    /** A controller that has not been heard from for this long loses its leases. */
    leaseTimeoutMs: number;
    /** Reconcile leaves alone unowned containers younger than this (they may be being created). */
    orphanGraceMs: number;
  };
}

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function int(name: string, fallback: number): number {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

/** A share from 0 to 1. */
function share(name: string, fallback: number): number {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be a number from 0 to 1, got '${raw}'`);
  return value;
}

function positiveInt(name: string, fallback: number): number {
  const value = int(name, fallback);
  if (value === 0) throw new Error(`${name} must be at least 1`);
  return value;
}

function oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
  const value = env(name, fallback);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** `guest/hello=2,guest/pkg/echo=1` → containers scale-down keeps per action path. */
export function parseMinContainers(spec: string): Record<string, number> {
  const minimums: Record<string, number> = {};
  for (const entry of spec.split(',').filter((e) => e.trim() !== '')) {
    const match = /^(.+)=(\d+)$/.exec(entry.trim());
    if (!match) throw new Error(`GUST_MIN_CONTAINERS entry '${entry}' is not <namespace>/<action>=<count>`);
    minimums[match[1]!] = Number(match[2]);
  }
  return minimums;
}

/** `21000-21999` → an inclusive port range. */
export function parsePortRange(name: string, spec: string): { first: number; last: number } {
  const match = /^(\d+)-(\d+)$/.exec(spec.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1 || last > 65535 || first > last)
    throw new Error(`${name} must be a port range like 21000-21999, got '${spec}'`);
  return { first, last };
}

/** `nodejs:20:256=2,nodejs:20:512=1` → stem-cell targets. */
export function parseStemCells(spec: string): GustConfig['pools']['stemCells'] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((entry) => {
    const match = /^(.+):(\d+)=(\d+)$/.exec(entry.trim());
    if (!match) throw new Error(`GUST_STEM_CELLS entry '${entry}' is not <kind>:<memoryMB>=<count>`);
    return { kind: match[1]!, memoryMB: Number(match[2]), count: Number(match[3]) };
  });
}

/** GUST_LOCAL_HOSTS (comma-separated host ids, or `none`); unset: the controller's default. */
function localHosts(): { localHosts?: string[] } {
  const raw = env('GUST_LOCAL_HOSTS', '');
  if (raw === '') return {};
  if (raw.trim() === 'none') return { localHosts: [] };
  return {
    localHosts: raw
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== ''),
  };
}

/** The agent endpoint of GUST_AGENT_ENDPOINT_*; none unless a port is set. */
function agentEndpoint(): { endpoint?: NonNullable<GustConfig['agent']['endpoint']> } {
  if (env('GUST_AGENT_ENDPOINT_PORT', '') === '') return {};
  const host = env('GUST_AGENT_ENDPOINT_HOST', '127.0.0.1');
  const port = int('GUST_AGENT_ENDPOINT_PORT', 0);
  const advertiseUrl = env('GUST_AGENT_ADVERTISE_URL', '');
  return { endpoint: { host, port, ...(advertiseUrl ? { advertiseUrl } : {}) } };
}

/** Throws when production mode is on with a setting that only development may use. */
export function assertProductionSafe(config: Pick<GustConfig, 'controller' | 'agent'>): void {
  if (config.controller.production && config.agent.backend === 'process') {
    throw new Error(
      'refusing to start in production (GUST_PRODUCTION=true) with GUST_BACKEND=process: it runs actions without any isolation',
    );
  }
  const derivesSecrets = config.agent.backend === 'mesos' || config.agent.backend === 'knative';
  if (config.controller.production && derivesSecrets && !config.agent.runtimeSecretKey) {
    throw new Error(
      `refusing to start in production (GUST_PRODUCTION=true) with GUST_BACKEND=${config.agent.backend} and no GUST_RUNTIME_SECRET_KEY: provisioners and controllers must share it`,
    );
  }
}

/**
 * Per-namespace throttles: OpenWhisk's production defaults, or generous ones for the embedded
 * all-in-one (`npm start`), so a developer's first load test is not a wall of 429s. Explicit
 * GUST_* settings win either way.
 */
export const THROTTLE_DEFAULTS = {
  production: { invocationsPerMinute: 60, concurrentInvocations: 30, firesPerMinute: 60 },
  embedded: { invocationsPerMinute: 60_000, concurrentInvocations: 1_000, firesPerMinute: 60_000 },
} as const;

export function loadConfig(options: { embedded?: boolean } = {}): GustConfig {
  const throttles = THROTTLE_DEFAULTS[options.embedded ? 'embedded' : 'production'];
  const stateDir = env('GUST_STATE_DIR', join(homedir(), '.local', 'state', 'gust'));
  return {
    stateDir,
    cacheDir: env('GUST_CACHE_DIR', join(homedir(), '.cache', 'gust')),
    controller: {
      id: env('GUST_CONTROLLER_ID', 'controller0'),
      host: env('GUST_HOST', '127.0.0.1'),
      port: int('GUST_PORT', 3233),
      production: env('GUST_PRODUCTION', 'false') === 'true',
      keyEncryptionKey: env('GUST_KEY_ENCRYPTION_KEY', ''),
      maxQueuePerAction: int('GUST_MAX_QUEUE_PER_ACTION', 1000),
      blockingWaitMs: int('GUST_BLOCKING_WAIT_MS', 60_000),
      requestTimeoutMs: int('GUST_REQUEST_TIMEOUT_MS', 30_000),
      shutdownGraceMs: int('GUST_SHUTDOWN_GRACE_MS', 30_000),
      maxConnections: int('GUST_MAX_CONNECTIONS', 10_000),
      provisionTimeoutMs: int('GUST_PROVISION_TIMEOUT_MS', 60_000),
      apiHost: env('GUST_API_HOST', `http://${env('GUST_HOST', '127.0.0.1')}:${int('GUST_PORT', 3233)}`),
      invocationsPerMinute: int('GUST_INVOCATIONS_PER_MINUTE', throttles.invocationsPerMinute),
      concurrentInvocations: int('GUST_CONCURRENT_INVOCATIONS', throttles.concurrentInvocations),
      firesPerMinute: int('GUST_FIRES_PER_MINUTE', throttles.firesPerMinute),
      throttleShareRefreshMs: int('GUST_THROTTLE_SHARE_REFRESH_MS', 5_000),
      entityCacheRefreshMs: int('GUST_ENTITY_CACHE_REFRESH_MS', 30_000),
      entityCacheMB: int('GUST_ENTITY_CACHE_MB', 256),
      authRevalidateMs: int('GUST_AUTH_REVALIDATE_MS', 60_000),
      ...localHosts(),
    },
    admin: { apiKey: env('GUST_ADMIN_API_KEY', '') },
    observability: {
      logLevel: oneOf('GUST_LOG_LEVEL', 'info', LOG_LEVELS),
      requestLog: env('GUST_REQUEST_LOG', 'true') === 'true',
      metrics: env('GUST_METRICS', 'true') === 'true',
      metricsHost: env('GUST_METRICS_HOST', '127.0.0.1'),
      provisionerMetricsPort: int('GUST_PROVISIONER_METRICS_PORT', 9464),
      agentMetricsPort: int('GUST_AGENT_METRICS_PORT', 9465),
      tracing: oneOf('GUST_OTEL', 'off', ['off', 'otlp', 'console', 'memory'] as const),
    },
    temporal: {
      address: env('GUST_TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: env('GUST_TEMPORAL_NAMESPACE', 'default'),
      uiPort: int('GUST_TEMPORAL_UI_PORT', 8233),
    },
    store: {
      kind: oneOf('GUST_STORE', 'sqlite', ['sqlite', 'cassandra'] as const),
      sqlitePath: env('GUST_SQLITE_PATH', join(stateDir, 'gust.sqlite')),
      cassandraContactPoints: env('GUST_CASSANDRA_CONTACT_POINTS', '127.0.0.1').split(','),
      cassandraKeyspace: env('GUST_CASSANDRA_KEYSPACE', 'gust'),
      activationTtlSeconds: int('GUST_ACTIVATION_TTL_SECONDS', 7 * 24 * 3600),
      cassandraPort: int('GUST_CASSANDRA_PORT', 9042),
      cassandraDataCenter: env('GUST_CASSANDRA_DATACENTER', 'datacenter1'),
      activationBatchSize: int('GUST_ACTIVATION_BATCH_SIZE', 100),
      activationHighWaterMark: int('GUST_ACTIVATION_HIGH_WATER_MARK', 10_000),
      activationFlushMs: int('GUST_ACTIVATION_FLUSH_MS', 50),
    },
    agent: {
      hostId: env('GUST_HOST_ID', 'host0'),
      backend: oneOf('GUST_BACKEND', 'docker', [
        'docker',
        'process',
        'mesos',
        'kubernetes',
        'knative',
      ] as const),
      dockerSocket: env('GUST_DOCKER_SOCKET', join(stateDir, 'docker', 'docker.sock')),
      runtimeDir: env('GUST_RUNTIME_DIR', join(stateDir, 'runtimes')),
      runtimeSecretKey: env('GUST_RUNTIME_SECRET_KEY', ''),
      capacityMB: int('GUST_HOST_CAPACITY_MB', 8192),
      maxConcurrentCreates: int('GUST_HOST_MAX_CREATES', DEFAULT_HOST_MAX_CREATES),
      createMaxCpu: share('GUST_HOST_CREATE_MAX_CPU', 0.8),
      createCpuWaitMs: int('GUST_HOST_CREATE_CPU_WAIT_MS', DEFAULT_CREATE_MAX_CPU_WAIT_MS),
      ...agentEndpoint(),
    },
    kubernetes: {
      // Inside a pod the service account's credentials; elsewhere the dev stack's kubeconfig.
      kubeconfig: env(
        'GUST_KUBECONFIG',
        process.env.KUBERNETES_SERVICE_HOST ? '' : join(stateDir, 'kubernetes', 'kubeconfig'),
      ),
      namespace: env('GUST_KUBE_NAMESPACE', 'gust-actions'),
      hostId: env('GUST_KUBE_HOST_ID', 'cluster.kubernetes'),
      network: oneOf('GUST_KUBE_NETWORK', 'host', ['pod', 'host'] as const),
      hostPorts: parsePortRange('GUST_KUBE_HOST_PORTS', env('GUST_KUBE_HOST_PORTS', '21000-21999')),
      imagePullPolicy: oneOf('GUST_KUBE_IMAGE_PULL_POLICY', 'Never', [
        'Never',
        'IfNotPresent',
        'Always',
      ] as const),
    },
    mesos: {
      masterUrl: env('GUST_MESOS_MASTER', 'http://127.0.0.1:5050'),
      frameworkName: env('GUST_MESOS_FRAMEWORK_NAME', 'gust'),
      user: env('GUST_MESOS_USER', 'root'),
      failoverTimeoutMs: int('GUST_MESOS_FAILOVER_TIMEOUT_MS', 7 * 24 * 3600_000),
    },
    // The cluster is the one of `kubernetes` (GUST_KUBECONFIG).
    knative: {
      namespace: env('GUST_KNATIVE_NAMESPACE', 'gust-actions'),
      gateway: env('GUST_KNATIVE_GATEWAY', 'http://127.0.0.1:8081'),
      imagePullPolicy: oneOf('GUST_KNATIVE_IMAGE_PULL_POLICY', 'Never', [
        'Never',
        'IfNotPresent',
        'Always',
      ] as const),
      readyTimeoutMs: int('GUST_KNATIVE_READY_TIMEOUT_MS', 120_000),
      coldStartAllowanceMs: int('GUST_KNATIVE_COLD_START_MS', 60_000),
      maxScale: int('GUST_KNATIVE_MAX_SCALE', 0),
    },
    pools: {
      stemCells: parseStemCells(env('GUST_STEM_CELLS', 'nodejs:20:256=2')),
      keepAliveMs: int('GUST_KEEP_ALIVE_MS', 10 * 60_000),
      minContainersPerAction: parseMinContainers(env('GUST_MIN_CONTAINERS', '')),
      namespaceMemoryQuotaMB: int('GUST_NAMESPACE_MEMORY_QUOTA_MB', 0),
      maxCreatingPerPool: positiveInt('GUST_POOL_MAX_CREATING', DEFAULT_MAX_CREATING),
      scaleDownIntervalMs: int('GUST_SCALE_DOWN_INTERVAL_MS', 10_000),
      reconcileIntervalMs: int('GUST_RECONCILE_INTERVAL_MS', 60_000),
      leaseTimeoutMs: int('GUST_LEASE_TIMEOUT_MS', 30_000),
      orphanGraceMs: int('GUST_ORPHAN_GRACE_MS', 60_000),
    },
  };
}

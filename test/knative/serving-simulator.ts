// ============================================================================================
// A SIMULATED Knative Serving, for tests and benchmarks only. NOT Knative.
// ============================================================================================
// Knative Serving's own controllers cannot run on these machines (they need an Envoy-based
// networking layer and images from registries), so this stands in for its controller, autoscaler,
// activator and ingress, on top of the REAL Kubernetes control plane (scripts/stack/kubernetes.sh)
// and the Knative Service CRD Gust's stack installs (deploy/knative/serving-crd.yaml):
//
// - reconciler: watches `services.serving.knative.dev` in one namespace; every spec generation is
//   a revision `<service>-<generation, 5 digits>`; each revision runs as pods on the real node
//   (host network: each pod's runtime on its own loopback port, given as PORT as Knative does);
//   writes Knative's status: url, address, latestCreated/latestReadyRevisionName, traffic (100% to
//   the latest ready revision), the conditions ConfigurationsReady/RoutesReady/Ready and
//   observedGeneration. A revision whose pod cannot start (image missing, crash) fails the
//   configuration; traffic stays where it was.
// - autoscaler: per revision, pods = ceil(concurrency / target) clamped to [min-scale, max-scale]
//   (annotations `autoscaling.knative.dev/min-scale`, `max-scale`, `target`, `initial-scale`,
//   `scale-to-zero-pod-retention-period`); target is containerConcurrency when set. Scales up at
//   once, down after a stable window; old revisions drain their in-flight requests, then go.
// - gateway (ingress + activator): an HTTP server on 127.0.0.1 that routes by Host to the
//   service's traffic revision, never gives a pod more than containerConcurrency requests at once,
//   and buffers requests while a revision has no free pod (scale from zero); a request that waits
//   longer than `bufferTimeoutMs` gets 503, one that runs longer than timeoutSeconds gets 504.
//
// Only the public Knative API is shared with Gust: Gust's backend cannot tell this from Knative.
import { randomBytes } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../common/logger';

export const SERVING = { group: 'serving.knative.dev', version: 'v1', plural: 'services' } as const;
const LABEL = {
  service: 'serving.knative.dev/service',
  configuration: 'serving.knative.dev/configuration',
  revision: 'serving.knative.dev/revision',
} as const;
const AUTOSCALING = 'autoscaling.knative.dev/';
const IMAGE_MISSING = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);
const CANNOT_RUN = new Set([
  'CreateContainerError',
  'RunContainerError',
  'CreateContainerConfigError',
  'CrashLoopBackOff',
]);

export interface KnativeServingSimulatorOptions {
  kubeconfig: string;
  namespace: string;
  /** Services are `http://<name>.<namespace>.<domain>`. @default 'example.com' */
  domain?: string;
  /** Loopback ports the pods' runtimes get (inclusive). @default 23000–23999 */
  ports?: { first: number; last: number };
  /** The gateway's port on 127.0.0.1. @default 0 (any free port) */
  gatewayPort?: number;
  /** How long concurrency must stay lower before pods are removed. @default 6000 */
  stableWindowMs?: number;
  /** How long a request may wait for a pod before 503. @default 120000 */
  bufferTimeoutMs?: number;
  /** Where reconcile failures go. @default a pino logger at `warn` */
  log?: Logger;
}

interface KService {
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    uid?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: {
        containers?: V1Container[];
        containerConcurrency?: number;
        timeoutSeconds?: number;
        volumes?: unknown[];
      };
    };
  };
  status?: Record<string, unknown>;
}

interface PodState {
  name: string;
  port: number;
  ready: boolean;
  inFlight: number;
  failure?: string;
  deleting: boolean;
}

interface Waiter {
  dispatch: (pod: PodState) => void;
  /** The revision went away or failed while the request waited. */
  fail: (status: number, text: string) => void;
}

interface Revision {
  name: string;
  service: string;
  generation: number;
  template: NonNullable<NonNullable<KService['spec']>['template']>;
  containerConcurrency: number;
  timeoutSeconds: number;
  minScale: number;
  maxScale: number;
  target: number;
  retentionMs: number;
  desired: number;
  pods: Map<string, PodState>;
  waiters: Waiter[];
  everReady: boolean;
  failure?: string;
  /** When concurrency last needed more pods than `desired - 1` (for the stable window). */
  lastBusy: number;
}

interface ServiceState {
  name: string;
  generation: number;
  revisions: Map<string, Revision>;
  latest?: string;
  serving?: string;
  lastStatus: string;
}

const pad = (n: number): string => String(n).padStart(5, '0');

/** `30s`, `1m`, `500ms`, `2h` → ms (Knative's durations). */
export function parseDuration(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return fallback;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function annotationNumber(annotations: Record<string, string>, key: string, fallback: number): number {
  const value = Number(annotations[AUTOSCALING + key]);
  return Number.isFinite(value) && annotations[AUTOSCALING + key] !== undefined ? value : fallback;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export class KnativeServingSimulator {
  readonly #options: Required<Omit<KnativeServingSimulatorOptions, 'gatewayPort' | 'log'>> & {
    gatewayPort: number;
  };
  readonly #log: Logger;
  readonly #config = new KubeConfig();
  readonly #core: CoreV1Api;
  readonly #objects: CustomObjectsApi;
  readonly #services = new Map<string, ServiceState>();
  readonly #specs = new Map<string, KService>();
  readonly #ports = new Set<number>();
  readonly #watches: AbortController[] = [];
  #gateway: Server | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> = Promise.resolve();
  #again = false;
  #stopped = false;
  /** Requests the gateway proxied, by revision (tests read them). */
  readonly served = new Map<string, number>();

  constructor(options: KnativeServingSimulatorOptions) {
    this.#options = {
      domain: 'example.com',
      ports: { first: 23000, last: 23999 },
      stableWindowMs: 6000,
      bufferTimeoutMs: 120_000,
      gatewayPort: 0,
      ...options,
    };
    this.#log = options.log ?? createLogger();
    this.#config.loadFromFile(options.kubeconfig);
    this.#core = this.#config.makeApiClient(CoreV1Api);
    this.#objects = this.#config.makeApiClient(CustomObjectsApi);
  }

  /** `http://127.0.0.1:<port>`: where clients send requests with the service's host in `Host`. */
  get gatewayUrl(): string {
    const address = this.#gateway?.address() as AddressInfo | undefined;
    if (!address) throw new Error('the simulator is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.#gateway = createServer((req, res) => this.#route(req, res));
    this.#gateway.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) =>
      this.#gateway!.listen(this.#options.gatewayPort, '127.0.0.1', resolve),
    );
    const { namespace } = this.#options;
    const list = (await whileWarmingUp(() =>
      this.#objects.listNamespacedCustomObject({ ...SERVING, namespace }),
    )) as {
      items: KService[];
      metadata: { resourceVersion: string };
    };
    for (const item of list.items) this.#specs.set(item.metadata.name, item);
    // Pods a previous simulator left: not ours to track, delete them.
    const stale = await this.#core.listNamespacedPod({ namespace, labelSelector: LABEL.service });
    for (const pod of stale.items) await this.#deletePod(pod.metadata!.name!);
    this.#watchServices(list.metadata.resourceVersion);
    this.#watchPods();
    this.#timer = setInterval(() => this.kick(), 500);
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const watch of this.#watches) watch.abort();
    await this.#reconciling;
    await new Promise<void>((resolve) => {
      this.#gateway?.close(() => resolve());
      this.#gateway?.closeAllConnections();
    });
    for (const service of this.#services.values())
      for (const revision of service.revisions.values())
        for (const pod of revision.pods.values()) await this.#deletePod(pod.name);
  }

  // ---- watches ----

  #watchServices(resourceVersion: string): void {
    const path = `/apis/${SERVING.group}/${SERVING.version}/namespaces/${this.#options.namespace}/${SERVING.plural}`;
    let version = resourceVersion;
    const open = (): void => {
      if (this.#stopped) return;
      void new Watch(this.#config)
        .watch(
          path,
          { resourceVersion: version, allowWatchBookmarks: true },
          (phase, object: KService) => {
            version = (object.metadata as { resourceVersion?: string }).resourceVersion ?? version;
            if (phase === 'BOOKMARK') return;
            if (phase === 'DELETED') this.#specs.delete(object.metadata.name);
            else if (phase === 'ADDED' || phase === 'MODIFIED') this.#specs.set(object.metadata.name, object);
            this.kick();
          },
          () => setTimeout(() => void this.#relistServices().then(open, open), 500),
        )
        .then(
          (abort) => this.#watches.push(abort),
          () => setTimeout(open, 1000),
        );
    };
    open();
  }

  async #relistServices(): Promise<void> {
    if (this.#stopped) return;
    const list = (await this.#objects.listNamespacedCustomObject({
      ...SERVING,
      namespace: this.#options.namespace,
    })) as {
      items: KService[];
    };
    this.#specs.clear();
    for (const item of list.items) this.#specs.set(item.metadata.name, item);
    this.kick();
  }

  #watchPods(): void {
    const path = `/api/v1/namespaces/${this.#options.namespace}/pods`;
    const open = (): void => {
      if (this.#stopped) return;
      void new Watch(this.#config)
        .watch(
          path,
          { labelSelector: LABEL.service },
          (phase, pod: V1Pod) => this.#onPod(phase, pod),
          () => setTimeout(open, 500),
        )
        .then(
          (abort) => this.#watches.push(abort),
          () => setTimeout(open, 1000),
        );
    };
    open();
  }

  #onPod(phase: string, pod: V1Pod): void {
    const labels = pod.metadata?.labels ?? {};
    const revision = this.#services
      .get(labels[LABEL.service] ?? '')
      ?.revisions.get(labels[LABEL.revision] ?? '');
    const state = revision?.pods.get(pod.metadata?.name ?? '');
    if (!revision || !state) return;
    if (phase === 'DELETED') {
      revision.pods.delete(state.name);
      this.#ports.delete(state.port);
      this.kick();
      return;
    }
    const status = pod.status?.containerStatuses?.[0];
    const waiting = status?.state?.waiting;
    const wasReady = state.ready;
    state.ready =
      !state.deleting &&
      pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    if (waiting?.reason && (IMAGE_MISSING.has(waiting.reason) || CANNOT_RUN.has(waiting.reason))) {
      state.failure = `${waiting.reason}: ${waiting.message ?? ''}`.trim();
    } else if (status?.lastState?.terminated && !state.ready && (status.restartCount ?? 0) >= 2) {
      const t = status.lastState.terminated;
      state.failure = `container exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
    }
    if (state.ready) {
      // The stable window starts once the revision has served its initial scale.
      if (!revision.everReady) revision.lastBusy = Date.now();
      revision.everReady = true;
      if (!wasReady) this.#drain(revision);
    }
    this.kick();
  }

  // ---- reconciler ----

  /** Reconciles soon (coalesced). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#again) return;
    this.#again = true;
    this.#reconciling = this.#reconciling.then(async () => {
      this.#again = false;
      try {
        await this.#reconcileAll();
      } catch (error) {
        if (!this.#stopped) this.#log.warn({ err: error }, 'knative simulator: reconcile failed');
      }
    });
  }

  async #reconcileAll(): Promise<void> {
    for (const [name, spec] of this.#specs) {
      let service = this.#services.get(name);
      if (!service) {
        service = { name, generation: 0, revisions: new Map(), lastStatus: '' };
        this.#services.set(name, service);
      }
      await this.#reconcile(service, spec);
    }
    for (const [name, service] of this.#services) {
      if (this.#specs.has(name)) continue;
      // Deleted: every revision goes (Knative's owner references would garbage-collect them).
      for (const revision of service.revisions.values()) {
        for (const waiter of revision.waiters.splice(0)) waiter.fail(404, `service ${name} was deleted`);
        for (const pod of revision.pods.values()) await this.#deletePod(pod.name, pod);
      }
      if ([...service.revisions.values()].every((r) => r.pods.size === 0)) this.#services.delete(name);
    }
  }

  async #reconcile(service: ServiceState, spec: KService): Promise<void> {
    const generation = spec.metadata.generation ?? 1;
    if (generation !== service.generation) {
      service.generation = generation;
      const name = `${service.name}-${pad(generation)}`;
      if (!service.revisions.has(name))
        service.revisions.set(name, this.#newRevision(service.name, name, generation, spec));
      service.latest = name;
    }
    const now = Date.now();
    for (const revision of service.revisions.values()) {
      const failed = [...revision.pods.values()].find((p) => p.failure)?.failure;
      if (failed && !revision.everReady) revision.failure = failed;
      if (revision.name === service.latest && revision.everReady && service.serving !== revision.name) {
        service.serving = revision.name;
      }
      const inTraffic =
        revision.name === service.serving || (revision.name === service.latest && !revision.failure);
      await this.#scale(revision, inTraffic, now);
    }
    // Revisions out of traffic with no pod left are gone (Knative would keep them; we only need the live ones).
    for (const [name, revision] of service.revisions) {
      if (name !== service.latest && name !== service.serving && revision.pods.size === 0)
        service.revisions.delete(name);
    }
    await this.#writeStatus(service, spec);
  }

  #newRevision(serviceName: string, name: string, generation: number, spec: KService): Revision {
    const template = spec.spec?.template ?? {};
    const annotations = template.metadata?.annotations ?? {};
    const containerConcurrency = template.spec?.containerConcurrency ?? 0;
    const minScale = annotationNumber(annotations, 'min-scale', 0);
    const initial = Math.max(minScale, annotationNumber(annotations, 'initial-scale', 1));
    return {
      name,
      service: serviceName,
      generation,
      template,
      containerConcurrency,
      timeoutSeconds: template.spec?.timeoutSeconds ?? 300,
      minScale,
      maxScale: annotationNumber(annotations, 'max-scale', 0) || Infinity,
      target: containerConcurrency > 0 ? containerConcurrency : annotationNumber(annotations, 'target', 100),
      retentionMs: parseDuration(annotations[AUTOSCALING + 'scale-to-zero-pod-retention-period'], 0),
      desired: initial,
      pods: new Map(),
      waiters: [],
      everReady: false,
      lastBusy: Date.now(),
    };
  }

  /** The autoscaler's decision for one revision, then pods created or deleted to match. */
  async #scale(revision: Revision, inTraffic: boolean, now: number): Promise<void> {
    const live = [...revision.pods.values()].filter((p) => !p.deleting);
    const concurrency = live.reduce((sum, p) => sum + p.inFlight, 0) + revision.waiters.length;
    if (!inTraffic) {
      // Drains: pods go once they have nothing in flight.
      for (const pod of live) if (pod.inFlight === 0) await this.#deletePod(pod.name, pod);
      return;
    }
    if (revision.failure) {
      for (const pod of live) await this.#deletePod(pod.name, pod);
      for (const waiter of revision.waiters.splice(0))
        waiter.fail(503, `revision ${revision.name} failed: ${revision.failure}`);
      return;
    }
    const wanted = Math.min(
      revision.maxScale,
      Math.max(revision.minScale, Math.ceil(concurrency / revision.target)),
    );
    if (wanted >= revision.desired) {
      if (wanted > revision.desired || concurrency > 0) revision.lastBusy = now;
      revision.desired = Math.max(revision.desired, wanted);
    } else if (revision.everReady) {
      // Knative keeps a new revision's initial scale until it is ready.
      const quietFor = now - revision.lastBusy;
      const toZero = wanted === 0 ? revision.retentionMs : 0;
      if (quietFor >= this.#options.stableWindowMs + toZero) {
        revision.desired = wanted;
        revision.lastBusy = now;
      }
    }
    // Pods that failed after having served are replaced (Knative's Deployment would restart them).
    for (const pod of live) if (pod.failure && revision.everReady) await this.#deletePod(pod.name, pod);
    const current = [...revision.pods.values()].filter((p) => !p.deleting);
    for (let i = current.length; i < revision.desired; i++) await this.#createPod(revision);
    if (current.length > revision.desired) {
      const idle = current.filter((p) => p.inFlight === 0).slice(0, current.length - revision.desired);
      for (const pod of idle) await this.#deletePod(pod.name, pod);
    }
  }

  async #allocatePort(): Promise<number> {
    const { first, last } = this.#options.ports;
    const size = last - first + 1;
    const start = randomBytes(4).readUInt32BE(0) % size;
    for (let i = 0; i < size; i++) {
      const port = first + ((start + i) % size);
      if (this.#ports.has(port)) continue;
      if (await portFree(port)) {
        this.#ports.add(port);
        return port;
      }
    }
    throw new Error(`no free port in ${first}-${last}`);
  }

  async #createPod(revision: Revision): Promise<void> {
    const port = await this.#allocatePort();
    const name = `${revision.name}-deployment-${randomBytes(4).toString('hex')}`;
    const template = revision.template;
    const container = template.spec?.containers?.[0] ?? { name: 'user-container' };
    const env = [
      ...(container.env ?? []).filter((e) => e.name !== 'PORT' && e.name !== '__OW_HOST'),
      { name: 'PORT', value: String(port) },
      // Host network on loopback: the runtime must not listen on the machine's other interfaces.
      { name: '__OW_HOST', value: '127.0.0.1' },
      { name: 'K_SERVICE', value: revision.service },
      { name: 'K_REVISION', value: revision.name },
      { name: 'K_CONFIGURATION', value: revision.service },
    ];
    const pod: V1Pod = {
      metadata: {
        name,
        namespace: this.#options.namespace,
        labels: {
          ...template.metadata?.labels,
          [LABEL.service]: revision.service,
          [LABEL.configuration]: revision.service,
          [LABEL.revision]: revision.name,
          app: revision.name,
        },
        annotations: { ...template.metadata?.annotations, 'simulator.gust.io/port': String(port) },
      },
      spec: {
        hostNetwork: true,
        dnsPolicy: 'Default',
        restartPolicy: 'Always',
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 1,
        volumes: template.spec?.volumes as V1Pod['spec'] extends { volumes?: infer V } ? V : never,
        containers: [
          {
            ...container,
            name: container.name || 'user-container',
            env,
            ports: [{ name: 'http1', containerPort: port, protocol: 'TCP' }],
            readinessProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      },
    };
    revision.pods.set(name, { name, port, ready: false, inFlight: 0, deleting: false });
    try {
      await this.#core.createNamespacedPod({ namespace: this.#options.namespace, body: pod });
    } catch (error) {
      revision.pods.delete(name);
      this.#ports.delete(port);
      revision.failure = `cannot create pod: ${(error as Error).message}`;
    }
  }

  async #deletePod(name: string, state?: PodState): Promise<void> {
    if (state) {
      if (state.deleting) return;
      state.deleting = true;
      state.ready = false;
    }
    try {
      await this.#core.deleteNamespacedPod({
        name,
        namespace: this.#options.namespace,
        gracePeriodSeconds: 0,
      });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
    }
  }

  /** Knative's status, written only when it changed. */
  async #writeStatus(service: ServiceState, spec: KService): Promise<void> {
    const { name } = service;
    const namespace = this.#options.namespace;
    const latest = service.latest ? service.revisions.get(service.latest) : undefined;
    const now = new Date().toISOString();
    const condition = (type: string, ok: boolean | 'Unknown', reason?: string, message?: string) => ({
      type,
      status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      lastTransitionTime: now,
    });
    const configurationReady: ReturnType<typeof condition> =
      latest?.failure !== undefined
        ? condition(
            'ConfigurationsReady',
            false,
            'RevisionFailed',
            `Revision "${latest.name}" failed with message: ${latest.failure}.`,
          )
        : latest?.everReady
          ? condition('ConfigurationsReady', true)
          : condition(
              'ConfigurationsReady',
              'Unknown',
              'RevisionMissing',
              `Configuration "${name}" is waiting for a Revision to become ready.`,
            );
    const routesReady = service.serving
      ? condition('RoutesReady', true)
      : condition(
          'RoutesReady',
          'Unknown',
          'RevisionMissing',
          `Configuration "${name}" does not have any ready Revision.`,
        );
    const ready =
      configurationReady.status === 'True' && routesReady.status === 'True'
        ? condition('Ready', true)
        : configurationReady.status === 'False'
          ? condition('Ready', false, configurationReady.reason, configurationReady.message)
          : condition(
              'Ready',
              'Unknown',
              routesReady.reason ?? configurationReady.reason,
              routesReady.message,
            );
    const url = `http://${name}.${namespace}.${this.#options.domain}`;
    const status = {
      observedGeneration: service.generation,
      url,
      address: { url: `http://${name}.${namespace}.svc.cluster.local` },
      latestCreatedRevisionName: service.latest,
      ...(service.serving ? { latestReadyRevisionName: service.serving } : {}),
      traffic: service.serving ? [{ revisionName: service.serving, latestRevision: true, percent: 100 }] : [],
      conditions: [configurationReady, ready, routesReady],
    };
    // Compare without the transition times, so an unchanged status is not rewritten every tick.
    const key = JSON.stringify(status, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
    if (key === service.lastStatus && spec.status?.observedGeneration === service.generation) return;
    try {
      await this.#objects.patchNamespacedCustomObjectStatus(
        { ...SERVING, namespace, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      service.lastStatus = key;
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
    }
  }

  // ---- gateway ----

  #serviceForHost(host: string): ServiceState | undefined {
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const suffix = `.${this.#options.namespace}.${this.#options.domain}`;
    if (!hostname.endsWith(suffix)) return undefined;
    return this.#services.get(hostname.slice(0, -suffix.length));
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const service = this.#serviceForHost(req.headers.host ?? '');
    const revision = service?.serving
      ? service.revisions.get(service.serving)
      : service?.latest
        ? service.revisions.get(service.latest)
        : undefined;
    if (!service || !revision || revision.failure) {
      req.resume();
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`no ready service for host ${req.headers.host ?? ''}\n`);
      return;
    }
    const pod = this.#freePod(revision);
    if (pod) {
      this.#proxy(revision, pod, req, res);
      return;
    }
    // The activator's job: hold the request until a pod of the revision has room.
    let done = false;
    const waiter: Waiter = {
      dispatch: (p) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#proxy(revision, p, req, res);
      },
      fail: (status, text) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.resume();
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
      },
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      revision.waiters.splice(revision.waiters.indexOf(waiter), 1);
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end('activator: no pod became available in time\n');
    }, this.#options.bufferTimeoutMs);
    res.once('close', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const index = revision.waiters.indexOf(waiter);
      if (index >= 0) revision.waiters.splice(index, 1);
    });
    revision.waiters.push(waiter);
    this.kick();
  }

  #freePod(revision: Revision): PodState | undefined {
    let best: PodState | undefined;
    for (const pod of revision.pods.values()) {
      if (!pod.ready || pod.deleting) continue;
      if (revision.containerConcurrency > 0 && pod.inFlight >= revision.containerConcurrency) continue;
      if (!best || pod.inFlight < best.inFlight) best = pod;
    }
    return best;
  }

  /** Hands waiting requests to pods with room. */
  #drain(revision: Revision): void {
    while (revision.waiters.length > 0) {
      const pod = this.#freePod(revision);
      if (!pod) return;
      revision.waiters.shift()!.dispatch(pod);
    }
  }

  #proxy(revision: Revision, pod: PodState, req: IncomingMessage, res: ServerResponse): void {
    pod.inFlight++;
    this.served.set(revision.name, (this.served.get(revision.name) ?? 0) + 1);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      pod.inFlight--;
      this.#drain(revision);
      this.kick();
    };
    const upstream = httpRequest(
      { host: '127.0.0.1', port: pod.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', finish);
        answer.once('error', finish);
      },
    );
    // The revision's timeoutSeconds, counted from when the request reaches the pod (queue-proxy).
    const timer = setTimeout(() => {
      upstream.destroy();
      if (!res.headersSent) res.writeHead(504, { 'content-type': 'text/plain' }).end('request timeout\n');
      finish();
    }, revision.timeoutSeconds * 1000);
    upstream.once('error', () => {
      if (!res.headersSent)
        res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream connection error\n');
      else res.destroy();
      finish();
    });
    res.once('close', () => {
      if (!finished) upstream.destroy();
      finish();
    });
    req.pipe(upstream);
  }
}

/**
 * Retries while the apiserver answers 429 (it does so, with Retry-After, while it builds a
 * resource's watch cache), as Kubernetes' own clients do; any other error is thrown.
 */
async function whileWarmingUp<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: number }).code !== 429 || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

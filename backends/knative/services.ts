// Knative Services through the Kubernetes API (@kubernetes/client-node): apply one per action,
// wait until it is Ready for the generation Gust wrote, delete it. Only the public Knative API
// (serving.knative.dev/v1 Services) and ConfigMaps for large code: Knative makes the revisions,
// pods, routes and scaling.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { LABELS, actionPath, actionRevision } from '../../common/names';
import type { Action } from '../../common/types';
import { answerOrThrow } from '../backend';
import { httpStatus, kubernetesApiNamed } from '../kubernetes/api-errors';
import {
  ANNOTATIONS,
  SERVING,
  buildCodeConfigMap,
  buildService,
  needsCodeConfigMap,
  readiness,
  serviceName,
  type KnativeService,
  type Readiness,
  type ServiceOptions,
} from './service-spec';

export interface KnativeServicesOptions {
  /** A kubeconfig file; '' for the in-cluster service account. */
  kubeconfig: string;
  namespace: string;
}

/** A Service as Gust applied it: the generation whose readiness to wait for. */
export interface AppliedService {
  name: string;
  generation: number;
  version: string;
}

const POLL_MS = 250;

export class KnativeServiceNotReady extends Error {
  readonly code = 'GUST_ERR_KNATIVE_NOT_READY';
  /** True when Knative reported the revision failed (not merely slow). */
  readonly failed: boolean;
  constructor(message: string, failed: boolean) {
    super(message);
    this.name = 'KnativeServiceNotReady';
    this.failed = failed;
  }
}

export class KnativeServices {
  readonly #namespace: string;
  readonly #objects: CustomObjectsApi;
  readonly #core: CoreV1Api;

  constructor(options: KnativeServicesOptions) {
    const config = new KubeConfig();
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromCluster();
    this.#namespace = options.namespace;
    this.#objects = config.makeApiClient(CustomObjectsApi);
    this.#core = config.makeApiClient(CoreV1Api);
  }

  get namespace(): string {
    return this.#namespace;
  }

  async get(name: string): Promise<KnativeService | undefined> {
    try {
      return (await this.#objects.getNamespacedCustomObject({
        ...SERVING,
        namespace: this.#namespace,
        name,
      })) as KnativeService;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Creates the action's Service, or rolls it to this revision of the action (a new Knative
   * revision). Idempotent: a Service that already carries this revision is left as it is.
   */
  async apply(action: Action, options: Omit<ServiceOptions, 'namespace'>): Promise<AppliedService> {
    const body = buildService(action, { ...options, namespace: this.#namespace });
    const revision = actionRevision(action);
    const name = body.metadata.name;
    if (needsCodeConfigMap(action)) {
      try {
        await this.#core.createNamespacedConfigMap({
          namespace: this.#namespace,
          body: buildCodeConfigMap(action, this.#namespace, options.invoker),
        });
      } catch (err) {
        if (httpStatus(err) !== 409) throw err; // made by an earlier attempt: same revision, same code
      }
    }
    for (;;) {
      const existing = await this.get(name);
      try {
        if (existing === undefined) {
          const created = (await this.#objects.createNamespacedCustomObject({
            ...SERVING,
            namespace: this.#namespace,
            body,
          })) as KnativeService;
          return { name, generation: created.metadata.generation ?? 1, version: revision };
        }
        if (existing.metadata.annotations?.[ANNOTATIONS.version] === revision) {
          return { name, generation: existing.metadata.generation ?? 1, version: revision };
        }
        const replaced = (await this.#objects.replaceNamespacedCustomObject({
          ...SERVING,
          namespace: this.#namespace,
          name,
          body: {
            ...body,
            metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion },
          },
        })) as KnativeService;
        return { name, generation: replaced.metadata.generation ?? 1, version: revision };
      } catch (err) {
        if (httpStatus(err) === 409) continue; // raced another writer: read again
        throw err;
      }
    }
  }

  /**
   * Waits until the Service is Ready with `generation` observed and its latest revision serving.
   * Throws KnativeServiceNotReady when Knative reports the revision failed, or after `timeoutMs`
   * with the Service's last conditions.
   */
  async waitReady(
    applied: AppliedService,
    options: { timeoutMs: number; signal?: AbortSignal; onPoll?: () => void },
  ): Promise<Extract<Readiness, { state: 'ready' }>> {
    const deadline = Date.now() + options.timeoutMs;
    let last = 'not created';
    for (;;) {
      options.signal?.throwIfAborted();
      options.onPoll?.();
      const service = await this.get(applied.name);
      if (service === undefined)
        throw new KnativeServiceNotReady(`Knative Service ${applied.name} does not exist`, true);
      const now = readiness(service, applied.generation);
      if (now.state === 'ready') return now;
      if (now.state === 'failed') {
        throw new KnativeServiceNotReady(`Knative Service ${applied.name} failed: ${now.message}`, true);
      }
      last = now.message;
      if (Date.now() >= deadline) {
        throw new KnativeServiceNotReady(
          `Knative Service ${applied.name} was not Ready within ${options.timeoutMs} ms (${last})`,
          false,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /**
   * Deletes the Service of the action's runs by `invoker` (absent: by its own namespace) and its
   * code ConfigMaps; deleting what is gone succeeds.
   */
  async delete(namespace: string, action: string, invoker?: string): Promise<void> {
    await this.#delete(serviceName(namespace, action, invoker));
  }

  /** The action was deleted: every Service of it goes, its own and those of other namespaces' runs (audit L9). */
  async deleteAllOf(namespace: string, action: string): Promise<void> {
    const path = actionPath({ namespace, name: action });
    const names = new Set([serviceName(namespace, action)]);
    for (const service of await this.list())
      if (service.metadata.annotations?.[ANNOTATIONS.action] === path) names.add(service.metadata.name);
    for (const name of names) await this.#delete(name);
  }

  async #delete(name: string): Promise<void> {
    try {
      await this.#objects.deleteNamespacedCustomObject({ ...SERVING, namespace: this.#namespace, name });
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
    const maps = await this.#core.listNamespacedConfigMap({
      namespace: this.#namespace,
      labelSelector: `${LABELS.managed}=true,io.gust.service=${name}`,
    });
    for (const map of maps.items) {
      try {
        await this.#core.deleteNamespacedConfigMap({ namespace: this.#namespace, name: map.metadata!.name! });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
      }
    }
  }

  /** Gust's Services in the namespace. */
  async list(): Promise<KnativeService[]> {
    const list = (await this.#objects.listNamespacedCustomObject({
      ...SERVING,
      namespace: this.#namespace,
      labelSelector: `${LABELS.managed}=true`,
    })) as { items: KnativeService[] };
    return list.items;
  }

  /** Throws with a clear message when the Knative Service API is not there. */
  health(): Promise<void> {
    const kubernetesApi = kubernetesApiNamed(`the Kubernetes API for Knative Services in ${this.#namespace}`);
    return answerOrThrow(
      (err) =>
        httpStatus(err) === 404
          ? `the Knative Serving API (${SERVING.group}/${SERVING.version} services; not installed? npm run stack -- start knative)`
          : kubernetesApi(err),
      () => this.#objects.listNamespacedCustomObject({ ...SERVING, namespace: this.#namespace, limit: 1 }),
    );
  }
}

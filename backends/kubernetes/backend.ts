// The kubernetes backend: one Pod per Gust container through the Kubernetes API. The Kubernetes
// scheduler places pods (no agent: the provisioner runs the create and destroy activities); a
// watch on Gust's pods tells readiness, failures, OOM kills and deletions; logs come through
// `pods/log`. Runs in every process that needs it (provisioner for the lifecycle, controllers for
// logs and state), each with its own watch.
import { createHash, randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../common/names';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import {
  answerOrThrow,
  type ActivationLogReader,
  type ContainerBackend,
  type ContainerEvent,
  type ContainerState,
} from '../backend';
import { httpStatus, kubernetesApiNamed } from './api-errors';
import { CONTAINER_MESSAGES, ContainerStartError, provisionFailure } from '../container-errors';
import { waitForHttp } from '../wait-for-http';
import { followPodLogs } from './pod-logs';
import { PodWatch } from './pod-watch';
import {
  RUNTIME_CONTAINER,
  SECRET_CONTAINER,
  buildPod,
  containerInfoFromPod,
  labelSelector,
  matchesLabels,
  podAddress,
  podName,
  podPort,
  runtimeSecretOf,
  type NetworkMode,
} from './spec';

export interface KubernetesBackendOptions {
  /** The id Gust's placement knows this cluster by (label io.gust.host of every pod). */
  hostId: string;
  /** A kubeconfig file; '' for the in-cluster service account. */
  kubeconfig: string;
  /** Namespace of the action pods. */
  namespace: string;
  network: NetworkMode;
  /** Host network: the ports Gust assigns to pods, inclusive. */
  hostPorts?: { first: number; last: number };
  /** @default 'Never' (images are loaded onto the node; no registry) */
  imagePullPolicy?: 'Never' | 'IfNotPresent' | 'Always';
  /** Grace period of a pod's deletion. @default 1 */
  terminationGraceSeconds?: number;
  /** How long a pod may take from create to an answering runtime (under the create activity's 60 s). @default 45000 */
  readyTimeoutMs?: number;
}

/** Reasons a container waits with, meaning its image cannot be had. */
const IMAGE_MISSING = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);
const CANNOT_RUN = new Set(['CreateContainerError', 'RunContainerError', 'CreateContainerConfigError']);
const NOT_EXECUTABLE = /executable file not found|no such file or directory|permission denied/i;
/** The least `state` waits for a container's end to be reported (see there). */
const MIN_EXIT_WAIT_MS = 5000;
/** Exit code of a container whose command could not be found (OpenWhisk: a developer error). */
const EXIT_COMMAND_NOT_FOUND = 127;

/** The scheduler found no node with the pod's host port free: try another port. */
class PortTaken extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`host port ${port} is taken on every node`);
    this.port = port;
  }
}

function runtimeStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === RUNTIME_CONTAINER);
}

/**
 * The status that tells how the pod is starting: the secret's init container while it waits or
 * failed (its image is the action's), else the runtime's.
 */
function startingStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const init = pod.status?.initContainerStatuses?.find((s) => s.name === SECRET_CONTAINER);
  const initFailed = init?.state?.terminated !== undefined && init.state.terminated.exitCode !== 0;
  return init?.state?.waiting || initFailed ? init : runtimeStatus(pod);
}

function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

export class KubernetesBackend implements ContainerBackend {
  readonly name = 'kubernetes';
  readonly #options: Required<Omit<KubernetesBackendOptions, 'hostPorts'>> &
    Pick<KubernetesBackendOptions, 'hostPorts'>;
  readonly #config: KubeConfig;
  readonly #api: CoreV1Api;
  readonly #watch: PodWatch;
  /** Host ports handed out by this process whose pods the watch has not shown yet. */
  readonly #reservedPorts = new Map<number, string>();
  readonly #listeners = new Set<(event: ContainerEvent) => void>();
  /** Pods (by uid) whose end was already reported. */
  readonly #reportedExits = new Set<string>();
  readonly #readers = new Set<ActivationLogReader>();
  #watching: Promise<void> | undefined = undefined;

  constructor(options: KubernetesBackendOptions) {
    if (!options.hostId) throw new Error('KubernetesBackend: hostId is required');
    if (!options.namespace) throw new Error('KubernetesBackend: namespace is required');
    if (options.network === 'host' && !options.hostPorts)
      throw new Error('KubernetesBackend: the host network needs a range of hostPorts');
    this.#options = {
      imagePullPolicy: 'Never',
      terminationGraceSeconds: 1,
      readyTimeoutMs: 45_000,
      ...options,
    };
    this.#config = new KubeConfig();
    if (options.kubeconfig) this.#config.loadFromFile(options.kubeconfig);
    else this.#config.loadFromCluster();
    this.#api = this.#config.makeApiClient(CoreV1Api);
    // Every Gust pod of the namespace: host ports are shared by all of them on a node.
    this.#watch = new PodWatch({
      config: this.#config,
      api: this.#api,
      namespace: options.namespace,
      labelSelector: `${LABELS.managed}=true`,
    });
    this.#watch.onChange((change, pod) => this.#onPodChange(change, pod));
  }

  /** Watch statistics (watches opened, lists taken, 410s seen), for tests. */
  get watchStats(): Readonly<PodWatch['stats']> {
    return this.#watch.stats;
  }

  #watchStarted(): Promise<void> {
    this.#watching ??= this.#watch.start().catch((err: unknown) => {
      this.#watching = undefined;
      throw err;
    });
    return this.#watching;
  }

  /**
   * Creates the pod (or finds the one a previous attempt made), waits for its runtime to answer.
   * A pod that failed is replaced; a pod that does not come up is deleted before this throws.
   */
  async create(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    const { signal } = options;
    const name = podName(spec.name);
    const avoid = new Set<number>();
    try {
      await this.#watchStarted();
      for (let attempt = 1; ; attempt++) {
        let pod = await this.#readPod(name);
        if (pod && (pod.metadata?.deletionTimestamp || isFinished(pod))) {
          await this.#deletePod(name, 0);
          await this.#waitGone(name, 30_000);
          pod = undefined;
        }
        if (pod === undefined) {
          const port = this.#options.network === 'host' ? this.#allocatePort(name, avoid) : undefined;
          try {
            const body = buildPod(spec, this.#options.hostId, {
              namespace: this.#options.namespace,
              network: this.#options.network,
              port,
              imagePullPolicy: this.#options.imagePullPolicy,
              terminationGraceSeconds: this.#options.terminationGraceSeconds,
              secret: (spec.socketRuntime ?? true) ? randomBytes(32).toString('base64url') : undefined,
            });
            pod = await this.#api.createNamespacedPod({ namespace: this.#options.namespace, body });
          } catch (err) {
            if (port !== undefined) this.#reservedPorts.delete(port);
            if (httpStatus(err) === 409) continue; // a concurrent create won: use its pod
            throw err;
          }
        }
        try {
          return await this.#waitServing(name, spec, signal);
        } catch (err) {
          await this.#deletePod(name, 0).catch(() => undefined);
          if (err instanceof PortTaken && attempt < 5) {
            avoid.add(err.port);
            await this.#waitGone(name, 30_000);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      throw this.#startError(spec, err);
    }
  }

  /** A free port of the range, starting from one derived from the name (spreads retries). */
  #allocatePort(name: string, avoid: Set<number>): number {
    const { first, last } = this.#options.hostPorts!;
    const used = new Set<number>([...avoid, ...this.#reservedPorts.keys()]);
    for (const pod of this.#watch.pods()) {
      const port = podPort(pod);
      if (port !== undefined) used.add(port);
    }
    const size = last - first + 1;
    const start = createHash('sha256').update(name).digest().readUInt32BE(0) % size;
    for (let i = 0; i < size; i++) {
      const port = first + ((start + i) % size);
      if (!used.has(port)) {
        this.#reservedPorts.set(port, name);
        return port;
      }
    }
    throw new Error(`no free host port in ${first}-${last}`);
  }

  async #waitServing(
    name: string,
    spec: ContainerSpec,
    signal: AbortSignal | undefined,
  ): Promise<ContainerInfo> {
    const deadline = Date.now() + this.#options.readyTimeoutMs;
    let last: V1Pod | undefined;
    const placed = await this.#watch.waitFor(
      name,
      (pod) => {
        if (pod === undefined) {
          if (last !== undefined) throw new Error(`pod ${name} was deleted while starting`);
          return undefined; // not in the cache yet
        }
        last = pod;
        const failure = this.#podFailure(pod, spec);
        if (failure) throw failure;
        // Placed and addressable: probe from now on. Waiting for the watch to report the runtime
        // running would add up to two kubelet relists (1 s each: the init container's exit, then
        // the runtime's start) to every cold start.
        return pod.spec?.nodeName && podAddress(pod) !== '' ? pod : undefined;
      },
      {
        timeoutMs: this.#options.readyTimeoutMs,
        signal,
        onTimeout: () =>
          new Error(
            `pod ${name} did not start within ${this.#options.readyTimeoutMs} ms${this.#pending(last)}`,
          ),
      },
    );
    const url = new URL(podAddress(placed));
    await waitForHttp(
      { host: url.hostname, port: Number(url.port) },
      {
        timeoutMs: Math.max(1, deadline - Date.now()),
        signal,
        check: async () => {
          const pod = this.#watch.get(name);
          if (pod === undefined) throw new Error(`pod ${name} was deleted while starting`);
          const failure = this.#podFailure(pod, spec);
          if (failure) throw failure;
        },
      },
    );
    return containerInfoFromPod(this.#watch.get(name) ?? placed);
  }

  /** Why a pending pod waits, for the timeout message. */
  #pending(pod: V1Pod | undefined): string {
    const scheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') return `: ${scheduled.message ?? scheduled.reason ?? 'not scheduled'}`;
    const waiting = pod && startingStatus(pod)?.state?.waiting;
    return waiting ? `: ${waiting.reason ?? ''} ${waiting.message ?? ''}`.trimEnd() : '';
  }

  /** The error a pod that will never serve stands for, or undefined while it may still come up. */
  #podFailure(pod: V1Pod, spec: ContainerSpec): Error | undefined {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const port = podPort(pod);
    if (
      port !== undefined &&
      scheduled?.status === 'False' &&
      scheduled.reason === 'Unschedulable' &&
      /free ports/i.test(scheduled.message ?? '')
    )
      return new PortTaken(port);
    const status = startingStatus(pod);
    const waiting = status?.state?.waiting;
    if (waiting?.reason && IMAGE_MISSING.has(waiting.reason)) {
      return new ContainerStartError({
        code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND',
        message: `${CONTAINER_MESSAGES.imageNotFound(spec.image)} (${waiting.reason}: ${waiting.message ?? ''})`,
        developerError: true,
        containerName: spec.name,
      });
    }
    if (waiting?.reason && CANNOT_RUN.has(waiting.reason)) {
      const developerError = NOT_EXECUTABLE.test(waiting.message ?? '');
      return new ContainerStartError({
        code: 'GUST_ERR_BACKEND_START_FAILED',
        message: developerError
          ? `executable file not found in image '${spec.image}'`
          : `${CONTAINER_MESSAGES.provisionFailed} (${waiting.reason}: ${waiting.message ?? ''})`,
        developerError,
        containerName: spec.name,
      });
    }
    const terminated = status?.state?.terminated;
    if (terminated || isFinished(pod)) {
      const code = terminated?.exitCode ?? -1;
      const notExecutable = code === EXIT_COMMAND_NOT_FOUND || NOT_EXECUTABLE.test(terminated?.message ?? '');
      return new ContainerStartError({
        code: 'GUST_ERR_BACKEND_START_FAILED',
        message: notExecutable
          ? `executable file not found in image '${spec.image}'`
          : terminated?.reason === 'OOMKilled'
            ? CONTAINER_MESSAGES.memoryExhausted
            : `the container exited with code ${code} before its runtime answered${terminated?.message ? `: ${terminated.message}` : ''}`,
        developerError: notExecutable,
        containerName: spec.name,
      });
    }
    return undefined;
  }

  #startError(spec: ContainerSpec, error: unknown): Error {
    if (error instanceof ContainerStartError || (error as Error).name === 'AbortError') return error as Error;
    return provisionFailure(spec.name, error);
  }

  async #readPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.#api.readNamespacedPod({ name, namespace: this.#options.namespace });
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async #deletePod(name: string, graceSeconds: number): Promise<void> {
    try {
      await this.#api.deleteNamespacedPod({
        name,
        namespace: this.#options.namespace,
        gracePeriodSeconds: graceSeconds,
      });
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }

  /** Resolves once the watch shows the pod gone, or after `timeoutMs` (it is going anyway). */
  async #waitGone(name: string, timeoutMs: number): Promise<void> {
    await this.#watch
      .waitFor(name, (pod) => (pod === undefined ? true : undefined), {
        timeoutMs,
        onTimeout: () => new Error(`pod ${name} is still terminating`),
      })
      .catch(() => undefined);
  }

  /** Deletes the pod with the configured grace period and waits (bounded) until it is gone. */
  async destroy(containerId: string): Promise<void> {
    await this.#watchStarted();
    await this.#deletePod(containerId, this.#options.terminationGraceSeconds);
    await this.#waitGone(containerId, (this.#options.terminationGraceSeconds + 30) * 1000);
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const pods = await this.#api.listNamespacedPod({
      namespace: this.#options.namespace,
      labelSelector: labelSelector({ [LABELS.managed]: 'true', ...labels }),
    });
    return pods.items.filter((pod) => matchesLabels(pod, labels)).map(containerInfoFromPod);
  }

  logs(container: ContainerInfo): ActivationLogReader {
    const reader = followPodLogs(this.#config, this.#options.namespace, container.id, RUNTIME_CONTAINER);
    this.#readers.add(reader);
    const close = reader.close.bind(reader);
    reader.close = () => {
      this.#readers.delete(reader);
      close();
    };
    return reader;
  }

  async state(containerId: string, options: { awaitExitMs?: number } = {}): Promise<ContainerState | null> {
    await this.#watchStarted();
    const ended = (pod: V1Pod | undefined): boolean =>
      pod === undefined || isFinished(pod) || runtimeStatus(pod)?.state?.terminated !== undefined;
    let pod = this.#watch.get(containerId) ?? (await this.#readPod(containerId));
    if (pod !== undefined && !ended(pod) && (options.awaitExitMs ?? 0) > 0) {
      pod = await this.#watch
        .waitFor(containerId, (p) => (ended(p) ? { pod: p } : undefined), {
          // A container's end reaches the apiserver a PLEG relist (1 s) and a status sync after
          // the kernel's kill: give it that, or an OOM kill would read as a plain exit.
          timeoutMs: Math.max(options.awaitExitMs!, MIN_EXIT_WAIT_MS),
          onTimeout: () => new Error('still running'),
        })
        .then(
          (found) => found.pod,
          () => this.#watch.get(containerId),
        );
    }
    if (pod === undefined) return null;
    const terminated = runtimeStatus(pod)?.state?.terminated;
    if (terminated === undefined && !isFinished(pod))
      return { running: true, exitCode: null, oomKilled: false };
    return {
      running: false,
      exitCode: terminated?.exitCode ?? -1,
      oomKilled: terminated?.reason === 'OOMKilled',
    };
  }

  /**
   * The secret of the runtime at `address` (for RuntimeClient), from the pod the watch knows there,
   * else from a fresh list (this process's watch may not have seen a pod another one just made).
   */
  async runtimeSecret(address: string): Promise<string | undefined> {
    await this.#watchStarted();
    const at = (pods: Iterable<V1Pod>): V1Pod | undefined =>
      [...pods].find((pod) => !pod.metadata?.deletionTimestamp && podAddress(pod) === address);
    let pod = at(this.#watch.pods());
    if (pod === undefined) {
      const listed = await this.#api.listNamespacedPod({
        namespace: this.#options.namespace,
        labelSelector: `${LABELS.managed}=true`,
      });
      pod = at(listed.items);
    }
    return pod && runtimeSecretOf(pod);
  }

  health(): Promise<void> {
    const { namespace } = this.#options;
    return answerOrThrow(kubernetesApiNamed(`the Kubernetes API for namespace ${namespace}`), () =>
      this.#api.listNamespacedPod({ namespace, limit: 1 }),
    );
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    void this.#watchStarted().catch(() => undefined);
    return () => this.#listeners.delete(listener);
  }

  /** Reports a runtime's end once per pod: OOM first when the kernel killed it, then the exit. */
  #onPodChange(change: string, pod: V1Pod): void {
    const name = pod.metadata?.name;
    const uid = pod.metadata?.uid ?? name;
    if (name === undefined || uid === undefined) return;
    const port = podPort(pod);
    if (port !== undefined && this.#reservedPorts.get(port) === name) this.#reservedPorts.delete(port);
    if (this.#listeners.size === 0 && change !== 'deleted') return;
    const terminated = runtimeStatus(pod)?.state?.terminated;
    if ((terminated || change === 'deleted') && !this.#reportedExits.has(uid)) {
      this.#reportedExits.add(uid);
      const events: ContainerEvent[] = [];
      if (terminated?.reason === 'OOMKilled') events.push({ type: 'oom', containerId: name });
      events.push({ type: 'exit', containerId: name, exitCode: terminated?.exitCode ?? -1 });
      for (const event of events) for (const listener of this.#listeners) listener(event);
    }
    if (change === 'deleted') this.#reportedExits.delete(uid);
  }

  async close(): Promise<void> {
    this.#watch.stop();
    for (const reader of [...this.#readers]) reader.close();
    this.#listeners.clear();
  }
}

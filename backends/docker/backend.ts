// The docker backend: one per Docker host (run by that host's agent). Brings containers up with
// OpenWhisk's limits, classifies failures, and removes anything half-created.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { NODEJS_RUNTIME_IMAGE } from '../../runtimes/nodejs/runtime-entry';
import { answerOrThrow } from '../backend';
import type { ActivationLogReader, ContainerBackend, ContainerEvent, ContainerState } from '../backend';
import { CONTAINER_MESSAGES, ContainerStartError, provisionFailure } from '../container-errors';
import {
  handOverSecret,
  prepareRuntimeDir,
  readRuntimeSecret,
  removeRuntimeDir,
  runtimeDirPath,
  type RuntimeDir,
} from '../runtime-dir';
import { waitForHttp } from '../wait-for-http';
import { DockerApi, DockerApiError, type DockerContainerJson } from './api';
import { ContainerEvents } from './container-events';
import { followContainerLogs } from './container-logs';
import {
  buildContainerConfig,
  buildForwarderConfig,
  containerInfoFromInspect,
  containerInfoFromSummary,
  forwarderName,
  labelFilters,
  LOOPBACK_HOSTS,
  type HostLimits,
} from './spec';

export interface DockerBackendOptions extends HostLimits {
  /** `loadConfig().agent.dockerSocket`. */
  socketPath: string;
  /** Host directory of the containers' runtime sockets and secrets. @default loadConfig().agent.runtimeDir */
  runtimeDir?: string;
  /** Image of the forwarder beside TCP-only images (it runs `forward.js`). @default gust/action-nodejs:20 */
  forwarderImage?: string;
  /** How long a started container may take to answer HTTP. @default 30000 */
  readyTimeoutMs?: number;
  /**
   * The runtime secret of a new container, from its name. An agent with an endpoint derives it
   * (backends/runtime-secret-key.ts) so that controllers on other machines derive it too.
   * @default a random one, known to controllers on this machine only (its file)
   */
  runtimeSecretOf?: (containerName: string) => string;
}

/** Exit code of a container whose command could not be found (OpenWhisk: a developer error). */
const EXIT_COMMAND_NOT_FOUND = 127;

export class DockerBackend implements ContainerBackend {
  readonly name = 'docker';
  readonly #api: DockerApi;
  readonly #host: HostLimits;
  readonly #readyTimeoutMs: number;
  readonly #events: ContainerEvents;
  readonly #runtimeDir: string;
  readonly #forwarderImage: string;
  readonly #runtimeSecretOf: ((containerName: string) => string) | undefined;
  readonly #socketOf = (name: string): string =>
    join(runtimeDirPath(this.#runtimeDir, name), 'rt', 'runtime.sock');

  constructor(options: DockerBackendOptions) {
    if (!options.hostId) throw new Error('DockerBackend: hostId is required');
    if (!(options.capacityMB > 0)) throw new Error('DockerBackend: capacityMB must be positive');
    this.#api = new DockerApi(options.socketPath);
    this.#host = { hostId: options.hostId, capacityMB: options.capacityMB };
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.#events = new ContainerEvents(this.#api);
    this.#runtimeDir = options.runtimeDir ?? loadConfig().agent.runtimeDir;
    this.#forwarderImage = options.forwarderImage ?? NODEJS_RUNTIME_IMAGE;
    this.#runtimeSecretOf = options.runtimeSecretOf;
  }

  get hostId(): string {
    return this.#host.hostId;
  }

  /**
   * Create, start, wait for HTTP. Safe to retry and to call concurrently with the same name: a
   * container that exists already is started if needed and returned; a dead one is replaced.
   */
  async create(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    const { signal } = options;
    const dir = prepareRuntimeDir(this.#runtimeDir, spec.name, this.#runtimeSecretOf?.(spec.name));
    let id: string;
    try {
      id = await this.#createOrFind(spec, dir, signal);
    } catch (error) {
      removeRuntimeDir(this.#runtimeDir, spec.name);
      throw this.#startError(spec, error);
    }
    try {
      await this.#api.startContainer(id, signal);
      if (!(spec.socketRuntime ?? true)) await this.#startForwarder(id, spec, dir, signal);
      await waitForHttp(
        { socketPath: dir.socketPath },
        {
          timeoutMs: this.#readyTimeoutMs,
          signal,
          headers: { [SECRET_HEADER]: dir.secret },
          check: async () => this.#assertRunning(await this.#inspectOrThrow(id), spec),
        },
      );
      return containerInfoFromInspect(await this.#inspectOrThrow(id), this.#socketOf);
    } catch (error) {
      // Never leave a half-created container behind; the caller may retry with the same name.
      await this.#remove(id, spec.name).catch(() => undefined);
      throw this.#startError(spec, error);
    }
  }

  async #createOrFind(
    spec: ContainerSpec,
    dir: RuntimeDir,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const hostsFile = join(dir.dir, 'hosts');
    writeFileSync(hostsFile, LOOPBACK_HOSTS);
    const config = buildContainerConfig(spec, this.#host, { mountDir: dir.mountDir, hostsFile });
    const socketRuntime = spec.socketRuntime ?? true;
    for (let attempt = 0; attempt < 20; attempt++) {
      const created = await this.#api.createContainer(spec.name, config, signal);
      if (created !== null) {
        if (socketRuntime) handOverSecret(dir);
        return created.Id;
      }
      // 409: a container with that name exists (a retried create, or a concurrent one).
      const existing = await this.#api.inspectContainer(spec.name);
      if (existing === null) {
        // Removed meanwhile, or a concurrent create has reserved the name but not made the
        // container yet (slow under load): give it a moment, then try again.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (existing.State.Status === 'created') {
        if (socketRuntime) handOverSecret(dir); // not started: its runtime has not read it yet
        return existing.Id;
      }
      if (existing.State.Running) return existing.Id;
      await this.#api.removeContainer(existing.Id); // exited or dead: replace it
    }
    throw new Error(`could not create container ${spec.name}: its name stays taken`);
  }

  /** The forwarder of a TCP-only image, in the network namespace of the started action container. */
  async #startForwarder(
    actionId: string,
    spec: ContainerSpec,
    dir: RuntimeDir,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const name = forwarderName(spec.name);
    const existing = await this.#api.inspectContainer(name);
    if (existing?.State.Running) return;
    if (existing !== null) await this.#api.removeContainer(existing.Id);
    const config = buildForwarderConfig(actionId, spec, this.#host, {
      image: this.#forwarderImage,
      mountDir: dir.mountDir,
    });
    const created = await this.#api.createContainer(name, config, signal);
    if (created === null) throw new Error(`the forwarder ${name} of ${spec.name} is being created elsewhere`);
    handOverSecret(dir);
    await this.#api.startContainer(created.Id, signal);
  }

  /** Removes a container, its forwarder (if any) and its runtime directory. */
  async #remove(idOrName: string, name: string): Promise<void> {
    await this.#api.removeContainer(forwarderName(name));
    await this.#api.removeContainer(idOrName);
    removeRuntimeDir(this.#runtimeDir, name);
  }

  async #inspectOrThrow(id: string): Promise<DockerContainerJson> {
    const container = await this.#api.inspectContainer(id);
    if (container === null) throw new Error(`container ${id} disappeared while starting`);
    return container;
  }

  #assertRunning(container: DockerContainerJson, spec: ContainerSpec): void {
    if (container.State.Running) return;
    const code = container.State.ExitCode;
    throw new ContainerStartError({
      code: 'GUST_ERR_BACKEND_START_FAILED',
      message:
        code === EXIT_COMMAND_NOT_FOUND
          ? `executable file not found in image '${spec.image}'`
          : `the container exited with code ${code} before its runtime answered${container.State.Error ? `: ${container.State.Error}` : ''}`,
      developerError: code === EXIT_COMMAND_NOT_FOUND,
      containerName: spec.name,
    });
  }

  #startError(spec: ContainerSpec, error: unknown): Error {
    if (error instanceof ContainerStartError || (error as Error).name === 'AbortError') return error as Error;
    if (error instanceof DockerApiError && error.statusCode === 404 && /image/i.test(error.message)) {
      // No pulls: images are built or loaded on the host beforehand (runtimes/build-images.sh).
      return new ContainerStartError({
        code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND',
        message: `${CONTAINER_MESSAGES.imageNotFound(spec.image)} (${error.message})`,
        developerError: true,
        containerName: spec.name,
        cause: error,
      });
    }
    return provisionFailure(spec.name, error);
  }

  async destroy(containerId: string): Promise<void> {
    const container = await this.#api.inspectContainer(containerId);
    if (container === null) return;
    await this.#remove(container.Id, container.Name.replace(/^\//, ''));
  }

  /** Action containers only: forwarders go with their action container. */
  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const containers = await this.#api.listContainers(labelFilters(labels));
    return containers
      .filter((container) => container.Labels?.[LABELS.forwarderOf] === undefined)
      .map((container) => containerInfoFromSummary(container, this.#socketOf));
  }

  logs(container: ContainerInfo): ActivationLogReader {
    return followContainerLogs((signal) => this.#api.followLogs(container.id, signal));
  }

  /**
   * The runtime socket and secret of this backend's container `name` (its runtime directory),
   * undefined when it has none: what the agent endpoint forwards /init and /run to.
   */
  async runtimeOf(name: string): Promise<{ socketPath: string; secret: string } | undefined> {
    const secret = await readRuntimeSecret(this.#runtimeDir, name);
    return secret === undefined ? undefined : { socketPath: this.#socketOf(name), secret };
  }

  /** The id of this host's action container `name` (its host label), undefined for any other. */
  async ownContainerId(name: string): Promise<string | undefined> {
    const container = await this.#api.inspectContainer(name);
    const labels = container?.Config.Labels ?? {};
    if (labels[LABELS.host] !== this.#host.hostId || labels[LABELS.forwarderOf] !== undefined)
      return undefined;
    return container!.Id;
  }

  /** The engine's raw log stream of a container (the agent endpoint relays it). */
  followRawLogs(containerId: string, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
    return this.#api.followLogs(containerId, signal);
  }

  async state(containerId: string, options: { awaitExitMs?: number } = {}): Promise<ContainerState | null> {
    if (options.awaitExitMs !== undefined && options.awaitExitMs > 0) {
      // Still running after the wait is an answer too (the runtime hung up but lives).
      await this.#api
        .waitForStop(containerId, AbortSignal.timeout(options.awaitExitMs))
        .catch(() => undefined);
    }
    const container = await this.#api.inspectContainer(containerId);
    if (container === null) return null;
    const { Running, ExitCode, OOMKilled } = container.State;
    return { running: Running, exitCode: Running ? null : ExitCode, oomKilled: OOMKilled };
  }

  health(): Promise<void> {
    return answerOrThrow('the docker engine', () => this.#api.ping());
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.#events.stop();
    await this.#api.close();
  }
}

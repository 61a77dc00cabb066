// The mesos backend: Gust's containers as tasks of one Mesos framework. It holds no state of its
// own: it asks the framework workflow (workflows/mesos-framework.ts) for tasks through updates,
// reads the task inventory through its query, reaches a task at <agent host>:<host port> and reads
// its logs from the agent's sandbox. The agent process that runs it registers one logical host
// whose capacity is what Gust may use of the Mesos cluster; Mesos' offers place the tasks.
import type { Client } from '@temporalio/client';
import { untilAborted } from '../../common/deadline';
import { LABELS } from '../../common/names';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import {
  TASK_NOT_RUNNING,
  TASK_STILL_PENDING,
  killTaskUpdate,
  launchTaskUpdate,
  mesosTasksQuery,
  type MesosFrameworkView,
  type MesosTaskRecord,
} from '../../workflows/mesos-messages';
import { scopedNames, type Scope } from '../../workflows/scope';
import { answerOrThrow } from '../backend';
import type { ActivationLogReader, ContainerBackend, ContainerEvent, ContainerState } from '../backend';
import { CONTAINER_MESSAGES, ContainerStartError } from '../container-errors';
import { containerLabels } from '../container-labels';
import { waitForHttp } from '../wait-for-http';
import { MesosSchedulerApi } from './api';
import { SandboxLogReader, locateSandbox } from './sandbox-logs';
import { cpusFor, type MesosTaskSpec } from './spec';
import { derivedRuntimeSecret } from '../runtime-secret-key';

export interface MesosBackendOptions {
  client: Client;
  /** @default no prefix */
  scope?: Scope;
  /** The logical host (GUST_HOST_ID) this backend's agent registers. */
  hostId: string;
  /** e.g. `http://127.0.0.1:5050` (only for health). */
  masterUrl: string;
  /** How long a running task may take to answer HTTP. @default 30000 */
  readyTimeoutMs?: number;
  /** The key of the tasks' runtime secrets (config.agent.runtimeSecretKey). @default '' (this process's) */
  secretKey?: string;
}

/** The framework waits up to 30 s for TASK_KILLED; a destroy gives up a little later. */
const DESTROY_DEADLINE_MS = 40_000;

const failureType = (err: unknown): string | undefined =>
  (err as { cause?: { type?: string } }).cause?.type ?? (err as { type?: string }).type;

/**
 * The update did nothing, ask again: the framework is still waiting for an offer or continuing as
 * new (TASK_STILL_PENDING), or the server dropped the update because the workflow task that carried
 * it ended without answering it (seen when 20 kills meet a continue-as-new; the server says so only
 * in words). Launch and kill are idempotent by task id.
 */
export function isAskAgain(err: unknown): boolean {
  if (failureType(err) === TASK_STILL_PENDING) return true;
  const cause = (err as { name?: string; cause?: { message?: string } }).cause;
  return (
    (err as Error).name === 'WorkflowUpdateFailedError' &&
    /wasn't processed by worker/.test(cause?.message ?? '')
  );
}

export function containerInfoOf(t: MesosTaskRecord, hostId: string): ContainerInfo {
  const { labels } = t.spec;
  return {
    id: t.spec.taskId,
    name: t.spec.taskId,
    host: hostId,
    backend: 'mesos',
    address: t.phase === 'running' && t.hostname && t.hostPort ? `http://${t.hostname}:${t.hostPort}` : '',
    kind: labels[LABELS.kind] ?? '',
    memoryMB: t.spec.memoryMB,
    labels,
    createdAt: t.since,
  };
}

export class MesosBackend implements ContainerBackend {
  readonly name = 'mesos';
  readonly #client: Client;
  readonly #workflowId: string;
  readonly #hostId: string;
  readonly #master: MesosSchedulerApi;
  readonly #readyTimeoutMs: number;
  readonly #secretKey: string;

  constructor(options: MesosBackendOptions) {
    if (!options.hostId) throw new Error('MesosBackend: hostId is required');
    this.#client = options.client;
    this.#workflowId = scopedNames(options.scope ?? { prefix: '' }).mesosFrameworkId;
    this.#hostId = options.hostId;
    this.#master = new MesosSchedulerApi(options.masterUrl);
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.#secretKey = options.secretKey ?? '';
  }

  #handle() {
    return this.#client.workflow.getHandle(this.#workflowId);
  }

  async #view(): Promise<MesosFrameworkView> {
    return this.#handle().query(mesosTasksQuery);
  }

  async #task(taskId: string): Promise<MesosTaskRecord | undefined> {
    return (await this.#view()).tasks.find((t) => t.spec.taskId === taskId);
  }

  /** Launch (or find) the task named `spec.name`, wait for TASK_RUNNING, then for its runtime to answer. */
  async create(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    const { signal } = options;
    const task: MesosTaskSpec = {
      taskId: spec.name,
      image: spec.image,
      cpus: cpusFor(spec.memoryMB),
      memoryMB: spec.memoryMB,
      env: spec.env,
      labels: containerLabels(spec, this.#hostId),
    };
    let running: MesosTaskRecord;
    try {
      running = await this.#launch(task, signal);
      // Running with no address: the master launched it from an ACCEPT whose workflow task died with
      // its provisioner, and a later status adopted it (CI 2026-12-02). Nobody can reach it: replace it.
      for (let attempt = 1; running.hostname === null || running.hostPort === null; attempt++) {
        if (attempt > 3) throw new Error(`task ${task.taskId} keeps running without an address`);
        await this.#untilGone(task.taskId, signal);
        running = await this.#launch(task, signal);
      }
    } catch (err) {
      throw this.#startError(spec, err);
    }
    const info = containerInfoOf(running, this.#hostId);
    try {
      await waitForHttp(
        { host: running.hostname!, port: running.hostPort! },
        {
          timeoutMs: this.#readyTimeoutMs,
          signal,
          check: async () => {
            const now = await this.#task(task.taskId);
            if (now?.phase !== 'running')
              throw new Error(`the task ended before its runtime answered: ${now?.status?.state ?? 'gone'}`);
          },
        },
      );
      return info;
    } catch (err) {
      // Never leave a half-started task behind; a retry launches it again under the same id.
      await this.destroy(task.taskId).catch(() => undefined);
      throw this.#startError(spec, err);
    }
  }

  /** Kills the task and waits until the framework has it gone, so the next launch of its id is a new task. */
  async #untilGone(taskId: string, signal: AbortSignal | undefined): Promise<void> {
    await this.destroy(taskId);
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (((await this.#task(taskId))?.phase ?? 'gone') !== 'gone') {
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`task ${taskId} did not end after its kill`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #launch(task: MesosTaskSpec, signal: AbortSignal | undefined): Promise<MesosTaskRecord> {
    for (;;) {
      signal?.throwIfAborted();
      try {
        const update = this.#handle().executeUpdate(launchTaskUpdate, { args: [task] });
        // The update's long poll does not stop on an abort: stop waiting for it instead (the
        // workflow keeps the task wanted until a destroy, as after a crash of this process).
        return await (signal ? untilAborted(update, signal) : update);
      } catch (err) {
        if (!isAskAgain(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  #startError(spec: ContainerSpec, err: unknown): Error {
    if ((err as Error).name === 'AbortError' || signalAborted(err)) return err as Error;
    const message = (err as { cause?: Error }).cause?.message ?? (err as Error).message ?? String(err);
    if (failureType(err) === TASK_NOT_RUNNING && /no such image|image .*not found|pull/i.test(message)) {
      return new ContainerStartError({
        code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND',
        message: `${CONTAINER_MESSAGES.imageNotFound(spec.image)} (${message})`,
        developerError: true,
        containerName: spec.name,
        cause: err,
      });
    }
    return new ContainerStartError({
      code: 'GUST_ERR_BACKEND_START_FAILED',
      message: `${CONTAINER_MESSAGES.provisionFailed} (${message})`,
      developerError: false,
      containerName: spec.name,
      cause: err,
    });
  }

  /** KILL; resolves once Mesos reports the task terminal (or the framework's wait ends). */
  async destroy(containerId: string): Promise<void> {
    // Bounded: with no provisioner running, the update would wait for one forever.
    const deadline = Date.now() + DESTROY_DEADLINE_MS;
    for (;;) {
      try {
        await this.#client.withDeadline(deadline, () =>
          this.#handle().executeUpdate(killTaskUpdate, { args: [{ taskId: containerId }] }),
        );
        return;
      } catch (err) {
        if (!isAskAgain(err) || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const wanted = Object.entries(labels);
    return (await this.#view()).tasks
      .filter((t) => t.phase === 'launching' || t.phase === 'running')
      .filter((t) => wanted.every(([key, value]) => t.spec.labels[key] === value))
      .map((t) => containerInfoOf(t, this.#hostId));
  }

  logs(container: ContainerInfo): ActivationLogReader {
    return new SandboxLogReader(async () => {
      const view = await this.#view();
      const t = view.tasks.find((x) => x.spec.taskId === container.id);
      if (!t?.agentUrl || !view.frameworkId) return null;
      return locateSandbox(t.agentUrl, view.frameworkId, container.id);
    });
  }

  /** The secret of the task at `address` (for RuntimeClient), derived from its task id. */
  async runtimeSecret(address: string): Promise<string | undefined> {
    const task = (await this.#view()).tasks.find((t) => containerInfoOf(t, this.#hostId).address === address);
    return task && derivedRuntimeSecret(this.#secretKey, task.spec.taskId);
  }

  async state(containerId: string, options: { awaitExitMs?: number } = {}): Promise<ContainerState | null> {
    const deadline = Date.now() + (options.awaitExitMs ?? 0);
    for (;;) {
      const t = await this.#task(containerId);
      if (t === undefined) return null;
      if (t.phase !== 'running' || Date.now() >= deadline) return stateOf(t);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  health(): Promise<void> {
    return answerOrThrow('the Mesos master', () => this.#master.health());
  }

  /** Task deaths reach the owner pools from the framework workflow (repair), not through here. */
  onEvent(_listener: (event: ContainerEvent) => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.#master.close();
  }
}

function signalAborted(err: unknown): boolean {
  return (
    (err as { name?: string }).name === 'AbortError' || (err as { name?: string }).name === 'CancelledFailure'
  );
}

/** Mesos carries no exit code: a finished task counts as 0, anything else as a failure. */
function stateOf(t: MesosTaskRecord): ContainerState {
  if (t.phase === 'running') return { running: true, exitCode: null, oomKilled: false };
  if (t.phase !== 'gone') return { running: false, exitCode: null, oomKilled: false };
  const state = t.status?.state;
  return {
    running: false,
    exitCode: state === 'TASK_FINISHED' ? 0 : state === 'TASK_KILLED' ? 137 : 1,
    oomKilled: t.status?.reason === 'REASON_CONTAINER_LIMITATION_MEMORY',
  };
}

// The invoke path: router → (stem cell or pool workflow on a cold start) → /init → /run → record.
// No Temporal call and no database read happen here when a warm container exists.
import type { ActivationLogReader } from '../backends/backend';
import type { ControlPlane } from '../common/contracts';
import { actionPath } from '../common/names';
import type { Action, ActionRef, Activation, ContainerInfo, KeyValue } from '../common/types';
import type { ActivationResponse } from './activation-result';
import { classifyInitFailure, classifyRun, developerError, messages, whiskError } from './activation-result';
import type { InvokeOutcome, InvokeRequest, Invoker } from './invoker';
import type { LeasedContainer, Router } from './router';

/** A reply from the action runtime, or why there is none. */
export type RuntimeReply =
  | { kind: 'reply'; statusCode: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'connection-error'; message: string };

/** The two calls of OpenWhisk's runtime protocol, over pooled HTTP. */
export interface RuntimeCalls {
  init(address: string, payload: unknown, timeoutMs: number): Promise<RuntimeReply>;
  run(address: string, payload: unknown, timeoutMs: number): Promise<RuntimeReply>;
}

export interface HotPathDeps {
  router: Router;
  runtime: RuntimeCalls;
  control: ControlPlane;
  /** Opens the log stream of a container; undefined when this controller cannot read its logs. */
  openLogs?: (container: ContainerInfo) => ActivationLogReader | undefined;
  /** True when the backend saw the container killed for exceeding its memory. */
  wasOomKilled?: (containerId: string) => boolean;
  /** How long a cold start may wait for the pool workflow to lease a container. */
  provisionTimeoutMs: number;
  apiHost: string;
  now?: () => number;
}

/** Longest a log collection waits for the sentinels after a run (OpenWhisk waits up to 2 s idle). */
const LOG_WAIT_MS = 2_000;

export class HotPath implements Invoker {
  private readonly logReaders = new Map<string, ActivationLogReader>();
  private readonly now: () => number;

  constructor(private readonly deps: HotPathDeps) {
    if (!(deps.provisionTimeoutMs > 0)) throw new Error('provisionTimeoutMs must be > 0');
    this.now = deps.now ?? Date.now;
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const received = this.now();
    const { action } = request;
    const ref: ActionRef = { namespace: action.namespace, name: action.name, version: action.version };
    let container: LeasedContainer;
    try {
      container = await this.containerFor(action, ref);
    } catch (error) {
      warn(`no container for ${actionPath(action)}`, error);
      const activation = this.record(request, received, whiskError(messages.provisionFailed), {
        waitTime: this.now() - received,
      });
      return { activation, logs: Promise.resolve([]) };
    }
    try {
      return await this.runOn(container, request, received);
    } finally {
      this.deps.router.release(container);
    }
  }

  /** Closes every log stream (shutdown). */
  close(): void {
    for (const reader of this.logReaders.values()) reader.close();
    this.logReaders.clear();
  }

  private async containerFor(action: Action, ref: ActionRef): Promise<LeasedContainer> {
    const { router, control } = this.deps;
    const warm = router.acquire(ref);
    if (warm) return warm;
    const cell = router.claimStemCell(action.exec.kind, action.limits.memory, ref, action.limits.concurrency);
    if (cell) {
      control
        .stemCellClaimed(cell.lease, action)
        .catch((error) => warn('stem-cell claim report failed', error));
      return cell;
    }
    return this.provision(action, ref);
  }

  /** Cold path without a stem cell: queue, and ask the action's pool workflow for a container. */
  private async provision(action: Action, ref: ActionRef): Promise<LeasedContainer> {
    const { router, control } = this.deps;
    const abort = new AbortController();
    const waiting = router.enqueue(ref, abort.signal);
    // One container per `concurrency` queued requests: the pool coalesces duplicates.
    if ((router.queued(ref) - 1) % action.limits.concurrency === 0) {
      control.requestContainers(action, 1).catch((error) => {
        warn(`container request for ${actionPath(action)} failed`, error);
        router.failWaiters(ref, error instanceof Error ? error : new Error(String(error)));
      });
    }
    const timer = setTimeout(() => abort.abort(), this.deps.provisionTimeoutMs);
    try {
      return await waiting;
    } finally {
      clearTimeout(timer);
    }
  }

  private async runOn(
    container: LeasedContainer,
    request: InvokeRequest,
    received: number,
  ): Promise<InvokeOutcome> {
    const { action } = request;
    const timeoutMs = action.limits.timeout;
    let start = this.now();
    let initTime: number | undefined;
    if (!container.initialized) {
      container.initialized = this.init(container, request).then((failure) => {
        if (failure) throw failure;
      });
      try {
        await container.initialized;
        initTime = this.now() - start;
      } catch (failure) {
        const record = this.record(request, start, failure as ActivationResponse, {
          waitTime: start - received,
          initTime: this.now() - start,
          timeout: isTimeout(failure, timeoutMs),
        });
        return { activation: record, logs: this.collectLogs(container, action, true) };
      }
    } else {
      try {
        await container.initialized;
      } catch (failure) {
        return {
          activation: this.record(request, start, failure as ActivationResponse, {
            waitTime: start - received,
          }),
          logs: Promise.resolve([]),
        };
      }
      start = this.now();
    }
    const runStart = this.now();
    const reply = await this.deps.runtime.run(
      container.address,
      this.runPayload(request, runStart),
      timeoutMs,
    );
    const result = this.interpret(reply, container, timeoutMs, messages.runExited);
    const failed = result.status === 'action developer error' || result.status === 'whisk internal error';
    const logs = this.collectLogs(container, action, failed);
    if (failed) this.fail(container, String((result.result as { error?: unknown })?.error ?? result.status));
    const activation = this.record(request, start, result, {
      waitTime: start - received,
      initTime,
      timeout: reply.kind === 'timeout',
    });
    return { activation, logs };
  }

  /** Sends /init; resolves with the failure response, or undefined when the container is ready. */
  private async init(
    container: LeasedContainer,
    request: InvokeRequest,
  ): Promise<ActivationResponse | undefined> {
    const { action } = request;
    const payload = {
      value: {
        name: action.name,
        main: action.exec.main ?? 'main',
        binary: action.exec.binary ?? false,
        ...(action.exec.code !== undefined ? { code: action.exec.code } : {}),
        env: {
          __OW_NAMESPACE: request.namespace,
          __OW_ACTION_NAME: `/${actionPath(action)}`,
          __OW_ACTION_VERSION: action.version,
          __OW_API_HOST: this.deps.apiHost,
        },
      },
    };
    const reply = await this.deps.runtime.init(container.address, payload, action.limits.timeout);
    if (reply.kind === 'reply' && reply.statusCode === 200) return undefined;
    const failure =
      reply.kind === 'reply'
        ? classifyInitFailure(reply.body)
        : this.interpret(reply, container, action.limits.timeout, messages.initExited, true);
    this.fail(container, String((failure.result as { error?: unknown }).error));
    return failure;
  }

  private interpret(
    reply: RuntimeReply,
    container: LeasedContainer,
    timeoutMs: number,
    exitedMessage: string,
    duringInit = false,
  ): ActivationResponse {
    if (reply.kind === 'reply') return classifyRun(reply.statusCode, reply.body);
    if (reply.kind === 'timeout') {
      return developerError(duringInit ? messages.initTimeout(timeoutMs) : messages.timeout(timeoutMs));
    }
    return developerError(this.deps.wasOomKilled?.(container.id) ? messages.memoryExhausted : exitedMessage);
  }

  private runPayload(request: InvokeRequest, runStart: number) {
    const { action } = request;
    return {
      value: request.params,
      namespace: request.namespace,
      action_name: `/${actionPath(action)}`,
      action_version: action.version,
      activation_id: request.activationId,
      transaction_id: request.activationId,
      deadline: String(runStart + action.limits.timeout),
    };
  }

  /** A developer or whisk error destroys the container, as OpenWhisk's invoker does. */
  private fail(container: LeasedContainer, reason: string): void {
    this.deps.router.remove(container.id);
    this.logReaders.get(container.id)?.close();
    this.logReaders.delete(container.id);
    this.deps.control
      .containerFailed(container.lease, reason)
      .catch((error) => warn('failure report failed', error));
  }

  /**
   * Logs are read after the result (sentinel framing). Called before the slot is released, so
   * reads on one container are queued in activation order. Interleaved logs of concurrent runs
   * cannot be split, so containers with concurrency > 1 collect none (as OpenWhisk).
   */
  private collectLogs(container: LeasedContainer, action: Action, failed: boolean): Promise<string[]> {
    if (action.limits.logs === 0 || container.slots > 1 || !this.deps.openLogs) return Promise.resolve([]);
    let reader = this.logReaders.get(container.id);
    if (!reader) {
      reader = this.deps.openLogs(container.lease.container);
      if (!reader) return Promise.resolve([]);
      this.logReaders.set(container.id, reader);
    }
    const limitBytes = action.limits.logs * 1024 * 1024;
    return reader.next(limitBytes, failed ? 500 : LOG_WAIT_MS).catch((error) => {
      warn('log collection failed', error);
      return ['There was an issue while collecting your logs. Data might be missing.'];
    });
  }

  private record(
    request: InvokeRequest,
    start: number,
    result: ActivationResponse,
    timing: { waitTime: number; initTime?: number; timeout?: boolean },
  ): Activation {
    const { action } = request;
    const end = this.now();
    const annotations: KeyValue[] = [
      { key: 'path', value: actionPath(action) },
      { key: 'waitTime', value: timing.waitTime },
      { key: 'kind', value: action.exec.kind },
      { key: 'timeout', value: timing.timeout ?? false },
      { key: 'limits', value: action.limits },
    ];
    if (timing.initTime !== undefined) annotations.push({ key: 'initTime', value: timing.initTime });
    return {
      namespace: request.namespace,
      name: action.name,
      version: action.version,
      subject: request.subject,
      activationId: request.activationId,
      start,
      end,
      duration: end - start,
      statusCode: result.statusCode,
      response: result,
      logs: [],
      annotations,
      publish: false,
      ...(request.cause ? { cause: request.cause } : {}),
    };
  }
}

function isTimeout(failure: unknown, timeoutMs: number): boolean {
  const error = (failure as ActivationResponse | undefined)?.result as { error?: unknown } | undefined;
  return error?.error === messages.initTimeout(timeoutMs);
}

function warn(message: string, error: unknown): void {
  process.emitWarning(`${message}: ${error instanceof Error ? error.message : String(error)}`);
}

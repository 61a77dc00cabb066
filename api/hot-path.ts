// The invoke path: router → (stem cell or pool workflow on a cold start) → /init → /run → record.
// No Temporal call and no database read happen here when a warm container exists.
import type { ActivationLogReader, ContainerState } from '../backends/backend';
import type { RuntimeCallResult, RuntimeClient } from '../runtimes/runtime-client';
import type { ControlPlane } from '../common/contracts';
import { actionPath } from '../common/names';
import type { Action, ActionRef, Activation, ContainerInfo, KeyValue } from '../common/types';
import type { ActivationResponse } from './activation-result';
import { classifyInitFailure, classifyRun, developerError, messages, whiskError } from './activation-result';
import type { InvokeOutcome, InvokeRequest, Invoker } from './invoker';
import { CapacityRequests } from './capacity-requests';
import type { LeasedContainer, Router } from './router';

/** The two calls of OpenWhisk's runtime protocol (implemented by runtimes/runtime-client.ts). */
export type RuntimeCalls = Pick<RuntimeClient, 'init' | 'run'>;

export interface HotPathDeps {
  router: Router;
  runtime: RuntimeCalls & { close(address: string): Promise<void> };
  control: ControlPlane;
  /** Opens the log stream of a container; undefined when this controller cannot read its logs. */
  openLogs?: (container: ContainerInfo) => ActivationLogReader | undefined;
  /** What the backend knows of a container that dropped a connection (was it OOM-killed?). */
  containerState?: (container: ContainerInfo) => Promise<ContainerState | null>;
  /** How long a cold start may wait for the pool workflow to lease a container. */
  provisionTimeoutMs: number;
  apiHost: string;
  now?: () => number;
}

/** Longest a log collection waits for the sentinels: OpenWhisk's `max(5, logsMB) × 2 s`. */
const logWaitMs = (logsMB: number): number => Math.max(5, logsMB) * 2_000;

export class HotPath implements Invoker {
  /** Per container: its log reader and the collection in progress (reads must not overlap). */
  private readonly logReaders = new Map<string, { reader: ActivationLogReader; last: Promise<unknown> }>();
  private readonly now: () => number;
  private readonly capacity: CapacityRequests;

  constructor(private readonly deps: HotPathDeps) {
    if (!(deps.provisionTimeoutMs > 0)) throw new Error('provisionTimeoutMs must be > 0');
    this.now = deps.now ?? Date.now;
    this.capacity = new CapacityRequests(deps.router, deps.control);
    deps.router.onRemoved((container) => {
      this.closeLogs(container.id);
      deps.runtime.close(container.address).catch((error) => warn('closing a container pool failed', error));
    });
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
    for (const { reader } of this.logReaders.values()) reader.close();
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

  /** Cold path without a stem cell: queue, and ask the action's pool workflow for containers. */
  private async provision(action: Action, ref: ActionRef): Promise<LeasedContainer> {
    const abort = new AbortController();
    const waiting = this.deps.router.enqueue(ref, abort.signal);
    this.capacity.topUp(action, ref);
    const timer = setTimeout(() => {
      abort.abort(new Error(`no container within ${this.deps.provisionTimeoutMs} ms`));
      this.capacity.gaveUp(ref);
    }, this.deps.provisionTimeoutMs);
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
      this.openLogs(container, action);
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
    const result = await this.interpret(reply, container, timeoutMs, messages.runExited);
    const failed = result.status === 'action developer error' || result.status === 'whisk internal error';
    const logs = this.collectLogs(container, action, failed);
    if (failed) this.fail(container, String((result.result as { error?: unknown })?.error ?? result.status));
    const activation = this.record(request, start, result, {
      waitTime: start - received,
      initTime,
      timeout: reply.outcome === 'timeout',
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
          // Overlapping runs only for actions that allow them (audit C1); a stem cell learns it here.
          ...(action.limits.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: 'true' } : {}),
        },
      },
    };
    const reply = await this.deps.runtime.init(container.address, payload, action.limits.timeout);
    if (reply.outcome === 'response' && reply.status === 200) return undefined;
    const failure =
      reply.outcome === 'response'
        ? classifyInitFailure(reply.text)
        : await this.interpret(reply, container, action.limits.timeout, messages.initExited, true);
    this.fail(container, String((failure.result as { error?: unknown }).error));
    return failure;
  }

  private async interpret(
    reply: RuntimeCallResult,
    container: LeasedContainer,
    timeoutMs: number,
    exitedMessage: string,
    duringInit = false,
  ): Promise<ActivationResponse> {
    if (reply.outcome === 'response') return classifyRun(reply.status, reply.text, reply.size);
    if (reply.outcome === 'timeout') {
      return developerError(duringInit ? messages.initTimeout(timeoutMs) : messages.timeout(timeoutMs));
    }
    const state = await this.deps.containerState?.(container.lease.container).catch(() => null);
    return developerError(state?.oomKilled ? messages.memoryExhausted : exitedMessage);
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
    this.deps.control
      .containerFailed(container.lease, reason)
      .catch((error) => warn('failure report failed', error));
  }

  /**
   * The log stream is opened before the first /init: output of loading the code belongs to the
   * first activation. Interleaved logs of concurrent runs cannot be split, so containers with
   * concurrency > 1 collect none (as OpenWhisk).
   */
  private openLogs(container: LeasedContainer, action: Action): void {
    if (action.limits.logs === 0 || container.slots > 1 || !this.deps.openLogs) return;
    const reader = this.deps.openLogs(container.lease.container);
    if (reader) this.logReaders.set(container.id, { reader, last: Promise.resolve() });
  }

  /**
   * Logs are read after the result (sentinel framing). Called before the slot is released and
   * chained after the previous read, so reads on one container follow activation order.
   */
  private collectLogs(container: LeasedContainer, action: Action, failed: boolean): Promise<string[]> {
    const logs = this.logReaders.get(container.id);
    if (!logs) return Promise.resolve([]);
    const options = {
      limitBytes: action.limits.logs * 1024 * 1024,
      waitMs: logWaitMs(action.limits.logs),
      sentinels: !failed,
    };
    const collected = logs.last.then(() => logs.reader.next(options));
    logs.last = collected.catch(() => undefined);
    if (failed) this.closeLogs(container.id, collected);
    return collected.catch((error) => {
      warn('log collection failed', error);
      return ['There was an issue while collecting your logs. Data might be missing.'];
    });
  }

  private closeLogs(containerId: string, after?: Promise<unknown>): void {
    const logs = this.logReaders.get(containerId);
    this.logReaders.delete(containerId);
    if (logs) void (after ?? logs.last).finally(() => logs.reader.close());
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

// Runs one activation on a container: router → (stem cell, or queue and ask the pool workflow) →
// /init once per container → /run → classified response → record. No Temporal call and no
// database read happen here when a warm container exists, and the warm path has no await before
// /run. Slots are the router's; /init state and log streams are ContainerSessions'.
import type { ContainerState } from '../../backends/backend';
import { describeContainerDeath, HOST_UNREACHABLE } from '../../backends/container-errors';
import type { ControlPlane } from '../../common/contracts';
import type { Logger } from '../../common/logger';
import { actionPath, actionRefOf } from '../../common/names';
import type { Action, ActionRef, ContainerInfo } from '../../common/types';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { InitPayload, RuntimeCallResult, RuntimeClient } from '../../runtimes/runtime-client';
import { activationRecord } from './activation-record';
import { initContextEnv, runPayload } from './run-payload';
import {
  CapacityRequests,
  ControlPlaneUnavailable,
  REQUEST_DEADLINE_MS,
  RETRY_FIRST_MS,
  RETRY_MAX_MS,
} from './capacity-requests';
import { withDeadline } from '../../common/deadline';
import type { ActivationResponse } from './classify';
import { classifyInitFailure, classifyRun, developerError, failureReason, whiskError } from './classify';
import { ContainerSessions, type InitOutcome } from './container-sessions';
import type { ActivationLogReader } from '../../backends/backend';
import type { Admission, InvokeRequest, Invoker, Ran } from './invoker';
import { NO_OBSERVER, type InvokeObserver } from './observer';
import type { LeasedContainer, Router } from './router';

/** The two calls of OpenWhisk's runtime protocol (implemented by runtimes/runtime-client.ts). */
export type RuntimeCalls = Pick<RuntimeClient, 'init' | 'run'>;

export interface ContainerInvokerDeps {
  router: Router;
  /** `prepare`, when there: readies the client for a container as it is leased (its secret read off the cold path). */
  runtime: RuntimeCalls & { close(address: string): Promise<void>; prepare?(address: string): void };
  control: ControlPlane;
  log: Logger;
  /** Opens the log stream of a container; undefined when this controller cannot read its logs. */
  openLogs?: (container: ContainerInfo) => ActivationLogReader | undefined;
  /** What the backend knows of a container that dropped a connection (was it OOM-killed?). */
  containerState?: (container: ContainerInfo) => Promise<ContainerState | null>;
  /** How long a cold start may wait for the pool workflow to lease a container. */
  provisionTimeoutMs: number;
  apiHost: string;
  /** Told about cold starts (metrics). @default NO_OBSERVER */
  observe?: InvokeObserver;
  now?: () => number;
}

/**
 * Longest a stem-cell claim waits to be reported: it is reported when the claiming activation's
 * /run ends, so the pools' replenishing create does not compete with that /init and /run for the
 * CPU, but an action that runs long must not keep the pools from hearing of it for that long.
 */
export const CLAIM_REPORT_MAX_DELAY_MS = 200;

/** What a /init or /run call came to, as a value. */
interface Interpreted {
  response: ActivationResponse;
  timedOut: boolean;
}

export class ContainerInvoker implements Invoker {
  readonly #deps: ContainerInvokerDeps;
  readonly #now: () => number;
  readonly #sessions: ContainerSessions;
  readonly #capacity: CapacityRequests;
  readonly #observe: InvokeObserver;
  /** Claimed stem cells whose claim is not reported yet, by container id: the report. */
  readonly #unreportedClaims = new Map<string, () => Promise<void>>();

  constructor(deps: ContainerInvokerDeps) {
    if (!(deps.provisionTimeoutMs > 0)) throw new Error('provisionTimeoutMs must be > 0');
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#observe = deps.observe ?? NO_OBSERVER;
    this.#sessions = new ContainerSessions({ openLogs: deps.openLogs, log: deps.log });
    this.#capacity = new CapacityRequests(deps.router, deps.control, deps.log);
    // Work a container's first activation would otherwise wait for: its runtime secret, and a
    // stem cell's log stream (a container leased for an action may never collect logs).
    deps.router.onLeased((container) => {
      deps.runtime.prepare?.(container.address);
      if (container.action === null) this.#sessions.prepare(container.lease.container);
    });
    deps.router.onRemoved((container) => {
      this.#sessions.forget(container.id);
      deps.runtime
        .close(container.address)
        .catch((error: unknown) => deps.log.warn({ err: error }, 'closing a container pool failed'));
    });
  }

  invoke(request: InvokeRequest): Admission {
    const received = this.#now();
    const { action } = request;
    const { router } = this.#deps;
    // Containers serve one invoking namespace (audit L9): another namespace's runs never share them.
    const ref = actionRefOf(action, request.namespace);
    const warm = router.acquire(ref);
    if (warm) return { kind: 'admitted', ran: this.#runAndRelease(warm, request, received) };
    const cell = this.#capacity.missing(action, ref) > 0 ? this.#claimStemCell(action, ref) : undefined;
    if (cell) {
      this.#observe.coldStart('stem-cell');
      return { kind: 'admitted', ran: this.#runAndRelease(cell, request, received, true) };
    }

    // Cold path without a stem cell: queue, and ask the action's pool workflow for containers
    // (unless the control path is known not to answer: then 503 at once, nothing recorded).
    if (!this.#capacity.available()) return { kind: 'refused', reason: 'control-plane-unavailable' };
    const abort = new AbortController();
    const waiting = router.enqueue(ref, abort.signal);
    if (!waiting) {
      return { kind: 'refused', reason: 'queue-full', queued: router.queued(ref), allowed: router.maxQueue };
    }
    this.#capacity.topUp(action, ref);
    const timer = setTimeout(() => {
      abort.abort(new Error(`no container within ${this.#deps.provisionTimeoutMs} ms`));
      this.#capacity.gaveUp(ref);
    }, this.#deps.provisionTimeoutMs);
    const ran = waiting.then(
      (leased) => {
        clearTimeout(timer);
        return this.#runAndRelease(leased, request, received);
      },
      (error: unknown): Ran => {
        clearTimeout(timer);
        this.#deps.log.warn({ err: error, action: actionPath(action) }, 'no container for the action');
        const now = this.#now();
        const response = whiskError(
          error instanceof ControlPlaneUnavailable
            ? `${WHISK_MESSAGES.provisionFailed} The container provisioning service is unavailable, try again later.`
            : WHISK_MESSAGES.provisionFailed,
        );
        const timing = { start: now, end: now, waitTime: now - received, timeout: false };
        return { activation: activationRecord(request, response, timing), logs: Promise.resolve([]) };
      },
    );
    return { kind: 'admitted', ran };
  }

  /** Closes every log stream (shutdown). */
  close(): void {
    this.#sessions.close();
  }

  /**
   * Claims a stem cell for the action. The claim is reported (the pools replenish and take the
   * cell over) once the claiming activation's /run ends, or its /init fails, or after
   * CLAIM_REPORT_MAX_DELAY_MS, whichever comes first: `#reportClaim`.
   */
  #claimStemCell(action: Action, ref: ActionRef): LeasedContainer | undefined {
    const { router, control, log } = this.#deps;
    const cell = router.claimStemCell(action.exec.kind, action.limits.memory, ref, action.limits.concurrency);
    if (cell) {
      const { lease } = cell;
      const timer = setTimeout(() => void this.#reportClaim(cell.id), CLAIM_REPORT_MAX_DELAY_MS);
      this.#unreportedClaims.set(cell.id, async () => {
        clearTimeout(timer);
        // Until a stem-cell pool hears of the claim it counts the cell as its own and never
        // replaces it: tried again (a claim heard twice is taken once) until the container is gone.
        for (let retryMs = RETRY_FIRST_MS; ; retryMs = Math.min(2 * retryMs, RETRY_MAX_MS)) {
          try {
            return await withDeadline(
              control.stemCellClaimed(lease, action, ref.invoker),
              REQUEST_DEADLINE_MS,
            );
          } catch (error) {
            log.warn({ err: error, retryMs: cell.revoked ? null : retryMs }, 'stem-cell claim report failed');
            if (cell.revoked) return;
            await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
          }
        }
      });
    }
    return cell;
  }

  /** Reports the claim of this container if it is a stem cell whose claim is not reported yet. */
  #reportClaim(containerId: string): Promise<void> {
    const report = this.#unreportedClaims.get(containerId);
    if (!report) return Promise.resolve();
    this.#unreportedClaims.delete(containerId);
    return report();
  }

  async #runAndRelease(
    container: LeasedContainer,
    request: InvokeRequest,
    received: number,
    stemCell = false,
  ): Promise<Ran> {
    try {
      return await this.#runOn(container, request, received, stemCell);
    } finally {
      this.#deps.router.release(container);
      // After the reply is on its way (the caller's continuations run first).
      if (stemCell) setImmediate(() => void this.#reportClaim(container.id));
    }
  }

  async #runOn(
    container: LeasedContainer,
    request: InvokeRequest,
    received: number,
    stemCell: boolean,
  ): Promise<Ran> {
    const { action } = request;
    // A promise only the first time this controller needs the namespace's key (ActionKeys).
    const apiKey = request.apiKey instanceof Promise ? await request.apiKey : request.apiKey;
    let begin = this.#now();
    let initTime: number | undefined;
    if (!this.#sessions.isReady(container.id)) {
      const collectLogs = action.limits.logs > 0 && container.slots === 1;
      const { sent, done } = this.#sessions.initialize(container.lease.container, collectLogs, () =>
        this.#init(container, request, apiKey),
      );
      const outcome = await done;
      if (sent) {
        initTime = this.#now() - begin;
        if (!stemCell) this.#observe.coldStart('new-container');
      } else begin = this.#now();
      if (!outcome.ok) {
        const timing = {
          start: begin,
          end: this.#now(),
          waitTime: begin - received,
          initTime,
          timeout: outcome.timedOut,
        };
        const logs = sent ? this.#sessions.collectLogs(container.id, action.limits.logs, true) : noLogs();
        return { activation: activationRecord(request, outcome.response, timing), logs };
      }
    }
    const timeoutMs = action.limits.timeout;
    const runStart = this.#now();
    const reply = await this.#deps.runtime.run(
      container.address,
      runPayload(request, runStart, apiKey),
      timeoutMs,
    );
    container.observeRun(this.#now() - runStart);
    const { response, timedOut } = await this.#interpret(reply, container, timeoutMs, 'run');
    const failed = response.status === 'action developer error' || response.status === 'whisk internal error';
    const logs = this.#sessions.collectLogs(container.id, action.limits.logs, failed);
    if (failed) this.#fail(container, failureReason(response));
    const timing = {
      start: begin,
      end: this.#now(),
      waitTime: begin - received,
      initTime,
      timeout: timedOut,
    };
    return { activation: activationRecord(request, response, timing), logs };
  }

  async #init(container: LeasedContainer, request: InvokeRequest, apiKey?: string): Promise<InitOutcome> {
    const { action } = request;
    const payload: InitPayload = {
      value: {
        name: action.name,
        main: action.exec.main ?? 'main',
        binary: action.exec.binary ?? false,
        ...(action.exec.code !== undefined ? { code: action.exec.code } : {}),
        env: {
          ...request.initEnv,
          ...initContextEnv(request, this.#now(), apiKey),
          __OW_API_HOST: this.#deps.apiHost,
          // Overlapping runs only for actions that allow them (audit C1); a stem cell learns it here.
          ...(action.limits.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: 'true' } : {}),
        },
      },
    };
    const reply = await this.#deps.runtime.init(container.address, payload, action.limits.timeout);
    if (reply.outcome === 'response' && reply.status === 200) return { ok: true };
    const failure: Interpreted =
      reply.outcome === 'response'
        ? { response: classifyInitFailure(reply.text), timedOut: false }
        : await this.#interpret(reply, container, action.limits.timeout, 'init');
    this.#fail(container, failureReason(failure.response));
    return { ok: false, ...failure };
  }

  /** The reply as a response; asks the backend whether a container that hung up was OOM-killed. */
  async #interpret(
    reply: RuntimeCallResult,
    container: LeasedContainer,
    timeoutMs: number,
    phase: 'init' | 'run',
  ): Promise<Interpreted> {
    switch (reply.outcome) {
      case 'response':
        return { response: classifyRun(reply.status, reply.text, reply.size), timedOut: false };
      case 'timeout': {
        const text =
          phase === 'init' ? WHISK_MESSAGES.initTimeout(timeoutMs) : WHISK_MESSAGES.timeout(timeoutMs);
        return { response: developerError(text), timedOut: true };
      }
      case 'connection-error': {
        let state: ContainerState | null = null;
        try {
          state = this.#deps.containerState
            ? await this.#deps.containerState(container.lease.container)
            : null;
        } catch (error) {
          // Its host's agent is gone (backends/host-routes.ts): a platform failure, not the action's.
          // The record tells the user that much; where the host is stays in the controller's log.
          if ((error as { code?: string }).code === HOST_UNREACHABLE) {
            this.#deps.log.warn({ err: error, containerId: container.id }, 'container host unreachable');
            return { response: whiskError(WHISK_MESSAGES.hostUnreachable), timedOut: false };
          }
        }
        return { response: developerError(describeContainerDeath(state, phase)), timedOut: false };
      }
    }
  }

  /**
   * A developer or whisk error destroys the container, as OpenWhisk's invoker does. A claimed stem
   * cell's claim is reported first: the pools hear of the claim before the failure.
   */
  #fail(container: LeasedContainer, reason: string): void {
    const { router, control, log } = this.#deps;
    const { lease } = container;
    router.remove(container.id);
    void this.#reportClaim(container.id)
      .then(() => control.containerFailed(lease, reason))
      .catch((error: unknown) => log.warn({ err: error }, 'failure report failed'));
  }
}

const noLogs = (): Promise<string[]> => Promise.resolve([]);

// Asks action pools for containers on the cold path, one request in flight per action version.
// How many: what the load needs by Little's law (arrival rate × run time / slots, workflows/
// scaling.ts `containersForLoad`), less the containers leased and those on their way — not one
// per queued request, which a new action under an open loop turns into dozens of containers for
// a load two serve. Containers asked for count as on their way until their lease arrives, so a
// burst does not ask twice. A failed request is retried with back-off, as the same request: it may
// have reached the pool though no answer came (Temporal stalled), and the pool counts it once.
// When the load falls below what is leased and on its way (a ramp's backlog drained), the surplus
// is withdrawn: the pool creates a few containers at a time and forgets the requests it has not
// started. The count is checked on every cold start and every lease that arrives.
//
// While the control path does not answer (Temporal down, audit M3) a cold start that needs a new
// container must not wait for its whole provisioning timeout: a request that fails as unavailable
// or gets no answer within REQUEST_DEADLINE_MS opens a breaker. While it is open, `available()` is
// false (the invoker refuses with 503) except for one probe every PROBE_EVERY_MS, and the requests
// queued for containers fail at once; the first request that succeeds closes it.
import { randomUUID } from 'node:crypto';
import type { ControlPlane } from '../../common/contracts';
import type { Logger } from '../../common/logger';
import { actionPath, actionVersionKey } from '../../common/names';
import type { Action, ActionRef } from '../../common/types';
import { containersForLoad, MAX_CONTAINERS_PER_REQUEST } from '../../workflows/scaling';
import type { Router } from './router';
import { withDeadline } from '../../common/deadline';

/** A message to the control path that failed is sent again after this, doubling up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 100;
export const RETRY_MAX_MS = 2_000;
/** A container request not accepted within this counts as failed. */
export const REQUEST_DEADLINE_MS = 5_000;
/** While the breaker is open, one cold start per this long is let through to try again. */
const PROBE_EVERY_MS = 2_000;

/** The reason queued requests fail with while the control path does not answer. */
export class ControlPlaneUnavailable extends Error {
  constructor(cause: unknown) {
    super('the container provisioning service (Temporal) does not answer', { cause });
    this.name = 'ControlPlaneUnavailable';
  }
}

/** No answer in time, or gRPC UNAVAILABLE / a refused connection: Temporal is not there. */
export function isUnavailable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === 14 || e.code === 'ECONNREFUSED') return true;
    if (
      typeof e.message === 'string' &&
      /no answer within|UNAVAILABLE|ECONNREFUSED|transport/i.test(e.message)
    )
      return true;
  }
  return false;
}

interface Demand {
  action: Action;
  /** Containers asked for whose lease has not arrived. */
  onTheirWay: number;
  sending: boolean;
  retryMs: number;
  /** A request that failed: its retry is the same request (id and count). */
  unanswered: { id: string; count: number } | null;
}

export class CapacityRequests {
  private readonly demands = new Map<string, Demand>();
  /** Since when the control path has not answered (undefined: the breaker is closed). */
  private failingSince: number | undefined;
  private lastProbe = 0;

  constructor(
    private readonly router: Router,
    private readonly control: ControlPlane,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    router.onLeased((container) => {
      const key = container.action && actionVersionKey(container.action);
      const demand = key ? this.demands.get(key) : undefined;
      if (!demand || !container.action) return;
      if (demand.onTheirWay > 0) demand.onTheirWay--;
      // Every lease is in: forget the demand and the Action it holds (audit H4).
      if (demand.onTheirWay === 0 && !demand.sending) this.demands.delete(key!);
      // Still some on their way: the load they were asked for may have passed. Checked once the
      // router has added this container (it tells listeners first).
      else {
        const ref = container.action;
        queueMicrotask(() => this.topUp(demand.action, ref));
      }
    });
  }

  /** Demands remembered (action versions with requests on their way). */
  get size(): number {
    return this.demands.size;
  }

  /** Whether a cold start may queue for a new container now (false: answer 503 at once). */
  available(): boolean {
    if (this.failingSince === undefined) return true;
    if (this.now() - this.lastProbe < PROBE_EVERY_MS) return false;
    this.lastProbe = this.now();
    return true;
  }

  /**
   * Containers this action version lacks for its load: Little's law's count less the containers
   * leased and on their way. A saturated action claims a stem cell only while this is positive.
   */
  missing(action: Action, ref: ActionRef): number {
    const load = this.router.load(ref);
    const onTheirWay = this.demands.get(actionVersionKey(ref))?.onTheirWay ?? 0;
    return containersForLoad(load, action.limits.concurrency) - load.containers - onTheirWay;
  }

  /**
   * Makes sure enough containers are on their way for the load on this action version, and no
   * more: a surplus among those on their way is withdrawn.
   */
  topUp(action: Action, ref: ActionRef): void {
    const key = actionVersionKey(ref);
    let demand = this.demands.get(key);
    if (!demand) {
      demand = { action, onTheirWay: 0, sending: false, retryMs: RETRY_FIRST_MS, unanswered: null };
      this.demands.set(key, demand);
    }
    if (demand.sending) return;
    const needed = this.missing(action, ref);
    if (needed <= 0) {
      // An unanswered request nobody needs any more is not sent again (if it got through, its
      // containers come anyway).
      demand.unanswered = null;
      // Not while requests wait: a backlog needs more than the arrival rate does (and the estimate
      // swings while it drains).
      if (needed < 0 && demand.onTheirWay > 0 && this.router.queued(ref) === 0)
        this.withdraw(demand, ref, Math.min(-needed, demand.onTheirWay));
      else if (this.router.queued(ref) === 0 && demand.onTheirWay === 0) this.demands.delete(key);
      return;
    }
    const request = demand.unanswered ?? {
      id: randomUUID(),
      count: Math.min(needed, MAX_CONTAINERS_PER_REQUEST),
    };
    demand.unanswered = request;
    demand.sending = true;
    withDeadline(
      this.control.requestContainers(action, request.count, ref.invoker, request.id),
      REQUEST_DEADLINE_MS,
    ).then(
      () => {
        this.failingSince = undefined;
        demand.sending = false;
        demand.unanswered = null;
        demand.onTheirWay += request.count;
        demand.retryMs = RETRY_FIRST_MS;
        this.topUp(action, ref);
      },
      (error: unknown) => {
        if (isUnavailable(error)) {
          if (this.failingSince === undefined) {
            this.failingSince = this.now();
            this.lastProbe = this.now();
          }
          // Nobody waits out the provisioning timeout for a control path that does not answer.
          this.router.failQueued(ref, new ControlPlaneUnavailable(error));
        }
        this.log.warn(
          { err: error, action: actionPath(action), retryMs: demand.retryMs },
          'container request failed, retrying',
        );
        setTimeout(() => {
          demand.sending = false;
          this.topUp(action, ref);
        }, demand.retryMs).unref();
        demand.retryMs = Math.min(demand.retryMs * 2, RETRY_MAX_MS);
      },
    );
  }

  /**
   * Tells the pool `count` of the containers on their way are not needed. They stop counting as on
   * their way at once; any the pool had started arrive anyway, as spare capacity scale-down reclaims.
   * A withdrawal that fails is not retried: its containers come, as without it.
   */
  private withdraw(demand: Demand, ref: ActionRef, count: number): void {
    demand.onTheirWay -= count;
    demand.sending = true;
    withDeadline(this.control.withdrawContainers(demand.action, count, ref.invoker), REQUEST_DEADLINE_MS)
      .catch((error: unknown) =>
        this.log.warn(
          { err: error, action: actionPath(demand.action), count },
          'withdrawing containers failed',
        ),
      )
      .finally(() => {
        demand.sending = false;
        this.topUp(demand.action, ref);
      });
  }

  /** A queued request gave up waiting: what was asked for is no longer counted as coming. */
  gaveUp(ref: ActionRef): void {
    const demand = this.demands.get(actionVersionKey(ref));
    if (demand) demand.onTheirWay = 0;
  }
}

// Asks action pools for containers on the cold path, one request in flight per action version.
// How many: what the load needs by Little's law (arrival rate × run time / slots, workflows/
// scaling.ts `containersForLoad`), less the containers leased and those on their way — not one
// per queued request, which a new action under an open loop turns into dozens of containers for
// a load two serve. Containers asked for count as on their way until their lease arrives, so a
// burst does not ask twice. A failed request is retried with back-off: queued requests fail only
// at their provisioning timeout.
import type { ControlPlane } from '../../common/contracts';
import type { Logger } from '../../common/logger';
import { actionPath, actionVersionKey } from '../../common/names';
import type { Action, ActionRef } from '../../common/types';
import { containersForLoad } from '../../workflows/scaling';
import type { Router } from './router';

/** The pool workflow accepts at most this many containers in one request. */
const MAX_PER_REQUEST = 32;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;

interface Demand {
  action: Action;
  /** Containers asked for whose lease has not arrived. */
  onTheirWay: number;
  sending: boolean;
  retryMs: number;
}

export class CapacityRequests {
  private readonly demands = new Map<string, Demand>();

  constructor(
    private readonly router: Router,
    private readonly control: ControlPlane,
    private readonly log: Logger,
  ) {
    router.onLeased((container) => {
      const demand = container.action && this.demands.get(actionVersionKey(container.action));
      if (demand && demand.onTheirWay > 0) demand.onTheirWay--;
    });
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

  /** Makes sure enough containers are on their way for the load on this action version. */
  topUp(action: Action, ref: ActionRef): void {
    const key = actionVersionKey(ref);
    let demand = this.demands.get(key);
    if (!demand) {
      demand = { action, onTheirWay: 0, sending: false, retryMs: RETRY_FIRST_MS };
      this.demands.set(key, demand);
    }
    if (demand.sending) return;
    const needed = this.missing(action, ref);
    if (needed <= 0) {
      if (this.router.queued(ref) === 0 && demand.onTheirWay === 0) this.demands.delete(key);
      return;
    }
    const count = Math.min(needed, MAX_PER_REQUEST);
    demand.sending = true;
    this.control.requestContainers(action, count).then(
      () => {
        demand.sending = false;
        demand.onTheirWay += count;
        demand.retryMs = RETRY_FIRST_MS;
        this.topUp(action, ref);
      },
      (error: unknown) => {
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

  /** A queued request gave up waiting: what was asked for is no longer counted as coming. */
  gaveUp(ref: ActionRef): void {
    const demand = this.demands.get(actionVersionKey(ref));
    if (demand) demand.onTheirWay = 0;
  }
}

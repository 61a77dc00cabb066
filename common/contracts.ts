// The small interfaces between the controller's router and the control path (Temporal).
// Types only; no Node APIs.
import type { Action, ContainerUsage, Lease } from './types';

/**
 * What the control path calls on one controller (activities on `controller-<id>`), implemented
 * by the router. Workflows push every inventory change through these; routers never poll.
 */
export interface RouterLeases {
  /** Adds containers to this controller's router. Leasing a container twice is a no-op. */
  lease(leases: Lease[]): void;
  /** Takes containers away: no new work is sent to them; resolves once their in-flight work is done. */
  revoke(containerIds: string[]): Promise<void>;
  /** Idle time and in-flight count of every leased container (for scale-down). */
  usage(): ContainerUsage[];
}

/** What the router asks of the control path (implemented with a Temporal client). */
export interface ControlPlane {
  /**
   * Cold path: ask the action's pool workflow for `count` more containers for this controller.
   * Resolves once the pool has accepted the request; the containers arrive through `RouterLeases.lease`.
   * `invokingNamespace`: whose runs they serve, when not the action's own tenant's (audit L9:
   * another namespace's containers have a pool of their own; `ActionRef.invoker`).
   * `requestId`: a retry of a request that got no answer carries the same id, so a pool that got
   * both counts it once.
   */
  requestContainers(
    action: Action,
    count: number,
    invokingNamespace?: string,
    requestId?: string,
  ): Promise<void>;
  /**
   * The load fell: `count` of the containers asked for are no longer needed. The pool forgets those
   * whose creation has not started; the others still arrive. Best effort: resolves once sent.
   */
  withdrawContainers(action: Action, count: number, invokingNamespace?: string): Promise<void>;
  /**
   * A stem cell was claimed (initialised for `action`, for `invokingNamespace` as above): the pools
   * replenish and take ownership.
   */
  stemCellClaimed(lease: Lease, action: Action, invokingNamespace?: string): Promise<void>;
  /** A leased container failed (died, OOM, developer error): remove it and replace if needed. */
  containerFailed(lease: Lease, reason: string): Promise<void>;
}

// The two multi-step operations every pool runs on one container: provision (place → create →
// lease) and remove (revoke → destroy → release memory). Shared by the action and stem-cell pools.
//
// Contract with the pool:
//   1. The pool records the container (name, controller) in its state before calling provision.
//   2. Neither operation throws: a failed provision sets `removal` (and answers 'failed'), and the
//      pool then runs remove.
//   3. A `removal` set while provisioning is honoured once the current step ends (no lease).
import {
  ActivityFailure,
  getExternalWorkflowHandle,
  log,
  patched,
  TimeoutFailure,
} from '@temporalio/workflow';
import { LABELS, chargedNamespace } from '../common/names';
import type { ActionRef } from '../common/types';
import { clusterActivities, controllerActivities, hostActivities } from './activities';
import {
  releaseContainersSignal,
  type ControllersChanged,
  type CreatingContainer,
  type LeasedContainer,
  type PoolContainer,
  type Removal,
  type RemovingContainer,
} from './messages';
import type { Scope, ScopedNames } from './scope';

export interface PoolContext {
  scope: Scope;
  names: ScopedNames;
  /** The pool's workflow id: owner label and placement spread group. */
  owner: string;
}

export interface ProvisionSpec {
  kind: string;
  image?: string;
  /** Null for a stem cell. */
  action: ActionRef | null;
  slots: number;
}

/**
 * Marks histories where placement runs as a local activity in the pool's workflow task: a cold
 * start waits for one round trip through the server less (schedule, dispatch, result, next task).
 */
const PLACE_LOCALLY_PATCH = 'place-as-local-activity';

/**
 * Marks histories where a lease that timed out is asked once more before the container is given
 * up. The server times a lease out when it could not record the answer (it was frozen or down),
 * though the router may hold the container and serve with it; leasing twice is a no-op, so the
 * second answer tells (a dead controller times out again and the container goes).
 */
const LEASE_AGAIN_PATCH = 'lease-again-after-timeout';

/**
 * Marks histories where a container marked for removal while its lease was on the way is revoked
 * before it is destroyed. Its controller seemed gone (left the list of live ones), yet the lease was
 * answered: by a restarted incarnation on the same queue, which serves with it until told.
 */
const REVOKE_LATE_LEASE_PATCH = 'revoke-a-lease-answered-after-removal';

const timedOut = (err: unknown): boolean =>
  err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;

const message = (err: unknown): string =>
  err instanceof Error ? ((err.cause as Error)?.message ?? err.message) : String(err);

/** How a provision ended: leased to its controller, withdrawn by the pool while it ran, or failed. */
export type ProvisionOutcome = 'leased' | 'withdrawn' | 'failed';

export async function provisionContainer(
  ctx: PoolContext,
  c: CreatingContainer,
  spec: ProvisionSpec,
): Promise<ProvisionOutcome> {
  let stage = 'place';
  try {
    const cluster = clusterActivities(ctx.names, `place ${c.name}`);
    const place = patched(PLACE_LOCALLY_PATCH) ? cluster.placeLocally : cluster.place;
    const { hostId } = await place.placeContainer(ctx.scope, {
      name: c.name,
      memoryMB: c.memoryMB,
      group: ctx.owner,
      evictIdle: spec.action !== null,
      ...(spec.action ? { namespace: chargedNamespace(spec.action) } : {}),
    });
    c.host = hostId;
    stage = 'create';
    const labels: Record<string, string> = { [LABELS.owner]: ctx.owner };
    if (spec.action) {
      labels[LABELS.namespace] = spec.action.namespace;
      labels[LABELS.action] = spec.action.name;
      labels[LABELS.version] = spec.action.version;
      if (spec.action.invoker !== undefined) labels[LABELS.invoker] = spec.action.invoker;
    }
    const info = await hostActivities(
      ctx.names,
      hostId,
      `create ${c.name} (${spec.kind}, ${c.memoryMB} MB)`,
    ).create.createContainer({
      name: c.name,
      kind: spec.kind,
      memoryMB: c.memoryMB,
      ...(spec.image ? { image: spec.image } : {}),
      labels,
      ...(spec.slots > 1 ? { concurrency: spec.slots } : {}),
    });
    c.info = info;
    if (c.removal) return 'withdrawn';
    stage = 'lease';
    const lease = (): Promise<{ incarnation: string }> =>
      controllerActivities(
        ctx.names,
        c.controllerId,
        `lease ${c.name} to ${c.controllerId}`,
      ).lease.leaseContainers([{ container: info, action: spec.action, slots: spec.slots }]);
    const { incarnation } = await lease().catch((err: unknown) => {
      if (timedOut(err) && !c.removal && patched(LEASE_AGAIN_PATCH)) return lease();
      throw err;
    });
    markLeased(c, { host: hostId, info, incarnation, leasedAt: Date.now() });
    const removal = removalOf(c);
    if (removal && !removal.revoke && patched(REVOKE_LATE_LEASE_PATCH)) removal.revoke = true;
    return 'leased';
  } catch (err) {
    log.warn('provisioning failed', { name: c.name, stage, error: message(err) });
    // A lease that timed out may still have reached the router: revoke before destroying.
    c.removal ??= { revoke: stage === 'lease', reason: `${stage} failed: ${message(err)}` };
    return 'failed';
  }
}

export async function removeContainer(ctx: PoolContext, record: PoolContainer): Promise<void> {
  const revoke = record.removal?.revoke ?? false;
  const c = markRemoving(record);
  if (revoke && c.info) {
    try {
      await controllerActivities(
        ctx.names,
        c.controllerId,
        `drain ${c.name} on ${c.controllerId}`,
      ).revoke.revokeContainers([c.info.id]);
    } catch (err) {
      log.warn('revoke failed; destroying anyway', { name: c.name, error: message(err) });
    }
  }
  if (c.host !== null) {
    try {
      await hostActivities(ctx.names, c.host, `destroy ${c.name}`).destroy.destroyContainer({
        name: c.name,
        ...(c.info ? { containerId: c.info.id } : {}),
      });
    } catch (err) {
      log.warn('destroy failed; reconcile will remove it', { name: c.name, error: message(err) });
    }
    await getExternalWorkflowHandle(ctx.names.hostsWorkflowId).signal(releaseContainersSignal, {
      names: [c.name],
    });
  }
}

/** What the pool's handlers decided while an activity ran (a read TypeScript would narrow away). */
const removalOf = (c: PoolContainer): Removal | null => c.removal;

/** The lease is done: the record becomes a leased one, in place (the pool's state holds it too). */
function markLeased(
  c: CreatingContainer,
  lease: Pick<LeasedContainer, 'host' | 'info' | 'incarnation' | 'leasedAt'>,
): LeasedContainer {
  return Object.assign(c, lease, { state: 'leased' }) as unknown as LeasedContainer;
}

/** Removal starts: the record becomes a removing one, in place. */
function markRemoving(c: PoolContainer): RemovingContainer {
  return Object.assign(c, { state: 'removing' }) as RemovingContainer;
}

/**
 * A lease is stale when its controller is not in the list of live controllers (and the record is
 * older than the list), or when the list holds a newer incarnation of it (a restart starts empty).
 * Incarnations sort by their start time (workers/controller-worker.ts), so a list older than a
 * controller's restart never condemns the new incarnation's leases.
 */
export function isLeaseStale(c: PoolContainer, change: ControllersChanged): boolean {
  if (c.removal || c.state === 'removing') return false;
  const live = change.controllers.find((l) => l.controllerId === c.controllerId);
  if (!live) return (c.leasedAt ?? c.since) <= change.asOf;
  return c.incarnation !== null && c.incarnation < live.incarnation;
}

/** Runs operations concurrently, one at a time per container; the pool waits on `idle` to continue-as-new. */
export class Operations {
  readonly #running = new Set<string>();

  run(name: string, op: () => Promise<void>): void {
    this.#running.add(name);
    // An operation that throws (a signal to a workflow that is gone) must not fail the pool's
    // workflow task over and over: it is logged, and the pool carries on.
    void op()
      .catch((err: unknown) => log.error('container operation failed', { name, error: message(err) }))
      .finally(() => this.#running.delete(name));
  }

  isRunning(name: string): boolean {
    return this.#running.has(name);
  }

  get idle(): boolean {
    return this.#running.size === 0;
  }
}

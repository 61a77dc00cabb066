// The container records of one pool, shared by the action pool's and the stem-cell pool's state
// classes: lookups, removal marks and the lifecycle steps. The records array is part of the pool's
// continue-as-new state and the pool's running operations hold its records, so every change is
// made in place.
import { isLeaseStale } from './container-ops';
import type { ControllersChanged, CreatingContainer, PoolContainer } from './messages';

export class ContainerInventory {
  constructor(readonly records: PoolContainer[]) {}

  /** Containers not marked for removal. */
  live(): PoolContainer[] {
    return this.records.filter((c) => !c.removal && c.state !== 'removing');
  }

  /** The record of a created container, by its backend id. */
  byId(containerId: string): PoolContainer | undefined {
    return this.records.find((c) => c.info?.id === containerId);
  }

  has(name: string): boolean {
    return this.records.some((c) => c.name === name);
  }

  count(state: PoolContainer['state']): number {
    return this.records.filter((c) => c.state === state).length;
  }

  /** Records a container before anything is created (its name is what retries and reconcile know). */
  add(
    fields: Pick<CreatingContainer, 'name' | 'memoryMB' | 'version' | 'controllerId' | 'since'>,
  ): CreatingContainer {
    const c: CreatingContainer = {
      name: fields.name,
      memoryMB: fields.memoryMB,
      host: null,
      version: fields.version,
      state: 'creating',
      info: null,
      controllerId: fields.controllerId,
      incarnation: null,
      since: fields.since,
      leasedAt: null,
      removal: null,
    };
    this.records.push(c);
    return c;
  }

  /** Takes a record another pool handed over. */
  push(c: PoolContainer): void {
    this.records.push(c);
  }

  drop(c: PoolContainer): void {
    const i = this.records.indexOf(c);
    if (i >= 0) this.records.splice(i, 1);
  }

  /** A router reports the container failed: removed without a revoke. False when it is unknown. */
  markFailed(containerId: string, reason: string): boolean {
    const c = this.byId(containerId);
    if (c && !c.removal) c.removal = { revoke: false, reason: `failed: ${reason}` };
    return c !== undefined;
  }

  /**
   * These containers are gone from their host: marks the leased ones (and created ones whose lease
   * is on its way, when `includeLeasing()` says so; asked only for those, as it may record a patch
   * marker) and returns them, for the pool to replace.
   */
  markGone(names: readonly string[], includeLeasing: () => boolean): PoolContainer[] {
    const gone = this.live().filter(
      (c) =>
        names.includes(c.name) &&
        (c.state === 'leased' || (c.state === 'creating' && c.info !== null && includeLeasing())),
    );
    for (const c of gone) c.removal = { revoke: true, reason: 'gone from its host' };
    return gone;
  }

  /** Marks leases of controllers that are gone (run again whenever a lease completes). */
  reclaimStale(change: ControllersChanged): void {
    for (const c of this.live()) {
      if (isLeaseStale(c, change))
        c.removal = { revoke: false, reason: `controller ${c.controllerId} is gone` };
    }
  }

  /** Containers marked for removal whose current step has ended. */
  toRemove(isBusy: (name: string) => boolean): PoolContainer[] {
    return this.records.filter((c) => c.removal && c.state !== 'removing' && !isBusy(c.name));
  }
}

/** A newer list of live controllers than `current` (lists can arrive out of order). */
export function isNewerList(current: ControllersChanged | null, change: ControllersChanged): boolean {
  return !current || change.asOf >= current.asOf;
}

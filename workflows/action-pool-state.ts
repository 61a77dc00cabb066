// The state and decisions of one action's pool. Handlers call these methods; the workflow loop
// (action-pool.ts) runs the operations they ask for. Plain data, so it is the continue-as-new input.
import { containerName } from '../common/names';
import { isLeaseStale } from './container-ops';
import type {
  ActionPoolInput,
  ActionPoolState,
  ActionSpec,
  AdoptContainerInput,
  ControllersChanged,
  DemandInput,
  PoolContainer,
  RequestContainersInput,
  ScaleDownInput,
} from './messages';
import { chooseIdleVictims, containersToAdd } from './scaling';

export const DEFAULT_MAX_CONTAINERS = 64;
/** One request may not ask for more than this (a bound on a single update's work). */
export const MAX_CONTAINERS_PER_REQUEST = 32;
/** Failures of unknown containers remembered for a hand-over still under way (oldest forgotten). */
const MAX_FAILED_BEFORE_ADOPT = 32;

export class ActionPool {
  readonly state: ActionPoolState;
  readonly maxContainers: number;

  constructor(
    readonly input: ActionPoolInput,
    readonly owner: string,
  ) {
    this.state = input.state ?? { action: null, nextSeq: 0, containers: [], pending: [], controllers: null };
    this.maxContainers = input.maxContainers ?? DEFAULT_MAX_CONTAINERS;
  }

  get action(): ActionSpec | null {
    return this.state.action;
  }

  /** Throws when a request cannot be honoured (bad count, another action, a stale version). */
  validateRequest(req: RequestContainersInput): void {
    if (!Number.isInteger(req.count) || req.count < 1 || req.count > MAX_CONTAINERS_PER_REQUEST) {
      throw new Error(`count must be an integer from 1 to ${MAX_CONTAINERS_PER_REQUEST}, got ${req.count}`);
    }
    if (!req.controllerId) throw new Error('controllerId is required');
    const { namespace, name } = req.action.ref;
    if (namespace !== this.input.namespace || name !== this.input.name) {
      throw new Error(`this pool runs ${this.input.namespace}/${name}, not ${namespace}/${name}`);
    }
    if (this.action && req.action.updated < this.action.updated) {
      throw new Error(
        `stale action version ${req.action.ref.version}; the pool runs ${this.action.ref.version}`,
      );
    }
  }

  request(req: RequestContainersInput): void {
    this.observe(req.action);
    this.state.pending.push({ controllerId: req.controllerId, count: req.count });
  }

  /** What a demand signal did before requests became the one scale-up path: for old histories only. */
  replayDemand(d: DemandInput): void {
    if (this.action && d.action.updated < this.action.updated) return;
    this.observe(d.action);
    const count = containersToAdd({
      demand: d,
      slotsPerContainer: d.action.slots,
      creatingForController:
        this.live().filter((c) => c.controllerId === d.controllerId && c.state === 'creating').length +
        this.state.pending.filter((p) => p.controllerId === d.controllerId).reduce((n, p) => n + p.count, 0),
      currentTotal: this.live().length,
      maxTotal: this.maxContainers,
    });
    if (count > 0) this.state.pending.push({ controllerId: d.controllerId, count });
  }

  /** A newer version replaces the current one: the old version's containers are drained and removed. */
  observe(spec: ActionSpec): void {
    const current = this.state.action;
    if (current && spec.updated < current.updated) return;
    this.state.action = spec;
    if (current && current.ref.version !== spec.ref.version) {
      for (const c of this.live()) {
        if (c.version !== spec.ref.version)
          c.removal = { revoke: true, reason: `replaced by version ${spec.ref.version}` };
      }
    }
  }

  adopt(a: AdoptContainerInput): void {
    if (this.state.containers.some((c) => c.name === a.container.name)) return;
    this.observe(a.action);
    const c: PoolContainer = { ...a.container, version: a.action.ref.version, removal: null };
    if (this.action && c.version !== this.action.ref.version)
      c.removal = { revoke: true, reason: 'adopted an old version' };
    const failedEarlier = this.state.failedBeforeAdopt ?? [];
    const id = c.info?.id;
    if (id !== undefined && failedEarlier.includes(id)) {
      // Its router removed it already: nothing to revoke.
      c.removal = { revoke: false, reason: 'failed before it was handed over' };
      this.state.failedBeforeAdopt = failedEarlier.filter((x) => x !== id);
    }
    this.state.containers.push(c);
  }

  /**
   * A router reports a container failed. One this pool does not know yet is remembered when
   * `rememberUnknown()` says so (a stem cell still being handed over: adopt removes it).
   */
  failed(containerId: string, reason: string, rememberUnknown: () => boolean = () => false): void {
    const c = this.state.containers.find((x) => x.info?.id === containerId);
    if (c && !c.removal) c.removal = { revoke: false, reason: `failed: ${reason}` };
    if (!c && rememberUnknown()) {
      const remembered = [...(this.state.failedBeforeAdopt ?? []), containerId];
      this.state.failedBeforeAdopt = remembered.slice(-MAX_FAILED_BEFORE_ADOPT);
    }
  }

  scaleDown(input: ScaleDownInput): void {
    const candidates = this.live().map((c) => ({
      containerId: c.info?.id ?? c.name,
      leased: c.state === 'leased',
    }));
    const victims = new Set(
      chooseIdleVictims(candidates, input.usage, input.keepAliveMs, input.minContainers),
    );
    for (const c of this.live()) {
      if (c.info && victims.has(c.info.id)) c.removal = { revoke: true, reason: 'idle past keep-alive' };
    }
  }

  /**
   * These containers are gone from their host (reconcile) or died there (the agent): remove the
   * records and replace them. One whose lease is still on its way counts too when
   * `includeLeasing()` says so: it died right after its router got it (the lease then completes).
   */
  repair(names: string[], includeLeasing: () => boolean = () => false): void {
    for (const c of this.live()) {
      if (!names.includes(c.name)) continue;
      if (c.state !== 'leased' && !(c.state === 'creating' && c.info && includeLeasing())) continue;
      c.removal = { revoke: true, reason: 'gone from its host' };
      this.state.pending.push({ controllerId: c.controllerId, count: 1 });
    }
  }

  controllersChanged(change: ControllersChanged): void {
    if (this.state.controllers && change.asOf < this.state.controllers.asOf) return;
    this.state.controllers = change;
    this.reclaimStaleLeases();
  }

  /** Marks leases of controllers that are gone (run again whenever a lease completes). */
  reclaimStaleLeases(): void {
    const change = this.state.controllers;
    if (!change) return;
    for (const c of this.live()) {
      if (isLeaseStale(c, change))
        c.removal = { revoke: false, reason: `controller ${c.controllerId} is gone` };
    }
  }

  /** Turns pending requests into container records (named now, so retries and reconcile know them). */
  startPending(now: number): PoolContainer[] {
    const action = this.state.action;
    if (!action) return [];
    const created: PoolContainer[] = [];
    for (const p of this.state.pending) {
      for (let i = 0; i < p.count && this.live().length < this.maxContainers; i++) {
        const c: PoolContainer = {
          name: containerName(this.owner, this.state.nextSeq++),
          memoryMB: action.memoryMB,
          host: null,
          version: action.ref.version,
          state: 'creating',
          info: null,
          controllerId: p.controllerId,
          incarnation: null,
          since: now,
          leasedAt: null,
          removal: null,
        };
        this.state.containers.push(c);
        created.push(c);
      }
    }
    this.state.pending = [];
    return created;
  }

  /** Containers marked for removal whose current step has ended. */
  toRemove(isBusy: (name: string) => boolean): PoolContainer[] {
    return this.state.containers.filter((c) => c.removal && c.state !== 'removing' && !isBusy(c.name));
  }

  drop(c: PoolContainer): void {
    this.state.containers = this.state.containers.filter((x) => x !== c);
  }

  /** Containers not marked for removal. */
  live(): PoolContainer[] {
    return this.state.containers.filter((c) => !c.removal && c.state !== 'removing');
  }

  get hasWork(): boolean {
    return this.state.pending.length > 0 && this.state.action !== null;
  }

  summary(): string {
    const count = (s: PoolContainer['state']) => this.state.containers.filter((c) => c.state === s).length;
    return (
      `${count('leased')} leased, ${count('creating')} creating, ${count('removing')} removing` +
      (this.action ? ` — version ${this.action.ref.version}` : '')
    );
  }
}

// The state and decisions of one action's pool. Handlers call these methods; the workflow loop
// (action-pool.ts) runs the operations they ask for. Plain data, so it is the continue-as-new input.
import { actionPoolWorkflowId, containerName } from '../common/names';
import { ContainerInventory, isNewerList } from './container-inventory';
import type {
  ActionPoolInput,
  ActionPoolState,
  ActionSpec,
  AdoptContainerInput,
  ControllersChanged,
  CreatingContainer,
  DemandInput,
  PoolContainer,
  RequestContainersInput,
  ScaleDownInput,
  WithdrawContainersInput,
} from './messages';
import { chooseIdleVictims, containersToAdd, MAX_CONTAINERS_PER_REQUEST } from './scaling';

export const DEFAULT_MAX_CONTAINERS = 64;
/**
 * Containers a pool creates at once; more requested wait in `pending`, where a router can still
 * withdraw them when its load falls (a host runs its creations one at a time per two cores, so a
 * pool that started them all would be committed to containers it asked for at the ramp's peak).
 * Two: one creating, one placed and waiting behind it.
 */
export const DEFAULT_MAX_CREATING = 2;
/**
 * A creation still unfinished after this no longer holds one of the pool's turns: its host may be
 * gone (the create then waits out its retries, minutes), and the pool's other requests go on.
 */
export const CREATE_TURN_MS = 20_000;
/** Failures of unknown containers remembered for a hand-over still under way (oldest forgotten). */
const MAX_FAILED_BEFORE_ADOPT = 32;
/** Request ids remembered: far more than a router retries one request while Temporal stalls. */
const MAX_REQUEST_IDS = 64;

export class ActionPool {
  readonly state: ActionPoolState;
  readonly containers: ContainerInventory;
  readonly maxContainers: number;

  /**
   * `naming`: the names of new containers; `maxCreating`: containers created at once (Infinity:
   * every request at once, as histories recorded before pacing). workflows/action-pool.ts chooses
   * both by patch.
   */
  constructor(
    readonly input: ActionPoolInput,
    readonly owner: string,
    readonly naming: (owner: string, seq: number) => string = containerName,
    readonly maxCreating: number = Infinity,
  ) {
    this.state = input.state ?? { action: null, nextSeq: 0, containers: [], pending: [], controllers: null };
    this.containers = new ContainerInventory(this.state.containers);
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
    const { namespace, name, invoker } = req.action.ref;
    if (namespace !== this.input.namespace || name !== this.input.name || invoker !== this.input.invoker) {
      throw new Error(
        `this pool is ${actionPoolWorkflowId(this.input)}, not ${actionPoolWorkflowId(req.action.ref)}`,
      );
    }
    if (this.action && req.action.updated < this.action.updated) {
      throw new Error(
        `stale action version ${req.action.ref.version}; the pool runs ${this.action.ref.version}`,
      );
    }
  }

  /** `now`: workflow time, so a request can be told from a list of live controllers made before it. */
  request(req: RequestContainersInput, now = 0): void {
    this.observe(req.action);
    this.state.pending.push({ controllerId: req.controllerId, count: req.count, since: now });
    if (req.requestId)
      this.state.requestIds = [...(this.state.requestIds ?? []), req.requestId].slice(-MAX_REQUEST_IDS);
  }

  /**
   * A router no longer needs `count` of the containers it asked for: those not started yet are
   * forgotten, its latest requests first. Returns how many were.
   */
  withdraw(w: WithdrawContainersInput): number {
    let left = w.count;
    for (let i = this.state.pending.length - 1; i >= 0 && left > 0; i--) {
      const p = this.state.pending[i]!;
      if (p.controllerId !== w.controllerId) continue;
      const taken = Math.min(p.count, left);
      p.count -= taken;
      left -= taken;
      if (p.count === 0) this.state.pending.splice(i, 1);
    }
    return w.count - left;
  }

  /** A retry of a request this pool has taken (its router got no answer, e.g. Temporal stalled). */
  isRetry(req: RequestContainersInput): boolean {
    return req.requestId !== undefined && (this.state.requestIds ?? []).includes(req.requestId);
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
    if (this.containers.has(a.container.name)) return;
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
    this.containers.push(c);
  }

  /**
   * A router reports a container failed. One this pool does not know yet is remembered when
   * `rememberUnknown()` says so (a stem cell still being handed over: adopt removes it).
   */
  failed(containerId: string, reason: string, rememberUnknown: () => boolean = () => false): void {
    const known = this.containers.markFailed(containerId, reason);
    if (!known && rememberUnknown()) {
      const remembered = [...(this.state.failedBeforeAdopt ?? []), containerId];
      this.state.failedBeforeAdopt = remembered.slice(-MAX_FAILED_BEFORE_ADOPT);
    }
  }

  scaleDown(input: ScaleDownInput): void {
    const candidates = this.live().map((c) =>
      c.state === 'leased'
        ? { containerId: c.info.id, leased: true }
        : { containerId: c.name, leased: false },
    );
    const victims = new Set(
      chooseIdleVictims(candidates, input.usage, input.keepAliveMs, input.minContainers),
    );
    for (const c of this.live()) {
      if (c.state === 'leased' && victims.has(c.info.id))
        c.removal = { revoke: true, reason: 'idle past keep-alive' };
    }
  }

  /**
   * These containers are gone from their host (reconcile) or died there (the agent): remove the
   * records and replace them. One whose lease is still on its way counts too when
   * `includeLeasing()` says so: it died right after its router got it (the lease then completes).
   */
  repair(names: string[], includeLeasing: () => boolean = () => false): void {
    for (const c of this.containers.markGone(names, includeLeasing))
      this.state.pending.push({ controllerId: c.controllerId, count: 1 });
  }

  controllersChanged(change: ControllersChanged): void {
    if (!isNewerList(this.state.controllers, change)) return;
    this.state.controllers = change;
    this.reclaimStaleLeases();
  }

  /**
   * Marks leases of controllers that are gone (run again whenever a lease completes). A paced pool
   * also forgets their requests not started: nobody would take those containers.
   */
  reclaimStaleLeases(): void {
    const change = this.state.controllers;
    if (!change) return;
    this.containers.reclaimStale(change);
    if (!this.paced) return;
    const live = new Set(change.controllers.map((c) => c.controllerId));
    this.state.pending = this.state.pending.filter(
      (p) => live.has(p.controllerId) || (p.since ?? 0) > change.asOf,
    );
  }

  /**
   * Turns pending requests into container records (named now, so retries and reconcile know them),
   * oldest first, while fewer than `maxCreating` are being created. Requests past the pool's
   * ceiling are dropped.
   */
  startPending(now: number): CreatingContainer[] {
    const action = this.state.action;
    if (!action) return [];
    const created: CreatingContainer[] = [];
    const pending = this.state.pending;
    while (pending.length > 0 && this.roomToCreate(now) > 0) {
      if (this.live().length >= this.maxContainers) {
        pending.length = 0;
        break;
      }
      const p = pending[0]!;
      created.push(
        this.containers.add({
          name: this.naming(this.owner, this.state.nextSeq++),
          memoryMB: action.memoryMB,
          version: action.ref.version,
          controllerId: p.controllerId,
          since: now,
        }),
      );
      if (--p.count <= 0) pending.shift();
    }
    return created;
  }

  /**
   * Creations this pool may start at `now`: `maxCreating` less the containers placed or being
   * created, counting only those started within CREATE_TURN_MS.
   */
  roomToCreate(now: number): number {
    const creating = this.state.containers.filter(
      (c) => c.state === 'creating' && c.info === null && !c.removal && now - c.since < CREATE_TURN_MS,
    ).length;
    return this.maxCreating - creating;
  }

  /** Containers marked for removal whose current step has ended. */
  toRemove(isBusy: (name: string) => boolean): PoolContainer[] {
    return this.containers.toRemove(isBusy);
  }

  drop(c: PoolContainer): void {
    this.containers.drop(c);
  }

  /** Containers not marked for removal. */
  live(): PoolContainer[] {
    return this.containers.live();
  }

  /** Nothing to keep the pool alive for: no containers, no requests, no failure to remember. */
  get isEmpty(): boolean {
    return (
      this.state.containers.length === 0 &&
      this.state.pending.length === 0 &&
      !this.state.failedBeforeAdopt?.length
    );
  }

  /** Creating a few at a time, requests kept for withdrawal (false: histories before pacing). */
  get paced(): boolean {
    return this.maxCreating !== Infinity;
  }

  /** Requests to start at `now` (workflow time). */
  hasWork(now: number): boolean {
    return this.state.pending.length > 0 && this.state.action !== null && this.roomToCreate(now) > 0;
  }

  summary(): string {
    const count = (s: PoolContainer['state']): number => this.containers.count(s);
    return (
      `${count('leased')} leased, ${count('creating')} creating, ${count('removing')} removing` +
      (this.action ? ` — version ${this.action.ref.version}` : '')
    );
  }
}

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
} from './messages';
import { chooseIdleVictims, containersToAdd, MAX_CONTAINERS_PER_REQUEST } from './scaling';

export const DEFAULT_MAX_CONTAINERS = 64;
/** Failures of unknown containers remembered for a hand-over still under way (oldest forgotten). */
const MAX_FAILED_BEFORE_ADOPT = 32;
/** Request ids remembered: far more than a router retries one request while Temporal stalls. */
const MAX_REQUEST_IDS = 64;

export class ActionPool {
  readonly state: ActionPoolState;
  readonly containers: ContainerInventory;
  readonly maxContainers: number;

  /** `naming`: the names of new containers (workflows/action-pool.ts chooses it by patch). */
  constructor(
    readonly input: ActionPoolInput,
    readonly owner: string,
    readonly naming: (owner: string, seq: number) => string = containerName,
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

  request(req: RequestContainersInput): void {
    this.observe(req.action);
    this.state.pending.push({ controllerId: req.controllerId, count: req.count });
    if (req.requestId)
      this.state.requestIds = [...(this.state.requestIds ?? []), req.requestId].slice(-MAX_REQUEST_IDS);
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

  /** Marks leases of controllers that are gone (run again whenever a lease completes). */
  reclaimStaleLeases(): void {
    if (this.state.controllers) this.containers.reclaimStale(this.state.controllers);
  }

  /** Turns pending requests into container records (named now, so retries and reconcile know them). */
  startPending(now: number): CreatingContainer[] {
    const action = this.state.action;
    if (!action) return [];
    const created: CreatingContainer[] = [];
    for (const p of this.state.pending) {
      for (let i = 0; i < p.count && this.live().length < this.maxContainers; i++) {
        created.push(
          this.containers.add({
            name: this.naming(this.owner, this.state.nextSeq++),
            memoryMB: action.memoryMB,
            version: action.ref.version,
            controllerId: p.controllerId,
            since: now,
          }),
        );
      }
    }
    this.state.pending = [];
    return created;
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

  get hasWork(): boolean {
    return this.state.pending.length > 0 && this.state.action !== null;
  }

  summary(): string {
    const count = (s: PoolContainer['state']): number => this.containers.count(s);
    return (
      `${count('leased')} leased, ${count('creating')} creating, ${count('removing')} removing` +
      (this.action ? ` — version ${this.action.ref.version}` : '')
    );
  }
}

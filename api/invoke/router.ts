// The controller's router: which leased container takes the next activation. Owns the slot
// accounting for every container leased to this controller (see docs/design.md "Router").
//
// Contract (after undici's Pool): `acquire` takes a free slot synchronously or returns undefined,
// meaning "saturated: claim a stem cell, or queue and ask the pool workflow". Queued requests are
// served in FIFO order as slots free or new leases arrive. There is never an await between
// checking a slot and taking it, so two requests cannot take the same slot.
import type { RouterLeases } from '../../common/contracts';
import { actionVersionKey } from '../../common/names';
import type { ActionRef, ContainerInfo, ContainerUsage, Lease } from '../../common/types';
import type { ObservedLoad } from '../../workflows/scaling';

/** Arrival rates and run times are counted over windows of this length. */
const RATE_WINDOW_MS = 1_000;
/** A window younger than this is counted as this long (a burst's first moments are not a rate). */
const MIN_RATE_WINDOW_MS = 250;

/**
 * The load on one action version: arrivals and /run times, counted over the current window and
 * the last full one. The run time is the mean over all of the action's recent runs, not a mean of
 * each container's: a container that ran once, slowly (its first, JIT-cold run, while others
 * started), and then idled would keep that figure and, counted like the busy ones, size the pool
 * up for a load it does not have — in a ramp, each new container so asked for another.
 */
class ActionLoad {
  #windowStart: number;
  #arrivals = 0;
  #rate = 0;
  #runs = 0;
  #runMs = 0;
  #lastRuns = 0;
  #lastRunMs = 0;

  constructor(now: number) {
    this.#windowStart = now;
  }

  arrive(now: number): void {
    if (now - this.#windowStart >= RATE_WINDOW_MS) {
      this.#rate = (this.#arrivals * 1000) / (now - this.#windowStart);
      // A window without a finished run keeps the last one's (long runs finish rarely).
      if (this.#runs > 0) {
        this.#lastRuns = this.#runs;
        this.#lastRunMs = this.#runMs;
      }
      this.#arrivals = this.#runs = this.#runMs = 0;
      this.#windowStart = now;
    }
    this.#arrivals++;
  }

  observeRun(ms: number): void {
    this.#runs++;
    this.#runMs += ms;
  }

  observed(now: number): Pick<ObservedLoad, 'arrivalsPerSecond' | 'meanRunMs'> {
    const elapsed = Math.max(MIN_RATE_WINDOW_MS, now - this.#windowStart);
    const runs = this.#lastRuns + this.#runs;
    return {
      arrivalsPerSecond: Math.max(this.#rate, (this.#arrivals * 1000) / elapsed),
      meanRunMs: runs > 0 ? (this.#lastRunMs + this.#runMs) / runs : undefined,
    };
  }
}

/** One container leased to this controller. */
export class LeasedContainer {
  readonly id: string;
  /** Concurrent activations the container takes (the action's `limits.concurrency`). */
  slots: number;
  action: ActionRef | null;
  inFlight = 0;
  lastUsed: number;
  revoked = false;
  /** The load of the action version it serves (none while a stem cell). */
  #load: ActionLoad | undefined;
  /** Where /init and /run go: the container's own address, or its agent's route (RouterOptions.addressOf). */
  readonly address: string;

  constructor(
    public lease: Lease,
    now: number,
    address: string = lease.container.address,
  ) {
    this.id = lease.container.id;
    this.address = address;
    this.slots = Math.max(1, lease.slots);
    this.action = lease.action;
    this.lastUsed = now;
  }

  get free(): number {
    return this.revoked ? 0 : this.slots - this.inFlight;
  }

  /** One /run here took `ms` (for the pool's sizing: api/invoke/capacity-requests.ts). */
  observeRun(ms: number): void {
    this.#load?.observeRun(ms);
  }

  /** Now serving the action version whose load this is. */
  attach(load: ActionLoad): void {
    this.#load = load;
  }
}

type Waiter = { resolve: (container: LeasedContainer) => void; reject: (error: Error) => void };

/** The containers of one action version, and the requests waiting for a slot on them. */
interface ActionEntry {
  containers: LeasedContainer[];
  waiters: Waiter[];
  load: ActionLoad;
}

/** Queue depth and containers by state, for metrics (api/controller-metrics.ts). */
export interface RouterStats {
  queued: number;
  containers: { stemCell: number; idle: number; busy: number; draining: number };
}

export interface RouterOptions {
  maxQueuePerAction: number;
  /**
   * The address this controller calls a container at, decided once per lease (backends/host-routes.ts:
   * its unix socket on this machine, else its agent's endpoint). @default the container's address
   */
  addressOf?: (container: ContainerInfo) => string;
  now?: () => number;
}

const stemCellKey = (kind: string, memoryMB: number): string => `${kind}:${memoryMB}`;

export class Router implements RouterLeases {
  private readonly actions = new Map<string, ActionEntry>();
  private readonly stemCells = new Map<string, LeasedContainer[]>();
  private readonly containers = new Map<string, LeasedContainer>();
  private readonly drained = new Map<string, () => void>();
  private readonly removedListeners: ((container: LeasedContainer) => void)[] = [];
  private readonly leasedListeners: ((container: LeasedContainer) => void)[] = [];
  /** Requests one action version may queue; past it `enqueue` refuses. */
  readonly maxQueue: number;
  private readonly now: () => number;
  private readonly addressOf: ((container: ContainerInfo) => string) | undefined;

  constructor(options: RouterOptions) {
    if (!(options.maxQueuePerAction >= 0)) throw new Error('maxQueuePerAction must be >= 0');
    this.maxQueue = options.maxQueuePerAction;
    this.now = options.now ?? Date.now;
    this.addressOf = options.addressOf;
  }

  /**
   * Takes a free slot on the least loaded warm container of this action version; ties go to the
   * most recently used, so spare containers stay idle long enough for scale-down to reclaim them.
   * Every call counts as an arrival of this action version (its rate sizes the pool: `load`).
   */
  acquire(ref: ActionRef): LeasedContainer | undefined {
    const entry = this.entry(ref);
    entry.load.arrive(this.now());
    return this.pick(entry);
  }

  /** The load on this action version as the router sees it: arrival rate, run time, queue. */
  load(ref: ActionRef): ObservedLoad & { containers: number } {
    const entry = this.actions.get(actionVersionKey(ref));
    if (!entry) return { arrivalsPerSecond: 0, meanRunMs: undefined, queued: 0, containers: 0 };
    let containers = 0;
    for (const c of entry.containers) if (!c.revoked) containers++;
    return { ...entry.load.observed(this.now()), queued: entry.waiters.length, containers };
  }

  private pick(entry: ActionEntry): LeasedContainer | undefined {
    let best: LeasedContainer | undefined;
    for (const container of entry.containers) {
      if (container.free <= 0) continue;
      if (
        !best ||
        container.inFlight < best.inFlight ||
        (container.inFlight === best.inFlight && container.lastUsed > best.lastUsed)
      ) {
        best = container;
      }
    }
    if (best) this.take(best);
    return best;
  }

  /**
   * Waits for a slot on this action version. Returns undefined at once when `maxQueue` requests
   * already wait (the caller refuses the activation: nothing was queued); rejects with the
   * signal's reason when it aborts first (the request then leaves the queue).
   */
  enqueue(ref: ActionRef, signal?: AbortSignal): Promise<LeasedContainer> | undefined {
    const entry = this.entry(ref);
    if (entry.waiters.length >= this.maxQueue) return undefined;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      entry.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = entry.waiters.indexOf(waiter);
          if (index >= 0) entry.waiters.splice(index, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        },
        { once: true },
      );
    });
  }

  /** Rejects every request waiting for this action version with `error` (they leave the queue). */
  failQueued(ref: ActionRef, error: Error): void {
    const entry = this.actions.get(actionVersionKey(ref));
    if (!entry) return;
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
  }

  /** Requests waiting for this action version. */
  queued(ref: ActionRef): number {
    return this.actions.get(actionVersionKey(ref))?.waiters.length ?? 0;
  }

  /** Claims a stem cell of this kind and memory for the action, taking one slot on it. */
  claimStemCell(kind: string, memoryMB: number, ref: ActionRef, slots: number): LeasedContainer | undefined {
    const cells = this.stemCells.get(stemCellKey(kind, memoryMB));
    const cell = cells?.pop();
    if (!cell) return undefined;
    cell.action = ref;
    cell.slots = Math.max(1, slots);
    cell.lease = { ...cell.lease, action: ref, slots: cell.slots };
    this.attach(cell, this.entry(ref));
    this.take(cell);
    return cell;
  }

  /** Gives a slot back; the next queued request of that action takes it at once. */
  release(container: LeasedContainer): void {
    container.inFlight--;
    container.lastUsed = this.now();
    if (container.revoked) {
      if (container.inFlight === 0) this.forget(container);
      return;
    }
    this.serveWaiters(container.action);
  }

  /** Drops a failed container at once; its in-flight work finishes or fails on its own. */
  remove(containerId: string): LeasedContainer | undefined {
    const container = this.containers.get(containerId);
    if (!container) return undefined;
    container.revoked = true;
    this.detach(container);
    if (container.inFlight === 0) this.forget(container);
    return container;
  }

  lease(leases: Lease[]): void {
    for (const lease of leases) {
      if (this.containers.has(lease.container.id)) continue;
      const container = new LeasedContainer(lease, this.now(), this.addressOf?.(lease.container));
      this.containers.set(container.id, container);
      for (const listener of this.leasedListeners) listener(container);
      if (lease.action) {
        this.attach(container, this.entry(lease.action));
        this.serveWaiters(lease.action);
      } else {
        const key = stemCellKey(lease.container.kind, lease.container.memoryMB);
        const cells = this.stemCells.get(key) ?? [];
        cells.push(container);
        this.stemCells.set(key, cells);
      }
    }
  }

  async revoke(containerIds: string[]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const id of containerIds) {
      const container = this.remove(id);
      if (container && container.inFlight > 0) {
        pending.push(new Promise((resolve) => this.drained.set(id, resolve)));
      }
    }
    await Promise.all(pending);
  }

  usage(): ContainerUsage[] {
    const now = this.now();
    return [...this.containers.values()].map((c) => ({
      containerId: c.id,
      action: c.action,
      inFlight: c.inFlight,
      idleMs: c.inFlight > 0 ? 0 : now - c.lastUsed,
      host: c.lease.container.host,
      memoryMB: c.lease.container.memoryMB,
    }));
  }

  /**
   * Called when a container is leased to this controller, for an action (before queued requests take
   * it) or as a stem cell (`action` null).
   */
  onLeased(listener: (container: LeasedContainer) => void): void {
    this.leasedListeners.push(listener);
  }

  /** Called once a removed or revoked container has no work left (close its connections and logs). */
  onRemoved(listener: (container: LeasedContainer) => void): void {
    this.removedListeners.push(listener);
  }

  /** Counts for metrics; O(containers + actions): call at scrape time, not per request. */
  stats(): RouterStats {
    let queued = 0;
    for (const entry of this.actions.values()) queued += entry.waiters.length;
    const containers = { stemCell: 0, idle: 0, busy: 0, draining: 0 };
    for (const c of this.containers.values()) {
      if (c.revoked) containers.draining++;
      else if (!c.action) containers.stemCell++;
      else if (c.inFlight > 0) containers.busy++;
      else containers.idle++;
    }
    return { queued, containers };
  }

  /** Every container currently leased (for shutdown and diagnostics). */
  leased(): LeasedContainer[] {
    return [...this.containers.values()];
  }

  private take(container: LeasedContainer): void {
    container.inFlight++;
    container.lastUsed = this.now();
  }

  private serveWaiters(ref: ActionRef | null): void {
    if (!ref) return;
    const entry = this.actions.get(actionVersionKey(ref));
    if (!entry) return;
    while (entry.waiters.length > 0) {
      const container = this.pick(entry);
      if (!container) return;
      entry.waiters.shift()!.resolve(container);
    }
  }

  private entry(ref: ActionRef): ActionEntry {
    const key = actionVersionKey(ref);
    let entry = this.actions.get(key);
    if (!entry) {
      entry = { containers: [], waiters: [], load: new ActionLoad(this.now()) };
      this.actions.set(key, entry);
    }
    return entry;
  }

  private attach(container: LeasedContainer, entry: ActionEntry): void {
    entry.containers.push(container);
    container.attach(entry.load);
  }

  private detach(container: LeasedContainer): void {
    if (container.action) {
      const key = actionVersionKey(container.action);
      const entry = this.actions.get(key);
      if (entry) {
        entry.containers = entry.containers.filter((c) => c !== container);
        if (entry.containers.length === 0 && entry.waiters.length === 0) this.actions.delete(key);
      }
    } else {
      const key = stemCellKey(container.lease.container.kind, container.lease.container.memoryMB);
      const cells = this.stemCells.get(key)?.filter((c) => c !== container) ?? [];
      if (cells.length > 0) this.stemCells.set(key, cells);
      else this.stemCells.delete(key);
    }
  }

  private forget(container: LeasedContainer): void {
    this.containers.delete(container.id);
    this.drained.get(container.id)?.();
    this.drained.delete(container.id);
    for (const listener of this.removedListeners) listener(container);
  }
}

// How many controllers share the namespaces' throttles (audit L2): each controller counts its own
// requests, so it enforces its share of a namespace's limits, as OpenWhisk divides them by its
// cluster size. The count is the hosts registry's live controllers (those heard from within the
// lease timeout), read off the hot path every `intervalMs`. While the registry cannot be read the
// last count stands; once that is older than `staleAfterMs` (or before any), the count is 1: a
// namespace then gets up to N× its limits rather than fewer than it is entitled to.
import type { Client } from '@temporalio/client';
import { withDeadline } from '../common/deadline';
import { clusterQuery, type ClusterView } from '../workflows/messages';
import { scopedNames, type Scope } from '../workflows/scope';
import { every } from './temporal';

/** The registry's controllers, this one always among them (its own registration may lag). */
export function countLiveControllers(view: Pick<ClusterView, 'controllers'>, selfId: string): number {
  return new Set([selfId, ...view.controllers.map((c) => c.controllerId)]).size;
}

export interface LiveControllerCountOptions {
  /** The registry's view (`clusterQuery` of the hosts workflow). */
  view: () => Promise<Pick<ClusterView, 'controllers'>>;
  selfId: string;
  /** A count older than this is no longer trusted (the lease timeout). */
  staleAfterMs: number;
  /** Told every count, the fallback included. */
  onCount: (controllers: number) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

export class LiveControllerCount {
  readonly #options: LiveControllerCountOptions;
  readonly #now: () => number;
  #count = 1;
  #countedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LiveControllerCountOptions) {
    if (!options.selfId) throw new Error('LiveControllerCount needs the controller id');
    if (!(options.staleAfterMs > 0)) throw new Error('staleAfterMs must be > 0');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get count(): number {
    return this.#count;
  }

  /** Reads the registry once and reports the count; never rejects. */
  async refresh(): Promise<number> {
    try {
      this.#count = countLiveControllers(await this.#options.view(), this.#options.selfId);
      this.#countedAt = this.#now();
    } catch (err) {
      this.#options.onError?.(err);
      if (this.#now() - this.#countedAt > this.#options.staleAfterMs) this.#count = 1;
    }
    this.#options.onCount(this.#count);
    return this.#count;
  }
}

/** Counts now, then every `intervalMs` until the returned function is called. */
export function watchLiveControllers(
  options: Omit<LiveControllerCountOptions, 'view'> & { client: Client; scope: Scope; intervalMs: number },
): () => void {
  const hosts = options.client.workflow.getHandle(scopedNames(options.scope).hostsWorkflowId);
  const counter = new LiveControllerCount({
    ...options,
    view: () => withDeadline(hosts.query(clusterQuery), 2000),
  });
  void counter.refresh();
  // refresh() never rejects: every's own error path is unused.
  return every(
    options.intervalMs,
    async () => {
      await counter.refresh();
    },
    () => {},
  );
}

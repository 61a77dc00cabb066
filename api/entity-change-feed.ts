// Fresh caches across controllers: every controller polls the store's change feed (entity and
// API-key writes, recorded by the store itself) and drops what it cached of each changed entity,
// so a write or delete through any controller is seen by all within about one poll interval. The
// store is the channel (docs/design.md): no broker, and nothing on the request path.
import type { EntityChange, EntityStore } from '../store/entity-store';
import type { Authenticator } from './authenticator';
import type { EntityCache } from './entity-cache';

export interface EntityChangeFeedOptions {
  store: Pick<EntityStore, 'changesSince'>;
  cache: Pick<EntityCache, 'invalidate'>;
  auth?: Pick<Authenticator, 'invalidate'>;
  /** Also told of every change (other caches keyed on entities). */
  onChange?: (change: EntityChange) => void;
  /** @default 200 */
  pollIntervalMs?: number;
  /**
   * Each poll reads changes this far back (writers' clocks may lag, writes land late); changes
   * already seen are skipped by id. @default 5_000
   */
  lookbackMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export class EntityChangeFeed {
  readonly #options: EntityChangeFeedOptions;
  readonly #now: () => number;
  /** Change id → when it was seen, forgotten after the lookback. */
  readonly #seen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #polling: Promise<void> = Promise.resolve();

  constructor(options: EntityChangeFeedOptions) {
    if ((options.pollIntervalMs ?? 200) <= 0) throw new Error('pollIntervalMs must be > 0');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts polling; changes already in the store when it starts are not applied. */
  async start(): Promise<void> {
    for (const change of await this.#read()) this.#seen.set(change.id, this.#now());
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  /** One poll: applies every change not seen yet. */
  async poll(): Promise<void> {
    const now = this.#now();
    for (const change of await this.#read()) {
      if (this.#seen.has(change.id)) continue;
      this.#seen.set(change.id, now);
      this.#apply(change);
    }
    const forgetBefore = now - 2 * this.#lookbackMs;
    for (const [id, seenAt] of this.#seen) if (seenAt < forgetBefore) this.#seen.delete(id);
  }

  get #lookbackMs(): number {
    return this.#options.lookbackMs ?? 5_000;
  }

  #read(): Promise<EntityChange[]> {
    return this.#options.store.changesSince(this.#now() - this.#lookbackMs);
  }

  #apply(change: EntityChange): void {
    if (change.collection === 'authKeys') this.#options.auth?.invalidate(change.name);
    else this.#options.cache.invalidate(change.collection, change.namespace, change.name);
    this.#options.onChange?.(change);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#polling = this.poll()
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => this.#schedule());
    }, this.#options.pollIntervalMs ?? 200);
  }
}

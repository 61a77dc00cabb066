// A read-through cache of entity documents in front of the EntityStore, so a warm invoke never
// reads the database. Changes made through this controller update the cache at once. Entries
// older than `refreshAfterMs` are still served while a background read refreshes them, which
// is how changes made by other controllers arrive without a read on the request path.
import type { Collection, EntityDocument, EntityStore, PutMode } from '../store/entity-store';

export interface EntityCacheOptions {
  /** @default 30_000 */
  refreshAfterMs?: number;
  /** @default 50_000 */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  doc: EntityDocument | undefined;
  fetchedAt: number;
  refreshing: boolean;
}

const cacheKey = (collection: Collection, namespace: string, name: string): string =>
  `${collection}\u0000${namespace}\u0000${name}`;

export class EntityCache {
  readonly #store: EntityStore;
  readonly #refreshAfterMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<EntityDocument | undefined>>();
  #hits = 0;
  #misses = 0;
  /** Bumped on every local change so a slow read cannot put an older document back. */
  #generation = 0;

  constructor(store: EntityStore, options: EntityCacheOptions = {}) {
    this.#store = store;
    this.#refreshAfterMs = options.refreshAfterMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 50_000;
    this.#now = options.now ?? Date.now;
  }

  get store(): EntityStore {
    return this.#store;
  }

  /** Cached documents only (no store read); absent documents are not cached. */
  async get<T extends EntityDocument>(
    collection: Collection,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    const key = cacheKey(collection, namespace, name);
    const entry = this.#entries.get(key);
    if (entry) {
      this.#hits++;
      if (!entry.refreshing && this.#now() - entry.fetchedAt > this.#refreshAfterMs) {
        entry.refreshing = true;
        this.#load(key, collection, namespace, name).catch(() => {
          entry.refreshing = false;
        });
      }
      return entry.doc as T | undefined;
    }
    this.#misses++;
    return (await this.#load(key, collection, namespace, name)) as T | undefined;
  }

  /** Lookups served from the cache and lookups that read the store (metrics). */
  stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** Writes through; the cache holds the new document at once. */
  async put(collection: Collection, doc: EntityDocument, mode: PutMode): Promise<boolean> {
    this.#generation += 1;
    const written = await this.#store.put(collection, doc, mode);
    const key = cacheKey(collection, doc.namespace, doc.name);
    if (written) this.#remember(key, doc);
    else this.#entries.delete(key);
    this.#generation += 1;
    return written;
  }

  async delete(collection: Collection, namespace: string, name: string): Promise<boolean> {
    this.#generation += 1;
    const key = cacheKey(collection, namespace, name);
    this.#entries.delete(key);
    try {
      return await this.#store.delete(collection, namespace, name);
    } finally {
      this.#entries.delete(key);
      this.#generation += 1;
    }
  }

  /** Listings always read the store. */
  list<T extends EntityDocument>(collection: Collection, rootNamespace: string): Promise<T[]> {
    return this.#store.list<T>(collection, rootNamespace);
  }

  /** Drops one entry (a change made elsewhere); a read already under way cannot put it back. */
  invalidate(collection: Collection, namespace: string, name: string): void {
    this.#generation += 1;
    this.#entries.delete(cacheKey(collection, namespace, name));
  }

  #load(
    key: string,
    collection: Collection,
    namespace: string,
    name: string,
  ): Promise<EntityDocument | undefined> {
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.#generation;
    const loading = this.#store
      .get(collection, namespace, name)
      .then((doc) => {
        if (generation === this.#generation) {
          if (doc) this.#remember(key, doc);
          else this.#entries.delete(key);
        }
        return doc;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  #remember(key: string, doc: EntityDocument): void {
    if (!this.#entries.has(key) && this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { doc, fetchedAt: this.#now(), refreshing: false });
  }
}

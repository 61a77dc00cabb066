// A read-through cache of entity documents in front of the EntityStore, so a warm invoke never
// reads the database. Changes made through this controller update the cache at once. Entries
// older than `refreshAfterMs` are still served while a background read refreshes them, which
// is how changes made by other controllers arrive without a read on the request path.
// Bounded by entries and by bytes (audit H4: 48 MB of code per action would otherwise let a few
// tenants fill the heap); the oldest entries go first, and a document larger than the whole
// budget is served without being kept.
import type { Collection, EntityDocument, EntityStore, PutMode } from '../store/entity-store';

export interface EntityCacheOptions {
  /** @default 30_000 */
  refreshAfterMs?: number;
  /** @default 50_000 */
  maxEntries?: number;
  /** What the cached documents may weigh in all (estimated: their strings, plus a little per field). @default 256 MiB */
  maxBytes?: number;
  now?: () => number;
}

interface CacheEntry {
  doc: EntityDocument | undefined;
  fetchedAt: number;
  refreshing: boolean;
  bytes: number;
}

/**
 * What a document weighs in memory, roughly: two bytes per string character plus 16 per field.
 * It walks fields, never characters, so a 48 MB code string costs as little as a short one.
 */
export function approxBytes(value: unknown): number {
  if (typeof value === 'string') return 16 + 2 * value.length;
  if (value === null || typeof value !== 'object') return 16;
  let bytes = 16;
  for (const item of Array.isArray(value) ? value : Object.values(value)) bytes += approxBytes(item);
  return bytes;
}

const cacheKey = (collection: Collection, namespace: string, name: string): string =>
  `${collection}\u0000${namespace}\u0000${name}`;

export class EntityCache {
  readonly #store: EntityStore;
  readonly #refreshAfterMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
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
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
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
    else this.#forget(key);
    this.#generation += 1;
    return written;
  }

  async delete(collection: Collection, namespace: string, name: string): Promise<boolean> {
    this.#generation += 1;
    const key = cacheKey(collection, namespace, name);
    this.#forget(key);
    try {
      return await this.#store.delete(collection, namespace, name);
    } finally {
      this.#forget(key);
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
    this.#forget(cacheKey(collection, namespace, name));
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
          else this.#forget(key);
        }
        return doc;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  /** What the cache holds now (metrics, tests). */
  size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  #remember(key: string, doc: EntityDocument): void {
    this.#forget(key);
    const bytes = approxBytes(doc);
    if (bytes > this.#maxBytes) return;
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries && this.#bytes + bytes <= this.#maxBytes) break;
      this.#forget(oldest);
    }
    this.#entries.set(key, { doc, fetchedAt: this.#now(), refreshing: false, bytes });
    this.#bytes += bytes;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

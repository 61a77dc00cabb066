// Basic authentication with an in-memory cache of verified Authorization headers, so a warm
// request neither hashes nor reads the store. Cached identities are re-checked against the store
// in the background after `revalidateAfterMs` (keys deleted by another process stop working then);
// keys deleted through this process are dropped at once (`invalidate`).
import type { EntityStore } from '../store/entity-store';
import { parseApiKey, secretMatches } from './api-keys';
import { apiError } from './errors';

export interface Identity {
  subject: string;
  namespace: string;
  /** The key's uuid. */
  uuid: string;
}

export interface AuthenticatorOptions {
  /** @default 60_000 */
  revalidateAfterMs?: number;
  /** @default 10_000 */
  maxCachedHeaders?: number;
  now?: () => number;
}

interface CachedIdentity {
  identity: Identity;
  verifiedAt: number;
  revalidating: boolean;
}

export class Authenticator {
  readonly #store: Pick<EntityStore, 'getAuthKey'>;
  readonly #revalidateAfterMs: number;
  readonly #maxCachedHeaders: number;
  readonly #now: () => number;
  readonly #verified = new Map<string, CachedIdentity>();
  readonly #verifying = new Map<string, Promise<Identity>>();
  #hits = 0;
  #misses = 0;

  constructor(store: Pick<EntityStore, 'getAuthKey'>, options: AuthenticatorOptions = {}) {
    this.#store = store;
    this.#revalidateAfterMs = options.revalidateAfterMs ?? 60_000;
    this.#maxCachedHeaders = options.maxCachedHeaders ?? 10_000;
    if (!(this.#maxCachedHeaders > 0)) throw new Error('maxCachedHeaders must be > 0');
    this.#now = options.now ?? Date.now;
  }

  /** The caller's identity, or OpenWhisk's 401. Synchronous on a cache hit. */
  authenticate(authorization: string | undefined): Identity | Promise<Identity> {
    if (authorization === undefined || authorization === '') throw apiError('GUST_ERR_AUTH_MISSING');
    const cached = this.#verified.get(authorization);
    if (cached) {
      this.#hits++;
      if (!cached.revalidating && this.#now() - cached.verifiedAt > this.#revalidateAfterMs) {
        this.#revalidate(authorization, cached);
      }
      return cached.identity;
    }
    this.#misses++;
    let pending = this.#verifying.get(authorization);
    if (!pending) {
      pending = this.#verify(authorization).finally(() => this.#verifying.delete(authorization));
      this.#verifying.set(authorization, pending);
    }
    return pending;
  }

  /** Headers served from the cache and headers that had to be verified (metrics). */
  stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** Forgets every cached header of this key (call after deleting it). */
  invalidate(uuid: string): void {
    for (const [header, cached] of this.#verified) {
      if (cached.identity.uuid === uuid) this.#verified.delete(header);
    }
  }

  /** Forgets every cached header of a namespace. */
  invalidateNamespace(namespace: string): void {
    for (const [header, cached] of this.#verified) {
      if (cached.identity.namespace === namespace) this.#verified.delete(header);
    }
  }

  async #verify(authorization: string): Promise<Identity> {
    const identity = await this.#lookup(authorization);
    if (!identity) throw apiError('GUST_ERR_AUTH_INVALID');
    if (this.#verified.size >= this.#maxCachedHeaders) {
      // Drop the oldest entry (Map iterates in insertion order).
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(authorization, { identity, verifiedAt: this.#now(), revalidating: false });
    return identity;
  }

  #revalidate(authorization: string, cached: CachedIdentity): void {
    cached.revalidating = true;
    this.#lookup(authorization).then(
      (identity) => {
        if (identity) {
          cached.identity = identity;
          cached.verifiedAt = this.#now();
          cached.revalidating = false;
        } else {
          this.#verified.delete(authorization);
        }
      },
      // The store is unreachable: keep serving the verified identity and try again later.
      () => {
        cached.revalidating = false;
        cached.verifiedAt = this.#now();
      },
    );
  }

  async #lookup(authorization: string): Promise<Identity | undefined> {
    const match = /^basic\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return undefined;
    const parsed = parseApiKey(Buffer.from(match[1]!, 'base64').toString('utf8'));
    if (!parsed) return undefined;
    const record = await this.#store.getAuthKey(parsed.uuid);
    if (!record || !secretMatches(record, parsed.secret)) return undefined;
    return { subject: record.subject, namespace: record.namespace, uuid: record.uuid };
  }
}

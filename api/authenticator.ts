// Basic authentication with an in-memory cache of verified credentials, so a warm request neither
// hashes nor reads the store. Cached identities are re-checked against the store in the
// background after `revalidateAfterMs` (keys deleted by another process stop working then); one
// not verified for twice that is not served at all until it is verified again, so a key deleted
// elsewhere never works after that however long it was cached (audit M1). Keys deleted through
// this process are dropped at once (`invalidate`). The cache is keyed by the decoded credentials,
// and only canonical base64 is accepted, so one key cannot mint many entries and evict others'.
// While the store does not answer, cached identities are still served (availability over a
// revocation that the store cannot confirm). A refused key's store answer is remembered for a
// while too (by uuid, bounded), so a client retrying bad credentials, or one key's uuid with many
// guessed secrets, costs one store read, not one per request (audit M1 d); a key written since
// (`invalidate`, which the change feed calls for every key change) is looked up afresh.
import type { AuthKeyRecord, EntityStore } from '../store/entity-store';
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
  /** How long a refused key's store answer is reused. @default 10_000 */
  refusedForMs?: number;
  now?: () => number;
}

interface CachedIdentity {
  identity: Identity;
  verifiedAt: number;
  revalidating: boolean;
  /** The last check could not reach the store: served on, whatever its age, until it answers. */
  storeDown: boolean;
}

/** `uuid:secret` from a Basic Authorization header in canonical base64, else undefined. */
function decodeBasic(authorization: string): string | undefined {
  const match = /^basic\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return undefined;
  const encoded = match[1]!;
  const decoded = Buffer.from(encoded, 'base64');
  return decoded.toString('base64') === encoded ? decoded.toString('utf8') : undefined;
}

export class Authenticator {
  readonly #store: Pick<EntityStore, 'getAuthKey'>;
  readonly #revalidateAfterMs: number;
  readonly #maxCachedHeaders: number;
  readonly #now: () => number;
  readonly #verified = new Map<string, CachedIdentity>();
  readonly #verifying = new Map<string, Promise<Identity>>();
  readonly #refusedForMs: number;
  /** uuid → the store's answer (the record, or none) for a key that was refused, and when. */
  readonly #refused = new Map<string, { record: AuthKeyRecord | undefined; at: number }>();
  #hits = 0;
  #misses = 0;

  constructor(store: Pick<EntityStore, 'getAuthKey'>, options: AuthenticatorOptions = {}) {
    this.#store = store;
    this.#revalidateAfterMs = options.revalidateAfterMs ?? 60_000;
    this.#maxCachedHeaders = options.maxCachedHeaders ?? 10_000;
    if (!(this.#maxCachedHeaders > 0)) throw new Error('maxCachedHeaders must be > 0');
    this.#now = options.now ?? Date.now;
    this.#refusedForMs = options.refusedForMs ?? 10_000;
  }

  /** The caller's identity, or OpenWhisk's 401. Synchronous on a cache hit. */
  authenticate(authorization: string | undefined): Identity | Promise<Identity> {
    if (authorization === undefined || authorization === '') throw apiError('GUST_ERR_AUTH_MISSING');
    const credentials = decodeBasic(authorization);
    if (credentials === undefined) throw apiError('GUST_ERR_AUTH_INVALID');
    const cached = this.#verified.get(credentials);
    if (cached) {
      const age = this.#now() - cached.verifiedAt;
      if (age <= 2 * this.#revalidateAfterMs || cached.storeDown) {
        this.#hits++;
        if (!cached.revalidating && age > this.#revalidateAfterMs) this.#revalidate(credentials, cached);
        return cached.identity;
      }
    }
    this.#misses++;
    let pending = this.#verifying.get(credentials);
    if (!pending) {
      pending = this.#verify(credentials, cached).finally(() => this.#verifying.delete(credentials));
      this.#verifying.set(credentials, pending);
    }
    return pending;
  }

  /** Headers served from the cache and headers that had to be verified (metrics). */
  stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** Forgets every cached header of this key and its refusal (call after writing or deleting it). */
  invalidate(uuid: string): void {
    this.#refused.delete(uuid);
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

  /** `stale`: the cached entry too old to serve; it is served on if the store does not answer. */
  async #verify(credentials: string, stale?: CachedIdentity): Promise<Identity> {
    let identity: Identity | undefined;
    try {
      identity = await this.#lookup(credentials);
    } catch (error) {
      if (!stale) throw error;
      stale.storeDown = true;
      return stale.identity;
    }
    if (!identity) {
      this.#verified.delete(credentials);
      throw apiError('GUST_ERR_AUTH_INVALID');
    }
    this.#setBounded(this.#verified, credentials, {
      identity,
      verifiedAt: this.#now(),
      revalidating: false,
      storeDown: false,
    });
    return identity;
  }

  #revalidate(credentials: string, cached: CachedIdentity): void {
    cached.revalidating = true;
    this.#lookup(credentials, true).then(
      (identity) => {
        if (identity) {
          cached.identity = identity;
          cached.verifiedAt = this.#now();
          cached.revalidating = false;
          cached.storeDown = false;
        } else {
          this.#verified.delete(credentials);
        }
      },
      // The store is unreachable: serve on, and try again at the next request.
      () => {
        cached.revalidating = false;
        cached.storeDown = true;
      },
    );
  }

  /** `fresh`: ask the store even when it refused this uuid lately (a revalidation). */
  async #lookup(credentials: string, fresh = false): Promise<Identity | undefined> {
    const parsed = parseApiKey(credentials);
    if (!parsed) return undefined;
    const { uuid, secret } = parsed;
    const refused = this.#refused.get(uuid);
    const remembered = !fresh && refused !== undefined && this.#now() - refused.at < this.#refusedForMs;
    const record = remembered ? refused.record : await this.#store.getAuthKey(uuid);
    if (!record || !secretMatches(record, secret)) {
      if (!remembered) this.#remember(uuid, record);
      return undefined;
    }
    return { subject: record.subject, namespace: record.namespace, uuid: record.uuid };
  }

  #remember(uuid: string, record: AuthKeyRecord | undefined): void {
    this.#setBounded(this.#refused, uuid, { record, at: this.#now() });
  }

  /** Sets `key` as the newest entry, dropping the oldest past the bound (Maps keep insertion order). */
  #setBounded<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    if (map.size >= this.#maxCachedHeaders) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, value);
  }
}

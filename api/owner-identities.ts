// Whose identity runs an activation nobody authenticated for: a web action runs as its owner, an
// alarm fires its trigger as the trigger's owner. The owner of a namespace is the subject of its
// first API key; a namespace without keys does not exist. Cached briefly (a change feed of keys
// also drops entries: `forget`).
import type { EntityStore } from '../store/entity-store';
import type { Identity } from './authenticator';

export class OwnerIdentities {
  readonly #store: Pick<EntityStore, 'listAuthKeys'>;
  readonly #ttlMs: number;
  readonly #cached = new Map<string, { identity: Identity | undefined; at: number }>();

  constructor(store: Pick<EntityStore, 'listAuthKeys'>, options: { ttlMs?: number } = {}) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? 5_000;
  }

  async of(namespace: string): Promise<Identity | undefined> {
    const hit = this.#cached.get(namespace);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.identity;
    const [key] = await this.#store.listAuthKeys(namespace);
    const identity = key && { subject: key.subject, namespace: key.namespace, uuid: key.uuid };
    this.#cached.set(namespace, { identity, at: Date.now() });
    return identity;
  }

  forget(namespace: string): void {
    this.#cached.delete(namespace);
  }
}

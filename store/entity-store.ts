// The entity store contract: actions, packages, triggers and rules as documents, plus API keys.
// Implementations: store/sqlite (embedded default) and store/cassandra. Both pass
// test/integration/store-contract.test.ts.

/** The entity collections of OpenWhisk's REST API. */
export type Collection = 'actions' | 'packages' | 'triggers' | 'rules';

/**
 * Every entity document carries these. `namespace` is the full path (`guest` or `guest/pkg`);
 * the store keys documents by (root namespace, qualified name) where the qualified name is
 * `name` or `pkg/name`.
 */
export interface EntityDocument {
  namespace: string;
  name: string;
  updated: number;
}

/** `create` fails when the document exists; `overwrite` replaces or creates. */
export type PutMode = 'create' | 'overwrite';

/** One API key. The secret is never stored: only a salted hash of it. */
export interface AuthKeyRecord {
  uuid: string;
  namespace: string;
  subject: string;
  /** Hex salt and hex sha256(salt || secret). */
  salt: string;
  hash: string;
  created: number;
  /** The key sealed under the master key (api/action-keys.ts), for actions that get it; older keys lack it. */
  sealed?: string;
}

/**
 * One write to an entity or an API key, kept for about an hour so every controller can drop what
 * it cached (api/entity-change-feed.ts). `collection` is `authKeys` for keys (`name` = the uuid).
 */
export interface EntityChange {
  /** Unique per change. */
  id: string;
  /** The writer's clock, epoch ms. */
  at: number;
  collection: Collection | 'authKeys';
  /** The entity's namespace path (`guest` or `guest/pkg`); the key's namespace. */
  namespace: string;
  name: string;
}

/** How long changes are kept. */
export const ENTITY_CHANGE_RETENTION_MS = 3_600_000;

export interface EntityStore {
  /** `namespace` may contain a package (`guest/pkg`). */
  get<T extends EntityDocument>(
    collection: Collection,
    namespace: string,
    name: string,
  ): Promise<T | undefined>;
  /** Returns false (and changes nothing) when mode is `create` and the document already exists. */
  put(collection: Collection, doc: EntityDocument, mode: PutMode): Promise<boolean>;
  /** Returns false when there was nothing to delete. */
  delete(collection: Collection, namespace: string, name: string): Promise<boolean>;
  /** Every document under a root namespace, packages' contents included, newest `updated` first. */
  list<T extends EntityDocument>(collection: Collection, rootNamespace: string): Promise<T[]>;

  getAuthKey(uuid: string): Promise<AuthKeyRecord | undefined>;
  putAuthKey(record: AuthKeyRecord): Promise<void>;
  deleteAuthKey(uuid: string): Promise<boolean>;
  /** All keys, or a namespace's keys. */
  listAuthKeys(namespace?: string): Promise<AuthKeyRecord[]>;

  /**
   * Changes recorded at or after `sinceMs` (writer's clock), oldest first. Every put, delete,
   * putAuthKey and deleteAuthKey records one, after the write itself is done.
   */
  changesSince(sinceMs: number): Promise<EntityChange[]>;

  close(): Promise<void>;
}

/** `guest/pkg` + `name` → root `guest`, qualified `pkg/name`. */
export function splitEntityKey(namespace: string, name: string): { root: string; qualified: string } {
  const slash = namespace.indexOf('/');
  if (slash < 0) return { root: namespace, qualified: name };
  return { root: namespace.slice(0, slash), qualified: `${namespace.slice(slash + 1)}/${name}` };
}

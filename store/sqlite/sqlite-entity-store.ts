// EntityStore on SQLite (the embedded default).
import type {
  AuthKeyRecord,
  Collection,
  EntityChange,
  EntityDocument,
  EntityStore,
  PutMode,
} from '../entity-store';
import { ENTITY_CHANGE_RETENTION_MS, splitEntityKey } from '../entity-store';
import type { SqliteDatabase } from './open-database';

export class SqliteEntityStore implements EntityStore {
  readonly #db: SqliteDatabase;
  readonly #ownsDb: boolean;
  readonly #stmt;

  constructor(db: SqliteDatabase, options: { ownsDb?: boolean } = {}) {
    this.#db = db;
    this.#ownsDb = options.ownsDb ?? false;
    this.#stmt = {
      get: db.prepare('SELECT doc FROM entities WHERE collection = ? AND root_namespace = ? AND name = ?'),
      insert: db.prepare(
        'INSERT OR IGNORE INTO entities (collection, root_namespace, name, updated, doc) VALUES (?, ?, ?, ?, ?)',
      ),
      upsert: db.prepare(
        'INSERT OR REPLACE INTO entities (collection, root_namespace, name, updated, doc) VALUES (?, ?, ?, ?, ?)',
      ),
      delete: db.prepare('DELETE FROM entities WHERE collection = ? AND root_namespace = ? AND name = ?'),
      list: db.prepare(
        'SELECT doc FROM entities WHERE collection = ? AND root_namespace = ? ORDER BY updated DESC',
      ),
      getKey: db.prepare('SELECT doc FROM auth_keys WHERE uuid = ?'),
      putKey: db.prepare('INSERT OR REPLACE INTO auth_keys (uuid, namespace, doc) VALUES (?, ?, ?)'),
      deleteKey: db.prepare('DELETE FROM auth_keys WHERE uuid = ?'),
      listKeys: db.prepare('SELECT doc FROM auth_keys ORDER BY namespace, uuid'),
      listKeysOf: db.prepare('SELECT doc FROM auth_keys WHERE namespace = ? ORDER BY uuid'),
      change: db.prepare('INSERT INTO entity_changes (at, collection, namespace, name) VALUES (?, ?, ?, ?)'),
      pruneChanges: db.prepare('DELETE FROM entity_changes WHERE at < ?'),
      changesSince: db.prepare(
        'SELECT seq, at, collection, namespace, name FROM entity_changes WHERE at >= ? ORDER BY seq',
      ),
    };
  }

  async get<T extends EntityDocument>(
    collection: Collection,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    const { root, qualified } = splitEntityKey(namespace, name);
    const row = this.#stmt.get.get(collection, root, qualified) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : undefined;
  }

  async put(collection: Collection, doc: EntityDocument, mode: PutMode): Promise<boolean> {
    const { root, qualified } = splitEntityKey(doc.namespace, doc.name);
    const statement = mode === 'create' ? this.#stmt.insert : this.#stmt.upsert;
    const written = statement.run(collection, root, qualified, doc.updated, JSON.stringify(doc)).changes > 0;
    if (written) this.#recordChange(collection, doc.namespace, doc.name);
    return written;
  }

  async delete(collection: Collection, namespace: string, name: string): Promise<boolean> {
    const { root, qualified } = splitEntityKey(namespace, name);
    const deleted = this.#stmt.delete.run(collection, root, qualified).changes > 0;
    if (deleted) this.#recordChange(collection, namespace, name);
    return deleted;
  }

  async changesSince(sinceMs: number): Promise<EntityChange[]> {
    const rows = this.#stmt.changesSince.all(sinceMs) as (Omit<EntityChange, 'id'> & { seq: number })[];
    return rows.map(({ seq, ...change }) => ({ id: String(seq), ...change }));
  }

  #recordChange(collection: EntityChange['collection'], namespace: string, name: string): void {
    const now = Date.now();
    this.#stmt.change.run(now, collection, namespace, name);
    this.#stmt.pruneChanges.run(now - ENTITY_CHANGE_RETENTION_MS);
  }

  async list<T extends EntityDocument>(collection: Collection, rootNamespace: string): Promise<T[]> {
    const rows = this.#stmt.list.all(collection, rootNamespace) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as T);
  }

  async getAuthKey(uuid: string): Promise<AuthKeyRecord | undefined> {
    const row = this.#stmt.getKey.get(uuid) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as AuthKeyRecord) : undefined;
  }

  async putAuthKey(record: AuthKeyRecord): Promise<void> {
    this.#stmt.putKey.run(record.uuid, record.namespace, JSON.stringify(record));
    this.#recordChange('authKeys', record.namespace, record.uuid);
  }

  async deleteAuthKey(uuid: string): Promise<boolean> {
    const record = await this.getAuthKey(uuid);
    const deleted = this.#stmt.deleteKey.run(uuid).changes > 0;
    if (deleted) this.#recordChange('authKeys', record?.namespace ?? '', uuid);
    return deleted;
  }

  async listAuthKeys(namespace?: string): Promise<AuthKeyRecord[]> {
    const rows = (
      namespace === undefined ? this.#stmt.listKeys.all() : this.#stmt.listKeysOf.all(namespace)
    ) as {
      doc: string;
    }[];
    return rows.map((row) => JSON.parse(row.doc) as AuthKeyRecord);
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.open) this.#db.close();
  }
}

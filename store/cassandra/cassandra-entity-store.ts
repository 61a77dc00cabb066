// EntityStore on Cassandra.
import { types, type Client } from 'cassandra-driver';
import type {
  AuthKeyRecord,
  Collection,
  EntityChange,
  EntityDocument,
  EntityStore,
  PutMode,
} from '../entity-store';
import { splitEntityKey } from '../entity-store';

const MINUTE_MS = 60_000;

export class CassandraEntityStore implements EntityStore {
  readonly #client: Client;
  readonly #ownsClient: boolean;
  readonly #cql;

  /** The schema must exist (`migrateCassandraSchema`). */
  constructor(client: Client, keyspace: string, options: { ownsClient?: boolean } = {}) {
    this.#client = client;
    this.#ownsClient = options.ownsClient ?? false;
    const ks = keyspace;
    this.#cql = {
      get: `SELECT doc FROM ${ks}.entities WHERE collection = ? AND root_namespace = ? AND name = ?`,
      // Lightweight transaction: two controllers creating the same name cannot both win.
      insert: `INSERT INTO ${ks}.entities (collection, root_namespace, name, updated, doc) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
      upsert: `INSERT INTO ${ks}.entities (collection, root_namespace, name, updated, doc) VALUES (?, ?, ?, ?, ?)`,
      delete: `DELETE FROM ${ks}.entities WHERE collection = ? AND root_namespace = ? AND name = ? IF EXISTS`,
      list: `SELECT doc FROM ${ks}.entities WHERE collection = ? AND root_namespace = ?`,
      getKey: `SELECT doc FROM ${ks}.auth_keys WHERE uuid = ?`,
      putKey: `INSERT INTO ${ks}.auth_keys (uuid, namespace, doc) VALUES (?, ?, ?)`,
      deleteKey: `DELETE FROM ${ks}.auth_keys WHERE uuid = ? IF EXISTS`,
      // Admin-only: the key table is small, a scan is fine.
      listKeys: `SELECT doc FROM ${ks}.auth_keys`,
      change: `INSERT INTO ${ks}.entity_changes (minute, at, id, collection, namespace, name) VALUES (?, ?, ?, ?, ?, ?)`,
      changesSince: `SELECT at, id, collection, namespace, name FROM ${ks}.entity_changes WHERE minute = ? AND at >= ?`,
    };
  }

  async get<T extends EntityDocument>(
    collection: Collection,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    const { root, qualified } = splitEntityKey(namespace, name);
    const row = (await this.#client.execute(this.#cql.get, [collection, root, qualified])).first();
    return row ? (JSON.parse(row.get('doc') as string) as T) : undefined;
  }

  async put(collection: Collection, doc: EntityDocument, mode: PutMode): Promise<boolean> {
    const { root, qualified } = splitEntityKey(doc.namespace, doc.name);
    const params = [collection, root, qualified, doc.updated, JSON.stringify(doc)];
    const written =
      mode === 'overwrite'
        ? (await this.#client.execute(this.#cql.upsert, params), true)
        : (await this.#client.execute(this.#cql.insert, params)).wasApplied();
    if (written) await this.#recordChange(collection, doc.namespace, doc.name);
    return written;
  }

  async delete(collection: Collection, namespace: string, name: string): Promise<boolean> {
    const { root, qualified } = splitEntityKey(namespace, name);
    const deleted = (
      await this.#client.execute(this.#cql.delete, [collection, root, qualified])
    ).wasApplied();
    if (deleted) await this.#recordChange(collection, namespace, name);
    return deleted;
  }

  async changesSince(sinceMs: number): Promise<EntityChange[]> {
    const changes: EntityChange[] = [];
    const last = Math.floor(Date.now() / MINUTE_MS);
    for (let minute = Math.floor(sinceMs / MINUTE_MS); minute <= last; minute += 1) {
      const rows = await this.#client.execute(this.#cql.changesSince, [minute, sinceMs], { prepare: true });
      for (const row of rows.rows) {
        changes.push({
          id: String(row.get('id')),
          at: Number(row.get('at')),
          collection: row.get('collection') as EntityChange['collection'],
          namespace: row.get('namespace') as string,
          name: row.get('name') as string,
        });
      }
    }
    return changes;
  }

  async #recordChange(
    collection: EntityChange['collection'],
    namespace: string,
    name: string,
  ): Promise<void> {
    const at = Date.now();
    await this.#client.execute(
      this.#cql.change,
      [Math.floor(at / MINUTE_MS), at, types.TimeUuid.now(), collection, namespace, name],
      { prepare: true },
    );
  }

  async list<T extends EntityDocument>(collection: Collection, rootNamespace: string): Promise<T[]> {
    const docs = (await this.#allDocs(this.#cql.list, [collection, rootNamespace])).map(
      (doc) => JSON.parse(doc) as T,
    );
    return docs.sort((a, b) => b.updated - a.updated);
  }

  async getAuthKey(uuid: string): Promise<AuthKeyRecord | undefined> {
    const row = (await this.#client.execute(this.#cql.getKey, [uuid])).first();
    return row ? (JSON.parse(row.get('doc') as string) as AuthKeyRecord) : undefined;
  }

  async putAuthKey(record: AuthKeyRecord): Promise<void> {
    await this.#client.execute(this.#cql.putKey, [record.uuid, record.namespace, JSON.stringify(record)]);
    await this.#recordChange('authKeys', record.namespace, record.uuid);
  }

  async deleteAuthKey(uuid: string): Promise<boolean> {
    const record = await this.getAuthKey(uuid);
    const deleted = (await this.#client.execute(this.#cql.deleteKey, [uuid])).wasApplied();
    if (deleted) await this.#recordChange('authKeys', record?.namespace ?? '', uuid);
    return deleted;
  }

  async listAuthKeys(namespace?: string): Promise<AuthKeyRecord[]> {
    const keys = (await this.#allDocs(this.#cql.listKeys, []))
      .map((doc) => JSON.parse(doc) as AuthKeyRecord)
      .filter((key) => namespace === undefined || key.namespace === namespace);
    return keys.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.uuid.localeCompare(b.uuid));
  }

  /** The `doc` column of every row, following pages. */
  async #allDocs(cql: string, params: unknown[]): Promise<string[]> {
    const docs: string[] = [];
    let pageState: string | undefined;
    do {
      const page = await this.#client.execute(cql, params, { prepare: true, fetchSize: 500, pageState });
      for (const row of page.rows) docs.push(row.get('doc') as string);
      pageState = page.pageState ?? undefined;
    } while (pageState);
    return docs;
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.shutdown();
  }
}

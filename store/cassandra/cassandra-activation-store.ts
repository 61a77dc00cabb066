// ActivationStore on Cassandra: three tables written per record (by id; by namespace and day;
// by namespace, name and day), each row with the configured TTL. Listings walk the day
// partitions newest first and stop once skip + limit rows are found.
import type { Client } from 'cassandra-driver';
import { concurrent } from 'cassandra-driver';
import type { Activation } from '../../common/types';
import type { ActivationQuery, ActivationStore } from '../activation-store';
import { activationFilterName } from '../activation-store';
import { DAY_MS, dayOf } from './cassandra-schema';

/** Keeps a partition's batch well under Cassandra's batch_size_fail_threshold (50 KiB). */
const MAX_BATCH_BYTES = 32 * 1024;

type Statement = { query: string; params: unknown[] };

/** How far back a listing looks when `since` is not given and there is no TTL. */
const UNBOUNDED_LOOKBACK_DAYS = 31;

export class CassandraActivationStore implements ActivationStore {
  readonly #client: Client;
  readonly #ownsClient: boolean;
  readonly #ttlSeconds: number;
  readonly #cql;

  /** The schema must exist (`migrateCassandraSchema`). */
  constructor(client: Client, keyspace: string, options: { ttlSeconds: number; ownsClient?: boolean }) {
    this.#client = client;
    this.#ownsClient = options.ownsClient ?? false;
    this.#ttlSeconds = options.ttlSeconds;
    const ks = keyspace;
    this.#cql = {
      putById: `INSERT INTO ${ks}.activations_by_id (namespace, activation_id, doc) VALUES (?, ?, ?) USING TTL ?`,
      putByNamespace: `INSERT INTO ${ks}.activations_by_namespace (namespace, day, start, activation_id, doc) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
      putByName: `INSERT INTO ${ks}.activations_by_name (namespace, name, day, start, activation_id, doc) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
      get: `SELECT doc FROM ${ks}.activations_by_id WHERE namespace = ? AND activation_id = ?`,
      listByNamespace: `SELECT doc FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      listByName: `SELECT doc FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      countByNamespace: `SELECT count(*) AS n FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ?`,
      countByName: `SELECT count(*) AS n FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ?`,
    };
  }

  async putBatch(records: readonly Activation[]): Promise<void> {
    const ttl = this.#ttlSeconds;
    const byId: Statement[] = [];
    // Listing rows of one namespace (or one name) and day share a partition: one unlogged batch
    // per partition writes them in a single mutation instead of one request per row.
    const listingRows = new Map<string, { statements: Statement[]; bytes: number }[]>();
    const addListingRow = (partition: string, statement: Statement, bytes: number): void => {
      const chunks = listingRows.get(partition) ?? [];
      let chunk = chunks[chunks.length - 1];
      if (!chunk || chunk.bytes + bytes > MAX_BATCH_BYTES) {
        chunk = { statements: [], bytes: 0 };
        chunks.push(chunk);
        listingRows.set(partition, chunks);
      }
      chunk.statements.push(statement);
      chunk.bytes += bytes;
    };
    for (const r of records) {
      const full = JSON.stringify(r);
      // Listings carry no logs (they can be megabytes); `get` reads the full record.
      const listed = r.logs.length === 0 ? full : JSON.stringify({ ...r, logs: [] });
      const day = dayOf(r.start);
      const name = activationFilterName(r);
      byId.push({ query: this.#cql.putById, params: [r.namespace, r.activationId, full, ttl] });
      addListingRow(
        `${r.namespace}\n${day}`,
        { query: this.#cql.putByNamespace, params: [r.namespace, day, r.start, r.activationId, listed, ttl] },
        listed.length,
      );
      addListingRow(
        `${r.namespace}\n${name}\n${day}`,
        {
          query: this.#cql.putByName,
          params: [r.namespace, name, day, r.start, r.activationId, listed, ttl],
        },
        listed.length,
      );
    }
    const batches = [...listingRows.values()].flat();
    // Every statement is an idempotent upsert, so a failed batch is simply written again.
    await Promise.all([
      concurrent.executeConcurrent(this.#client, byId, { concurrencyLevel: 64 }),
      ...batches.map((b) => this.#client.batch(b.statements, { prepare: true, logged: false })),
    ]);
  }

  async get(namespace: string, activationId: string): Promise<Activation | undefined> {
    const row = (await this.#client.execute(this.#cql.get, [namespace, activationId])).first();
    return row ? (JSON.parse(row.get('doc') as string) as Activation) : undefined;
  }

  async list(namespace: string, query: ActivationQuery): Promise<Activation[]> {
    const wanted = query.skip + query.limit;
    const found: Activation[] = [];
    if (query.limit <= 0) return found;
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      const { cql, params } = this.#dayQuery('list', namespace, query, day);
      const result = await this.#client.execute(cql, [...params, wanted - found.length]);
      for (const row of result.rows) found.push(JSON.parse(row.get('doc') as string) as Activation);
      if (found.length >= wanted) break;
    }
    return found.slice(query.skip, wanted);
  }

  async count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    let total = 0;
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      const { cql, params } = this.#dayQuery('count', namespace, query, day);
      const row = (await this.#client.execute(cql, params)).first();
      total += Number(row?.get('n') ?? 0);
    }
    return total;
  }

  /**
   * Day partitions to visit, newest first: never past tomorrow nor before the retention, so any
   * `since`/`upto` costs at most the retention's days of queries (audit H7).
   */
  *#days(query: Pick<ActivationQuery, 'since' | 'upto'>): Generator<number> {
    const now = Date.now();
    const upto = Math.min(query.upto ?? now, now + DAY_MS);
    const lookbackMs =
      this.#ttlSeconds > 0 ? this.#ttlSeconds * 1000 + DAY_MS : UNBOUNDED_LOOKBACK_DAYS * DAY_MS;
    const since = Math.max(query.since ?? 0, Math.min(upto, now) - lookbackMs);
    for (let day = dayOf(upto); day >= dayOf(since); day--) yield day;
  }

  #dayQuery(
    kind: 'list' | 'count',
    namespace: string,
    query: Pick<ActivationQuery, 'name' | 'since' | 'upto'>,
    day: number,
  ): { cql: string; params: unknown[] } {
    // Bigint bounds: an epoch past 2^53 (`upto=99999999999999999999`) means "no bound".
    const since = Math.min(query.since ?? 0, Number.MAX_SAFE_INTEGER);
    const upto = Math.min(query.upto ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (query.name !== undefined) {
      return {
        cql: kind === 'list' ? this.#cql.listByName : this.#cql.countByName,
        params: [namespace, query.name, day, since, upto],
      };
    }
    return {
      cql: kind === 'list' ? this.#cql.listByNamespace : this.#cql.countByNamespace,
      params: [namespace, day, since, upto],
    };
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.shutdown();
  }
}

// ActivationStore on Cassandra: three rows written per record (the record; by namespace and day;
// by namespace, name and day), each with the configured TTL. The full record is written once, in
// the partition of its namespace and the second its id was made (common/activation-id.ts), or
// by id for ids that carry no time; listing rows carry only keys (their `doc` is empty), and a
// listing reads the records it returns by id. Listings walk the day partitions newest first and
// stop once skip + limit rows are found. A flush's rows go out as a few unlogged batches of any
// partitions, each under MAX_BATCH_BYTES: one request for many records instead of one or more per
// record. (On a multi-node cluster, grouping the rows by replica would spare the coordinator its
// fan-out.)
import type { Client } from 'cassandra-driver';
import { activationIdTime } from '../../common/activation-id';
import type { Activation } from '../../common/types';
import type { ActivationQuery, ActivationStore } from '../activation-store';
import { activationFilterName } from '../activation-store';
import { DAY_MS, dayOf } from './cassandra-schema';

/** Keeps a partition's batch well under Cassandra's batch_size_fail_threshold (50 KiB). */
const MAX_BATCH_BYTES = 32 * 1024;
/** What a listing row weighs in a batch besides the record (keys, TTL). */
const LISTING_ROW_BYTES = 128;

type Statement = { query: string; params: unknown[] };

/**
 * Every query prepared, whatever the client's defaults: unprepared, the driver guesses a number's
 * type, and a bigint key (`second`, `start`) sent as a double matches no row.
 */
const PREPARED = { prepare: true } as const;

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
      putBySecond: `INSERT INTO ${ks}.activations_by_second (namespace, second, activation_id, doc) VALUES (?, ?, ?, ?) USING TTL ?`,
      putById: `INSERT INTO ${ks}.activations_by_id (namespace, activation_id, doc) VALUES (?, ?, ?) USING TTL ?`,
      putByNamespace: `INSERT INTO ${ks}.activations_by_namespace (namespace, day, start, activation_id, doc) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
      putByName: `INSERT INTO ${ks}.activations_by_name (namespace, name, day, start, activation_id, doc) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
      getBySecond: `SELECT doc FROM ${ks}.activations_by_second WHERE namespace = ? AND second = ? AND activation_id = ?`,
      getById: `SELECT doc FROM ${ks}.activations_by_id WHERE namespace = ? AND activation_id = ?`,
      listByNamespace: `SELECT activation_id FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      listByName: `SELECT activation_id FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      countByNamespace: `SELECT count(*) AS n FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ?`,
      countByName: `SELECT count(*) AS n FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ?`,
    };
  }

  async putBatch(records: readonly Activation[]): Promise<void> {
    const ttl = this.#ttlSeconds;
    const batches: Statement[][] = [];
    let batch: Statement[] = [];
    let bytes = 0;
    const add = (statement: Statement, size: number): void => {
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(statement);
      bytes += size;
    };
    for (const r of records) {
      const doc = JSON.stringify(r);
      const day = dayOf(r.start);
      const name = activationFilterName(r);
      // A record larger than a batch goes alone (Cassandra only warns above the threshold).
      add(this.#recordRow('put', r.namespace, r.activationId, [doc, ttl]), doc.length);
      add(
        { query: this.#cql.putByNamespace, params: [r.namespace, day, r.start, r.activationId, '', ttl] },
        LISTING_ROW_BYTES,
      );
      add(
        { query: this.#cql.putByName, params: [r.namespace, name, day, r.start, r.activationId, '', ttl] },
        LISTING_ROW_BYTES,
      );
    }
    if (batch.length > 0) batches.push(batch);
    // Every statement is an idempotent upsert, so a failed batch is simply written again.
    await Promise.all(batches.map((b) => this.#client.batch(b, { prepare: true, logged: false })));
  }

  async get(namespace: string, activationId: string): Promise<Activation | undefined> {
    const { query, params } = this.#recordRow('get', namespace, activationId, []);
    const row = (await this.#client.execute(query, params, PREPARED)).first();
    return row ? (JSON.parse(row.get('doc') as string) as Activation) : undefined;
  }

  async list(namespace: string, query: ActivationQuery): Promise<Activation[]> {
    const wanted = query.skip + query.limit;
    const found: string[] = [];
    if (query.limit <= 0) return [];
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      const { cql, params } = this.#dayQuery('list', namespace, query, day);
      // Iterating the result set fetches its further pages: `skip` past one page (5000 rows) of
      // a day still lands on the right rows (audit L12).
      const result = await this.#client.execute(cql, [...params, wanted - found.length], PREPARED);
      for await (const row of result) {
        found.push(row.get('activation_id') as string);
        if (found.length >= wanted) break;
      }
      if (found.length >= wanted) break;
    }
    const records = await Promise.all(found.slice(query.skip, wanted).map((id) => this.get(namespace, id)));
    // Listings carry no logs (they can be megabytes); `get` returns the whole record.
    return records.filter((r): r is Activation => r !== undefined).map((r) => ({ ...r, logs: [] }));
  }

  async count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    let total = 0;
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      const { cql, params } = this.#dayQuery('count', namespace, query, day);
      const row = (await this.#client.execute(cql, params, PREPARED)).first();
      total += Number(row?.get('n') ?? 0);
    }
    return total;
  }

  /** The statement that puts or gets a record, in the table its id's layout picks. */
  #recordRow(verb: 'put' | 'get', namespace: string, activationId: string, rest: unknown[]): Statement {
    const createdAt = activationIdTime(activationId);
    return createdAt === undefined
      ? {
          query: verb === 'put' ? this.#cql.putById : this.#cql.getById,
          params: [namespace, activationId, ...rest],
        }
      : {
          query: verb === 'put' ? this.#cql.putBySecond : this.#cql.getBySecond,
          params: [namespace, Math.floor(createdAt / 1000), activationId, ...rest],
        };
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

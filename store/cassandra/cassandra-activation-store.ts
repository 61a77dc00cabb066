// ActivationStore on Cassandra. The full record is written once, in the partition of its namespace
// and the second its id was made (common/activation-id.ts), or by id for ids that carry no time.
// Listings read an index, `activation_starts`: per namespace (and per name) and second of `start`,
// the ids and starts of the records that started in it, packed by flush, so a flush adds one cell
// to a few rows whatever its size. Cassandra's work goes by rows and cells, so a record costs about
// one row: the two listing rows per record that versions before 2026-12-02 wrote were most of the
// JVM's and the driver's work per record; they are still read, not written, until their records
// expire. Listings walk the days newest first, a day's seconds newest first, and stop once skip +
// limit records are found; they read the records they return by id. A flush goes out as a few
// unlogged batches of any partitions, each under MAX_BATCH_BYTES: one request for many records
// instead of one or more per record. (On a multi-node cluster, grouping the rows by replica would
// spare the coordinator its fan-out.)
import { createHash } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { activationIdTime } from '../../common/activation-id';
import type { Activation } from '../../common/types';
import type { ActivationQuery, ActivationStore } from '../activation-store';
import { activationFilterName } from '../activation-store';
import { DAY_MS, dayOf } from './cassandra-schema';

/** Keeps a partition's batch well under Cassandra's batch_size_fail_threshold (50 KiB). */
const MAX_BATCH_BYTES = 32 * 1024;
/** Records per index cell: a busy second's flush is split, each cell well under the batch size. */
const STARTS_PER_CELL = 256;
/** Index rows (seconds) a listing reads per page: a busy second's row holds thousands of cells. */
const SECONDS_PER_PAGE = 16;
/** The index row of every name of a namespace. */
const ALL_NAMES = '';

type Statement = { query: string; params: unknown[] };

/** A record as a listing orders it: newest `start` first, then the greater id. */
interface Started {
  start: number;
  id: string;
}
const newestFirst = (a: Started, b: Started): number =>
  b.start - a.start || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** One index cell: records of one flush that started in one second (namespace, name, second). */
interface StartsCell {
  key: [namespace: string, name: string, day: number, second: number];
  /** [activation id, start], as the cell keeps them (JSON). */
  starts: [string, number][];
}

/** A bigint as the driver returns it (a Long), or a number. */
type BigInt64 = { toNumber(): number } | number;
const toNumber = (value: BigInt64): number => (typeof value === 'number' ? value : value.toNumber());

/** A listing's filters, its bounds on `start` made safe for bigint columns. */
interface Bounds {
  name: string | undefined;
  since: number;
  upto: number;
}
function boundsOf(query: Pick<ActivationQuery, 'name' | 'since' | 'upto'>): Bounds {
  // An epoch past 2^53 (`upto=99999999999999999999`) means "no bound".
  return {
    name: query.name,
    since: Math.min(query.since ?? 0, Number.MAX_SAFE_INTEGER),
    upto: Math.min(query.upto ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
}

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
      addStarts: `UPDATE ${ks}.activation_starts USING TTL ? SET starts = starts + ? WHERE namespace = ? AND name = ? AND day = ? AND second = ?`,
      getBySecond: `SELECT doc FROM ${ks}.activations_by_second WHERE namespace = ? AND second = ? AND activation_id = ?`,
      getById: `SELECT doc FROM ${ks}.activations_by_id WHERE namespace = ? AND activation_id = ?`,
      startsOn: `SELECT starts FROM ${ks}.activation_starts WHERE namespace = ? AND name = ? AND day = ? AND second >= ? AND second <= ?`,
      legacyByNamespace: `SELECT start, activation_id FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      legacyByName: `SELECT start, activation_id FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ? LIMIT ?`,
      legacyCountByNamespace: `SELECT count(*) AS n FROM ${ks}.activations_by_namespace WHERE namespace = ? AND day = ? AND start >= ? AND start <= ?`,
      legacyCountByName: `SELECT count(*) AS n FROM ${ks}.activations_by_name WHERE namespace = ? AND name = ? AND day = ? AND start >= ? AND start <= ?`,
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
    const cells = new Map<string, StartsCell>();
    const index = (namespace: string, name: string, r: Activation): void => {
      const second = Math.floor(r.start / 1000);
      const key = `${namespace}\n${name}\n${second}`;
      let cell = cells.get(key);
      if (cell === undefined || cell.starts.length === STARTS_PER_CELL) {
        // A full cell goes out now; the second's next records start another.
        if (cell !== undefined) this.#addStarts(cell, ttl, add);
        cell = { key: [namespace, name, dayOf(r.start), second], starts: [] };
        cells.set(key, cell);
      }
      cell.starts.push([r.activationId, r.start]);
    };
    for (const r of records) {
      const doc = JSON.stringify(r);
      // A record larger than a batch goes alone (Cassandra only warns above the threshold).
      add(this.#recordRow('put', r.namespace, r.activationId, [doc, ttl]), doc.length);
      index(r.namespace, ALL_NAMES, r);
      index(r.namespace, activationFilterName(r), r);
    }
    for (const cell of cells.values()) this.#addStarts(cell, ttl, add);
    if (batch.length > 0) batches.push(batch);
    // Every statement is an upsert, so a failed batch is simply written again (a cell is named by
    // its content: the same flush writes the same cells; a record in two cells is read once).
    await Promise.all(batches.map((b) => this.#client.batch(b, { prepare: true, logged: false })));
  }

  #addStarts(cell: StartsCell, ttl: number, add: (statement: Statement, size: number) => void): void {
    const packed = JSON.stringify(cell.starts);
    add(
      {
        query: this.#cql.addStarts,
        params: [ttl, { [createHash('sha1').update(packed).digest('base64url')]: packed }, ...cell.key],
      },
      packed.length,
    );
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
    const bounds = boundsOf(query);
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      for (const { id } of await this.#startedOn(namespace, bounds, day, wanted - found.length)) {
        found.push(id);
        if (found.length >= wanted) break;
      }
      if (found.length >= wanted) break;
    }
    const records = await Promise.all(found.slice(query.skip, wanted).map((id) => this.get(namespace, id)));
    // Listings carry no logs (they can be megabytes); `get` returns the whole record.
    return records.filter((r): r is Activation => r !== undefined).map((r) => ({ ...r, logs: [] }));
  }

  async count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    const bounds = boundsOf(query);
    let total = 0;
    for (const day of this.#days(query)) {
      query.signal?.throwIfAborted();
      const indexed = async (): Promise<number> => {
        let n = 0;
        for await (const starts of this.#secondsOf(namespace, bounds, day)) n += starts.length;
        return n;
      };
      const [fromIndex, legacy] = await Promise.all([indexed(), this.#legacyCountOn(namespace, bounds, day)]);
      total += fromIndex + legacy;
    }
    return total;
  }

  /**
   * The records that started on `day` within the bounds, newest first: at least `wanted` of them
   * when there are (whole seconds, so often more), or all.
   */
  async #startedOn(namespace: string, bounds: Bounds, day: number, wanted: number): Promise<Started[]> {
    const indexed = async (): Promise<Started[]> => {
      const started: Started[] = [];
      for await (const starts of this.#secondsOf(namespace, bounds, day)) {
        started.push(...starts.sort(newestFirst));
        if (started.length >= wanted) break;
      }
      return started;
    };
    const [fromIndex, legacy] = await Promise.all([
      indexed(),
      this.#legacyOn(namespace, bounds, day, wanted),
    ]);
    return legacy.length === 0 ? fromIndex : [...fromIndex, ...legacy].sort(newestFirst);
  }

  /** The index rows of `day` within the bounds, newest second first: each second's records in the bounds. */
  async *#secondsOf(
    namespace: string,
    { name, since, upto }: Bounds,
    day: number,
  ): AsyncGenerator<Started[]> {
    const params = [namespace, name ?? ALL_NAMES, day, Math.floor(since / 1000), Math.floor(upto / 1000)];
    // Iterating the result set fetches its further pages (audit L12).
    const result = await this.#client.execute(this.#cql.startsOn, params, {
      ...PREPARED,
      fetchSize: SECONDS_PER_PAGE,
    });
    for await (const row of result) {
      const seen = new Set<string>();
      const starts: Started[] = [];
      for (const packed of Object.values((row.get('starts') ?? {}) as Record<string, string>)) {
        for (const [id, start] of JSON.parse(packed) as [string, number][]) {
          if (start >= since && start <= upto && !seen.has(id)) starts.push({ start, id });
          seen.add(id);
        }
      }
      yield starts;
    }
  }

  /** From the listing rows per record of earlier versions, newest first. */
  async #legacyOn(namespace: string, bounds: Bounds, day: number, wanted: number): Promise<Started[]> {
    const { cql, params } = this.#legacyQuery('list', namespace, bounds, day);
    const started: Started[] = [];
    for await (const row of await this.#client.execute(cql, [...params, wanted], PREPARED)) {
      started.push({ start: toNumber(row.get('start') as BigInt64), id: row.get('activation_id') as string });
      if (started.length >= wanted) break;
    }
    return started;
  }

  async #legacyCountOn(namespace: string, bounds: Bounds, day: number): Promise<number> {
    const { cql, params } = this.#legacyQuery('count', namespace, bounds, day);
    const row = (await this.#client.execute(cql, params, PREPARED)).first();
    return Number(row?.get('n') ?? 0);
  }

  /** The query of a day's listing rows per record, by namespace or by name. */
  #legacyQuery(
    kind: 'list' | 'count',
    namespace: string,
    { name, since, upto }: Bounds,
    day: number,
  ): { cql: string; params: unknown[] } {
    const cql = this.#cql;
    return name === undefined
      ? {
          cql: kind === 'list' ? cql.legacyByNamespace : cql.legacyCountByNamespace,
          params: [namespace, day, since, upto],
        }
      : {
          cql: kind === 'list' ? cql.legacyByName : cql.legacyCountByName,
          params: [namespace, name, day, since, upto],
        };
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

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.shutdown();
  }
}

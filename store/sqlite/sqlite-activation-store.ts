// ActivationStore on SQLite (the embedded default). Retention: rows carry an expiry; reads skip
// expired rows and `putBatch` prunes them now and then.
import type { Activation } from '../../common/types';
import type { ActivationQuery, ActivationStore } from '../activation-store';
import { activationFilterName } from '../activation-store';
import type { SqliteDatabase } from './open-database';

const PRUNE_EVERY_MS = 60_000;

export class SqliteActivationStore implements ActivationStore {
  readonly #db: SqliteDatabase;
  readonly #ownsDb: boolean;
  readonly #ttlMs: number;
  readonly #insert;
  readonly #get;
  readonly #prune;
  readonly #insertMany;
  #lastPrune = 0;

  constructor(db: SqliteDatabase, options: { ttlSeconds: number; ownsDb?: boolean }) {
    this.#db = db;
    this.#ownsDb = options.ownsDb ?? false;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#insert = db.prepare(
      'INSERT OR REPLACE INTO activations (namespace, activation_id, name, start, expires, doc) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#get = db.prepare(
      'SELECT doc FROM activations WHERE namespace = ? AND activation_id = ? AND expires > ?',
    );
    this.#prune = db.prepare('DELETE FROM activations WHERE expires <= ?');
    this.#insertMany = db.transaction((records: readonly Activation[], expires: number) => {
      for (const r of records) {
        this.#insert.run(
          r.namespace,
          r.activationId,
          activationFilterName(r),
          r.start,
          expires,
          JSON.stringify(r),
        );
      }
    });
  }

  async putBatch(records: readonly Activation[]): Promise<void> {
    const now = Date.now();
    this.#insertMany(records, now + this.#ttlMs);
    if (now - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      this.#prune.run(now);
    }
  }

  async get(namespace: string, activationId: string): Promise<Activation | undefined> {
    const row = this.#get.get(namespace, activationId, Date.now()) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Activation) : undefined;
  }

  async list(namespace: string, query: ActivationQuery): Promise<Activation[]> {
    query.signal?.throwIfAborted();
    const { sql, args } = this.#where(namespace, query);
    const rows = this.#db
      .prepare(`SELECT doc FROM activations ${sql} ORDER BY start DESC, activation_id DESC LIMIT ? OFFSET ?`)
      .all(...args, query.limit, query.skip) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as Activation);
  }

  async count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    const { sql, args } = this.#where(namespace, query);
    const row = this.#db.prepare(`SELECT count(*) AS n FROM activations ${sql}`).get(...args) as {
      n: number;
    };
    return row.n;
  }

  #where(
    namespace: string,
    query: Omit<ActivationQuery, 'skip' | 'limit'>,
  ): { sql: string; args: unknown[] } {
    const clauses = ['namespace = ?', 'expires > ?'];
    const args: unknown[] = [namespace, Date.now()];
    if (query.name !== undefined) {
      clauses.push('name = ?');
      args.push(query.name);
    }
    if (query.since !== undefined) {
      clauses.push('start >= ?');
      args.push(query.since);
    }
    if (query.upto !== undefined) {
      clauses.push('start <= ?');
      args.push(query.upto);
    }
    return { sql: `WHERE ${clauses.join(' AND ')}`, args };
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.open) this.#db.close();
  }
}

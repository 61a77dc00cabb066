// One contract, two implementations: the SQLite stores (embedded default) and the Cassandra
// stores (real Cassandra on 127.0.0.1:9042, keyspace gust_contract_test).
import type { Client } from 'cassandra-driver';
import { newActivationId } from '../../common/activation-id';
import type { Activation } from '../../common/types';
import type { ActivationStore } from '../../store/activation-store';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';
import { CassandraEntityStore } from '../../store/cassandra/cassandra-entity-store';
import { migrateCassandraSchema } from '../../store/cassandra/cassandra-schema';
import type { EntityDocument, EntityStore } from '../../store/entity-store';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteActivationStore } from '../../store/sqlite/sqlite-activation-store';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';

jest.setTimeout(60_000);

const KEYSPACE = 'gust_contract_test';

interface Stores {
  entities: EntityStore;
  activations: ActivationStore;
  /** Stores whose activations live `ttlSeconds`. */
  withTtl(ttlSeconds: number): ActivationStore;
  close(): Promise<void>;
}

async function openSqlite(): Promise<Stores> {
  const db = openSqliteDatabase(':memory:');
  // Migrating an existing database again changes nothing.
  openSqliteDatabase(':memory:').close();
  return {
    entities: new SqliteEntityStore(db),
    activations: new SqliteActivationStore(db, { ttlSeconds: 3600 }),
    withTtl: (ttlSeconds) => new SqliteActivationStore(db, { ttlSeconds }),
    close: async () => {
      db.close();
    },
  };
}

async function openCassandra(): Promise<Stores> {
  const client: Client = createCassandraClient({ contactPoints: ['127.0.0.1'], keyspace: KEYSPACE });
  await client.connect();
  await migrateCassandraSchema(client, KEYSPACE);
  // Idempotent: a second run of the migration is a no-op.
  await migrateCassandraSchema(client, KEYSPACE);
  for (const table of [
    'entities',
    'auth_keys',
    'activations_by_second',
    'activations_by_id',
    'activation_starts',
    'activations_by_namespace',
    'activations_by_name',
    'entity_changes',
  ]) {
    await client.execute(`TRUNCATE ${KEYSPACE}.${table}`);
  }
  return {
    entities: new CassandraEntityStore(client, KEYSPACE),
    activations: new CassandraActivationStore(client, KEYSPACE, { ttlSeconds: 3600 }),
    withTtl: (ttlSeconds) => new CassandraActivationStore(client, KEYSPACE, { ttlSeconds }),
    close: () => client.shutdown(),
  };
}

interface Doc extends EntityDocument {
  body: string;
}

const doc = (namespace: string, name: string, updated: number, body = 'x'): Doc => ({
  namespace,
  name,
  updated,
  body,
});

/**
 * Even `id`s get Gust's time-ordered activation ids, odd ones ids without a time (OpenWhisk's,
 * records written before): the stores keep both, and the Cassandra store in different tables.
 */
function activation(namespace: string, name: string, start: number, id: number, path?: string): Activation {
  return {
    namespace,
    name,
    version: '0.0.1',
    subject: namespace,
    activationId: id % 2 === 0 ? newActivationId(start) : id.toString(16).padStart(32, '0'),
    start,
    end: start + 5,
    duration: 5,
    statusCode: 0,
    response: { status: 'success', statusCode: 0, success: true, result: { id } },
    logs: [`log ${id}`],
    annotations: path ? [{ key: 'path', value: path }] : [],
    publish: false,
  };
}

describe.each([
  ['sqlite', openSqlite],
  ['cassandra', openCassandra],
])('%s stores', (_kind, open) => {
  let s: Stores;
  beforeAll(async () => {
    s = await open();
  });
  afterAll(() => s.close());

  describe('entities', () => {
    test('create refuses an existing document; overwrite replaces', async () => {
      expect(await s.entities.put('actions', doc('ns1', 'a', 1, 'first'), 'create')).toBe(true);
      expect(await s.entities.put('actions', doc('ns1', 'a', 2, 'second'), 'create')).toBe(false);
      expect(await s.entities.get<Doc>('actions', 'ns1', 'a')).toMatchObject({ body: 'first' });
      expect(await s.entities.put('actions', doc('ns1', 'a', 3, 'third'), 'overwrite')).toBe(true);
      expect(await s.entities.get<Doc>('actions', 'ns1', 'a')).toMatchObject({ body: 'third', updated: 3 });
    });

    test('collections and namespaces are separate; package contents list under the root', async () => {
      await s.entities.put('packages', doc('ns2', 'a', 1), 'create');
      await s.entities.put('actions', doc('ns2/a', 'inner', 5), 'create');
      await s.entities.put('actions', doc('ns2', 'outer', 4), 'create');
      await s.entities.put('actions', doc('ns3', 'elsewhere', 9), 'create');
      expect(await s.entities.get('actions', 'ns2', 'a')).toBeUndefined();
      expect(await s.entities.get('actions', 'ns2/a', 'inner')).toMatchObject({
        namespace: 'ns2/a',
        name: 'inner',
      });
      const listed = await s.entities.list<Doc>('actions', 'ns2');
      expect(listed.map((d) => `${d.namespace}/${d.name}`)).toEqual(['ns2/a/inner', 'ns2/outer']);
      expect((await s.entities.list('packages', 'ns2')).length).toBe(1);
    });

    test('delete reports whether there was something to delete', async () => {
      await s.entities.put('rules', doc('ns4', 'r', 1), 'create');
      expect(await s.entities.delete('rules', 'ns4', 'r')).toBe(true);
      expect(await s.entities.delete('rules', 'ns4', 'r')).toBe(false);
      expect(await s.entities.get('rules', 'ns4', 'r')).toBeUndefined();
    });

    test('auth keys: put, get, list by namespace, delete', async () => {
      const key = (uuid: string, namespace: string) => ({
        uuid,
        namespace,
        subject: namespace,
        salt: 'aa',
        hash: 'bb',
        created: 1,
      });
      await s.entities.putAuthKey(key('11111111-1111-1111-1111-111111111111', 'k1'));
      await s.entities.putAuthKey(key('22222222-2222-2222-2222-222222222222', 'k1'));
      await s.entities.putAuthKey(key('33333333-3333-3333-3333-333333333333', 'k2'));
      expect(await s.entities.getAuthKey('33333333-3333-3333-3333-333333333333')).toMatchObject({
        namespace: 'k2',
      });
      expect((await s.entities.listAuthKeys('k1')).map((k) => k.uuid)).toEqual([
        '11111111-1111-1111-1111-111111111111',
        '22222222-2222-2222-2222-222222222222',
      ]);
      expect((await s.entities.listAuthKeys()).length).toBeGreaterThanOrEqual(3);
      expect(await s.entities.deleteAuthKey('33333333-3333-3333-3333-333333333333')).toBe(true);
      expect(await s.entities.deleteAuthKey('33333333-3333-3333-3333-333333333333')).toBe(false);
      expect(await s.entities.getAuthKey('33333333-3333-3333-3333-333333333333')).toBeUndefined();
    });

    test('every write that changed something is in the change feed, oldest first', async () => {
      const since = Date.now();
      await s.entities.put('triggers', doc('ns5', 't', 1), 'create');
      await s.entities.put('triggers', doc('ns5', 't', 2), 'create'); // refused: no change
      await s.entities.put('actions', doc('ns5/p', 'a', 3), 'overwrite');
      await s.entities.delete('triggers', 'ns5', 't');
      await s.entities.delete('triggers', 'ns5', 't'); // nothing deleted: no change
      const uuid = '44444444-4444-4444-4444-444444444444';
      await s.entities.putAuthKey({
        uuid,
        namespace: 'ns5',
        subject: 'ns5',
        salt: 'aa',
        hash: 'bb',
        created: 1,
      });
      await s.entities.deleteAuthKey(uuid);
      const changes = (await s.entities.changesSince(since)).filter((c) => c.namespace.startsWith('ns5'));
      expect(changes.map((c) => [c.collection, c.namespace, c.name])).toEqual([
        ['triggers', 'ns5', 't'],
        ['actions', 'ns5/p', 'a'],
        ['triggers', 'ns5', 't'],
        ['authKeys', 'ns5', uuid],
        ['authKeys', 'ns5', uuid],
      ]);
      expect(new Set(changes.map((c) => c.id)).size).toBe(changes.length);
      expect(changes.every((c) => c.at >= since)).toBe(true);
      expect(await s.entities.changesSince(Date.now() + 60_000)).toEqual([]);
    });
  });

  describe('activations', () => {
    const base = Date.now() - 60_000;
    const records = [
      activation('act', 'a', base + 1, 1),
      activation('act', 'b', base + 2, 2),
      activation('act', 'a', base + 3, 3),
      activation('act', 'a', base + 4, 4, 'act/pkg/a'),
      activation('other', 'a', base + 5, 5),
    ];
    beforeAll(async () => {
      await s.activations.putBatch(records);
      // Idempotent by id.
      await s.activations.putBatch(records.slice(0, 2));
    });
    const ids = (list: Activation[]) => list.map((a) => a.response.result as { id: number }).map((r) => r.id);

    test('get returns the whole record, logs included, in its namespace only (either id layout)', async () => {
      for (const record of records.slice(0, 2)) {
        expect(await s.activations.get('act', record.activationId)).toEqual(record);
        expect(await s.activations.get('other', record.activationId)).toBeUndefined();
      }
    });

    test('list: newest first, per namespace, skip and limit', async () => {
      expect(ids(await s.activations.list('act', { skip: 0, limit: 30 }))).toEqual([4, 3, 2, 1]);
      expect(ids(await s.activations.list('act', { skip: 1, limit: 2 }))).toEqual([3, 2]);
      expect(ids(await s.activations.list('other', { skip: 0, limit: 30 }))).toEqual([5]);
    });

    test('list: name filter (plain and pkg/name), since and upto', async () => {
      expect(ids(await s.activations.list('act', { name: 'a', skip: 0, limit: 30 }))).toEqual([3, 1]);
      expect(ids(await s.activations.list('act', { name: 'pkg/a', skip: 0, limit: 30 }))).toEqual([4]);
      expect(ids(await s.activations.list('act', { since: base + 2, skip: 0, limit: 30 }))).toEqual([
        4, 3, 2,
      ]);
      expect(ids(await s.activations.list('act', { upto: base + 2, skip: 0, limit: 30 }))).toEqual([2, 1]);
      expect(
        ids(await s.activations.list('act', { since: base + 2, upto: base + 3, skip: 0, limit: 30 })),
      ).toEqual([3, 2]);
    });

    test('a bound far in the future costs no more than the retention (audit H7)', async () => {
      const upto = Number('99999999999999999999');
      expect(ids(await s.activations.list('act', { upto, skip: 0, limit: 30 }))).toEqual([4, 3, 2, 1]);
      expect(await s.activations.count('act', { upto })).toBe(4);
      expect(await s.activations.count('act', { since: upto })).toBe(0);
    });

    test('a listing whose caller went away stops', async () => {
      const signal = AbortSignal.abort();
      await expect(s.activations.list('act', { skip: 0, limit: 30, signal })).rejects.toThrow();
    });

    test('count with the same filters', async () => {
      expect(await s.activations.count('act', {})).toBe(4);
      expect(await s.activations.count('act', { name: 'a' })).toBe(2);
      expect(await s.activations.count('act', { since: base + 3 })).toBe(2);
    });

    test('activations older than a day are found in their own day partition', async () => {
      // Listings look back as far as the retention (TTL) reaches.
      const weekLong = s.withTtl(7 * 86_400);
      const old = activation('aged', 'a', Date.now() - 3 * 86_400_000, 77);
      await weekLong.putBatch([old, activation('aged', 'a', Date.now(), 78)]);
      expect(ids(await weekLong.list('aged', { skip: 0, limit: 30 }))).toEqual([78, 77]);
      expect(ids(await weekLong.list('aged', { skip: 1, limit: 30 }))).toEqual([77]);
      expect(await weekLong.count('aged', {})).toBe(2);
    });

    test('records expire after the TTL', async () => {
      const shortLived = s.withTtl(1);
      const both = [activation('ttl', 'a', Date.now(), 99), activation('ttl', 'a', Date.now(), 100)];
      await shortLived.putBatch(both);
      for (const record of both) expect(await shortLived.get('ttl', record.activationId)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      for (const record of both) expect(await shortLived.get('ttl', record.activationId)).toBeUndefined();
      expect(await shortLived.list('ttl', { skip: 0, limit: 10 })).toEqual([]);
    });
  });
});

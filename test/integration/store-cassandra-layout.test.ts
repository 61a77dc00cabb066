// Where the Cassandra store puts a record (real Cassandra): one partition per namespace and second
// for Gust's time-ordered ids, so a flush is a few partitions' mutations; by id for any other id.
// Listings read an index of one row per namespace (and name) and second of start, and still the
// listing rows per record that earlier versions wrote.
import { Client, types } from 'cassandra-driver';
import { activationIdTime, newActivationId } from '../../common/activation-id';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { dayOf } from '../../store/cassandra/cassandra-schema';
import { activation, runNamespace, useCassandraKeyspace } from './cassandra-fixtures';

const KEYSPACE = 'gust_layout_test';
const cassandra = useCassandraKeyspace(KEYSPACE);

test('records with time-ordered ids share their second’s partition; others are kept by id', async () => {
  const namespace = runNamespace('layout');
  const store = cassandra.store();
  const second = Math.floor(Date.now() / 1000);
  // 60 records made in two seconds, and one with an id that carries no time.
  const timed = Array.from({ length: 60 }, (_, i) =>
    activation(namespace, i, { activationId: newActivationId(second * 1000 + (i % 2) * 1000 + i) }),
  );
  const untimed = activation(namespace, 60);
  expect(activationIdTime(untimed.activationId)).toBeUndefined();
  await store.putBatch([...timed, untimed]);

  const rows = async (cql: string, params: unknown[]): Promise<number> =>
    (await cassandra.client().execute(cql, params, { prepare: true })).rowLength;
  const perSecond = `SELECT activation_id FROM ${KEYSPACE}.activations_by_second WHERE namespace = ? AND second = ?`;
  expect(await rows(perSecond, [namespace, second])).toBe(30);
  expect(await rows(perSecond, [namespace, second + 1])).toBe(30);
  const byId = `SELECT activation_id FROM ${KEYSPACE}.activations_by_id WHERE namespace = ? AND activation_id = ?`;
  expect(await rows(byId, [namespace, timed[0]!.activationId])).toBe(0);
  expect(await rows(byId, [namespace, untimed.activationId])).toBe(1);

  for (const record of [timed[0]!, timed[59]!, untimed]) {
    expect(await store.get(namespace, record.activationId)).toEqual(record);
  }
  expect(await store.count(namespace, {})).toBe(61);
});

test("a client without the store's defaults reads the same records (its queries are prepared)", async () => {
  const namespace = runNamespace('plain');
  const record = activation(namespace, 0, { activationId: newActivationId() });
  await cassandra.store().putBatch([record]);
  // As the compose check connects: the driver's defaults, so unprepared queries unless asked.
  const plain = new Client({
    contactPoints: ['127.0.0.1'],
    localDataCenter: 'datacenter1',
    protocolOptions: { maxVersion: types.protocolVersion.v4 },
  });
  try {
    const store = new CassandraActivationStore(plain, KEYSPACE, { ttlSeconds: 3600 });
    expect(await store.get(namespace, record.activationId)).toEqual(record);
    expect((await store.list(namespace, { skip: 0, limit: 10 })).map((r) => r.activationId)).toEqual([
      record.activationId,
    ]);
  } finally {
    await plain.shutdown();
  }
});

test('a flush indexes its records in a few cells per namespace, name and second of start', async () => {
  const namespace = runNamespace('index');
  const store = cassandra.store();
  const second = Math.floor(Date.now() / 1000) - 10;
  // 600 records of two actions, started within two seconds: more than one statement's cells.
  const records = Array.from({ length: 600 }, (_, i) =>
    activation(namespace, i, {
      activationId: newActivationId(),
      name: i % 3 === 0 ? 'b' : 'a',
      annotations: [{ key: 'path', value: `${namespace}/${i % 3 === 0 ? 'b' : 'a'}` }],
      start: second * 1000 + (i < 300 ? 0 : 1000) + (i % 300),
    }),
  );
  await store.putBatch(records);

  const index = await cassandra
    .client()
    .execute(
      `SELECT name, second, starts FROM ${KEYSPACE}.activation_starts WHERE namespace = ? AND name IN ('', 'a', 'b') AND day = ?`,
      [namespace, dayOf(second * 1000)],
      { prepare: true },
    );
  // Each row: its cells (a flush's records, at most 256 each), and the records in them.
  const rows = index.rows.map((r) => {
    const cells = Object.values(r.get('starts') as Record<string, string>).map(
      (c) => JSON.parse(c) as unknown[],
    );
    return [r.get('name'), Number(r.get('second')), cells.length, cells.flat().length];
  });
  expect(rows.sort()).toEqual(
    [
      ['', second, 2, 300],
      ['', second + 1, 2, 300],
      ['a', second, 1, 200],
      ['a', second + 1, 1, 200],
      ['b', second, 1, 100],
      ['b', second + 1, 1, 100],
    ].sort(),
  );
  const newest = [...records].sort((x, y) => y.start - x.start);
  const listed = await store.list(namespace, { skip: 295, limit: 10 });
  expect(listed.map((r) => r.activationId)).toEqual(newest.slice(295, 305).map((r) => r.activationId));
  const named = await store.list(namespace, { name: 'b', skip: 0, limit: 5 });
  expect(named.map((r) => r.activationId)).toEqual(
    newest
      .filter((r) => r.name === 'b')
      .slice(0, 5)
      .map((r) => r.activationId),
  );
  expect(await store.count(namespace, { name: 'a', since: (second + 1) * 1000 })).toBe(200);
  // Written again in other flushes (a retry that batched differently): each record is still one.
  await store.putBatch(records.slice(100, 400));
  expect(await store.count(namespace, {})).toBe(600);
  expect((await store.list(namespace, { skip: 0, limit: 400 })).map((r) => r.activationId)).toEqual(
    newest.slice(0, 400).map((r) => r.activationId),
  );
});

test('records listed by the rows per record of earlier versions are still listed, in order', async () => {
  const namespace = runNamespace('legacy');
  const store = cassandra.store();
  const now = Date.now();
  const day = dayOf(now);
  const indexed = [
    activation(namespace, 0, { start: now - 3000 }),
    activation(namespace, 2, { start: now - 1000 }),
  ];
  await store.putBatch(indexed);
  // As a version before 2026-12-02 wrote one: the record by id, a listing row by namespace and by name.
  const legacy = activation(namespace, 1, { start: now - 2000 });
  const client = cassandra.client();
  await client.execute(
    `INSERT INTO ${KEYSPACE}.activations_by_id (namespace, activation_id, doc) VALUES (?, ?, ?)`,
    [namespace, legacy.activationId, JSON.stringify(legacy)],
    { prepare: true },
  );
  await client.execute(
    `INSERT INTO ${KEYSPACE}.activations_by_namespace (namespace, day, start, activation_id, doc) VALUES (?, ?, ?, ?, '')`,
    [namespace, day, legacy.start, legacy.activationId],
    { prepare: true },
  );
  await client.execute(
    `INSERT INTO ${KEYSPACE}.activations_by_name (namespace, name, day, start, activation_id, doc) VALUES (?, 'test', ?, ?, ?, '')`,
    [namespace, day, legacy.start, legacy.activationId],
    { prepare: true },
  );

  const results = (list: { response: { result?: unknown } }[]) => list.map((r) => r.response.result);
  expect(results(await store.list(namespace, { skip: 0, limit: 10 }))).toEqual([
    { i: 2 },
    { i: 1 },
    { i: 0 },
  ]);
  expect(results(await store.list(namespace, { name: 'test', skip: 1, limit: 1 }))).toEqual([{ i: 1 }]);
  expect(await store.count(namespace, {})).toBe(3);
  expect(await store.count(namespace, { name: 'test', upto: now - 2000 })).toBe(2);
});

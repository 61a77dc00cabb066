// Where the Cassandra store puts a record (real Cassandra): one partition per namespace and second
// for Gust's time-ordered ids, so a flush is a few partitions' mutations; by id for any other id.
import { Client, types } from 'cassandra-driver';
import { activationIdTime, newActivationId } from '../../common/activation-id';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
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

// Where the Cassandra store puts a record (real Cassandra): one partition per namespace and second
// for Gust's time-ordered ids, so a flush is a few partitions' mutations; by id for any other id.
import { activationIdTime, newActivationId } from '../../common/activation-id';
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

// Audit H3 on the real store: a record larger than Cassandra takes in one mutation (16 MiB with
// the default 32 MiB commit-log segment) is refused every time. Before, the writer retried it
// forever with the records batched beside it, and the backlog grew until every invoke got 503.
// Now the others are written, and the large one is stored shrunk (logs dropped, result cut).
import type { Client } from 'cassandra-driver';
import { ActivationWriter } from '../../api/activation-writer';
import type { Activation } from '../../common/types';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';
import { migrateCassandraSchema } from '../../store/cassandra/cassandra-schema';

jest.setTimeout(120_000);

const KEYSPACE = 'gust_oversized_test';
let client: Client;

beforeAll(async () => {
  client = createCassandraClient({ contactPoints: ['127.0.0.1'], keyspace: KEYSPACE });
  await client.connect();
  await migrateCassandraSchema(client, KEYSPACE);
});
afterAll(() => client?.shutdown());

function record(namespace: string, i: number, logs: string[]): Activation {
  return {
    namespace,
    name: 'big',
    version: '0.0.1',
    subject: namespace,
    activationId: `${namespace.slice(-8)}${i.toString(16).padStart(24, '0')}`,
    start: Date.now(),
    end: Date.now() + 1,
    duration: 1,
    statusCode: 0,
    response: { status: 'success', statusCode: 0, success: true, result: { i } },
    logs,
    annotations: [{ key: 'path', value: `${namespace}/big` }],
    publish: false,
  };
}

test('a record Cassandra refuses is stored shrunk; the records beside it are stored whole', async () => {
  const namespace = `big${Date.now().toString(16).slice(-8)}`;
  const store = new CassandraActivationStore(client, KEYSPACE, { ttlSeconds: 3600 });
  const refused: number[] = [];
  const writer = new ActivationWriter(store, {
    retryInitialMs: 50,
    retryMaxMs: 500,
    onWriteError: (_error, attempt) => refused.push(attempt),
  });
  // 20 MiB of log lines: more than one mutation may carry.
  const huge = Array.from({ length: 20 * 1024 }, (_, n) => `${n}`.padEnd(1024, 'x'));
  for (let i = 0; i < 10; i++) writer.write(record(namespace, i, i === 4 ? huge : [`line ${i}`]));
  await writer.flush();

  expect(refused.length).toBeGreaterThan(0); // Cassandra did refuse it
  expect(writer.stats()).toMatchObject({ accepted: 10, written: 10, pending: 0, deadLettered: 0 });
  expect(await store.count(namespace, {})).toBe(10);
  expect((await store.get(namespace, record(namespace, 3, []).activationId))?.logs).toEqual(['line 3']);
  const big = await store.get(namespace, record(namespace, 4, []).activationId);
  expect(big?.logs).toEqual([
    'The activation record was too large to store: its logs were dropped and its result cut.',
  ]);
  expect(big?.response.result).toEqual({ i: 4 });
  await writer.close();
});

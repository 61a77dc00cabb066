// Audit L12: a day of activations larger than one Cassandra page (5000 rows) lists correctly past
// that page: `skip` 5500 of 6000 returns the right ten, not an empty page. Real Cassandra.
import type { Client } from 'cassandra-driver';
import type { Activation } from '../../common/types';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';
import { migrateCassandraSchema } from '../../store/cassandra/cassandra-schema';

jest.setTimeout(120_000);

const KEYSPACE = 'gust_paging_test';
const RECORDS = 6000;
let client: Client;

beforeAll(async () => {
  client = createCassandraClient({ contactPoints: ['127.0.0.1'], keyspace: KEYSPACE });
  await client.connect();
  await migrateCassandraSchema(client, KEYSPACE);
});
afterAll(() => client?.shutdown());

test('skip past one page of a day lands on the right records', async () => {
  const namespace = `paging${Date.now().toString(16).slice(-8)}`;
  const store = new CassandraActivationStore(client, KEYSPACE, { ttlSeconds: 3600 });
  const start = Date.now() - 60_000;
  const records: Activation[] = Array.from({ length: RECORDS }, (_, i) => ({
    namespace,
    name: 'many',
    version: '0.0.1',
    subject: namespace,
    activationId: i.toString(16).padStart(32, '0'),
    start: start + i, // newest last: the listing's first is record RECORDS - 1
    end: start + i + 1,
    duration: 1,
    statusCode: 0,
    response: { status: 'success', statusCode: 0, success: true, result: { i } },
    logs: [],
    annotations: [],
    publish: false,
  }));
  for (let i = 0; i < RECORDS; i += 500) await store.putBatch(records.slice(i, i + 500));

  const page = await store.list(namespace, { skip: 5500, limit: 10 });
  expect(page.map((r) => r.response.result)).toEqual(
    Array.from({ length: 10 }, (_, k) => ({ i: RECORDS - 1 - 5500 - k })),
  );
});

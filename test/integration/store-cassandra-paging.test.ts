// Audit L12: a day of activations larger than one Cassandra page (5000 rows) lists correctly past
// that page: `skip` 5500 of 6000 returns the right ten, not an empty page. Real Cassandra.
import { activation, runNamespace, useCassandraKeyspace } from './cassandra-fixtures';

jest.setTimeout(120_000);

const RECORDS = 6000;
const cassandra = useCassandraKeyspace('gust_paging_test');

test('skip past one page of a day lands on the right records', async () => {
  const namespace = runNamespace('paging');
  const store = cassandra.store();
  const start = Date.now() - 60_000;
  // Newest last: the listing's first is record RECORDS - 1.
  const records = Array.from({ length: RECORDS }, (_, i) => activation(namespace, i, { start: start + i }));
  for (let i = 0; i < RECORDS; i += 500) await store.putBatch(records.slice(i, i + 500));

  const page = await store.list(namespace, { skip: 5500, limit: 10 });
  expect(page.map((r) => r.response.result)).toEqual(
    Array.from({ length: 10 }, (_, k) => ({ i: RECORDS - 1 - 5500 - k })),
  );
});

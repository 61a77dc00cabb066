// Audit H3 on the real store: a record larger than Cassandra takes in one mutation (16 MiB with
// the default 32 MiB commit-log segment) is refused every time. Before, the writer retried it
// forever with the records batched beside it, and the backlog grew until every invoke got 503.
// Now the others are written, and the large one is stored shrunk (logs dropped, result cut).
import { ActivationWriter } from '../../api/activation-writer';
import { activation, runNamespace, useCassandraKeyspace } from './cassandra-fixtures';

jest.setTimeout(120_000);

const cassandra = useCassandraKeyspace('gust_oversized_test');

test('a record Cassandra refuses is stored shrunk; the records beside it are stored whole', async () => {
  const namespace = runNamespace('big');
  const store = cassandra.store();
  const refused: number[] = [];
  const writer = new ActivationWriter(store, {
    retryInitialMs: 50,
    retryMaxMs: 500,
    onWriteError: (_error, attempt) => refused.push(attempt),
  });
  // 20 MiB of log lines: more than one mutation may carry.
  const huge = Array.from({ length: 20 * 1024 }, (_, n) => `${n}`.padEnd(1024, 'x'));
  for (let i = 0; i < 10; i++)
    writer.write(activation(namespace, i, { logs: i === 4 ? huge : [`line ${i}`] }));
  await writer.flush();

  expect(refused.length).toBeGreaterThan(0); // Cassandra did refuse it
  expect(writer.stats()).toMatchObject({ accepted: 10, written: 10, pending: 0, deadLettered: 0 });
  expect(await store.count(namespace, {})).toBe(10);
  expect((await store.get(namespace, activation(namespace, 3).activationId))?.logs).toEqual(['line 3']);
  const big = await store.get(namespace, activation(namespace, 4).activationId);
  expect(big?.logs).toEqual([
    'The activation record was too large to store: its logs were dropped and its result cut.',
  ]);
  expect(big?.response.result).toEqual({ i: 4 });
  await writer.close();
});

// What the store tests on the real Cassandra share: a keyspace of their own, migrated, and
// activation records made to order.
import type { Client } from 'cassandra-driver';
import type { Activation } from '../../common/types';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';
import { migrateCassandraSchema } from '../../store/cassandra/cassandra-schema';

/** Connects to `keyspace` (created and migrated) before the file's tests and closes after them. */
export function useCassandraKeyspace(keyspace: string): {
  client(): Client;
  store(): CassandraActivationStore;
} {
  let client: Client | undefined;
  beforeAll(async () => {
    client = createCassandraClient({ contactPoints: ['127.0.0.1'], keyspace });
    await client.connect();
    await migrateCassandraSchema(client, keyspace);
  });
  afterAll(() => client?.shutdown());
  const connected = (): Client => {
    if (!client) throw new Error('Cassandra is not connected yet');
    return client;
  };
  return {
    client: connected,
    store: () => new CassandraActivationStore(connected(), keyspace, { ttlSeconds: 3600 }),
  };
}

/** A namespace of this run: tests sharing a keyspace never see each other's records. */
export const runNamespace = (prefix: string): string => `${prefix}${Date.now().toString(16).slice(-8)}`;

/** Activation `i` of action `name` in `namespace`: result `{ i }`, its id derived from both. */
export function activation(namespace: string, i: number, over: Partial<Activation> = {}): Activation {
  const start = over.start ?? Date.now();
  return {
    namespace,
    name: 'test',
    version: '0.0.1',
    subject: namespace,
    activationId: `${namespace.slice(-8)}${i.toString(16).padStart(24, '0')}`,
    start,
    end: start + 1,
    duration: 1,
    statusCode: 0,
    response: { status: 'success', statusCode: 0, success: true, result: { i } },
    logs: [],
    annotations: [{ key: 'path', value: `${namespace}/test` }],
    publish: false,
    ...over,
  };
}

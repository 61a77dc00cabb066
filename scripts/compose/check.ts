// The compose stack's end-to-end check (run by scripts/compose-check.sh once every service is
// healthy): through the official `openwhisk` npm client only, with a key issued by the stack's own
// admin tool, it creates an action, invokes it blocking, checks the result, then reads the
// activation record back from the store (Cassandra) and checks it, and deletes the action.
//   COMPOSE_APIHOST=http://127.0.0.1:13233 COMPOSE_API_KEY=uuid:secret COMPOSE_CASSANDRA_PORT=19042 \
//     node dist/scripts/compose/check.js
// Exits 0 when every check holds; otherwise prints what differed and exits 1. A check for a human
// (or CI's log) to read: plain stdout/stderr, not Gust's JSON log.
import { deepStrictEqual } from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { CassandraActivationStore } from '../../store/cassandra/cassandra-activation-store';
import { createCassandraClient } from '../../store/cassandra/cassandra-client';

const RECORD_TIMEOUT_MS = 30_000;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Record {
  activationId: string;
  namespace: string;
  name: string;
  logs: string[];
  response: { success: boolean; status: string; result: unknown };
}

/** The activation as the store has it: records are written after the response, so poll briefly. */
async function storedRecord(ow: ReturnType<typeof openwhisk>, id: string): Promise<Record> {
  const deadline = Date.now() + RECORD_TIMEOUT_MS;
  for (;;) {
    try {
      return (await ow.activations.get({ name: id })) as unknown as Record;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404 || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/** The record straight from the stack's Cassandra (keyspace gust), through the store's own client and reads. */
async function cassandraRecord(port: number, namespace: string, id: string): Promise<Record | undefined> {
  const client = createCassandraClient({ contactPoints: ['127.0.0.1'], keyspace: 'gust', port });
  try {
    const store = new CassandraActivationStore(client, 'gust', { ttlSeconds: 0 });
    return (await store.get(namespace, id)) as unknown as Record | undefined;
  } finally {
    await client.shutdown();
  }
}

async function main(): Promise<void> {
  const apihost = required('COMPOSE_APIHOST');
  const ow = openwhisk({ apihost, api_key: required('COMPOSE_API_KEY') });
  const [namespace] = await ow.namespaces.list();
  if (namespace === undefined) throw new Error('the key has no namespace');
  const name = `compose-check-${process.pid}-${Date.now()}`;
  const code =
    'function main(p) { console.log("hello from compose", p.name); return { greeting: "Hello " + p.name }; }';

  await ow.actions.create({ name, action: code, kind: 'nodejs:20' });
  try {
    const started = Date.now();
    const activation = (await ow.actions.invoke({
      name,
      params: { name: 'Gust' },
      blocking: true,
    })) as unknown as Record;
    console.log(`invoked ${namespace}/${name} in ${Date.now() - started} ms: ${activation.activationId}`);
    deepStrictEqual(activation.response.result, { greeting: 'Hello Gust' });
    deepStrictEqual(activation.response.success, true);

    const result = await ow.actions.invoke({ name, params: { name: 'again' }, blocking: true, result: true });
    deepStrictEqual(result, { greeting: 'Hello again' });

    const record = await storedRecord(ow, activation.activationId);
    deepStrictEqual(
      {
        activationId: record.activationId,
        namespace: record.namespace,
        name: record.name,
        status: record.response.status,
        result: record.response.result,
        logged: record.logs.some((line) => line.endsWith('stdout: hello from compose Gust')),
      },
      {
        activationId: activation.activationId,
        namespace,
        name,
        status: 'success',
        result: { greeting: 'Hello Gust' },
        logged: true,
      },
    );
    console.log(`activation record ${record.activationId} read back: ${JSON.stringify(record.response)}`);
    const stored = await cassandraRecord(
      Number(required('COMPOSE_CASSANDRA_PORT')),
      namespace,
      record.activationId,
    );
    deepStrictEqual(
      { id: stored?.activationId, status: stored?.response.status, result: stored?.response.result },
      { id: record.activationId, status: 'success', result: { greeting: 'Hello Gust' } },
    );
    console.log('and found in Cassandra (keyspace gust)');
  } finally {
    await ow.actions.delete({ name });
  }
  console.log('compose check: the action ran and its record was stored');
}

main().catch((error: unknown) => {
  console.error('compose check FAILED:', error);
  process.exit(1);
});

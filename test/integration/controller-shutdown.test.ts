// Audit M5: a stopping controller records every activation it started. Before, an activation
// still running at stop (non-blocking, or a blocking one past its wait) met a closed writer and
// was lost ("activation was not recorded"). The real stack (Temporal, dockerd, Cassandra), a whole
// Gust, and a second controller in the same process that is stopped under a running activation.
import openwhisk from 'openwhisk';
import { startGust, type GustUnderTest } from '../e2e/harness';

jest.setTimeout(120_000);

let gust: GustUnderTest;
beforeAll(async () => {
  gust = await startGust({ backend: 'docker', keyspace: 'gust_shutdown' });
  await gust.client().actions.create({
    name: 'sleeper',
    action: 'function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }',
  });
});
afterAll(() => gust?.stop());

/** Starts a second controller, invokes `sleeper` through it without waiting, and stops it at once. */
async function stopUnder(ms: number, controller: { id: string; shutdownGraceMs?: number }): Promise<string> {
  const other = await gust.startController(controller);
  const ow = openwhisk({ apihost: other.url, api_key: gust.apiKey });
  const { activationId } = await ow.actions.invoke({ name: 'sleeper', params: { ms } });
  await other.stop();
  return activationId;
}

test('an activation running when its controller stops is recorded with its result', async () => {
  const activationId = await stopUnder(2000, { id: `${gust.config.controller.id}-b` });
  // Read through the controller that still runs: the record is in the store already.
  const record = await gust.client().activations.get({ name: activationId });
  expect(record.response).toMatchObject({ success: true, status: 'success', result: { slept: 2000 } });
});

test('one still running when the grace ends is recorded as a whisk error, not lost', async () => {
  const activationId = await stopUnder(20_000, {
    id: `${gust.config.controller.id}-c`,
    shutdownGraceMs: 500,
  });
  const record = await gust.client().activations.get({ name: activationId });
  expect(record.response).toMatchObject({
    success: false,
    status: 'whisk internal error',
    result: { error: 'The controller stopped before the activation ended (it waited 500 milliseconds).' },
  });
});

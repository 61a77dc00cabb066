// Fault: Cassandra freezes (SIGSTOP) for 10 s while a steady load runs through a whole Gust. The
// hot path never waits for the store (records are written off it), so invokes keep being answered,
// and every activation a caller was handed is in the store afterwards: 0 records lost. Cassandra is
// shared with the rest of the stack: SIGCONT is sent whatever happens, also on exit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually } from '../e2e/waiting';
import { steadyLoad } from './load';

jest.setTimeout(180_000);

const FROZEN_MS = 10_000;
const PACE_MS = 8;
let gust: GustUnderTest;
let cassandraPid: number;
let frozen = false;

const thaw = (): void => {
  if (frozen) process.kill(cassandraPid, 'SIGCONT');
  frozen = false;
};

beforeAll(async () => {
  cassandraPid = Number(readFileSync(join(loadConfig().stateDir, 'cassandra', 'pid'), 'utf8').trim());
  process.kill(cassandraPid, 0); // throws if Cassandra is not running
  process.once('exit', thaw);
  gust = await startGust({
    backend: 'docker',
    keyspace: 'gust_faults_cassandra',
    controller: { invocationsPerMinute: 100_000 },
  });
});
afterAll(async () => {
  thaw();
  await gust?.stop();
});

test('Cassandra frozen for 10 s under load: invokes are answered and no activation record is lost', async () => {
  const ow = gust.client();
  await ow.actions.create({ name: 'recorded', action: 'function main(p) { return { n: p.n }; }' });
  const handedOut: string[] = [];
  let n = 0;
  // Paced to at most 4 × 1000 / PACE_MS = 500 req/s, 5,000 records over the freeze: under the
  // writer's bound of 10,000, past which it refuses invokes with 503 by design. Unpaced, a fast
  // machine passes the bound within the freeze.
  const load = steadyLoad(async () => {
    const activation = await ow.actions.invoke({ name: 'recorded', params: { n: n++ }, blocking: true });
    handedOut.push(activation.activationId);
    await new Promise((r) => setTimeout(r, PACE_MS));
  }, 4);
  await eventually(
    async () => handedOut.length,
    (count) => count >= 50,
    60_000,
  );

  process.kill(cassandraPid, 'SIGSTOP');
  frozen = true;
  const before = handedOut.length;
  await new Promise((r) => setTimeout(r, FROZEN_MS));
  const duringFreeze = handedOut.length - before;
  thaw();
  await new Promise((r) => setTimeout(r, 3000));
  const { ok, errors } = await load.stop();

  expect(errors).toEqual([]);
  expect(duringFreeze).toBeGreaterThan(0);
  expect(handedOut).toHaveLength(ok);
  // Every record reaches the store once Cassandra is back (the writer retries its batches).
  const missing = await eventually(
    async () => {
      const absent: string[] = [];
      for (const id of handedOut) {
        if (!(await gust.embedded.controller.app.gust.activations.get('guest', id))) absent.push(id);
      }
      return absent;
    },
    (absent) => absent.length === 0,
    60_000,
    1000,
  );
  expect(missing).toEqual([]);
});

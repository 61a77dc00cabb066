// Audit L2: a namespace's throttles hold across controllers. Two controllers of one Gust on the
// real stack (Temporal's hosts registry, dockerd, Cassandra), requests spread over both as a load
// balancer would: the namespace gets its limit in all (within the rounding up of each share:
// at most one more with two controllers), where each controller used to give it the whole limit.
import openwhisk from 'openwhisk';
import { makeAuthKey } from '../../api/api-keys';
import { openStores } from '../../store/open-stores';
import type { RunningController } from '../../workers/controller';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually } from '../e2e/waiting';

jest.setTimeout(180_000);

const LIMITS = { invocationsPerMinute: 9, concurrentInvocations: 4 };
let gust: GustUnderTest;
let second: RunningController;

beforeAll(async () => {
  gust = await startGust({
    backend: 'docker',
    keyspace: 'gust_throttles_shared',
    pools: { stemCells: [] },
    controller: { ...LIMITS, throttleShareRefreshMs: 300 },
  });
  second = await gust.startController({ id: `${gust.config.controller.id}-b` });
  // Each learns of the other from the hosts registry, off the request path.
  await eventually(
    async () => [gust.embedded.controller, second].map((c) => c.app.gust.throttles.controllers),
    (counts) => counts.every((n) => n === 2),
    30_000,
  );
});
afterAll(async () => {
  await second?.stop();
  await gust?.stop();
});

/** A client per controller, for one namespace's key. */
const clientsFor = (apiKey: string) =>
  [gust.embedded.controller.url, second.url].map((apihost) => openwhisk({ apihost, api_key: apiKey }));

const refusal = (error: unknown): string => {
  const e = error as { statusCode?: number; error?: { error?: string } };
  if (e.statusCode !== 429) throw error;
  return e.error?.error ?? '';
};

/** The rate throttle counts per wall-clock minute: start where the whole burst fits in one. */
async function awaitRoomInThisMinute(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

test('invocations per minute: two controllers admit the namespace-wide limit, not twice it', async () => {
  const clients = clientsFor(gust.apiKey);
  await clients[0]!.actions.create({ name: 'quick', action: 'function main() { return { ok: true }; }' });
  await awaitRoomInThisMinute(40_000);
  let admitted = 0;
  const refused: string[] = [];
  for (let i = 0; i < 20; i += 1) {
    await clients[i % 2]!.actions.invoke({ name: 'quick', blocking: true, result: true }).then(
      () => (admitted += 1),
      (error: unknown) => refused.push(refusal(error)),
    );
  }
  // A figure for the human reading the test output (reported, not asserted: no timed assertions).
  console.log(
    `rate: ${admitted} of 20 admitted across two controllers (limit ${LIMITS.invocationsPerMinute}/min)`,
  );
  expect(admitted).toBeGreaterThanOrEqual(LIMITS.invocationsPerMinute);
  expect(admitted).toBeLessThanOrEqual(LIMITS.invocationsPerMinute + 1);
  expect(refused[0]).toMatch(/^Too many requests in the last minute \(count: \d+, allowed: 5\)\.$/);
});

test('concurrent invocations: two controllers hold the namespace-wide limit in flight, not twice it', async () => {
  // A namespace of its own: the first test used up guest's minute.
  const key = makeAuthKey(`throttled${Date.now().toString(36)}`);
  const stores = await openStores(gust.config.store);
  await stores.entities.putAuthKey(key.record);
  await stores.close();
  const clients = clientsFor(key.apiKey);
  await clients[0]!.actions.create({
    name: 'slow',
    action: 'async function main() { await new Promise((r) => setTimeout(r, 10000)); return {}; }',
  });
  // Non-blocking: each stays in flight (waiting for a container, then running) well past the burst.
  let accepted = 0;
  const refused: string[] = [];
  for (let i = 0; i < 6; i += 1) {
    await clients[i % 2]!.actions.invoke({ name: 'slow' }).then(
      () => (accepted += 1),
      (error: unknown) => refused.push(refusal(error)),
    );
  }
  // A figure for the human reading the test output (reported; the assertion follows).
  console.log(
    `concurrent: ${accepted} of 6 accepted across two controllers (limit ${LIMITS.concurrentInvocations})`,
  );
  expect(accepted).toBe(LIMITS.concurrentInvocations);
  expect(refused).toHaveLength(2);
  expect(refused[0]).toMatch(/^Too many concurrent requests in flight \(count: 2, allowed: 2\)\.$/);
});

// Fault: the Temporal server freezes (SIGSTOP) for 30 s, longer than the lease timeout. The hot
// path does not need it: warm containers and stem cells keep serving; a cold start that needs a
// new container answers 503 with a clear message while Temporal is still frozen, instead of
// hanging; afterwards everything works again and no live controller lost its containers (audit
// M3), not even the one whose lease was under way when Temporal froze, and the container
// requests retried meanwhile count once. A whole Gust on a private Temporal dev server (so the
// freeze disturbs nothing else), dockerd and the docker backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevServer } from '../../workers/dev-server';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { inventoryQuery } from '../../workflows/messages';
import { scopedNames } from '../../workflows/scope';
import { recordHistories } from '../integration/control-harness';
import { failure } from '../e2e/waiting';
import { startPrivateTemporal } from './private-temporal';

jest.setTimeout(240_000);

const ADDRESS = '127.0.0.1:7298';
const FROZEN_MS = 30_000;
const LEASE_TIMEOUT_MS = 10_000;

let server: DevServer;
let stateDir: string;
let gust: GustUnderTest;
let frozen = false;

const thaw = (): void => {
  if (frozen) server.child?.kill('SIGCONT');
  frozen = false;
};

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'gust-frozen-'));
  server = await startPrivateTemporal(ADDRESS, 8298, stateDir);
  process.once('exit', thaw);
  gust = await startGust({
    backend: 'docker',
    store: 'sqlite',
    temporal: { address: ADDRESS },
    pools: { leaseTimeoutMs: LEASE_TIMEOUT_MS },
  });
});
afterAll(async () => {
  thaw();
  // GUST_RECORD_HISTORIES=1: the pool that leased again after a timeout, and the one that took
  // a retried request once, for control-replay.test.ts.
  if (gust) {
    await recordHistories(gust.embedded.client, poolId('warm'), 'lease-again');
    await recordHistories(gust.embedded.client, poolId('fresh'), 'retries-once');
  }
  await gust?.stop();
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const poolId = (name: string): string => scopedNames(gust.scope).actionPoolId({ namespace: 'guest', name });

// Each container names itself once, so a reply tells which container served it.
const CODE = `const self = Math.random().toString(36).slice(2);
function main() { return { self }; }`;

test('Temporal frozen for 30 s: warm and stem-cell invokes serve, other cold starts get 503, all recover', async () => {
  const ow = gust.client();
  const self = async (name: string): Promise<string> =>
    ((await ow.actions.invoke({ name, blocking: true, result: true })) as { self: string }).self;
  // nodejs:20 at 256 MB has a stem cell (the harness keeps one); 512 MB has none.
  await ow.actions.create({ name: 'warm', action: CODE, limits: { memory: 512 } });
  await ow.actions.create({ name: 'stem', action: CODE, limits: { memory: 256 } });
  await ow.actions.create({ name: 'fresh', action: CODE, limits: { memory: 512 } });
  const { router } = gust.embedded.controller;
  await waitUntil(() => router.stats().containers.stemCell > 0);

  // Temporal freezes the moment `warm`'s first container reaches the router: its lease activity
  // cannot report back, and the server times it out once it thaws (the worst moment to freeze).
  let frozenAt = 0;
  router.onLeased((container) => {
    if (container.action?.name !== 'warm' || frozen) return;
    server.child!.kill('SIGSTOP');
    frozen = true;
    frozenAt = Date.now();
  });
  const warmContainer = await self('warm');
  expect(frozen).toBe(true);

  for (let i = 0; i < 20; i++) expect(await self('warm')).toBe(warmContainer);
  expect(await self('stem')).toEqual(expect.any(String));
  const first = await failure(ow.actions.invoke({ name: 'fresh', blocking: true }));
  const second = await failure(ow.actions.invoke({ name: 'fresh', blocking: true }));
  // Both answered while Temporal was still frozen: the cold path did not wait for it.
  expect(Date.now() - frozenAt).toBeLessThan(FROZEN_MS);
  // The first was queued and gave up when its request for a container went unanswered (5 s): an
  // activation with a whisk error (500), recorded. From then on the controller knows: 503 at once.
  expect(first.statusCode).toBe(500);
  expect(second.statusCode).toBe(503);
  for (const error of [first, second]) expect(error.message).toContain('unavailable');

  await new Promise((r) => setTimeout(r, FROZEN_MS - (Date.now() - frozenAt)));
  thaw();

  // Long enough for the timed-out lease to be settled, and for an overdue lease expiry, its
  // broadcast and a reclaim, had there been one. The warm container is kept: its pool asked the
  // router again instead of giving it up.
  await new Promise((r) => setTimeout(r, 2 * LEASE_TIMEOUT_MS));
  expect(await self('warm')).toBe(warmContainer);
  expect(router.stats().containers.draining).toBe(0);
  expect(await self('fresh')).toEqual(expect.any(String));
  // The controller retried its request for `fresh` while Temporal was frozen; the server got every
  // try once it thawed, and the pool took them as the one request they are.
  const inventory = await gust.embedded.client.workflow.getHandle(poolId('fresh')).query(inventoryQuery);
  expect(inventory.containers.map((c) => c.name)).toHaveLength(1);
});

async function waitUntil(ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 200));
  }
}

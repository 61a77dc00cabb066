// Audit H6: a stem cell whose first activation fails (here: code that does not compile) is removed
// by the controller at once, and its failure is reported to the action's pool — which may not know
// the cell yet, because the stem-cell pool's hand-over (claim → adopt) is still under way. The
// pool must remember such a failure and remove the cell when the hand-over arrives; before the fix
// every such cell stayed `leased` in the pool forever, holding its memory on the host.
// A whole Gust on the real stack (Temporal, dockerd), docker backend, one stem cell.
import { LABELS } from '../../common/names';
import { inventoryQuery, type PoolInventory } from '../../workflows/messages';
import { scopedNames } from '../../workflows/scope';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually, failure } from '../e2e/waiting';

jest.setTimeout(180_000);

let gust: GustUnderTest;
beforeAll(async () => {
  gust = await startGust({ backend: 'docker', store: 'sqlite' });
});
afterAll(() => gust?.stop());

const FAILURES = 4;

test('stem cells whose first activation fails do not leak', async () => {
  const ow = gust.client();
  await ow.actions.create({
    name: 'broken',
    action: 'function main() { return {} ',
    limits: { memory: 256 },
  });
  const { router } = gust.embedded.controller;
  for (let i = 0; i < FAILURES; i++) {
    // Each invoke claims the stem cell the pool has (re)made for this controller.
    await eventually(
      async () => router.stats().containers.stemCell,
      (cells) => cells > 0,
      60_000,
    );
    const error = await failure(ow.actions.invoke({ name: 'broken', blocking: true }));
    expect(error.statusCode).toBe(502);
  }

  const pool = (): Promise<PoolInventory> =>
    gust.embedded.client.workflow
      .getHandle(scopedNames(gust.scope).actionPoolId({ namespace: 'guest', name: 'broken' }))
      .query(inventoryQuery);
  // Every failed cell leaves the pool and the host.
  const inventory = await eventually(pool, (inv) => inv.containers.length === 0, 60_000);
  expect(inventory.containers).toEqual([]);
  // What is left on the host is the one stem cell kept for this controller.
  const onHost = await eventually(
    () => gust.embedded.backend.list({ [LABELS.host]: gust.config.agent.hostId }),
    (cs) => cs.length === 1,
    60_000,
  );
  expect(onHost).toHaveLength(1);
});

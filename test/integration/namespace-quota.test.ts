// Audit H5, the quota half: one tenant cannot fill the hosts. With GUST_NAMESPACE_MEMORY_QUOTA_MB
// = 512, a namespace whose idle 256 MB containers hold its quota gets its next action's container
// by evicting its own least recently used idle one, and never holds more than the quota. Before
// the quota, it simply got a third container. A whole Gust on the real stack (Temporal, dockerd).
// Audit L9: containers another namespace runs of a shared action count against the invoking
// namespace's quota, not the owner's.
import { LABELS } from '../../common/names';
import { openStores, type Stores } from '../../store/open-stores';
import { namespaceClient, startGust, type GustUnderTest } from '../e2e/harness';

jest.setTimeout(180_000);

let gust: GustUnderTest;
let stores: Stores | undefined;
beforeAll(async () => {
  // No stem cells: every container is placed for its action, so the quota counts each.
  gust = await startGust({
    backend: 'docker',
    store: 'sqlite',
    pools: { stemCells: [], namespaceMemoryQuotaMB: 512 },
  });
});
afterAll(async () => {
  await stores?.close();
  await gust?.stop();
});

const IDLE = 'function main() { return { ok: true }; }';
const idleForEviction = () => new Promise((r) => setTimeout(r, 1500)); // longer than eviction's minimum
const containersOf = (labels: Record<string, string>) =>
  gust.embedded.backend.list({ [LABELS.host]: gust.config.agent.hostId, ...labels });

test('a namespace at its quota makes way with its own idle containers', async () => {
  const ow = gust.client();
  for (const name of ['q1', 'q2', 'q3']) {
    await ow.actions.create({ name, action: IDLE });
    expect(await ow.actions.invoke({ name, blocking: true, result: true })).toEqual({ ok: true });
    await idleForEviction();
  }
  const left = await containersOf({ [LABELS.namespace]: 'guest' });
  expect(left.map((c) => c.labels[LABELS.action]).sort()).toEqual(['q2', 'q3']);
});

test("another namespace's runs of a shared action count against its own quota, not the owner's", async () => {
  // guest is at its quota (q2, q3, from the test above): before L9 the first shared run evicted q2.
  const ow = gust.client();
  stores = await openStores(gust.config.store);
  const other = await namespaceClient(gust, stores, 'quota-other');
  await ow.packages.create({ name: 'shared', package: { publish: true } });
  for (const name of ['s1', 's2', 's3']) {
    await ow.actions.create({ name: `shared/${name}`, action: IDLE });
    expect(
      await other.actions.invoke({ name: `/guest/shared/${name}`, blocking: true, result: true }),
    ).toEqual({
      ok: true,
    });
    await idleForEviction();
  }
  const owners = await containersOf({ [LABELS.namespace]: 'guest' });
  expect(
    owners
      .filter((c) => !c.labels[LABELS.invoker])
      .map((c) => c.labels[LABELS.action])
      .sort(),
  ).toEqual(['q2', 'q3']);
  const others = await containersOf({ [LABELS.invoker]: 'quota-other' });
  expect(others.map((c) => c.labels[LABELS.action]).sort()).toEqual(['s2', 's3']);
});

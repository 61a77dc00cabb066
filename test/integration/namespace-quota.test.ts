// Audit H5, the quota half: one tenant cannot fill the hosts. With GUST_NAMESPACE_MEMORY_QUOTA_MB
// = 512, a namespace whose idle 256 MB containers hold its quota gets its next action's container
// by evicting its own least recently used idle one, and never holds more than the quota. Before
// the quota, it simply got a third container. A whole Gust on the real stack (Temporal, dockerd).
import { LABELS } from '../../common/names';
import { startGust, type GustUnderTest } from '../e2e/harness';

jest.setTimeout(180_000);

let gust: GustUnderTest;
beforeAll(async () => {
  // No stem cells: every container is placed for its action, so the quota counts each.
  gust = await startGust({
    backend: 'docker',
    store: 'sqlite',
    pools: { stemCells: [], namespaceMemoryQuotaMB: 512 },
  });
});
afterAll(() => gust?.stop());

test('a namespace at its quota makes way with its own idle containers', async () => {
  const ow = gust.client();
  for (const name of ['q1', 'q2', 'q3']) {
    await ow.actions.create({ name, action: 'function main() { return { ok: true }; }' });
    expect(await ow.actions.invoke({ name, blocking: true, result: true })).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 1500)); // idle for longer than eviction's minimum
  }
  const left = await gust.embedded.backend.list({
    [LABELS.host]: gust.config.agent.hostId,
    [LABELS.namespace]: 'guest',
  });
  expect(left.map((c) => c.labels[LABELS.action]).sort()).toEqual(['q2', 'q3']);
});

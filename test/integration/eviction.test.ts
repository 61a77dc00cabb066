// Audit H5: a full host evicts idle containers instead of failing cold starts. One tenant's idle
// containers fill a small host (1 GB); another tenant's first invoke of a 512 MB action then needs
// room that no host has. Before the fix that invoke waited for a minute and failed ("Failed to
// provision resources"); now the least recently used idle containers make way and it runs.
// A whole Gust on the real stack (Temporal, dockerd), docker backend.
import { LABELS } from '../../common/names';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { recordHistories } from './control-harness';

jest.setTimeout(180_000);

const CAPACITY_MB = 1024;
let gust: GustUnderTest;

beforeAll(async () => {
  gust = await startGust({
    backend: 'docker',
    store: 'sqlite',
    agent: { capacityMB: CAPACITY_MB },
    controller: { provisionTimeoutMs: 60_000 },
  });
});
afterAll(async () => {
  // GUST_RECORD_HISTORIES=1: the eviction workflow's history, for control-replay.test.ts.
  if (gust) await recordHistories(gust.embedded.client, gust.scope.prefix, 'eviction', ['evictionWorkflow']);
  await gust?.stop();
});

const memoryOnHost = async (): Promise<number> =>
  (await gust.embedded.backend.list({ [LABELS.host]: gust.config.agent.hostId })).reduce(
    (n, c) => n + c.memoryMB,
    0,
  );

test('idle containers make way for a cold start on a full host', async () => {
  const ow = gust.client();
  // Tenant A: four 256 MB actions, each run once (the host's stem cell is refilled after each).
  for (let i = 1; i <= 4; i++) {
    await ow.actions.create({ name: `a${i}`, action: 'function main() { return { ok: true }; }' });
    expect(await ow.actions.invoke({ name: `a${i}`, blocking: true, result: true })).toEqual({ ok: true });
  }
  await new Promise((r) => setTimeout(r, 1500)); // idle for longer than eviction's minimum
  expect(await memoryOnHost()).toBeGreaterThan(CAPACITY_MB - 512);

  // Tenant B (another namespace's action in effect: nothing of A's is reused) needs 512 MB.
  await ow.actions.create({
    name: 'big',
    action: 'function main() { return { big: true }; }',
    limits: { memory: 512 },
  });
  expect(await ow.actions.invoke({ name: 'big', blocking: true, result: true })).toEqual({ big: true });

  const left = await gust.embedded.backend.list({ [LABELS.host]: gust.config.agent.hostId });
  expect(left.map((c) => c.labels[LABELS.action])).toContain('big');
  expect(left.reduce((n, c) => n + c.memoryMB, 0)).toBeLessThanOrEqual(CAPACITY_MB);
});

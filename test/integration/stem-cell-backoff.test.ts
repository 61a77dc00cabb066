// A stem-cell pool whose containers cannot be created (its image was never built on the host)
// keeps trying, but backs off: 1 s after the first failure, doubling with each one in a row.
// Before, each failure replenished at once and the pool asked dockerd ~5 times a second forever.
// The real Temporal server and dockerd; the pool workflow started as the provisioner starts it.
import { DockerBackend } from '../../backends/docker/backend';
import { loadConfig } from '../../common/config';
import { stemCellPoolStartOptions } from '../../workflows/start-options';
import { createHarness, testConfig, waitFor, type ControlPathHarness } from './control-harness';
import { testRun } from '../run-names';

jest.setTimeout(60_000);

const { prefix: PREFIX } = testRun('cbackoff');
const MISSING_IMAGE = 'gust/never-built:missing';
const WATCH_MS = 8_000;

let h: ControlPathHarness;

beforeAll(async () => {
  h = await createHarness(PREFIX, testConfig());
  const socketPath = loadConfig().agent.dockerSocket;
  await h.startProvisioner();
  await h.startAgent(
    `${PREFIX}d1`,
    new DockerBackend({ hostId: `${PREFIX}d1`, capacityMB: 4096, socketPath }),
  );
  await h.startController('c1');
});

afterAll(() => h?.close());

test('failed provisions back replenishing off instead of retrying at once', async () => {
  const handle = await h.client.workflow.start('stemCellPoolWorkflow', {
    ...stemCellPoolStartOptions({
      scope: h.scope,
      kind: 'nodejs:20',
      memoryMB: 128,
      perController: 1,
      image: MISSING_IMAGE,
    }),
  });
  const creates = async (): Promise<number> =>
    ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createContainer',
    ).length;
  await waitFor('the first create', async () => (await creates()) >= 1);
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
  const elapsed = Date.now() - start;
  const attempts = await creates();
  // Waits of 1, 2, 4 s after the first failure fit about four creates into 8 s (retrying at once: ~40).
  expect(attempts).toBeGreaterThanOrEqual(3);
  expect(attempts).toBeLessThanOrEqual(2 + Math.log2(elapsed / 1000));
  // The Temporal UI's "current details" say why the pool is short.
  const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(currentDetails).toMatch(
    /^0 stem cells leased to 1 controllers, target 1 each; \d+ provisions failed in a row$/,
  );
  const inventory = await h.inventory(handle.workflowId);
  // No failed cell was leased to the controller.
  expect(inventory.containers.filter((c) => c.state === 'leased')).toEqual([]);
});

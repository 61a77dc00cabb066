// A provisioner that stops while a pool places a container must not wait for the placement for
// good. The hosts workflow runs on the provisioner's own queue, so once its worker stops polling,
// an update to it is never answered; the placement (a local activity in the pool's task) had to
// end on the shutdown's cancellation, and did not: a CI run's eviction test hung in its stop for
// 3 minutes. The real Temporal server; the hosts workflow is started on a queue no worker polls,
// which is what it looks like to a placement while its worker stops.
import { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { createClusterActivities } from '../../activities/cluster';
import { scopedNames } from '../../workflows/scope';
import { TEMPORAL_ADDRESS } from './control-harness';
import { testRun } from '../run-names';
import { terminateRunningWorkflows } from '../temporal-leftovers';

jest.setTimeout(30_000);

const { prefix } = testRun('cplace');
const scope = { prefix };
// A worker's own connection, as the activity's client has it (a JS Connection stops on the abort).
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: 'default' });
  await client.workflow.start('hostsWorkflow', {
    taskQueue: `${prefix}nobody-polls`,
    workflowId: scopedNames(scope).hostsWorkflowId,
    args: [{ scope, leaseTimeoutMs: 10_000 }],
  });
});

afterAll(async () => {
  await terminateRunningWorkflows(client, prefix, 'test over');
  await connection.close();
});

test('a placement the hosts workflow does not answer ends when its activity is cancelled', async () => {
  const env = new MockActivityEnvironment(undefined, { client });
  const { placeContainer } = createClusterActivities();
  const placing = env.run(placeContainer, scope, {
    name: `${prefix}c1`,
    memoryMB: 256,
    group: 'g',
    evictIdle: false,
  });
  const settled = placing.then(
    () => 'answered',
    () => 'failed',
  );
  // Nothing answers it: after 2 s it still waits.
  expect(await Promise.race([settled, new Promise((r) => setTimeout(() => r('waiting'), 2000))])).toBe(
    'waiting',
  );

  env.cancel('WORKER_SHUTDOWN');
  await expect(placing).rejects.toMatchObject({ name: 'CancelledFailure' });
});

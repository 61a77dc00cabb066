// Upgrade with live workflows: the previous release's workflow code (previous-release.ts: its
// bundle, recorded when it shipped) runs a provisioner that starts the hosts workflow, a
// stem-cell pool and action pools and lets them act (requests, demand, a claim and hand-over).
// That provisioner stops; the current code's provisioner takes over the same task queue, as in a
// rolling deploy. The same workflow runs go on: each replays what the old code wrote, then
// handles new signals and updates. No workflow task fails, and every history replays on the
// current code. Activities are the current ones throughout (their inputs are kept compatible).
import type { WorkflowBundle } from '@temporalio/worker';
import { actionRefOf, actionRevision } from '../../common/names';
import { demandSignal, actionSpecOf } from '../../workflows/messages';
import {
  createSingleHostStack,
  historiesUnder,
  replayFailures,
  testAction,
  waitFor,
  type ControlPathHarness,
  type RecordingRouter,
  type SingleHostStack,
} from './control-harness';
import { releaseBundle } from './previous-release';
import { testRun } from '../run-names';

jest.setTimeout(300_000);

const { prefix: PREFIX, namespace: NS } = testRun('cupg');

let previous: WorkflowBundle;
let stack: SingleHostStack;
let h: ControlPathHarness;
let c1: RecordingRouter;

beforeAll(async () => {
  previous = releaseBundle();
  stack = await createSingleHostStack(PREFIX, 60_000);
  ({ h, c1 } = stack);
});

afterAll(async () => {
  await stack?.close();
});

const pool = (name: string) => h.inventory(h.names.actionPoolId({ namespace: NS, name }));
const stemCellPoolId = () => h.names.stemCellPoolId('nodejs:20', 256);
/** The run each long-running workflow is on: the upgrade must not replace them. */
const runIds = async (ids: string[]): Promise<string[]> =>
  Promise.all(ids.map(async (id) => (await h.client.workflow.getHandle(id).describe()).runId));

test('pools, stem cells and hosts started by the previous release go on under the current code', async () => {
  const plane = h.controlPlane('c1');

  // The previous release: requests, demand (its routers' scale-up signal), a claim and hand-over.
  const old = await h.startProvisioner({ bundle: previous });
  await plane.requestContainers(testAction(NS, 'f1'), 1);
  await waitFor('an f1 lease', () => c1.forAction('f1').length === 1);
  await h.client.workflow
    .getHandle(h.names.actionPoolId({ namespace: NS, name: 'f1' }))
    .signal(demandSignal, {
      controllerId: 'c1',
      action: actionSpecOf(testAction(NS, 'f1')),
      queued: 2,
      inFlight: 1,
      capacity: 0,
    });
  // One or two more, as the demand meets the first lease still completing or done.
  await waitFor('f1 scaled up by demand', () => c1.forAction('f1').length >= 2);
  const cell = await waitFor('a stem cell', () => c1.stemCells()[0]);
  c1.leases.delete(cell.container.id);
  await plane.stemCellClaimed(cell, testAction(NS, 'f2'));
  await waitFor('the cell handed to f2', async () =>
    (await pool('f2')).containers.some((c) => c.info?.id === cell.container.id && c.state === 'leased'),
  );
  const longRunning = [
    h.names.actionPoolId({ namespace: NS, name: 'f1' }),
    h.names.actionPoolId({ namespace: NS, name: 'f2' }),
    stemCellPoolId(),
    h.names.hostsWorkflowId,
  ];
  const before = await runIds(longRunning);
  await old.stop();

  // The current release on the same task queue: every message below first replays the old history.
  await h.startProvisioner();
  // A new version of f1: the pool drains the old one, placing through the hosts workflow's update.
  await plane.requestContainers(testAction(NS, 'f1', '0.0.2', 2), 1);
  await waitFor('f1 only at 0.0.2', async () => {
    const f1 = (await pool('f1')).containers;
    return (
      f1.length >= 1 &&
      f1.every((c) => c.version === actionRevision({ version: '0.0.2', updated: 2 }) && c.state === 'leased')
    );
  });
  // f2's adopted cell fails (its router runs it for f2 since the claim): its pool removes it.
  await plane.containerFailed({ ...cell, action: actionRefOf(testAction(NS, 'f2')) }, 'gone');
  await waitFor('f2 emptied', async () => (await pool('f2')).containers.length === 0);
  // The stem-cell pool replenished after the claim; a second claim is handed over by the current code.
  const cell2 = await waitFor('a new stem cell', () =>
    c1.stemCells().find((l) => l.container.id !== cell.container.id),
  );
  c1.leases.delete(cell2.container.id);
  await plane.stemCellClaimed(cell2, testAction(NS, 'f3'));
  await waitFor('the second cell handed to f3', async () =>
    (await pool('f3')).containers.some((c) => c.info?.id === cell2.container.id),
  );
  expect(await runIds(longRunning)).toEqual(before);

  // No workflow task failed in any of them (a non-determinism error fails the task), and every
  // history — old events and new — replays on the current code.
  const histories = await historiesUnder(h.client, PREFIX);
  const failedTasks = histories.flatMap(({ workflowId, history }) =>
    (history.events ?? []).flatMap((e) => {
      const failed = e.workflowTaskFailedEventAttributes;
      return failed ? [`${workflowId}: ${failed.failure?.message ?? String(failed.cause)}`] : [];
    }),
  );
  expect(failedTasks).toEqual([]);
  expect(histories.map((x) => x.workflowId)).toEqual(expect.arrayContaining(longRunning));
  expect(await replayFailures(h.bundle, histories)).toEqual([]);
});

// Restart safety: every step of the control path is met by a newly started provisioner, whose
// empty cache makes it replay each workflow's history before it handles the new events, as after
// a restart or a deploy. Afterwards every history is replayed again by a new worker and must match.
// The same steps, with the cold path's request as an update (as before), wrote a history that no
// worker could replay: docs/workflow-upgrades.md.
import type { ScheduleHandle } from '@temporalio/client';
import { actionRevision } from '../../common/names';
import { scaleDownSignal } from '../../workflows/messages';
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
import { testRun } from '../run-names';

jest.setTimeout(180_000);

const { prefix: PREFIX, namespace: NS } = testRun('cfresh');
/** f1's second revision (version 0.0.2, written at 2). */
const F1_V2 = actionRevision({ version: '0.0.2', updated: 2 });

let stack: SingleHostStack;
let h: ControlPathHarness;
let c1: RecordingRouter;

/** Runs `step` on a newly started provisioner, then stops it: each step meets a worker with an empty cache. */
async function onFreshProvisioner(step: () => Promise<void>): Promise<void> {
  const provisioner = await h.startProvisioner();
  try {
    await step();
  } finally {
    await provisioner.stop();
  }
}

beforeAll(async () => {
  stack = await createSingleHostStack(PREFIX, 1500);
  ({ h, c1 } = stack);
});

afterAll(async () => {
  await h?.recordHistories('fresh-worker');
  await stack?.close();
});

const schedules = async (change: (s: ScheduleHandle) => Promise<void>): Promise<void> => {
  for (const id of [h.names.scaleDownScheduleId, h.names.reconcileScheduleId])
    await change(h.client.schedule.getHandle(id));
};
const pool = (name: string) => h.inventory(h.names.actionPoolId({ namespace: NS, name }));

test('requests, a no-op scale-down, a new version, a failure, a claim and scale-down, each met by a restarted provisioner', async () => {
  const plane = h.controlPlane('c1');
  await onFreshProvisioner(async () => {
    await plane.requestContainers(testAction(NS, 'f1'), 1);
    await waitFor('an f1 lease', () => c1.forAction('f1').length === 1);
    // A scale-down that removes nothing: a workflow task with no command (what the bug needed).
    // Schedules paused, so the next provisioner's first task for this pool is the request below.
    await schedules((s) => s.pause());
    await new Promise((r) => setTimeout(r, 1500));
    await h.client.workflow
      .getHandle(h.names.actionPoolId({ namespace: NS, name: 'f1' }))
      .signal(scaleDownSignal, { keepAliveMs: 60_000, minContainers: 0, usage: [] });
    await new Promise((r) => setTimeout(r, 500));
  });
  await onFreshProvisioner(async () => {
    // The first thing this provisioner sees: a request for a new version, which drains the old one.
    await plane.requestContainers(testAction(NS, 'f1', '0.0.2', 2), 1);
    await waitFor('an f1 0.0.2 lease', () => c1.forAction('f1').some((l) => l.action?.version === F1_V2));
    await schedules((s) => s.unpause());
    // Requests for two pools arriving together.
    await Promise.all([
      plane.requestContainers(testAction(NS, 'f1', '0.0.2', 2), 1),
      plane.requestContainers(testAction(NS, 'f2'), 1),
    ]);
    await waitFor('only version 0.0.2 of f1, and an f2 lease', async () => {
      const f1 = (await pool('f1')).containers;
      return (
        f1.length >= 2 &&
        f1.every((c) => c.version === F1_V2 && c.state === 'leased') &&
        c1.forAction('f2').length === 1
      );
    });
  });
  await onFreshProvisioner(async () => {
    const failed = c1.forAction('f2')[0]!;
    c1.leases.delete(failed.container.id);
    await plane.containerFailed(failed, 'connection refused');
    const cell = await waitFor('a stem cell', () => c1.stemCells()[0]);
    c1.leases.delete(cell.container.id);
    await plane.stemCellClaimed(cell, testAction(NS, 'f3'));
    await waitFor('f2 emptied and the cell adopted by f3', async () => {
      const f3 = (await pool('f3')).containers;
      return (await pool('f2')).containers.length === 0 && f3.some((c) => c.info?.id === cell.container.id);
    });
  });
  await onFreshProvisioner(async () => {
    // Idle past the keep-alive: the scheduled scale-down revokes and destroys them.
    for (const l of c1.forAction('f1')) c1.usageById.set(l.container.id, { idleMs: 60_000, inFlight: 0 });
    await waitFor('f1 scaled down to nothing', async () => (await pool('f1')).containers.length === 0);
  });
});

test('every history those provisioners wrote replays on a new worker', async () => {
  // Scale-down and reconcile runs are short and many.
  const histories = (await historiesUnder(h.client, PREFIX)).filter(
    (x) => x.type !== 'scaleDownWorkflow' && x.type !== 'reconcileWorkflow',
  );
  expect(histories.map((x) => x.workflowId)).toEqual(
    expect.arrayContaining([h.names.actionPoolId({ namespace: NS, name: 'f1' }), h.names.hostsWorkflowId]),
  );
  expect(await replayFailures(h.bundle, histories)).toEqual([]);
});

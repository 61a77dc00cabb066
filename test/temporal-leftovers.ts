// What a test scope leaves in Temporal. Each test scope (`cpool1a2b3c-`, `e2e-x1y2z3-`, ...) creates
// schedules that fire every second or two (scale-down, reconcile, alarms); one left behind by a run
// that was cut short keeps firing into a task queue nobody polls, for good, and the dev server's
// scheduler then starts later tests' schedules tens of seconds late.
import type { Client } from '@temporalio/client';
import {
  ACTION_POOL_ID_PREFIX,
  EVICTION_WORKFLOW_ID,
  HOSTS_WORKFLOW_ID,
  MESOS_FRAMEWORK_WORKFLOW_ID,
  RECONCILE_SCHEDULE_ID,
  SCALE_DOWN_SCHEDULE_ID,
  STEM_CELL_POOL_ID_PREFIX,
} from '../common/names';
import type { GustConfig } from '../common/config';
import { connectTemporal, createTemporalClient } from '../workers/temporal';

/** Deletes every schedule of the scope `prefix` (the harnesses call it when they stop). */
export async function deleteSchedulesOf(client: Client, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const schedule of client.schedule.list())
    if (schedule.scheduleId.startsWith(prefix)) ids.push(schedule.scheduleId);
  await deleteSchedules(client, ids);
  return ids;
}

/** Deletes the schedules `ids`, in parallel; one already gone is no failure. */
async function deleteSchedules(client: Client, ids: readonly string[]): Promise<void> {
  await Promise.all(
    ids.map((id) =>
      client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined),
    ),
  );
}

/**
 * Terminates every running workflow whose id starts with `prefix` (what one test or benchmark run
 * started: never another's), each at most once; resolves with how many it terminated.
 */
export async function terminateRunningWorkflows(
  client: Client,
  prefix: string,
  reason: string,
): Promise<number> {
  return terminateAll(client, `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'`, reason);
}

/**
 * terminateRunningWorkflows over a Temporal connection of its own, closed after: for a harness
 * whose Gust has stopped and closed its connection, leaving the scope's workflows with no worker.
 */
export async function terminateStoppedScope(
  config: Pick<GustConfig, 'temporal'>,
  prefix: string,
  reason: string,
): Promise<number> {
  const connection = await connectTemporal(config);
  try {
    return await terminateRunningWorkflows(createTemporalClient(connection, config), prefix, reason);
  } finally {
    await connection.close();
  }
}

/** Terminates the workflows `query` lists whose id `pick` accepts, a few at a time; how many it did. */
async function terminateAll(
  client: Client,
  query: string,
  reason: string,
  pick: (workflowId: string) => boolean = () => true,
): Promise<number> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) if (pick(wf.workflowId)) ids.push(wf.workflowId);
  let terminated = 0;
  for (let i = 0; i < ids.length; i += 16)
    await Promise.all(
      ids.slice(i, i + 16).map((id) =>
        client.workflow
          .getHandle(id)
          .terminate(reason)
          .then(() => terminated++)
          .catch(() => undefined),
      ),
    );
  return terminated;
}

/** Ids Gust gives a scope's schedules and workflows after its prefix (common/names.ts, alarm feeds). */
const GUST_IDS = [
  // schedules, and the runs they start (the schedule's id and the start time)
  `(?:${SCALE_DOWN_SCHEDULE_ID}|${RECONCILE_SCHEDULE_ID})(?:-\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z)?$`,
  `(?:alarm|alarm-fire|knative|${ACTION_POOL_ID_PREFIX.slice(0, -1)}|${STEM_CELL_POOL_ID_PREFIX.slice(0, -1)})/.+$`,
  `(?:${HOSTS_WORKFLOW_ID}|${MESOS_FRAMEWORK_WORKFLOW_ID}|${EVICTION_WORKFLOW_ID})$`,
].join('|');
/** A non-empty prefix (no `/`, captured) before one of GUST_IDS. */
const SCOPED_ID = new RegExp(`^([^/]+?-)(?:${GUST_IDS})`);

/**
 * The test scope of a schedule or workflow id: a non-empty prefix (no `/`) before one of Gust's own
 * ids. A deployment's ids (no prefix) never have one.
 */
export function testScopeOf(id: string): string | undefined {
  return SCOPED_ID.exec(id)?.[1];
}

/**
 * Deletes test scopes' schedules older than `olderThanMs`: no test runs that long, so their run
 * ended without its cleanup (killed, or a hook that threw). `npm test` calls it before the suites.
 */
export async function sweepStaleTestSchedules(client: Client, olderThanMs: number): Promise<string[]> {
  const stale: string[] = [];
  for await (const schedule of client.schedule.list()) {
    if (testScopeOf(schedule.scheduleId) === undefined) continue;
    const { info } = await client.schedule.getHandle(schedule.scheduleId).describe();
    if (Date.now() - info.createdAt.getTime() > olderThanMs) stale.push(schedule.scheduleId);
  }
  await deleteSchedules(client, stale);
  return stale;
}

/**
 * Terminates test scopes' workflows still running after `olderThanMs`: their workers are gone, so
 * they would wait for good (pools with their timers, the runs of a stale schedule). Resolves with
 * how many it terminated.
 */
export async function sweepStaleTestWorkflows(client: Client, olderThanMs: number): Promise<number> {
  const before = new Date(Date.now() - olderThanMs).toISOString();
  return terminateAll(
    client,
    `ExecutionStatus = 'Running' AND StartTime < '${before}'`,
    'a test run that ended without its cleanup',
    (id) => testScopeOf(id) !== undefined,
  );
}

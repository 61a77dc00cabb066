// What a test scope leaves in Temporal. Each test scope (`cpool1a2b3c-`, `e2e-x1y2z3-`, ...) creates
// schedules that fire every second or two (scale-down, reconcile, alarms); one left behind by a run
// that was cut short keeps firing into a task queue nobody polls, for good, and the dev server's
// scheduler then starts later tests' schedules tens of seconds late.
import type { Client } from '@temporalio/client';
import { RECONCILE_SCHEDULE_ID, SCALE_DOWN_SCHEDULE_ID } from '../common/names';

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
  let terminated = 0;
  const query = `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    await client.workflow
      .getHandle(wf.workflowId)
      .terminate(reason)
      .then(() => terminated++)
      .catch(() => undefined);
  }
  return terminated;
}

/** The scope of a test's schedule: a non-empty prefix (no `/`) before one of Gust's schedule names. */
export function testScopeOf(scheduleId: string): string | undefined {
  const match = new RegExp(`^([^/]+?-)(${SCALE_DOWN_SCHEDULE_ID}|${RECONCILE_SCHEDULE_ID}|alarm/.+)$`).exec(
    scheduleId,
  );
  return match?.[1];
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

// The control path end to end on the real Temporal server, with the process backend: pools lease
// containers to controllers, stem cells stay at target, scale-down, lease reclaim, reconcile, and
// the pools' search attributes through the Temporal UI's HTTP API.
import type { WorkflowHandle } from '@temporalio/client';
import { actionRefOf, actionRevision, LABELS } from '../../common/names';
import { DEMAND_RETIRED_PATCH } from '../../workflows/action-pool';
import { ProcessBackend } from '../../backends/process/backend';
import { actionSpecOf, demandSignal, requestContainersSignal } from '../../workflows/messages';
import type { ReconcileResult } from '../../workflows/reconcile';
import { actionPoolStartOptions } from '../../workflows/start-options';
import type { RecordingRouter } from './control-harness';
import {
  createHarness,
  recordHistories,
  testAction,
  testConfig,
  waitFor,
  type ControlPathHarness,
} from './control-harness';
import { testRun } from '../run-names';

jest.setTimeout(90_000);

const { id: RUN, prefix: PREFIX, namespace: NS } = testRun('cpool');
const LEASE_TIMEOUT_MS = 3000;
const HOST_IDS = [`${PREFIX}h1`, `${PREFIX}h2`];

let h: ControlPathHarness;
let hosts: ProcessBackend[];
let c1: RecordingRouter;

const poolId = (name: string): string => h.names.actionPoolId({ namespace: NS, name });
/** What the patch markers in a workflow's history say (each names its patch id). */
const patchesOf = async (handle: WorkflowHandle): Promise<string> =>
  ((await handle.fetchHistory()).events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((marker) => marker?.markerName === 'core_patch')
    .flatMap((marker) => Object.values(marker?.details ?? {}).flatMap((p) => p.payloads ?? []))
    .map((p) => Buffer.from(p.data ?? []).toString())
    .join('\n');
const running = async (backend: ProcessBackend): Promise<string[]> =>
  (await backend.list({ [LABELS.managed]: 'true' })).map((c) => c.id);
/** A container on host 1 that names `owner` as its owner, created behind the pools' back. */
const createOwnedBy = (owner: string, name: string) =>
  hosts[0]!.create({
    name: `gust_${PREFIX}${name}`,
    image: 'gust/action-nodejs:20',
    kind: 'nodejs:20',
    memoryMB: 128,
    env: {},
    labels: { [LABELS.managed]: 'true', [LABELS.host]: `${PREFIX}h1`, [LABELS.owner]: owner },
  });
const reconcileRuns = (since: string): string =>
  `WorkflowType = 'reconcileWorkflow' AND WorkflowId STARTS_WITH '${PREFIX}' AND CloseTime > '${since}'`;
/** The results of the reconcile runs of this scope started after `since` and completed. */
const reconcileResults = async (since: string): Promise<ReconcileResult[]> => {
  const results: ReconcileResult[] = [];
  for await (const wf of h.client.workflow.list({
    query: `${reconcileRuns(since)} AND ExecutionStatus = 'Completed'`,
  }))
    results.push(await h.client.workflow.getHandle(wf.workflowId, wf.runId).result());
  return results;
};

beforeAll(async () => {
  h = await createHarness(
    PREFIX,
    testConfig({
      stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 2 }],
      leaseTimeoutMs: LEASE_TIMEOUT_MS,
      minContainersPerAction: { [`${NS}/a10`]: 1 },
    }),
  );
  hosts = HOST_IDS.map((hostId) => new ProcessBackend({ hostId, warn: false }));
  // The reconcile's visibility listing misses this one pool, as it may a pool that just continued as new.
  const unindexed = new Set(['unindexed', 'adopter'].map(poolId));
  await h.startProvisioner({ unindexedPools: (id) => unindexed.has(id) });
  for (const [i, backend] of hosts.entries()) await h.startAgent(HOST_IDS[i]!, backend);
  c1 = (await h.startController('c1')).router;
});

afterAll(async () => {
  await h?.recordHistories('pool');
  await h?.close();
  for (const backend of hosts ?? []) await backend.close();
});

test('demand for an action leads to containers leased to the requesting controller, spread over the hosts', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a1'), 2);
  const leases = await waitFor('two leases of a1', () =>
    c1.forAction('a1').length === 2 ? c1.forAction('a1') : null,
  );
  expect(leases.map((l) => l.action)).toEqual([
    actionRefOf(testAction(NS, 'a1')),
    actionRefOf(testAction(NS, 'a1')),
  ]);
  expect(new Set(leases.map((l) => l.container.host)).size).toBe(2);
  const inventory = await h.inventory(poolId('a1'));
  expect(inventory.containers.map((c) => [c.state, c.controllerId])).toEqual([
    ['leased', 'c1'],
    ['leased', 'c1'],
  ]);
  const all = [...(await running(hosts[0]!)), ...(await running(hosts[1]!))];
  for (const l of leases) expect(all).toContain(l.container.id);
});

test('a pool creates two containers at a time; the rest wait, and a router withdraws those', async () => {
  // Six asked, nothing withdrawn: never more than two placed or being created at once.
  await h.controlPlane('c1').requestContainers(testAction(NS, 'paced'), 6);
  let mostCreating = 0;
  await waitFor(
    'six paced leases',
    async () => {
      const { containers } = await h.inventory(poolId('paced'));
      const creating = containers.filter((c) => c.state === 'creating' && c.info === null).length;
      mostCreating = Math.max(mostCreating, creating);
      return c1.forAction('paced').length === 6;
    },
    30_000,
    20,
  );
  expect(mostCreating).toBeGreaterThan(0);
  expect(mostCreating).toBeLessThanOrEqual(2);

  // Six asked, four withdrawn at once: the two started come, the others are never created.
  await h.controlPlane('c1').requestContainers(testAction(NS, 'withdrawn'), 6);
  await h.controlPlane('c1').withdrawContainers(testAction(NS, 'withdrawn'), 4);
  await waitFor('two leases of withdrawn', () => c1.forAction('withdrawn').length === 2);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const { containers } = await h.inventory(poolId('withdrawn'));
  expect(containers.map((c) => c.state)).toEqual(['leased', 'leased']);
  expect(c1.forAction('withdrawn')).toHaveLength(2);
  await recordHistories(h.client, poolId('withdrawn'), 'paced', ['actionPoolWorkflow']);
});

test('a demand signal (retired: requests are the one scale-up path) adds no container', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a7'), 1);
  await waitFor('an a7 lease', () => c1.forAction('a7').length === 1);
  const pool = h.client.workflow.getHandle(poolId('a7'));
  await pool.signal(demandSignal, {
    controllerId: 'c1',
    action: actionSpecOf(testAction(NS, 'a7')),
    queued: 3,
    inFlight: 0,
    capacity: 0,
  });
  // The workflow task that took the signal recorded the patch marker; before the patch the same
  // task would have recorded two more containers (queried state follows that task).
  await waitFor('the demand handled', async () => (await patchesOf(pool)).includes(DEMAND_RETIRED_PATCH));
  expect((await h.inventory(poolId('a7'))).containers).toHaveLength(1);
});

test('a newer action version drains and removes the old version’s containers', async () => {
  const v2 = actionRevision({ version: '0.0.2', updated: 2 });
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a8', '0.0.1', 1), 1);
  const [old] = await waitFor('a v1 lease', () =>
    c1.forAction('a8').length === 1 ? c1.forAction('a8') : null,
  );
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a8', '0.0.2', 2), 1);
  await waitFor('only the v2 container', async () => {
    const inv = await h.inventory(poolId('a8'));
    return (
      inv.containers.length === 1 &&
      inv.containers[0]!.version === v2 &&
      inv.containers[0]!.state === 'leased'
    );
  });
  expect(c1.revoked).toContain(old!.container.id);
  expect(c1.forAction('a8').map((l) => l.action?.version)).toEqual([v2]);
  // A router still on the old version asks again: the pool ignores it, and the next request shows it.
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a8', '0.0.1', 1), 1);
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a8', '0.0.2', 2), 1);
  await waitFor('a second v2 container', () => c1.forAction('a8').length === 2);
  expect(c1.forAction('a8').map((l) => l.action?.version)).toEqual([v2, v2]);
  expect((await h.inventory(poolId('a8'))).containers.map((c) => c.version)).toEqual([v2, v2]);
});

test('a container the router reports failed is removed and destroyed', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a9'), 1);
  const [lease] = await waitFor('an a9 lease', () =>
    c1.forAction('a9').length === 1 ? c1.forAction('a9') : null,
  );
  c1.leases.delete(lease!.container.id); // the router drops it at once
  await h.controlPlane('c1').containerFailed(lease!, 'connection refused');
  await waitFor('the failed container to be gone', async () => {
    const inv = await h.inventory(poolId('a9'));
    const all = [...(await running(hosts[0]!)), ...(await running(hosts[1]!))];
    return inv.containers.length === 0 && !all.includes(lease!.container.id);
  });
});

test('stem cells stay at target and are replenished after a claim, and the action pool adopts the claimed cell', async () => {
  const cells = await waitFor('two stem cells', () => (c1.stemCells().length === 2 ? c1.stemCells() : null));
  const claimed = cells[0]!;
  c1.leases.delete(claimed.container.id); // the router claims it locally and /inits it
  await h.controlPlane('c1').stemCellClaimed(claimed, testAction(NS, 'a2'));

  await waitFor('a replacement stem cell', () => c1.stemCells().length === 2);
  expect(c1.stemCells().map((l) => l.container.id)).not.toContain(claimed.container.id);
  const adopted = await waitFor('the a2 pool to own the claimed cell', async () => {
    const inv = await h.inventory(poolId('a2'));
    return inv.containers.find((c) => c.info?.id === claimed.container.id);
  });
  expect(adopted).toMatchObject({
    state: 'leased',
    controllerId: 'c1',
    version: actionRevision(testAction(NS, 'a2')),
  });
});

test('an idle container is removed by the scheduled scale-down after the keep-alive while a busy one stays', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a3'), 2);
  const [idle, busy] = await waitFor('two leases of a3', () =>
    c1.forAction('a3').length === 2 ? c1.forAction('a3') : null,
  );
  c1.usageById.set(idle!.container.id, { idleMs: 60_000, inFlight: 0 });
  c1.usageById.set(busy!.container.id, { idleMs: 60_000, inFlight: 1 });

  await waitFor('the idle container to be revoked and destroyed', async () => {
    const inv = await h.inventory(poolId('a3'));
    return c1.revoked.includes(idle!.container.id) && inv.containers.length === 1;
  });
  await waitFor('the idle container to leave its host', async () => {
    const all = [...(await running(hosts[0]!)), ...(await running(hosts[1]!))];
    return !all.includes(idle!.container.id);
  });
  await new Promise((r) => setTimeout(r, 3000)); // a few more scale-down runs
  expect(c1.forAction('a3').map((l) => l.container.id)).toEqual([busy!.container.id]);
  expect((await h.inventory(poolId('a3'))).containers.map((c) => c.info?.id)).toEqual([busy!.container.id]);
});

test('another namespace’s runs of an action have a pool and containers of their own; the minimum is the owner’s (audit L9)', async () => {
  const invoker = `alice${RUN}`;
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a10'), 1);
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a10'), 1, invoker);
  const leases = await waitFor('a lease of a10 for each namespace', () =>
    c1.forAction('a10').length === 2 ? c1.forAction('a10') : null,
  );
  const own = leases.find((l) => l.action?.invoker === undefined)!;
  const theirs = leases.find((l) => l.action?.invoker === invoker)!;
  expect(theirs.action).toEqual(actionRefOf(testAction(NS, 'a10'), invoker));
  const theirPool = h.names.actionPoolId({ namespace: NS, name: 'a10', invoker });
  expect(theirPool).toBe(`${poolId('a10')}~${invoker}`);
  expect((await h.inventory(poolId('a10'))).containers.map((c) => c.info?.id)).toEqual([own.container.id]);
  expect((await h.inventory(theirPool)).containers.map((c) => c.info?.id)).toEqual([theirs.container.id]);
  const labels = (await Promise.all(hosts.map((b) => b.list({ [LABELS.invoker]: invoker })))).flat();
  expect(labels.map((c) => [c.id, c.labels[LABELS.owner], c.labels[LABELS.namespace]])).toEqual([
    [theirs.container.id, theirPool, NS],
  ]);

  // Both idle past the keep-alive: the owner's minimum (1) keeps its container, not the other's.
  for (const l of leases) c1.usageById.set(l.container.id, { idleMs: 60_000, inFlight: 0 });
  await waitFor(
    'the other namespace’s container to be revoked',
    async () =>
      c1.revoked.includes(theirs.container.id) && (await h.inventory(theirPool)).containers.length === 0,
  );
  await new Promise((r) => setTimeout(r, 3000)); // a few more scale-down runs
  expect(c1.revoked).not.toContain(own.container.id);
  expect((await h.inventory(poolId('a10'))).containers.map((c) => c.info?.id)).toEqual([own.container.id]);
});

test('a pool whose containers are all gone completes, and the next request starts a new one (audit M6)', async () => {
  const action = testAction(NS, 'idle');
  const spec = actionSpecOf(action);
  const pool = (): WorkflowHandle => h.client.workflow.getHandle(poolId('idle'));
  // As the control plane starts a pool, with a short idle time instead of the default 15 minutes.
  await h.client.workflow.signalWithStart('actionPoolWorkflow', {
    ...actionPoolStartOptions(h.scope, spec),
    args: [{ scope: h.scope, namespace: NS, name: 'idle', completeWhenIdleMs: 1000 }],
    signal: requestContainersSignal,
    signalArgs: [{ controllerId: 'c1', action: spec, count: 1 }],
  });
  const [lease] = await waitFor('an idle lease', () =>
    c1.forAction('idle').length === 1 ? c1.forAction('idle') : null,
  );
  const { runId } = await pool().describe();
  // Its action deleted or unused: the container idles past the keep-alive and scale-down removes it.
  c1.usageById.set(lease!.container.id, { idleMs: 60_000, inFlight: 0 });
  await waitFor('the idle pool completed', async () => (await pool().describe()).status.name === 'COMPLETED');
  const all = [...(await running(hosts[0]!)), ...(await running(hosts[1]!))];
  expect(all).not.toContain(lease!.container.id);

  await h.controlPlane('c1').requestContainers(action, 1);
  await waitFor('a new idle lease', () => c1.forAction('idle').length === 1);
  const next = await pool().describe();
  expect([next.status.name, next.runId === runId]).toEqual(['RUNNING', false]);
});

test('killing a controller returns its containers within the lease timeout', async () => {
  const { running: c2 } = await h.startController('c2');
  await h.controlPlane('c2').requestContainers(testAction(NS, 'a4'), 2);
  const ids = await waitFor('two a4 containers leased to c2', async () => {
    const inv = await h.inventory(poolId('a4'));
    const leased = inv.containers.filter((c) => c.state === 'leased');
    return leased.length === 2 ? leased.map((c) => c.info!.id) : null;
  });
  await waitFor('c2 stem cells', async () => {
    const inv = await h.inventory(h.names.stemCellPoolId('nodejs:20', 256));
    return inv.containers.filter((c) => c.controllerId === 'c2' && c.state === 'leased').length === 2;
  });

  await c2.stop(); // no more heartbeats, no more activities
  const stoppedAt = Date.now();
  await waitFor(
    'c2 containers to be reclaimed and destroyed',
    async () => {
      const pool = await h.inventory(poolId('a4'));
      const cells = await h.inventory(h.names.stemCellPoolId('nodejs:20', 256));
      const all = [...(await running(hosts[0]!)), ...(await running(hosts[1]!))];
      return (
        pool.containers.length === 0 &&
        !cells.containers.some((c) => c.controllerId === 'c2') &&
        ids.every((id) => !all.includes(id))
      );
    },
    LEASE_TIMEOUT_MS + 10_000,
  );
  expect(Date.now() - stoppedAt).toBeLessThan(LEASE_TIMEOUT_MS + 10_000);
});

test('a controller restarted with the same id starts empty: its old leases are reclaimed', async () => {
  const first = await h.startController('c3');
  await h.controlPlane('c3').requestContainers(testAction(NS, 'a5'), 1);
  await waitFor('an a5 lease', () => first.router.forAction('a5').length === 1);
  await first.running.stop();
  const second = await h.startController('c3'); // well within the lease timeout
  await waitFor('the old incarnation’s a5 container to be reclaimed', async () => {
    const inv = await h.inventory(poolId('a5'));
    return inv.containers.length === 0;
  });
  expect(second.router.forAction('a5')).toEqual([]);
  await waitFor('stem cells for the new incarnation', () => second.router.stemCells().length === 2);
  await second.running.stop();
});

test('a container removed behind Gust’s back is noticed by reconcile and replaced', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'a6'), 1);
  const [lease] = await waitFor('an a6 lease', () =>
    c1.forAction('a6').length === 1 ? c1.forAction('a6') : null,
  );
  const backend = hosts[HOST_IDS.indexOf(lease!.container.host)]!;
  await backend.destroy(lease!.container.id);

  const replacement = await waitFor('a replacement a6 lease', () => {
    const now = c1.forAction('a6');
    return now.length === 1 && now[0]!.container.id !== lease!.container.id ? now[0] : null;
  });
  expect(c1.revoked).toContain(lease!.container.id);
  expect(replacement!.action?.name).toBe('a6');
});

test('reconcile destroys a container no pool owns', async () => {
  const orphan = await hosts[0]!.create({
    name: `gust_${PREFIX}orphan`,
    image: 'gust/action-nodejs:20',
    kind: 'nodejs:20',
    memoryMB: 128,
    env: {},
    labels: { [LABELS.managed]: 'true', [LABELS.host]: `${PREFIX}h1` },
  });
  await waitFor('the orphan to be destroyed', async () => !(await running(hosts[0]!)).includes(orphan.id));
});

test('reconcile stays green while a pool does not answer, and leaves that pool’s containers alone', async () => {
  // A pool whose every workflow task fails (as one stuck on a non-determinism error): queries fail.
  const silent = poolId('silent');
  await h.client.workflow.start('actionPoolWorkflow', {
    workflowId: silent,
    taskQueue: h.names.provisioningQueue,
    args: [null],
  });
  const kept = await createOwnedBy(silent, 'silent_0');
  const since = new Date().toISOString();
  await waitFor(
    'a completed reconcile that reports the silent pool',
    async () => (await reconcileResults(since)).some((r) => r.unanswered?.includes(silent)),
    30_000,
  );
  const failed = [];
  for await (const wf of h.client.workflow.list({
    query: `${reconcileRuns(since)} AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'Running'`,
  }))
    failed.push(wf.workflowId);
  expect(failed).toEqual([]);
  expect(await running(hosts[0]!)).toContain(kept.id);
  await h.client.workflow.getHandle(silent).terminate('test over');
  await hosts[0]!.destroy(kept.id);
});

test('reconcile keeps the containers of a live pool visibility does not list, and removes those whose owner is gone', async () => {
  await h.controlPlane('c1').requestContainers(testAction(NS, 'unindexed'), 1);
  const [lease] = await waitFor('an unindexed lease', () =>
    c1.forAction('unindexed').length === 1 ? c1.forAction('unindexed') : null,
  );
  const ended = poolId('ended');
  await h.client.workflow.start('actionPoolWorkflow', {
    workflowId: ended,
    taskQueue: h.names.provisioningQueue,
    args: [null],
  });
  await h.client.workflow.getHandle(ended).terminate('its containers are orphans');
  const since = new Date().toISOString();
  const orphans = [
    await createOwnedBy(ended, 'ended_0'),
    await createOwnedBy(poolId('never-started'), 'never_0'),
  ];

  // The runs that removed the orphans (one each, if the second was still within the grace period
  // at the first) ran when the unindexed pool's older container was past the grace period too.
  const names = orphans.map((o) => o.name);
  const removed = await waitFor('reconciles that removed both orphans', async () => {
    const all = (await reconcileResults(since)).flatMap((r) => r.orphans);
    return names.every((n) => all.includes(n)) ? all : null;
  });
  expect(removed).not.toContain(lease!.container.name);
  for (const orphan of orphans) expect(await running(hosts[0]!)).not.toContain(orphan.id);
  expect([...(await running(hosts[0]!)), ...(await running(hosts[1]!))]).toContain(lease!.container.id);
  expect((await h.inventory(poolId('unindexed'))).containers.map((c) => c.name)).toEqual([
    lease!.container.name,
  ]);
  expect(c1.revoked).not.toContain(lease!.container.id);
});

test('reconcile keeps a stem cell adopted by an action pool visibility does not list yet', async () => {
  const cells = await waitFor('two stem cells', () => (c1.stemCells().length === 2 ? c1.stemCells() : null));
  const claimed = cells[0]!;
  c1.leases.delete(claimed.container.id);
  await h.controlPlane('c1').stemCellClaimed(claimed, testAction(NS, 'adopter'));
  await waitFor('the unlisted adopter pool to own the cell', async () =>
    (await h.inventory(poolId('adopter'))).containers.some((c) => c.info?.id === claimed.container.id),
  );
  // The cell's owner label still names the stem-cell pool, which no longer lists it: only the
  // stem-cell pool's record of whom it handed the cell to keeps it from being taken for an orphan.
  const since = new Date(Date.now() + 1_000).toISOString();
  const runs = await waitFor('two completed reconciles past the grace period', async () => {
    const results = await reconcileResults(since);
    return results.length >= 2 ? results : null;
  });
  for (const run of runs) expect(run.orphans).not.toContain(claimed.container.name);
  expect([...(await running(hosts[0]!)), ...(await running(hosts[1]!))]).toContain(claimed.container.id);
});

test('the Temporal UI lists the pool workflows with their search attributes', async () => {
  const query = encodeURIComponent(`GustNamespace = '${NS}' AND ExecutionStatus = 'Running'`);
  const res = await fetch(`http://127.0.0.1:8233/api/v1/namespaces/default/workflows?query=${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    executions: {
      execution: { workflowId: string };
      searchAttributes?: { indexedFields?: Record<string, { data: string }> };
    }[];
  };
  const decode = (f?: { data: string }): unknown =>
    f ? JSON.parse(Buffer.from(f.data, 'base64').toString()) : undefined;
  const pools = body.executions
    .map((e) => ({
      id: e.execution.workflowId,
      namespace: decode(e.searchAttributes?.indexedFields?.GustNamespace),
      action: decode(e.searchAttributes?.indexedFields?.GustAction),
      kind: decode(e.searchAttributes?.indexedFields?.GustKind),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  expect(pools.map((p) => p.id)).toEqual(expect.arrayContaining([poolId('a1'), poolId('a3'), poolId('a6')]));
  expect(pools.find((p) => p.id === poolId('a1'))).toEqual({
    id: poolId('a1'),
    namespace: NS,
    action: 'a1',
    kind: 'nodejs:20',
  });
});

// The mesos backend end to end below the API: the framework workflow on the shared Temporal, its
// subscription activity on a provisioner, and a SIMULATED Mesos master (test/mesos/) whose tasks
// are real Docker containers. Subscribe, launch on offers, decline what does not fit, kill, a
// dropped stream, a master restart with reconciliation, and an agent lost under an action's pool.
import { execFileSync } from 'node:child_process';
import { MesosSchedulerApi } from '../../backends/mesos/api';
import { MesosBackend } from '../../backends/mesos/backend';
import type { Event } from '../../backends/mesos/protocol';
import { LABELS } from '../../common/names';
import { NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { mesosTasksQuery, type MesosFrameworkView } from '../../workflows/mesos-messages';
import { startTestCluster, type TestCluster } from '../mesos/test-cluster';
import { createHarness, testAction, testConfig, waitFor, type ControlPathHarness } from './control-harness';
import { specsFor } from './backend-fixtures';
import { testRun } from '../run-names';

jest.setTimeout(180_000);

const { id: RUN, prefix: PREFIX, namespace: NS } = testRun('mesos');
const HOST = `${PREFIX}cluster`;
const OWNER = `test-mesos-${RUN}`;
let h: ControlPathHarness;
let cluster: TestCluster;
let backend: MesosBackend;
let firstRunId: string;
/** The runtimes' secrets: the provisioner's key, which the backend (the controller's side) shares. */
const SECRET_KEY = `key-${RUN}`;
let runtime: RuntimeClient;
const spec = specsFor(OWNER, 256);

const view = (): Promise<MesosFrameworkView> =>
  h.client.workflow.getHandle(h.names.mesosFrameworkId).query(mesosTasksQuery);
/** The ids of the tasks the framework sees running, sorted. */
const runningTaskIds = (v: MesosFrameworkView): string[] =>
  v.tasks
    .filter((t) => t.phase === 'running')
    .map((t) => t.spec.taskId)
    .sort();
const subscribes = () => cluster.master.calls.filter((c) => c.type === 'SUBSCRIBE');
const masterTaskIds = () =>
  cluster.master
    .tasks()
    .map((t) => t.taskId)
    .sort();

beforeAll(async () => {
  execFileSync('bash', ['runtimes/build-images.sh'], { stdio: 'inherit' });
  cluster = await startTestCluster([
    { cpus: 2, memMB: 1024 },
    { cpus: 2, memMB: 1024 },
  ]);
  h = await createHarness(PREFIX, testConfig());
  await h.startProvisioner({
    mesos: {
      masterUrl: cluster.master.url,
      frameworkName: `gust-test-${RUN}`,
      user: 'root',
      failoverTimeoutMs: 120_000,
      runtimeSecretKey: SECRET_KEY,
      // Small, so the framework continues as new several times during this file.
      historyLimit: 120,
    },
  });
  firstRunId = (await h.client.workflow.getHandle(h.names.mesosFrameworkId).describe()).runId;
  backend = new MesosBackend({
    client: h.client,
    scope: h.scope,
    hostId: HOST,
    masterUrl: cluster.master.url,
    secretKey: SECRET_KEY,
  });
  await backend.health();
  runtime = new RuntimeClient({ secrets: backend });
}, 300_000);

afterAll(async () => {
  for (const c of (await backend?.list({ [LABELS.managed]: 'true' }).catch(() => [])) ?? [])
    await backend.destroy(c.id);
  await h?.recordHistories('mesos');
  await runtime?.closeAll();
  await backend?.close();
  await h?.close();
  await cluster?.close();
});

test('subscribes with a failover timeout and launches containers as tasks on offers, reached at agent host:port', async () => {
  const [a, b] = await Promise.all([backend.create(spec()), backend.create(spec())]);
  const hosts = cluster.master.agents().map((x) => x.hostname);
  for (const info of [a!, b!]) {
    expect(info).toMatchObject({ backend: 'mesos', host: HOST, kind: NODEJS_RUNTIME_KIND, memoryMB: 256 });
    const { hostname, port } = new URL(info.address);
    expect(hosts).toContain(hostname);
    expect(Number(port)).toBeGreaterThanOrEqual(31000);
  }
  const fw = await view();
  expect(fw.subscribed).toBe(true);
  expect(cluster.master.frameworks()).toContainEqual({
    id: fw.frameworkId,
    connected: true,
    name: `gust-test-${RUN}`,
  });
  expect(subscribes()[0]).toMatchObject({
    subscribe: { framework_info: { failover_timeout: 120, user: 'root' } },
  });
  expect(masterTaskIds()).toEqual([a!.id, b!.id].sort());
  const accept = cluster.master.calls.find((c) => c.type === 'ACCEPT');
  expect(accept).toMatchObject({
    accept: {
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: expect.arrayContaining([
              expect.objectContaining({ container: expect.objectContaining({ type: 'DOCKER' }) }),
            ]),
          },
        },
      ],
    },
  });
  expect((await backend.list({ [LABELS.owner]: OWNER })).map((c) => c.id).sort()).toEqual(
    [a!.id, b!.id].sort(),
  );
  // A retried create of the same name is the same task.
  expect((await backend.create(spec({ name: a!.name }))).address).toBe(a!.address);
  expect(masterTaskIds()).toHaveLength(2);

  // Every task's runtime wants its own secret (derived from its task id): not sent, refused.
  const bare = new RuntimeClient();
  const payload = { value: { name: 'x', main: 'main', binary: false, code: 'function main(){}' } };
  expect(await bare.init(a!.address, payload, 5000)).toMatchObject({ outcome: 'response', status: 401 });
  await bare.closeAll();
  // ...and the controller's side derives the very secret the provisioner put in the TaskInfo.
  const launched = cluster.master.calls
    .flatMap((c) => (c.type === 'ACCEPT' ? c.accept.operations : []))
    .flatMap((o) => o.launch?.task_infos ?? [])
    .find((t) => t.task_id.value === a!.id);
  const sent = launched?.command?.environment?.variables?.find((v) => v.name === 'GUST_RUNTIME_SECRET');
  expect(sent?.value).toMatch(/^[\w-]{43}$/);
  expect(await backend.runtimeSecret(a!.address)).toBe(sent?.value);

  // Logs per activation from the sandbox, with the sentinel framing.
  const logs = backend.logs(a!);
  await runtime.init(
    a!.address,
    {
      value: {
        name: 'x',
        main: 'main',
        binary: false,
        code: 'function main(p){ console.log("hi " + p.n); console.error("err " + p.n); return {n: p.n} }',
      },
    },
    5000,
  );
  for (const n of [1, 2]) {
    const run = await runtime.run(
      a!.address,
      {
        value: { n },
        namespace: 'guest',
        action_name: '/guest/x',
        activation_id: String(n).repeat(32),
        deadline: '0',
      },
      5000,
    );
    expect(run).toMatchObject({ status: 200, text: JSON.stringify({ n }) });
    const lines = await logs.next({ limitBytes: 10_000, waitMs: 5000 });
    // Each line in its activation, in either order: the sandbox's stdout and stderr are two files,
    // read (and timestamped) one after the other, so the order across them is the reader's (CI 12-02).
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`Z +stdout: hi ${n}$`)),
        expect.stringMatching(new RegExp(`Z +stderr: err ${n}$`)),
      ]),
    );
  }
  logs.close();
});

test('declines offers a task does not fit, and gives up the task on request', async () => {
  const big = spec({ memoryMB: 2048 });
  const declinesBefore = cluster.master.calls.filter((c) => c.type === 'DECLINE').length;
  await expect(backend.create(big, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
  const declines = cluster.master.calls.filter((c) => c.type === 'DECLINE').slice(declinesBefore);
  expect(declines.length).toBeGreaterThan(0);
  // Declined briefly while the task waits (a long refuse filter only when nothing waits).
  expect(declines).toContainEqual(
    expect.objectContaining({ decline: expect.objectContaining({ filters: { refuse_seconds: 2 } }) }),
  );
  expect((await view()).tasks.find((t) => t.spec.taskId === big.name)?.phase).toBe('pending');
  await backend.destroy(big.name);
  expect((await view()).tasks.find((t) => t.spec.taskId === big.name)?.phase).toBe('gone');
  expect(masterTaskIds()).not.toContain(big.name);
});

test('destroy KILLs the task: TASK_KILLED, its container removed', async () => {
  const info = await backend.create(spec());
  await backend.destroy(info.id);
  expect(cluster.master.calls).toContainEqual(
    expect.objectContaining({ type: 'KILL', kill: expect.objectContaining({ task_id: { value: info.id } }) }),
  );
  expect(await backend.state(info.id)).toEqual({ running: false, exitCode: 137, oomKilled: false });
  expect(await cluster.master.containers()).not.toContain(info.id);
  await backend.destroy(info.id); // gone already: still fine
});

test('the master drops the stream: the framework re-subscribes with its framework id and keeps its tasks', async () => {
  const before = await view();
  const running = runningTaskIds(before);
  const count = subscribes().length;
  cluster.master.dropSubscriptions();
  const again = await waitFor('a new SUBSCRIBE', () => subscribes()[count], 60_000);
  expect(again).toMatchObject({
    framework_id: { value: before.frameworkId },
    subscribe: { framework_info: { id: { value: before.frameworkId } } },
  });
  await waitFor('subscribed again', async () => (await view()).subscribed, 60_000);
  expect((await view()).frameworkId).toBe(before.frameworkId);
  expect(masterTaskIds()).toEqual(running);
  const info = await backend.create(spec());
  expect(cluster.master.tasks().find((t) => t.taskId === info.id)?.frameworkId).toBe(before.frameworkId);
});

test('another subscription takes the framework over (a stale retry): the framework takes it back, and a KILL asked meanwhile goes through', async () => {
  const victim = await backend.create(spec());
  const { frameworkId } = await view();
  // What a timed-out attempt of the subscription activity does before it hears it was cancelled.
  const stale = new MesosSchedulerApi(cluster.master.url);
  const abort = new AbortController();
  const taken = await stale.subscribe(
    { user: 'root', name: `gust-test-${RUN}`, id: { value: frameworkId! } },
    abort.signal,
  );
  const staleEvents: Event[] = [];
  const reading = (async () => {
    for await (const e of taken.events) staleEvents.push(e);
  })().catch(() => undefined);
  try {
    // Asked while the stale stream holds the framework.
    const destroyed = backend.destroy(victim.id);
    await waitFor(
      'the framework takes its subscription back',
      () => staleEvents.some((e) => e.type === 'ERROR' && e.error.message === 'Framework failed over'),
      60_000,
    );
    await destroyed;
    expect(masterTaskIds()).not.toContain(victim.id);
    expect((await view()).subscribed).toBe(true);
    const info = await backend.create(spec());
    expect(cluster.master.tasks().find((t) => t.taskId === info.id)?.frameworkId).toBe(frameworkId);
  } finally {
    abort.abort();
    await reading;
    await stale.close();
  }
});

test('after a master restart, reconciliation finds every running task, and a task that vanished meanwhile is gone', async () => {
  const before = await view();
  const running = runningTaskIds(before);
  expect(running.length).toBeGreaterThanOrEqual(3);
  const [vanished, ...kept] = running;
  const reconciles = () => cluster.master.calls.filter((c) => c.type === 'RECONCILE').length;
  // The master goes down; one task's container dies while it is away.
  const { DockerApi } = await import('../../backends/docker/api');
  const docker = new DockerApi(cluster.options.dockerSocket);
  const master = cluster.master;
  const container = (
    await docker.listContainers([
      `io.gust.mesos-sim.task=${vanished}`,
      `io.gust.mesos-sim.cluster=${master.clusterId}`,
    ])
  )[0]!;
  await master.stop({ keepTasks: true }).catch(() => undefined);
  await docker.removeContainer(container.Id);
  await docker.close();
  await cluster.restart();
  await waitFor(
    're-subscribed and reconciled',
    async () => (await view()).subscribed && reconciles() > 0,
    60_000,
  );
  expect(cluster.master.frameworks()).toContainEqual(
    expect.objectContaining({ id: before.frameworkId, connected: true }),
  );
  expect(masterTaskIds()).toEqual(kept);
  const after = await waitFor('the vanished task settled', async () => {
    const v = await view();
    return v.tasks.find((t) => t.spec.taskId === vanished)?.phase === 'gone' ? v : null;
  });
  expect(runningTaskIds(after)).toEqual(kept);
  expect(after.tasks.find((t) => t.spec.taskId === vanished)?.status).toMatchObject({
    state: 'TASK_LOST',
    reason: 'REASON_RECONCILIATION',
  });
});

test('an agent is lost under an action pool: its tasks are replaced on the agent that is left', async () => {
  for (const c of await backend.list({ [LABELS.owner]: OWNER })) await backend.destroy(c.id);
  await h.startAgent(HOST, backend, 4096);
  const { router } = await h.startController('c1');
  const action = testAction(NS, 'lost');
  await h.controlPlane('c1').requestContainers(action, 2);
  const leases = await waitFor(
    'two containers',
    () => (router.forAction('lost').length === 2 ? router.forAction('lost') : null),
    60_000,
  );
  const agentOf = (taskId: string) => cluster.master.tasks().find((t) => t.taskId === taskId)?.agentId;
  const lostAgent = agentOf(leases[0]!.container.id)!;
  const lostTasks = leases.filter((l) => agentOf(l.container.id) === lostAgent).map((l) => l.container.id);
  await cluster.master.loseAgent(lostAgent);
  const replaced = await waitFor(
    'replacements on the other agent',
    () => {
      const now = router.forAction('lost');
      const ok =
        now.length === 2 &&
        now.every(
          (l) =>
            !lostTasks.includes(l.container.id) &&
            agentOf(l.container.id) !== lostAgent &&
            agentOf(l.container.id) !== undefined,
        );
      return ok ? now : null;
    },
    60_000,
  );
  const mine = cluster.master.tasks().filter((t) => t.taskId.includes('lost'));
  expect(mine.map((t) => t.taskId).sort()).toEqual(replaced.map((l) => l.container.id).sort());
});

test('the framework continued as new on the way, with the same framework id and one subscription at a time', async () => {
  const description = await h.client.workflow.getHandle(h.names.mesosFrameworkId).describe();
  expect(description.runId).not.toBe(firstRunId);
  // The new run subscribes again on its own (its view says so once the SUBSCRIBED event is in).
  const { frameworkId } = await waitFor(
    'the new run subscribed',
    async () => {
      const now = await view();
      return now.subscribed ? now : null;
    },
    60_000,
  );
  const ids = subscribes().flatMap((c) =>
    c.type === 'SUBSCRIBE' && c.framework_id ? [c.framework_id.value] : [],
  );
  expect(new Set(ids)).toEqual(new Set([frameworkId]));
  expect(cluster.master.frameworks().filter((f) => f.name === `gust-test-${RUN}`)).toEqual([
    { id: frameworkId, connected: true, name: `gust-test-${RUN}` },
  ]);
});
